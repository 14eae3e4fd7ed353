import logging
import os
import secrets
import signal
import socket
import time

from django.conf import settings
from django.core.management.base import BaseCommand
from django.db import DatabaseError, close_old_connections
from django.utils.module_loading import autodiscover_modules

from kompass.core import scheduling

logger = logging.getLogger("kompass.core.scheduler")


def import_scheduling_modules() -> None:
    """Import every installed app's ``scheduling`` module, which registers its jobs."""
    autodiscover_modules("scheduling")


class Command(BaseCommand):
    help = (
        "Run scheduled jobs (heartbeats, durable-row drains, reminders, reports) until stopped. "
        "Only the process holding the scheduler lease runs jobs; others stand by."
    )

    def add_arguments(self, parser):
        parser.add_argument("--once", action="store_true", help="Run due jobs once (if the lease is free), then exit.")
        parser.add_argument("--tick", type=float, default=1.0, help="Seconds between checks for due jobs.")
        parser.add_argument(
            "--lease-seconds",
            type=float,
            default=None,
            help="How long the lease lasts without renewal (default KOMPASS_SCHEDULER_LEASE_SECONDS).",
        )
        parser.add_argument("--holder", default="", help="Lease holder name (default host:pid:random).")

    def handle(self, *args, once=False, tick=1.0, lease_seconds=None, holder="", **options):
        import_scheduling_modules()
        lease_seconds = lease_seconds or settings.KOMPASS_SCHEDULER_LEASE_SECONDS
        holder = holder or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(3)}"
        stopping = False

        def stop(signum, frame):
            nonlocal stopping
            stopping = True

        signal.signal(signal.SIGTERM, stop)
        signal.signal(signal.SIGINT, stop)
        self.stdout.write(
            f"Scheduler {holder} started with {len(scheduling.JOBS)} job(s): {', '.join(sorted(scheduling.JOBS))}"
        )
        leading = False
        last_standby_log = 0.0
        while not stopping:
            close_old_connections()  # survive database restarts between ticks
            try:
                now_leading = scheduling.acquire_lease(holder, seconds=lease_seconds)
                if now_leading and not leading:
                    logger.info("Scheduler %s holds the lease and runs jobs", holder)
                if not now_leading and (leading or time.monotonic() - last_standby_log > 60):
                    lease = scheduling.current_lease()
                    logger.info(
                        "Scheduler %s stands by: the lease is held by %s until %s",
                        holder,
                        lease.holder if lease else "?",
                        lease.expires_at.isoformat() if lease else "?",
                    )
                    last_standby_log = time.monotonic()
                leading = now_leading
                if leading:
                    scheduling.run_due()
            except DatabaseError:
                logger.exception("Scheduler %s could not reach the database; trying again", holder)
            if once:
                break
            time.sleep(tick)
        if leading:
            try:
                scheduling.release_lease(holder)
            except DatabaseError:
                logger.warning("Scheduler %s could not release its lease; it expires by itself", holder)
        self.stdout.write("Scheduler stopped.")
