"""Waking an idle task worker the moment a task is enqueued (PostgreSQL ``LISTEN``/``NOTIFY``).

django-tasks-db's worker looks for a task and, finding none, sleeps ``--interval`` seconds before it looks again.
A vendor's resolution reaches the requester through two tasks in a row (the vendors queue applies it, the
notifications queue delivers the notification), so an idle worker's sleep was paid twice on that path: up to
2 × 0.2 s with the Procfile's interval, and more with a longer one.

On PostgreSQL every enqueued task sends ``NOTIFY kompass_tasks, '<queue>'`` (in the enqueuing transaction: it is
delivered when the task's row commits, and not at all if it rolls back), and ``kompass db_worker`` (the command
in ``core/management/commands/db_worker.py``) sleeps by waiting for such a notification for one of its queues,
at most ``--interval`` seconds. A missed notification costs nothing but the interval: the worker still looks for
tasks after every interval, as before. On SQLite there is no notification and the worker sleeps as it always did.
"""

from __future__ import annotations

import logging
import time

from django.db import connections, router
from django.dispatch import receiver
from django_tasks.signals import task_enqueued
from django_tasks_db.backend import DatabaseBackend
from django_tasks_db.models import DBTaskResult

logger = logging.getLogger(__name__)

CHANNEL = "kompass_tasks"

__all__ = ["CHANNEL", "Listener"]


def _database():
    return connections[router.db_for_write(DBTaskResult)]


@receiver(task_enqueued, dispatch_uid="kompass.core.wakeup")
def _notify_workers(sender, task_result, **kwargs) -> None:
    if not (isinstance(sender, type) and issubclass(sender, DatabaseBackend)):
        return
    database = _database()
    if database.vendor != "postgresql":
        return
    with database.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, task_result.task.queue_name])


def _notes(listening, timeout: float, stop_after: int) -> list:
    """The notifications ``listening`` receives within ``timeout`` seconds (up to ``stop_after``, or a few more
    that came in the same packet). The generator is closed here: it holds the connection's lock until it is.
    (``timeout=0`` would mean no timeout to psycopg: a thousandth of a second is "what is there now".)"""
    notes = listening.notifies(timeout=timeout, stop_after=stop_after)
    try:
        return list(notes)
    finally:
        notes.close()


class Listener:
    """A connection of its own that ``LISTEN``s on :data:`CHANNEL`; :meth:`sleep` waits for a notification about
    one of ``queues`` (``None``: any) or for the time given, whichever comes first. On a database other than
    PostgreSQL, or when the connection fails, it sleeps plainly (and tries to listen again a minute later)."""

    RETRY_SECONDS = 60.0

    def __init__(self, queues=None):
        self.queues = None if queues is None else frozenset(queues)
        self._connection = None
        self._retry_at = 0.0

    def _listening(self):
        if self._connection is not None or time.monotonic() < self._retry_at:
            return self._connection
        database = _database()
        if database.vendor != "postgresql":
            self._retry_at = float("inf")
            return None
        try:
            raw = database.get_new_connection(database.get_connection_params())
            raw.autocommit = True
            raw.execute(f"LISTEN {CHANNEL}")
        except Exception:  # noqa: BLE001 - no listening is a slower worker, never a dead one
            logger.warning("Task wake-up: could not LISTEN; sleeping plainly for a while", exc_info=True)
            self._retry_at = time.monotonic() + self.RETRY_SECONDS
            return None
        self._connection = raw
        return raw

    def start(self) -> Listener:
        """Listen from now on (before the worker first looks for tasks, so no notification falls between)."""
        self._listening()
        return self

    def sleep(self, seconds: float) -> None:
        deadline = time.monotonic() + max(0.0, seconds)
        listening = self._listening()
        if listening is None:
            time.sleep(max(0.0, seconds))
            return
        try:
            woken = False
            while not woken and (left := deadline - time.monotonic()) > 0:
                woken = any(self.queues is None or note.payload in self.queues for note in _notes(listening, left, 1))
            if woken:
                _notes(listening, 0.001, 1000)  # the ones already waiting: one look for tasks serves them all
        except Exception:  # noqa: BLE001 - e.g. the server restarted: fall back to sleeping, listen again later
            logger.warning("Task wake-up: the listening connection failed", exc_info=True)
            self.close()
            self._retry_at = time.monotonic() + self.RETRY_SECONDS
            time.sleep(max(0.0, deadline - time.monotonic()))

    def close(self) -> None:
        if self._connection is not None:
            try:
                self._connection.close()
            except Exception:  # noqa: BLE001, S110 - closing a broken connection
                pass
            self._connection = None
