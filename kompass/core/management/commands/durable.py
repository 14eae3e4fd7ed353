import time

from django.apps import apps
from django.core.management.base import BaseCommand, CommandError
from django.db.models import Count

from kompass.core import durable


def durable_model(label: str):
    try:
        model = apps.get_model(label)
    except (LookupError, ValueError) as exc:
        raise CommandError(f"No model {label!r} (use app_label.model, e.g. vendors.outboxmessage).") from exc
    if not issubclass(model, durable.DurableWork):
        raise CommandError(f"{label} is not a durable work model.")
    return model


class Command(BaseCommand):
    help = "Durable work rows: show their state, process them by hand, or retry dead ones."

    def add_arguments(self, parser):
        commands = parser.add_subparsers(dest="action", required=True)
        commands.add_parser("status", help="Rows per state for every registered durable model.")
        run = commands.add_parser("process", help="Process due rows of one model in this process.")
        run.add_argument("model", help="app_label.model")
        run.add_argument("--worker-id", default="", help="Claim as this worker (default host:pid).")
        run.add_argument("--lease-seconds", type=float, default=None, help="Lease per claim (default: the model's).")
        run.add_argument(
            "--wait", type=float, default=0, help="Keep looking for due rows until this many seconds have passed."
        )
        again = commands.add_parser("retry", help="Make dead rows pending again, with a fresh set of attempts.")
        again.add_argument("model", help="app_label.model")
        again.add_argument("ids", nargs="*", type=int, help="Primary keys of the dead rows.")
        again.add_argument("--all-dead", action="store_true", help="Every dead row of the model.")

    def handle(self, *args, action, **options):
        durable.autodiscover()
        getattr(self, f"handle_{action}")(**options)

    def handle_status(self, **options):
        for label, entry in sorted(durable.PROCESSORS.items()):
            counts = dict(entry.model._default_manager.values_list("state").annotate(n=Count("pk")).order_by())
            summary = ", ".join(f"{state} {counts.get(state, 0)}" for state in durable.DurableWork.State.values)
            self.stdout.write(f"{label} (queue {entry.queue}): {summary}")

    def handle_process(self, *, model, worker_id="", lease_seconds=None, wait=0, **options):
        label = durable_model(model)._meta.label_lower
        entry = durable.PROCESSORS.get(label)
        if entry is None:
            raise CommandError(f"No processor is registered for {label}.")
        worker_id = worker_id or durable.worker_id()
        deadline = time.monotonic() + wait
        total = durable.ProcessResult()
        while True:
            batch = durable.process(
                entry.model, entry.handler, worker_id, limit=entry.batch_size, lease_seconds=lease_seconds
            )
            total += batch
            if not batch.claimed:
                if time.monotonic() >= deadline:
                    break
                time.sleep(0.2)
        self.stdout.write(f"{label}: {total.done} done, {total.failed} failed, {total.lost} lost")

    def handle_retry(self, *, model, ids, all_dead=False, **options):
        model = durable_model(model)
        if not ids and not all_dead:
            raise CommandError("Name the ids of the dead rows, or pass --all-dead.")
        revived = durable.retry(model, None if all_dead else ids)
        self.stdout.write(f"{revived} dead row(s) of {model._meta.label_lower} are pending again.")
