"""Durable work rows: rows that must be processed at least once (notification ledger, vendor outbox/inbox).

django-tasks-db neither retries a failed task nor recovers a task left running by a killed worker, so work
that must not be lost is kept as rows of a model that inherits ``DurableWork``, and tasks only *drain* them.

An app declares the model and its handler; the rest is core's::

    # vendors/models.py
    class OutboxMessage(DurableWork):
        connection = models.ForeignKey(VendorConnection, on_delete=models.CASCADE)
        payload = models.JSONField()
        retry_cap_seconds = 1800           # optional: back-off ceiling, first retry base, lease, attempts

    # vendors/durable.py  (imported by core's drain job and worker task)
    @processor(OutboxMessage, queue="vendors", batch_size=20)
    def deliver(message: OutboxMessage) -> None:
        transport_for(message.connection).send(message.payload)   # raise to fail the attempt

    # anywhere: OutboxMessage.objects.create(...); kick(OutboxMessage)  # process soon after commit

Life of a row: ``pending`` → ``claim()`` → ``claimed`` (by one worker, with a lease and a fresh claim token)
→ ``complete()`` → ``done``; or ``fail()`` → ``pending`` again with ``next_attempt_at`` pushed back
exponentially with jitter; after ``max_attempts`` attempts → ``dead``, keeping ``last_error``, until an
operator calls ``retry()`` (``kompass durable retry <model> <id>``).

Guarantees and duties:

- **At least once.** A worker killed mid-row loses nothing: its lease expires and the next claim takes the
  row over (a claim counts as an attempt, so a row that kills every worker ends up dead, not looping).
  The handler may therefore run twice for one row, so it must be idempotent (send with an idempotency key,
  check the ledger first).
- **Fencing.** ``complete``/``fail``/``renew`` only change the row while the caller's claim token is still
  the row's, so a worker that lost its lease cannot overwrite the new holder's result.
- **Claiming** is one conditional UPDATE on candidate primary keys; on PostgreSQL the candidates are locked
  with ``SELECT … FOR UPDATE SKIP LOCKED`` first so concurrent workers pick different rows instead of
  colliding. SQLite serialises writers anyway (``transaction_mode=IMMEDIATE``).
- **Queues.** Each processor names a task queue (``default``, ``notifications``, ``vendors``); each queue
  has its own worker process (Procfile), so one backlog cannot starve another.
"""

from __future__ import annotations

import logging
import os
import random
import socket
import threading
import time
import uuid
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.db import connections, models, transaction
from django.db.models import F, Q
from django.utils import timezone
from django.utils.module_loading import autodiscover_modules

logger = logging.getLogger(__name__)

__all__ = [
    "PROCESSORS",
    "DurableWork",
    "ProcessResult",
    "Processor",
    "autodiscover",
    "backoff_delay",
    "claim",
    "complete",
    "drain",
    "fail",
    "kick",
    "process",
    "processor",
    "renew",
    "retry",
]


class DurableWork(models.Model):
    """Abstract base of a row that must be processed at least once. See the module docstring."""

    class State(models.TextChoices):
        PENDING = "pending", "pending"
        CLAIMED = "claimed", "claimed"
        DONE = "done", "done"
        DEAD = "dead", "dead"

    #: Retry delays grow from this (seconds after the first failure) ...
    retry_base_seconds: float = 30
    #: ... up to this ceiling.
    retry_cap_seconds: float = 3600
    #: How long a claim lasts before another worker may take the row over.
    lease_seconds: float = 300
    #: The model's own result columns that :func:`complete` writes with the row's completion.
    complete_fields: tuple[str, ...] = ()
    #: Relations :func:`claim` reads with the claimed rows (``select_related``), which every handler needs.
    claim_related: tuple[str, ...] = ()

    state = models.CharField(max_length=10, choices=State.choices, default=State.PENDING, db_index=True)
    attempts = models.PositiveIntegerField(default=0, help_text="Claims so far, including a lost worker's.")
    max_attempts = models.PositiveIntegerField(default=8)
    next_attempt_at = models.DateTimeField(default=timezone.now, db_index=True)
    claimed_by = models.CharField(max_length=200, blank=True)
    claim_token = models.CharField(max_length=32, blank=True)
    lease_expires_at = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    created = models.DateTimeField(default=timezone.now, editable=False)
    updated = models.DateTimeField(default=timezone.now)
    finished = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True

    def _mine(self):
        """This row, as long as it is still claimed with this instance's claim token."""
        return (
            type(self)
            ._default_manager.filter(pk=self.pk, state=self.State.CLAIMED, claim_token=self.claim_token)
            .exclude(claim_token="")
        )


