"""The vendors app's role × page/endpoint × method table (written by hand; see core's test_access_matrix)."""

import pytest

from kompass.core.models import Organisation
from kompass.testing.matrix import access_tables, assert_every_rule_is_tested, check_access_table
from kompass.vendors.models import VendorConnection

pytestmark = pytest.mark.django_db

TABLES = []
access_table = access_tables(TABLES)

CENTRAL = {"admin", "agreement"}


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
def world(cast):
    Organisation.current()
    connection = VendorConnection.objects.create(
        name="Leverandør", base_url="https://127.0.0.1:9", username="kompass", secret_env="KOMPASS_TEST_SECRET"
    )
    return {"connection": connection.pk}


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
def test_removing_any_rule_makes_a_test_fail(clients, world):
    def run_for_keys(keys):
        for build in TABLES:
            rows, data = build(world)
            check_access_table(clients, {k: v for k, v in rows.items() if k[0] in keys}, data=data)

    assert assert_every_rule_is_tested([VendorConnection], run_for_keys) == 4
