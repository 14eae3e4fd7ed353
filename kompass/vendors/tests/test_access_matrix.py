"""The vendors app's role × page/endpoint × method table (written by hand; see core's test_access_matrix)."""

import pytest

from kompass.core.models import Organisation
from kompass.testing.matrix import check_access_table
from kompass.vendors.models import VendorConnection

pytestmark = pytest.mark.django_db

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


def test_vendor_pages(clients, world):
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
    check_access_table(clients, rows, data=data)


def test_vendor_api(clients, world):
    c = f"/api/vendor-connections/{world['connection']}/"
    rows = table(
        ("GET", "/api/vendor-connections/", expect(200, CENTRAL, api=True)),
        ("POST", "/api/vendor-connections/", expect(405, CENTRAL, api=True)),
        ("GET", c, expect(200, CENTRAL, api=True)),
        ("PUT", c, expect(405, CENTRAL, api=True)),
        ("PATCH", c, expect(405, CENTRAL, api=True)),
        ("DELETE", c, expect(405, CENTRAL, api=True)),
    )
    check_access_table(clients, rows)