# ---------------------------------------------------------------------------------------------
# Service functions
# ---------------------------------------------------------------------------------------------
def backoff_delay(attempts: int, *, base: float, cap: float, rng: random.Random | None = None) -> float:
    """Seconds to wait after the ``attempts``-th failed attempt.

    Exponential (``base * 2**(attempts-1)``, at most ``cap``) with "equal jitter": half of it fixed, half
    random, so retries of many rows that failed together spread out but never come back at once.
    """
    ceiling = min(cap, base * 2 ** max(attempts - 1, 0))
    return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)


def _queryset(model_or_qs):
    return model_or_qs.all() if isinstance(model_or_qs, models.QuerySet) else model_or_qs._default_manager.all()


def _claimable(now: datetime) -> Q:
    pending = Q(state=DurableWork.State.PENDING, next_attempt_at__lte=now)
    abandoned = Q(state=DurableWork.State.CLAIMED, lease_expires_at__lt=now)
    return pending | abandoned


def claim(
    model_or_qs, worker_id: str, *, limit: int = 10, lease_seconds: float | None = None, now: datetime | None = None
) -> list[DurableWork]:
    """Claim up to ``limit`` due rows for ``worker_id``: pending ones whose time has come, and claimed ones
    whose lease expired (a lost worker's). Each claim counts as an attempt. Returns the claimed rows.

    A lost worker's row that already used its last attempt is not claimed again but marked dead.
    """
    qs = _queryset(model_or_qs)
    model = qs.model
    now = now or timezone.now()
    lease = timedelta(seconds=lease_seconds if lease_seconds is not None else model.lease_seconds)
    token = uuid.uuid4().hex
    with transaction.atomic(using=qs.db):
        qs.filter(state=DurableWork.State.CLAIMED, lease_expires_at__lt=now, attempts__gte=F("max_attempts")).update(
            state=DurableWork.State.DEAD,
            finished=now,
            updated=now,
            claim_token="",
            last_error="The lease expired on the last attempt: the worker was killed or got stuck.",
        )
        candidates = qs.filter(_claimable(now)).order_by("next_attempt_at", "pk")
        if connections[qs.db].features.has_select_for_update_skip_locked:
            candidates = candidates.select_for_update(skip_locked=True)
        pks = list(candidates.values_list("pk", flat=True)[:limit])
        if not pks:
            return []
        # The WHERE repeats the claimable condition, so a row another worker claimed since (SQLite has no
        # row locks) is left alone: the conditional update is what makes a claim exclusive.
        model._default_manager.filter(_claimable(now), pk__in=pks).update(
            state=DurableWork.State.CLAIMED,
            claimed_by=worker_id,
            claim_token=token,
            lease_expires_at=now + lease,
            attempts=F("attempts") + 1,
            updated=now,
        )
    claimed = model._default_manager.filter(pk__in=pks, claim_token=token).order_by("next_attempt_at", "pk")
    return list(claimed.select_related(*model.claim_related) if model.claim_related else claimed)


def renew(row: DurableWork, *, lease_seconds: float | None = None, now: datetime | None = None) -> bool:
    """Extend ``row``'s lease if the claim is still ours; False means another worker has taken it over.

    A lease that ran out but was not taken over yet is still ours: the claim token, not the clock, decides.
    """
    now = now or timezone.now()
    seconds = lease_seconds if lease_seconds is not None else row.lease_seconds
    expires = now + timedelta(seconds=seconds)
    if not row._mine().update(lease_expires_at=expires, updated=now):
        return False
    row.lease_expires_at = expires
    return True


