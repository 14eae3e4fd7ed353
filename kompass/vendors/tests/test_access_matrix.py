"""The vendors app's role × page/endpoint × method table (written by hand; see core's test_access_matrix)."""

import pytest

from kompass.core.models import Organisation
from kompass.testing.matrix import access_tables, assert_every_rule_is_tested, check_access_table
from kompass.vendors.models import InboxEvent, ServiceRoute, VendorConnection, VendorLink

pytestmark = pytest.mark.django_db

TABLES = []
access_table = access_tables(TABLES)

CENTRAL = {"admin", "agreement"}
#: Who sees vendor links and the integration's health: agents work the cases, agreement managers read.
LINK_READERS = {"admin", "agreement", "desk"}
#: Who sends a case to the vendor and retries its dead letters: those who work cases.
WORKERS = {"admin", "desk"}


def expect(ok, allowed, *, api=False):
    from kompass.testing.cast import CAST

    statuses = {}
    for key in CAST:
        if key == "vendor":
            statuses[key] = {"session": 401, "token": 403} if api else 302
        else:
            statuses[key] = ok if key in allowed else 403
    return statuses


def table(*rows):
    return {(role, method, url): status for method, url, statuses in rows for role, status in statuses.items()}


@pytest.fixture
def world(cast, agencies):
    from kompass.cases import services
    from kompass.cases.services import ChangeOrigin
    from kompass.core.models import Service

    Organisation.current()
    connection = VendorConnection.objects.create(
        name="Leverandør", base_url="https://127.0.0.1:9", username="kompass", secret_env="KOMPASS_TEST_SECRET"
    )
    service = Service.objects.get(name="Brukerstøtte")
    other = Service.objects.create(name="Leverandørdrift", delivery="vendor")
    route = ServiceRoute.objects.create(service=service, connection=connection)
    route.delete()  # created and removed: a route exists only for the "other" service below
    route = ServiceRoute.objects.create(service=other, connection=connection)
    requester = cast["requester"]
    linked = services.create_case(
        requester=requester, service=service, title="Koblet", origin=ChangeOrigin.by_user(requester)
    )
    unlinked = services.create_case(
        requester=requester, service=service, title="Ikke koblet", origin=ChangeOrigin.by_user(requester)
    )
    link = VendorLink.objects.create(case=linked, connection=connection, correlation_id=linked.number)
    link.outbox.create(kind="comment", fields={"text": "x"}, marker="[kompass:reply:0]", state="dead")
    return {
        "connection": connection.pk,
        "route": route.pk,
        "service": service.pk,
        "link": link.pk,
        "case": unlinked.pk,
    }


@access_table
def vendor_pages(world):
    c = world["connection"]
    connection = {
        "name": "Endret",
        "kind": "servicenow",
        "base_url": "https://127.0.0.1:9",
        "auth_method": "basic",
        "username": "kompass",
        "secret_env": "KOMPASS_TEST_SECRET",
        "timeout_seconds": 1,
        "active": "on",
    }
    rows = table(
        ("GET", "/vendors/", expect(200, CENTRAL)),
        ("GET", "/vendors/new/", expect(200, CENTRAL)),
        ("POST", "/vendors/new/", expect(302, CENTRAL)),
        ("GET", f"/vendors/{c}/", expect(200, CENTRAL)),
        ("GET", f"/vendors/{c}/edit/", expect(200, CENTRAL)),
        ("POST", f"/vendors/{c}/edit/", expect(302, CENTRAL)),
        ("POST", f"/vendors/{c}/check/", expect(200, CENTRAL)),
    )
    data = {"/vendors/new/": {**connection, "name": "Ny"}, f"/vendors/{c}/edit/": connection}
    return rows, data


@access_table
def ebonding_pages(world):
    c, link, case, r = world["connection"], world["link"], world["case"], world["route"]
    route = {"service": world["service"], "connection": c, "table": "incident", "active": "on"}
    rows = table(
        ("GET", "/vendors/links/", expect(200, LINK_READERS)),
        ("GET", f"/vendors/links/{link}/", expect(200, LINK_READERS)),
        ("POST", f"/vendors/links/{link}/retry/", expect(302, WORKERS)),
        ("GET", "/vendors/dead-letters/", expect(200, LINK_READERS)),
        ("GET", f"/vendors/send/{case}/", expect(200, WORKERS)),
        ("POST", f"/vendors/send/{case}/", expect(302, WORKERS)),
        ("GET", "/vendors/routes/", expect(200, LINK_READERS)),
        ("GET", "/vendors/routes/new/", expect(200, CENTRAL)),
        ("POST", "/vendors/routes/new/", expect(302, CENTRAL)),
        ("GET", f"/vendors/routes/{r}/edit/", expect(200, CENTRAL)),
        ("POST", f"/vendors/routes/{r}/edit/", expect(302, CENTRAL)),
        ("GET", "/vendors/health/", expect(200, LINK_READERS)),
        ("GET", "/vendors/health.json", expect(200, LINK_READERS)),
        ("POST", f"/vendors/{c}/reconcile/", expect(302, CENTRAL)),
    )
    data = {
        f"/vendors/send/{case}/": {"connection": c, "table": "incident"},
        "/vendors/routes/new/": route,
        f"/vendors/routes/{r}/edit/": {**route, "service": ServiceRoute.objects.get(pk=r).service_id},
    }
    return rows, data


@access_table
def ebonding_api(world):
    webhook = f"/api/vendors/webhooks/{world['connection']}/"
    # Without the integration token's scope nobody gets in (the administrator's session passes the matrix, then
    # finds no webhook secret on this connection). The signed happy path is test_webhook.py's.
    refused = {key: {"session": 403, "token": 403} for key in expect(0, set())}
    refused["vendor"] = {"session": 401, "token": 403}
    rows = table(
        ("GET", "/api/vendors/health/", expect(200, LINK_READERS, api=True)),
        ("POST", webhook, refused),
    )
    return rows, {webhook: {"sys_id": "0" * 32}}


@access_table
def vendor_api(world):
    c = f"/api/vendor-connections/{world['connection']}/"
    rows = table(
        ("GET", "/api/vendor-connections/", expect(200, CENTRAL, api=True)),
        ("POST", "/api/vendor-connections/", expect(405, CENTRAL, api=True)),
        ("GET", c, expect(200, CENTRAL, api=True)),
        ("PUT", c, expect(405, CENTRAL, api=True)),
        ("PATCH", c, expect(405, CENTRAL, api=True)),
        ("DELETE", c, expect(405, CENTRAL, api=True)),
    )
    return rows, {}


@pytest.mark.parametrize("build", TABLES, ids=lambda build: build.__name__)
def test_access_table(clients, world, build):
    rows, data = build(world)
    assert check_access_table(clients, rows, data=data) >= len(rows)


@pytest.mark.slow
@pytest.mark.database_independent
def test_removing_any_rule_makes_a_test_fail(clients, world):
    def run_for_keys(keys):
        for build in TABLES:
            rows, data = build(world)
            check_access_table(clients, {k: v for k, v in rows.items() if k[0] in keys}, data=data)

    assert assert_every_rule_is_tested([VendorConnection, ServiceRoute, VendorLink], run_for_keys) == 13


def test_only_the_integration_account_may_store_webhook_events():
    """InboxEvent's one rule (``create`` for the vendor integration account) is exercised by test_webhook.py."""
    from kompass.core import access
    from kompass.core.roles import Role

    policy = access.policy_for(InboxEvent)
    assert set(policy.rules) == {"create"} and set(policy.rules["create"]) == {Role.VENDOR_INTEGRATION}
