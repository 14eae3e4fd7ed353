"""Every role against every view and API endpoint: a foreign agency's object answers 404, never data."""

import pytest
from django.urls import reverse

from kompass.conftest import CAST, EXPECTED_CHANGE, EXPECTED_VIEW
from kompass.core import access
from kompass.core.models import Agency, ApiToken, System

pytestmark = pytest.mark.django_db


@pytest.fixture
def login(client):
    def _login(user):
        client.force_login(user)
        return client

    return _login


@pytest.mark.parametrize("key", CAST)
def test_access_rule_matches_the_table(cast, agencies, key):
    rules = access.access_for(cast[key])
    seen = {k for k, agency in agencies.items() if agency.pk in rules.view}
    changed = {k for k, agency in agencies.items() if agency.pk in rules.change}
    assert seen == EXPECTED_VIEW[key]
    assert changed == EXPECTED_CHANGE[key]
    assert set(Agency.objects.restrict(cast[key]).values_list("short_code", flat=True)) == {
        agencies[k].short_code for k in EXPECTED_VIEW[key]
    }


def test_inactive_user_reaches_nothing(cast):
    user = cast["admin"]
    user.is_active = False
    assert access.access_for(user).view == frozenset()


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
    assert response.status_code == 200
    shown = {k for k, agency in agencies.items() if agency.name in response.content.decode()}
    assert shown == EXPECTED_VIEW[key]


@pytest.mark.parametrize("key", CAST)
def test_agency_detail_is_404_outside_reach(login, cast, agencies, key):
    client = login(cast[key])
    for agency_key, agency in agencies.items():
        response = client.get(reverse("core:agency_detail", args=[agency.pk]))
        expected = 200 if agency_key in EXPECTED_VIEW[key] else 404
        assert response.status_code == expected, (key, agency_key)
        if expected == 404:
            assert agency.name not in response.content.decode()


@pytest.mark.parametrize("key", CAST)
def test_system_list_and_detail_follow_agency_reach(login, cast, systems, key):
    client = login(cast[key])
    body = client.get(reverse("core:system_list")).content.decode()
    for agency_key, system in systems.items():
        visible = agency_key in EXPECTED_VIEW[key]
        assert (system.name in body) == visible, (key, agency_key)
        response = client.get(reverse("core:system_detail", args=[system.pk]))
        assert response.status_code == (200 if visible else 404)


@pytest.mark.parametrize("key", CAST)
def test_agency_edit_needs_change_reach(login, cast, agencies, key):
    client = login(cast[key])
    for agency_key, agency in agencies.items():
        url = reverse("core:agency_edit", args=[agency.pk])
        response = client.get(url)
        if agency_key in EXPECTED_CHANGE[key]:
            expected = 200
        elif agency_key in EXPECTED_VIEW[key]:
            expected = 403
        else:
            expected = 404
        assert response.status_code == expected, (key, agency_key)
        # A POST that is refused changes nothing.
        if expected != 200:
            response = client.post(url, {"name": "Hijacked", "short_code": agency.short_code, "kind": "district"})
            assert response.status_code == expected
            agency.refresh_from_db()
            assert agency.name != "Hijacked"


@pytest.mark.parametrize("key", CAST)
def test_system_edit_needs_change_reach(login, cast, systems, key):
    client = login(cast[key])
    for agency_key, system in systems.items():
        response = client.get(reverse("core:system_edit", args=[system.pk]))
        if agency_key in EXPECTED_CHANGE[key]:
            assert response.status_code == 200
        elif agency_key in EXPECTED_VIEW[key]:
            assert response.status_code == 403
        else:
            assert response.status_code == 404


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
        assert response.status_code in {400, 403, 404}
        assert system.agency == agencies["alfa"]


@pytest.mark.parametrize("key", CAST)
def test_agency_create_only_for_organisation_editors(login, cast, key):
    client = login(cast[key])
    response = client.get(reverse("core:agency_create"))
    allowed = EXPECTED_CHANGE[key] == {"alfa", "beta", "gamma"}
    assert response.status_code == (200 if allowed else 403)
    response = client.post(reverse("core:agency_create"), {"name": "Ny etat", "short_code": "NY", "kind": "department"})
    assert response.status_code == (302 if allowed else 403)
    assert Agency.objects.filter(short_code="NY").exists() == allowed


@pytest.mark.parametrize("key", CAST)
@pytest.mark.parametrize("name", ["core:user_list", "core:user_create", "core:organisation_edit"])
def test_user_admin_is_for_administrators(login, cast, key, name):
    response = login(cast[key]).get(reverse(name))
    assert response.status_code == (200 if key == "admin" else 403)


@pytest.mark.parametrize("key", CAST)
def test_user_detail_is_for_administrators(login, cast, key):
    response = login(cast[key]).get(reverse("core:user_detail", args=[cast["owner"].pk]))
    assert response.status_code == (200 if key == "admin" else 403)


@pytest.mark.parametrize("key", CAST)
def test_audit_log_for_administrators_and_agreement_managers(login, cast, key):
    response = login(cast[key]).get(reverse("core:audit_log"))
    assert response.status_code == (200 if key in {"admin", "agreement"} else 403)


@pytest.mark.parametrize("key", CAST)
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


@pytest.mark.parametrize("key", CAST)
def test_api_agency_list_and_detail(api, cast, agencies, key):
    client = api(cast[key])
    data = client.get("/api/agencies/").json()
    assert {row["short_code"] for row in data["results"]} == {agencies[k].short_code for k in EXPECTED_VIEW[key]}
    for agency_key, agency in agencies.items():
        response = client.get(f"/api/agencies/{agency.pk}/")
        assert response.status_code == (200 if agency_key in EXPECTED_VIEW[key] else 404)


@pytest.mark.parametrize("key", CAST)
def test_api_agency_update_follows_change_reach(api, cast, agencies, key):
    client = api(cast[key])
    for agency_key, agency in agencies.items():
        response = client.patch(
            f"/api/agencies/{agency.pk}/", {"description": "changed"}, content_type="application/json"
        )
        assert response.status_code == (200 if agency_key in EXPECTED_CHANGE[key] else 404), (key, agency_key)
        agency.refresh_from_db()
        assert (agency.description == "changed") == (agency_key in EXPECTED_CHANGE[key])


@pytest.mark.parametrize("key", CAST)
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


@pytest.mark.parametrize("key", CAST)
def test_api_users_for_administrators_only(api, cast, key):
    response = api(cast[key]).get("/api/users/")
    assert response.status_code == (200 if key == "admin" else 403)


@pytest.mark.parametrize("key", CAST)
def test_api_agency_create_and_delete(api, cast, agencies, key):
    client = api(cast[key])
    allowed = key in {"admin", "agreement"}
    response = client.post(
        "/api/agencies/",
        {"name": "API-etaten", "short_code": "APIE", "kind": "department"},
        content_type="application/json",
    )
    assert response.status_code == (201 if allowed else 403)
    assert Agency.objects.filter(short_code="APIE").exists() == allowed
    response = client.delete(f"/api/agencies/{agencies['beta'].pk}/")
    if allowed:
        assert response.status_code == 204
    else:
        assert response.status_code == 404 if "beta" not in EXPECTED_CHANGE[key] else 403
    assert Agency.objects.filter(pk=agencies["beta"].pk).exists() != allowed