def _lease_running_out(row: DurableWork, lease_seconds: float | None, now: datetime | None = None) -> bool:
    seconds = lease_seconds if lease_seconds is not None else row.lease_seconds
    if row.lease_expires_at is None:
        return True
    return row.lease_expires_at - (now or timezone.now()) < timedelta(seconds=seconds / 2)


def complete(row: DurableWork, *, now: datetime | None = None, **values) -> bool:
    """Mark ``row`` done, if our claim still holds. False: the row was taken over, and nothing changed.

    The row's ``complete_fields`` (a model's own result columns, e.g. an inbox event's outcome) are written in
    the same update, from the values the handler set on the instance; so are ``values`` (columns by name), which
    are also set on the instance when the row is done.

    A handler may complete its own row (in its own transaction, with the result it writes there: one UPDATE
    instead of its own and then the completion's); :func:`process` then counts the row done without completing it
    again. A handler that calls this must restore the row's claim (``state``, ``claim_token``) if its transaction
    then rolls back, so that the attempt can still be failed."""
    now = now or timezone.now()
    extra = {name: getattr(row, name) for name in row.complete_fields} | values
    changed = row._mine().update(
        state=DurableWork.State.DONE, finished=now, updated=now, lease_expires_at=None, claim_token="", **extra
    )
    if changed:
        row.state, row.finished, row.lease_expires_at, row.claim_token = row.State.DONE, now, None, ""
        for name, value in values.items():
            setattr(row, name, value)
    return bool(changed)


def _completed_by_handler(row: DurableWork) -> bool:
    return row.state == DurableWork.State.DONE and not row.claim_token


def fail(row: DurableWork, error: str, *, now: datetime | None = None, rng: random.Random | None = None) -> bool:
    """Record a failed attempt: back to pending after a back-off, or dead after ``max_attempts``.

    False if our claim no longer holds (nothing changed).
    """
    now = now or timezone.now()
    error = error[:4000]
    if row.attempts >= row.max_attempts:
        values = {"state": DurableWork.State.DEAD, "finished": now}
    else:
        delay = backoff_delay(row.attempts, base=row.retry_base_seconds, cap=row.retry_cap_seconds, rng=rng)
        values = {"state": DurableWork.State.PENDING, "next_attempt_at": now + timedelta(seconds=delay)}
    values |= {"last_error": error, "updated": now, "lease_expires_at": None, "claim_token": ""}
    changed = row._mine().update(**values)
    if changed:
        for name, value in values.items():
            setattr(row, name, value)
    return bool(changed)


def retry(model_or_qs, pks=None, *, now: datetime | None = None, states=(DurableWork.State.DEAD,)) -> int:
    """Give dead rows a new life: pending now, with a fresh set of ``max_attempts`` attempts.

    ``last_error`` is kept until the next failure replaces it. Returns how many rows were revived; rows
    in other states are left alone. ``states``: which rows to revive (e.g. ``(DONE,)`` for a row that is a
    job done again on request, like the reports' stored figures; a pending or claimed row is never reset).
    """
    now = now or timezone.now()
    qs = _queryset(model_or_qs).filter(state__in=list(states))
    if pks is not None:
        qs = qs.filter(pk__in=list(pks))
    return qs.update(
        state=DurableWork.State.PENDING, attempts=0, next_attempt_at=now, finished=None, claimed_by="", updated=now
    )


@dataclass
class ProcessResult:
    done: int = 0
    failed: int = 0
    lost: int = 0

    @property
    def claimed(self) -> int:
        return self.done + self.failed + self.lost

    def __iadd__(self, other: ProcessResult) -> ProcessResult:
        self.done, self.failed, self.lost = self.done + other.done, self.failed + other.failed, self.lost + other.lost
        return self


