"""Start real ``kompass`` processes (scheduler, durable worker) against the test database.

The test database must be shared, so these helpers are for ``transaction=True`` tests: on SQLite the test
database is a file (``DATABASES["default"]["TEST"]["NAME"]`` in settings), on PostgreSQL the test database
itself. The processes run with ``KOMPASS_ENV=test`` so they load the test-only durable app too.
"""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import quote

from django.conf import settings
from django.db import connection


def database_url() -> str:
    """A ``DATABASE_URL`` for the test database this test process uses."""
    db = connection.settings_dict
    if db["ENGINE"] == "django.db.backends.sqlite3":
        return f"sqlite:///{db['NAME']}"
    credentials = quote(db["USER"], safe="") + (f":{quote(db['PASSWORD'], safe='')}" if db["PASSWORD"] else "")
    return f"postgres://{credentials}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


def start_kompass(*args: str, log: Path, **env: str) -> subprocess.Popen:
    """Start ``kompass <args>`` in its own process group, output to ``log``."""
    environment = {**os.environ, "KOMPASS_ENV": "test", "DATABASE_URL": database_url(), **env}
    environment.pop("DJANGO_SETTINGS_MODULE", None)
    with open(log, "wb") as output:
        return subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "kompass.cli", *args],
            cwd=settings.BASE_DIR,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )


def stop(process: subprocess.Popen, sig: int = signal.SIGTERM, timeout: float = 10) -> int:
    """Signal the process group and wait; returns the exit code (SIGKILL after ``timeout``)."""
    if process.poll() is None:
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            pass
    try:
        return process.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        return process.wait(timeout=timeout)


def wait_for(predicate, *, timeout: float = 20, interval: float = 0.1, message: str = "condition"):
    """Poll ``predicate`` until it returns something truthy; fail the test after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"Timed out after {timeout}s waiting for {message}")
