"""``kompass db_worker``: django-tasks-db's worker, woken at once when a task is enqueued (``kompass.core.wakeup``).

The same command, options and loop as django-tasks-db's own (this app is listed before ``django_tasks_db`` in
``INSTALLED_APPS``, so its command takes the name). The one difference is the idle wait: where that loop calls
``time.sleep(interval)`` after finding no task, this one waits on a PostgreSQL ``LISTEN`` for a task of one of its
queues, at most ``interval`` seconds. The loop names ``time.sleep`` through its module's ``time``, which is what is
replaced here, for the length of the command only; django-tasks-db is pinned (``pyproject.toml``) and
``core/tests/test_wakeup.py`` proves the replaced wait is the one the loop uses.
"""

from __future__ import annotations

import contextlib
import time as _time

from django_tasks_db.management.commands import db_worker as upstream

from kompass.core.wakeup import Listener


class _WakingTime:
    """The ``time`` module as the upstream worker loop sees it: everything as it is, but ``sleep``."""

    def __init__(self, listener: Listener):
        self._listener = listener

    def sleep(self, seconds: float) -> None:
        self._listener.sleep(seconds)

    def __getattr__(self, name):
        return getattr(_time, name)


@contextlib.contextmanager
def waking_sleep(queue_names):
    """Inside: the upstream worker's idle sleep ends as soon as a task of ``queue_names`` is enqueued."""
    listener = Listener(None if "*" in queue_names else queue_names).start()
    previous, upstream.time = upstream.time, _WakingTime(listener)
    try:
        yield listener
    finally:
        upstream.time = previous
        listener.close()


class Command(upstream.Command):
    help = upstream.Command.help or "Run a database background worker (woken at once on PostgreSQL)."

    def handle(self, *args, **options):
        with waking_sleep(options["queue_name"].split(",")):
            return super().handle(*args, **options)