def process(
    model_or_qs,
    handler: Callable[[DurableWork], object],
    worker_id: str,
    *,
    limit: int = 10,
    lease_seconds: float | None = None,
    on_claimed: Callable[[list[DurableWork]], object] | None = None,
) -> ProcessResult:
    """Claim one batch and run ``handler`` on each row: complete it, or fail it with the exception's text.
    ``on_claimed`` is called with the claimed rows before the first is handled.

    The handler runs outside a transaction (it may call a vendor: holding a transaction open for that would
    lock SQLite); wrap its own database writes in ``transaction.atomic()`` where they belong together.

    The lease is renewed before a row once less than half of it is left, so a slow batch does not let later rows
    expire under us; a row that was taken over meanwhile is skipped (``lost``). While more than half is left no
    other worker can have taken the row (only an expired lease is claimable), so a fast batch costs no renewal
    per row.
    """
    result = ProcessResult()
    rows = claim(model_or_qs, worker_id, limit=limit, lease_seconds=lease_seconds)
    if rows and on_claimed is not None:
        on_claimed(rows)
    with _kicks_after_batch():
        _handle(rows, handler, lease_seconds, result)
    return result


def _handle(rows: list[DurableWork], handler, lease_seconds: float | None, result: ProcessResult) -> None:
    for row in rows:
        if _lease_running_out(row, lease_seconds) and not renew(row, lease_seconds=lease_seconds):
            result.lost += 1
            continue
        try:
            handler(row)
        except Exception as exc:
            logger.warning("Durable %s %s failed (attempt %s): %s", row._meta.label, row.pk, row.attempts, exc)
            if fail(row, f"{type(exc).__name__}: {exc}"):
                result.failed += 1
            else:
                result.lost += 1
        else:
            if _completed_by_handler(row) or complete(row):
                result.done += 1
            else:
                logger.warning("Durable %s %s finished after its claim was taken over", row._meta.label, row.pk)
                result.lost += 1


_batch = threading.local()

#: How long a kick made inside a batch may wait for the batch's end (seconds): a batch of 50 vendor updates takes
#: about half a second, and the first update's notification should not wait for the other 49.
KICK_DEFER_SECONDS = 0.05


@contextmanager
def _kicks_after_batch():
    """The kicks that a batch's handlers make after their commits (a vendor update's notifications: one per event)
    are made once per model when the batch is done: each kick's check for a waiting task is a query, and one check
    after the batch's last commit covers every row committed before it (a task waiting then sees them all; else
    one is enqueued). A row committed early in the batch waits at most :data:`KICK_DEFER_SECONDS` (and the handler
    then running) before a task is asked for; a worker killed mid-batch leaves them to the scheduler's drain."""
    if getattr(_batch, "kicks", None) is not None:  # a batch inside a batch: the outer one kicks
        yield
        return
    _batch.kicks = {}
    try:
        yield
    finally:
        kicks, _batch.kicks = _batch.kicks, None
        from kompass.core.tasks import process_durable

        for entry, _first in kicks.values():
            _enqueue_once(process_durable, entry)


# ---------------------------------------------------------------------------------------------
# Registry: which handler processes which model's rows, on which queue
# ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Processor:
    model: type[DurableWork]
    handler: Callable[[DurableWork], object]
    queue: str = "default"
    batch_size: int = 20

    @property
    def label(self) -> str:
        return self.model._meta.label_lower

    def has_work(self, now: datetime | None = None) -> bool:
        return self.model._default_manager.filter(_claimable(now or timezone.now())).exists()

    def run(self, worker_id: str, *, budget_seconds: float = 30, lease_seconds: float | None = None) -> ProcessResult:
        """Process batches while they come back full (a backlog), at most ``budget_seconds``; return the totals.

        A full batch means a backlog: before working through it, another task is enqueued on the queue (unless one
        is still waiting), so a free worker of the queue claims the next batch beside this one instead of the one
        task of a burst working it through alone (on PostgreSQL the claims skip each other's locked rows).

        A batch that is not full ends the run: the backlog is worked off, and rows that keep trickling in were each
        kicked after their commit (a task enqueued while this one runs picks them up). The worker goes back to its
        task queue instead of following one model's trickle for the whole budget, so a worker serving several
        queues (vendors and notifications) does not starve the other: a vendor update's notification waited behind
        a vendors run that found a few new events on every pass."""
        from kompass.core.tasks import process_durable

        total = ProcessResult()
        deadline = time.monotonic() + budget_seconds
        while True:
            batch = process(
                self.model,
                self.handler,
                worker_id,
                limit=self.batch_size,
                lease_seconds=lease_seconds,
                on_claimed=lambda rows: len(rows) >= self.batch_size and _enqueue_once(process_durable, self),
            )
            total += batch
            if batch.claimed < self.batch_size or time.monotonic() >= deadline:
                return total


PROCESSORS: dict[str, Processor] = {}


def processor(model: type[DurableWork], *, queue: str = "default", batch_size: int = 20):
    """Register the decorated function as the handler of ``model``'s rows, run on task queue ``queue``."""

    queues = settings.TASKS["default"].get("QUEUES", ["default"])
    if queue not in queues:
        raise ImproperlyConfigured(f"Durable processor of {model._meta.label}: queue {queue!r} is not one of {queues}.")

    def decorator(handler):
        entry = Processor(model, handler, queue, batch_size)
        PROCESSORS[entry.label] = entry
        return handler

    return decorator


def autodiscover() -> None:
    """Import every installed app's ``durable`` module, which registers its processors."""
    autodiscover_modules("durable")


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def kick(model: type[DurableWork]) -> None:
    """Ask a worker to process ``model``'s rows soon after the current transaction commits (in a handler of a
    batch that :func:`process` works: once per model after the batch, see ``_kicks_after_batch``)."""
    from kompass.core.tasks import process_durable

    if model._meta.label_lower not in PROCESSORS:
        autodiscover()  # a web process may not have imported the app's durable module yet
    entry = PROCESSORS[model._meta.label_lower]
    transaction.on_commit(lambda: _kicked(process_durable, entry))


def _kicked(task, entry: Processor) -> None:
    kicks = getattr(_batch, "kicks", None)
    if kicks is None:
        _enqueue_once(task, entry)
    else:  # committed by a handler of a batch being processed: once for the batch, after it (_kicks_after_batch),
        # or now if the first kick it holds back has waited KICK_DEFER_SECONDS
        first = kicks.setdefault(entry.label, (entry, time.monotonic()))[1]
        if time.monotonic() - first >= KICK_DEFER_SECONDS:
            del kicks[entry.label]
            _enqueue_once(task, entry)


def _enqueue_once(task, entry: Processor) -> None:
    """Enqueue a processing task for ``entry`` unless one is still waiting for its worker.

    A waiting task sees every row committed before it starts (this runs after our commit), so a second one
    would only cost the worker an empty run: a burst of pushes or notifications made one task per row. Once
    a task has started, the next kick enqueues a new one, so rows committed during a run are not left to the
    scheduler's drain.
    """
    if entry.label not in _waiting_labels(task.module_path):
        task.using(queue_name=entry.queue).enqueue(entry.label)


def drain() -> list[str]:
    """Enqueue a processing task, on its queue, for every processor with due rows; return their labels.

    The scheduler runs this periodically (``core.durable_drain``): it is what picks up rows whose back-off
    ended and rows a killed worker left claimed.
    """
    from kompass.core.tasks import process_durable

    autodiscover()
    waiting = _waiting_labels(process_durable.module_path)
    enqueued = []
    for label, entry in sorted(PROCESSORS.items()):
        # A task still waiting for its worker will pick these rows up: adding another only piles up.
        if label not in waiting and entry.has_work():
            process_durable.using(queue_name=entry.queue).enqueue(label)
            enqueued.append(label)
    return enqueued


def _waiting_labels(task_path: str) -> set[str]:
    """Labels of ``process_durable`` tasks not yet started in the database task queue (django-tasks-db)."""
    from django_tasks_db.models import DBTaskResult

    waiting = DBTaskResult.objects.filter(status="READY", task_path=task_path).values_list("args_kwargs", flat=True)
    return {str(task["args"][0]) for task in waiting if task.get("args")}
