"""Run a hand-written role × method × URL table and assert each status, and that refused writes change nothing.

::

    TABLE = {
        ("agreement", "POST", "/api/services/"): 201,
        ("it_contact", "POST", "/api/services/"): 403,
        ("vendor", "GET", "/services/"): {"session": 302},     # per client kind when they differ
    }
    check_access_table(clients, TABLE, data={"/api/services/": {"name": "Ny"}}, kinds=("session", "token"))

Each request runs in a savepoint that is rolled back, so an allowed write does not disturb the next row.
A refused write (any status that is not 2xx or 3xx) must leave every row of every Kompass model and the
audit log exactly as they were. Expected tables are written by hand in each app's tests: they must not be
derived from the matrix they check.
"""

from django.apps import apps
from django.db import transaction

__all__ = ["API_KINDS", "PAGE_KINDS", "check_access_table", "database_snapshot"]

PAGE_KINDS = ("session",)
API_KINDS = ("session", "token")
WRITE_METHODS = {"POST", "PUT", "PATCH", "DELETE"}
#: Stamps that any authenticated request may move (a token's last use, a login's time).
BOOKKEEPING_FIELDS = {"last_used", "last_login"}


def database_snapshot() -> dict:
    """Every row of every Kompass model (and the audit log's size): what a refused write must not change."""
    from auditlog.models import LogEntry

    snapshot = {"auditlog": LogEntry.objects.count()}
    for model in apps.get_models():
        if model.__module__.startswith("kompass.") and not model._meta.proxy:
            fields = [f.attname for f in model._meta.concrete_fields if f.attname not in BOOKKEEPING_FIELDS]
            snapshot[model._meta.label] = list(model._base_manager.order_by("pk").values(*fields))
    return snapshot


def _rows_written() -> int | None:
    """A counter the database moves on every row this connection inserts, updates or deletes (within the test's
    transaction, savepoints included), or None where there is none: then every refused write is compared."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute("SELECT total_changes()")
        elif connection.vendor == "postgresql":
            cursor.execute("SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_xact_user_tables")
        else:
            return None
        return int(cursor.fetchone()[0])


def _request(client, method: str, url: str, payload):
    if method in {"GET", "HEAD"}:
        return getattr(client, method.lower())(url)
    is_api = url.startswith("/api/")
    if payload is None:
        payload = {}
    if is_api:
        return getattr(client, method.lower())(url, payload, content_type="application/json")
    return client.generic(method, url, _urlencode(payload), content_type="application/x-www-form-urlencoded")


def _urlencode(payload) -> str:
    from urllib.parse import urlencode

    return urlencode(payload, doseq=True)


def check_access_table(clients, table: dict, *, data: dict | None = None, kinds=None) -> int:
    """Perform every ``(role, method, url) -> status`` row with each client kind; return the number of requests.

    ``status`` is an int for every kind, or ``{"session": 302, "token": 403}``. ``kinds`` defaults to
    session and token for URLs under ``/api/`` and session for pages. ``data[(method, url)]`` or
    ``data[url]`` is the body sent for writes (valid, so only access can refuse it).
    All mismatches are collected and reported together.
    """
    data = data or {}
    failures = []
    count = 0
    for (role, method, url), expected in table.items():
        row_kinds = kinds or (API_KINDS if url.startswith("/api/") else PAGE_KINDS)
        for kind in row_kinds:
            want = expected.get(kind) if isinstance(expected, dict) else expected
            if want is None:
                continue
            payload = data.get((method, url), data.get(url))
            client = clients(role, kind)  # outside the savepoint: its session or token must survive it
            write = method in WRITE_METHODS
            with transaction.atomic():
                mark = _rows_written() if write else None
                response = _request(client, method, url, payload)
                refused = not 200 <= response.status_code < 400
                # A refused write that wrote no row at all changed nothing; only when the database counted a
                # write (a session, a token's last use, or a real change) are the rows compared.
                after = database_snapshot() if write and refused and (mark is None or _rows_written() != mark) else None
                transaction.set_rollback(True)
            # The savepoint is rolled back: the database is as it was before the request.
            before = database_snapshot() if after is not None else None
            count += 1
            if response.status_code != want:
                failures.append(f"{role:<13} {kind:<7} {method:<6} {url}: {response.status_code}, expected {want}")
            elif after is not None and after != before:
                changed = sorted(k for k in before if before[k] != after.get(k))
                failures.append(f"{role:<13} {kind:<7} {method:<6} {url}: refused, but changed {changed}")
    assert not failures, f"{len(failures)} access mismatch(es):\n" + "\n".join(failures)
    return count


def access_tables(registry: list):
    """A decorator that collects an app's table builders (``build(world) -> (rows, data)``) into ``registry``."""

    def collect(build):
        registry.append(build)
        return build

    return collect


def keys_holding(role: str) -> set[str]:
    """The cast members who hold ``role`` (the requester pseudo-role: those with a home agency)."""
    from kompass.core import access
    from kompass.testing.cast import HOME_AGENCY, ROLES

    if role == access.REQUESTER:
        return set(HOME_AGENCY)
    return {key for key, roles in ROLES.items() if any(str(r) == str(role) for r, _agency in roles)}


def assert_every_rule_is_tested(models, run_for_keys) -> int:
    """Meta-test: take away each rule of ``models``' policies in turn; ``run_for_keys(keys)`` must then fail.

    ``run_for_keys`` runs the app's hand-written checks for only those cast members and raises
    ``AssertionError`` on a mismatch. A rule whose removal nothing notices is reported as untested.
    """
    from unittest import mock

    from kompass.core import access

    untested, cells = [], 0
    for model in models:
        policy = access.policy_for(model)
        for action, by_role in policy.rules.items():
            for role, scope in by_role.items():
                if scope.kind == "none":
                    continue
                cells += 1
                mutated = {**policy.rules, action: {r: s for r, s in by_role.items() if r != role}}
                with mock.patch.object(policy, "rules", mutated):
                    try:
                        run_for_keys(keys_holding(role))
                    except AssertionError:
                        continue
                untested.append(f"{model._meta.label}.{action}: {role}")
    assert not untested, "Rules no test notices when removed:\n" + "\n".join(untested)
    return cells
