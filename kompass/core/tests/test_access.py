"""What each role's pages and API answers *contain*: a foreign agency's data never shows.

Status codes of every role × page/endpoint × method are in ``test_access_matrix.py``; these tests look
at the content (lists, pages listing agencies, moves between agencies).
"""

import pytest
from django.urls import reverse

from kompass.core.models import Agency, ApiToken, System
from kompass.testing.cast import CAST, EXPECTED_CHANGE, EXPECTED_VIEW

pytestmark = pytest.mark.django_db

#: The cast members who see some agency's data (the others are refused outright: test_access_matrix.py).
VIEWERS = [key for key in CAST if EXPECTED_VIEW[key]]


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login


@pytest.mark.parametrize("key", CAST)
def test_access_rule_matches_the_table(cast, agencies, key):
    codes = {k: agency.short_code for k, agency in agencies.items()}
    seen = set(Agency.objects.restrict(cast[key], "view").values_list("short_code", flat=True))
    changed = set(Agency.objects.restrict(cast[key], "change").values_list("short_code", flat=True))
    assert seen == {codes[k] for k in EXPECTED_VIEW[key]}
    assert changed == {codes[k] for k in EXPECTED_CHANGE[key]}


def test_inactive_user_reaches_nothing(cast, agencies):
    user = cast["admin"]
    user.is_active = False
    assert not Agency.objects.restrict(user).exists()


@pytest.mark.parametrize(
    "name",
    ["core:home", "core:agency_list", "core:service_list", "core:system_list", "core:user_list", "core:audit_log"],
)
def test_anonymous_is_sent_to_login(client, name):
    response = client.get(reverse(name))
    assert response.status_code == 302
    assert response.url.startswith(reverse("core:login"))


@pytest.mark.parametrize("key", CAST)
def test_agency_list_shows_only_visible_agencies(login, cast, agencies, key):
    response = login(cast[key]).get(reverse("core:agency_list"))
    if not EXPECTED_VIEW[key]:
        assert response.status_code in {302, 403}  # the integration account has no session at all
        return
    assert response.status_code == 200
    shown = {k for k, agency in agencies.items() if agency.name in response.content.decode()}
    assert shown == EXPECTED_VIEW[key]


@pytest.mark.parametrize("key", VIEWERS)
def test_system_list_and_detail_follow_agency_reach(login, cast, systems, key):
    client = login(cast[key])
    body = client.get(reverse("core:system_list")).content.decode()
    for agency_key, system in systems.items():
        visible = agency_key in EXPECTED_VIEW[key]
        assert (system.name in body) == visible, (key, agency_key)
        response = client.get(reverse("core:system_detail", args=[system.pk]))
        assert response.status_code == (200 if visible else 404)


@pytest.mark.parametrize("key", CAST)
def test_agency_admin_cannot_move_a_system_to_a_foreign_agency(login, cast, systems, agencies, key):
    client = login(cast[key])
    system = systems["alfa"]
    response = client.post(
        reverse("core:system_edit", args=[system.pk]),
        {"name": system.name, "agency": agencies["beta"].pk, "criticality": "high", "active": "on"},
    )
    system.refresh_from_db()
    if "beta" in EXPECTED_CHANGE[key] and "alfa" in EXPECTED_CHANGE[key]:
        assert response.status_code == 302
        assert system.agency == agencies["beta"]
    else:
        assert response.status_code in ({302} if key == "vendor" else {400, 403, 404})  # vendor: no session
        assert system.agency == agencies["alfa"]


@pytest.mark.parametrize("key", VIEWERS)
def test_service_catalogue_is_shared_but_edited_centrally(login, cast, agencies, key):
    client = login(cast[key])
    service = agencies["alfa"].services.get()
    assert client.get(reverse("core:service_list")).status_code == 200
    assert client.get(reverse("core:service_detail", args=[service.pk])).status_code == 200
    allowed = key in {"admin", "agreement"}
    assert client.get(reverse("core:service_edit", args=[service.pk])).status_code == (200 if allowed else 403)
    # The service page lists only the agencies the user may see.
    body = client.get(reverse("core:service_detail", args=[service.pk])).content.decode()
    for agency_key, agency in agencies.items():
        assert (agency.name in body) == (agency_key in EXPECTED_VIEW[key])


# --------------------------------------------------------------------------------------------
# API
# --------------------------------------------------------------------------------------------


@pytest.fixture
def api(client):
    def _api(user):
        _token, key = ApiToken.issue(user, "test")
        client.defaults["HTTP_AUTHORIZATION"] = f"Token {key}"
        return client

    return _api


def test_api_requires_authentication(client, agencies):
    assert client.get("/api/agencies/").status_code in {401, 403}
    response = client.get("/api/agencies/", HTTP_AUTHORIZATION="Token kmp_not-a-real-token")
    assert response.status_code == 401


@pytest.mark.parametrize("key", VIEWERS)
def test_api_agency_list_and_detail(api, cast, agencies, key):
    client = api(cast[key])
    data = client.get("/api/agencies/").json()
    assert {row["short_code"] for row in data["results"]} == {agencies[k].short_code for k in EXPECTED_VIEW[key]}
    for agency_key, agency in agencies.items():
        response = client.get(f"/api/agencies/{agency.pk}/")
        assert response.status_code == (200 if agency_key in EXPECTED_VIEW[key] else 404)


@pytest.mark.parametrize("key", VIEWERS)
def test_api_systems(api, cast, systems, agencies, key):
    client = api(cast[key])
    data = client.get("/api/systems/").json()
    assert {row["name"] for row in data["results"]} == {systems[k].name for k in EXPECTED_VIEW[key]}
    for agency_key, system in systems.items():
        assert client.get(f"/api/systems/{system.pk}/").status_code == (
            200 if agency_key in EXPECTED_VIEW[key] else 404
        )
    # Creating a system in a foreign agency is refused and creates nothing.
    response = client.post(
        "/api/systems/",
        {"name": "Sneaky", "agency": agencies["beta"].pk, "criticality": "low"},
        content_type="application/json",
    )
    allowed = "beta" in EXPECTED_CHANGE[key]
    assert response.status_code == (201 if allowed else 403)
    assert System.objects.filter(name="Sneaky").exists() == allowed
