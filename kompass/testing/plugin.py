"""The test kit's pytest plugin: the cast, per-role clients, browser fixtures and the markers' rules."""

import os

import pytest

from kompass.testing.browser import browser, csp_page, page  # noqa: F401  (fixtures)
from kompass.testing.cast import make_agencies, make_cast
from kompass.testing.split import in_share, parse_share

os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")  # sync Playwright beside live_server


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(autouse=True)
def _fresh_throttle_counts():
    """API throttling counts live in the cache; each test starts with none."""
    from django.core.cache import cache

    cache.clear()


@pytest.fixture
def agencies(db):
    return make_agencies()


@pytest.fixture
def cast(agencies):
    """One user per role (see ``kompass.testing.cast``)."""
    return make_cast(agencies)


@pytest.fixture
def systems(agencies, cast):
    from kompass.core.models import System

    return {
        key: System.objects.create(name=f"System {key}", agency=agency, system_owner=cast["owner"])
        for key, agency in agencies.items()
    }


@pytest.fixture
def clients(cast):
    """``clients(key, "session"|"token")``: a Django test client signed in as cast member ``key``.

    The token client carries an ``Authorization: Token`` header of a token with default scopes (for an
    integration account: ``core:read core:write``, which still reaches only endpoints that opt in).
    """
    from django.test import Client

    from kompass.core.models import ApiToken

    made = {}

    def _client(key: str, kind: str = "session"):
        if (key, kind) not in made:
            client = Client()
            if kind == "session":
                client.force_login(cast[key])
            else:
                _token, secret = ApiToken.issue(cast[key], f"test {key}")
                client.defaults["HTTP_AUTHORIZATION"] = f"Token {secret}"
            made[key, kind] = client
        return made[key, kind]

    return _client


# ---------------------------------------------------------------------------------------------
# The ServiceNow simulator as its own process, over HTTPS, for tests of vendor transports
# ---------------------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def snowsim_instance(tmp_path_factory):
    """A real ``snowsim serve`` process on a free port; yields ``(url, ca_path)``."""
    import socket
    import ssl
    import subprocess
    import sys
    import time
    from pathlib import Path

    import httpx

    data = tmp_path_factory.mktemp("snowsim")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    snowsim = Path(sys.executable).with_name("snowsim")
    process = subprocess.Popen(  # noqa: S603
        [str(snowsim), "serve", "--port", str(port), "--data", str(data), "--seed", "7"],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    url, ca = f"https://127.0.0.1:{port}", data / "tls" / "ca.pem"
    deadline = time.monotonic() + 30
    while True:
        if process.poll() is not None:
            raise RuntimeError(f"snowsim exited: {process.stdout.read()}")
        try:
            if ca.exists():
                httpx.get(
                    f"{url}/api/now/table/sys_user?sysparm_limit=1",
                    auth=("admin", "admin"),
                    verify=ssl.create_default_context(cafile=str(ca)),
                    timeout=2,
                    trust_env=False,
                )
                break
        except httpx.HTTPError:
            pass
        if time.monotonic() > deadline:
            process.kill()
            raise RuntimeError("snowsim did not start in 30 s")
        time.sleep(0.2)
    yield url, str(ca)
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()


# ---------------------------------------------------------------------------------------------
# CI's two runs: the tests that cannot reach a database need only one of them
# ---------------------------------------------------------------------------------------------

#: Fixtures through which a test reaches Kompass's database (pytest-django blocks every other way in process).
DATABASE_FIXTURES = frozenset(
    {"db", "transactional_db", "django_db_reset_sequences", "django_db_serialized_rollback", "live_server"}
)


def reaches_database(item) -> bool:
    if item.get_closest_marker("database_independent") is not None:
        return False
    return item.get_closest_marker("django_db") is not None or bool(
        DATABASE_FIXTURES & set(getattr(item, "fixturenames", ()))
    )


def selected(item, *, only_database: bool, database_free_share: str) -> bool:
    """Whether this run keeps ``item``: a test that can reach the database always; one that cannot (or is
    marked ``database_independent``) if the run is not database-only and the item's node id is in the share,
    or it has a ``skipif`` (it may run on one database only)."""
    if reaches_database(item):
        return True
    if only_database:
        return False
    # A conditional skip may hold on one run only (``SQLite only``): such a test goes to both, so the run
    # where it applies always has it.
    return any(True for _ in item.iter_markers("skipif")) or in_share(item.nodeid, database_free_share)


def pytest_collection_modifyitems(config, items):
    """``KOMPASS_ONLY_DATABASE_TESTS=1`` deselects every test that cannot reach Kompass's database, and those
    marked ``database_independent`` (the meta-tests that remove each access rule in turn and expect a table to
    notice: they test the tables, which run on both databases themselves).

    CI runs the suite on SQLite and again on PostgreSQL; a test without database access (the pure SLA
    engine, the mail parser, the simulator's own tests, which talk to its own store) gives the same answer
    on both, so one run is enough for it. A test that starts Kompass processes against the database always
    holds ``transactional_db`` or ``live_server`` for them.

    ``KOMPASS_DATABASE_FREE_TESTS`` (``all``, ``none`` or ``i/n``: ``kompass.testing.split``, over node ids)
    keeps only that share of those tests, so the two runs can take half each (``1/2`` and ``2/2``: together
    every one once). Unset: ``all`` (``none`` with ``KOMPASS_ONLY_DATABASE_TESTS=1``).
    """
    only_database = os.environ.get("KOMPASS_ONLY_DATABASE_TESTS") == "1"
    share = os.environ.get("KOMPASS_DATABASE_FREE_TESTS", "all")
    parse_share(share)  # a mistyped share is an error, not a silently empty run
    if not only_database and share == "all":
        return
    keep, dropped = [], []
    for item in items:
        (keep if selected(item, only_database=only_database, database_free_share=share) else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep
