import importlib
import signal
import time

from django.apps import apps
from django.core.management.base import BaseCommand
from django.db import close_old_connections

from kompass.core import scheduling


class Command(BaseCommand):
    help = "Run periodic jobs (heartbeats, and later sync and reminders) until stopped."

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run every job once and exit.")
        parser.add_argument("--tick", type=float, default=1.0, help="Seconds between checks for due jobs.")

    def handle(self, *args, once=False, tick=1.0, **options):
        for config in apps.get_app_configs():
            try:
                importlib.import_module(f"{config.name}.scheduling")
            except ModuleNotFoundError as exc:
                if exc.name != f"{config.name}.scheduling":
                    raise
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(f"Scheduler started with {len(scheduling.JOBS)} job(s): {', '.join(sorted(scheduling.JOBS))}")
        while not stopping:
            close_old_connections()  # survive database restarts between ticks
            scheduling.run_due(time.monotonic())
            if once:
                break
            time.sleep(tick)
        self.stdout.write("Scheduler stopped.")
