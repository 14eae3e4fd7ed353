"""The portfolio API: role × endpoint × method table, the governance flow, and bad input (400, nothing changed)."""

import pytest

from kompass.core.models import Organisation
from kompass.portfolio import services
from kompass.portfolio.models import GovernanceDecision, Integration, MigrationWave
from kompass.testing.cast import CAST
from kompass.testing.matrix import check_access_table

pytestmark = pytest.mark.django_db

SEE_ALL = {"admin", "agreement", "desk"}
SEE_ALFA = {"kam", "it_contact", "owner", "agency_admin"}
MAINTAIN_ALFA = {"admin", "agreement", "owner", "agency_admin"}


def expect(ok, allowed, *, hidden=frozenset()):
    statuses = {}
    for key in CAST:
        if key == "vendor":
            statuses[key] = {"session": 401, "token": 403}
        elif key in allowed:
            statuses[key] = ok
        elif key in hidden:
            statuses[key] = 404
        else:
            statuses[key] = 403
    return statuses


def table(*rows):
    return {(role, method, url): status for method, url, statuses in rows for role, status in statuses.items()}


@pytest.fixture
def api(world, cast, beta_owner):
    Organisation.current()
    into = services.request_integration(
        cast["owner"], name="HR til Sak", provider_system=world["beta_hr"], consumer_system=world["alfa_sak"]
    )
    other = services.request_integration(
        beta_owner, name="HR til GIS", provider_system=world["beta_hr"], consumer_system=world["gamma_gis"]
    )
    wave = MigrationWave.objects.create(name="Bølge 1", starts_on="2027-01-01", ends_on="2027-03-31")
    return {"into": into.pk, "other": other.pk, "wave": wave.pk}


def test_api_access_table(clients, world, api):
    into, other = api["into"], api["other"]
    request = {
        "name": "Arkivuttrekk",
        "provider_system": world["alfa_sak"].pk,
        "consumer_system": world["alfa_arkiv"].pk,
    }
    rows = table(
        ("GET", "/api/portfolio/integrations/", expect(200, SEE_ALL | SEE_ALFA)),
        ("GET", f"/api/portfolio/integrations/{into}/", expect(200, SEE_ALL | SEE_ALFA)),
        (
            "GET",
            f"/api/portfolio/integrations/{other}/",
            expect(200, SEE_ALL | {"kam"}, hidden={"it_contact", "owner", "agency_admin"}),
        ),
        ("POST", "/api/portfolio/integrations/", expect(201, MAINTAIN_ALFA)),
        ("POST", f"/api/portfolio/integrations/{into}/approve/", expect(200, {"admin"}, hidden=set())),
        (
            "POST",
            f"/api/portfolio/integrations/{other}/approve/",
            expect(403, set(), hidden={"it_contact", "owner", "agency_admin"}),
        ),
        ("PUT", f"/api/portfolio/integrations/{into}/", expect(405, SEE_ALL | SEE_ALFA)),
        ("DELETE", f"/api/portfolio/integrations/{into}/", expect(405, SEE_ALL | SEE_ALFA)),
        ("GET", "/api/portfolio/decisions/", expect(200, SEE_ALL | SEE_ALFA)),
        ("GET", "/api/portfolio/waves/", expect(200, SEE_ALL | SEE_ALFA)),
        ("POST", "/api/portfolio/waves/", expect(201, {"admin", "agreement"})),
        ("GET", "/api/portfolio/transformations/", expect(200, SEE_ALL | SEE_ALFA)),
        ("POST", "/api/portfolio/transformations/", expect(201, MAINTAIN_ALFA)),
        ("GET", "/api/portfolio/profiles/", expect(200, SEE_ALL | SEE_ALFA)),
        ("POST", "/api/portfolio/profiles/", expect(201, MAINTAIN_ALFA)),
        ("GET", "/api/portfolio/map/", expect(200, SEE_ALL | SEE_ALFA)),
        ("GET", "/api/portfolio/burn-down/", expect(200, SEE_ALL | SEE_ALFA)),
        ("GET", "/api/portfolio/external-parties/", expect(200, SEE_ALL | SEE_ALFA)),
        ("POST", "/api/portfolio/external-parties/", expect(201, {"admin", "agreement"})),
    )
    # The approve row: those who see "into" but are not on the providing side (beta) get 403.
    for key in ("agreement", "desk", "kam", "it_contact", "owner", "agency_admin"):
        rows[(key, "POST", f"/api/portfolio/integrations/{into}/approve/")] = 403
    rows[("admin", "POST", f"/api/portfolio/integrations/{other}/approve/")] = 200
    for key in ("agreement", "desk", "kam"):
        rows[(key, "POST", f"/api/portfolio/integrations/{other}/approve/")] = 403
    data = {
        "/api/portfolio/integrations/": request,
        "/api/portfolio/waves/": {"name": "Bølge 9", "starts_on": "2028-01-01", "ends_on": "2028-02-01"},
        "/api/portfolio/transformations/": {"system": world["alfa_sak"].pk, "path": "retire", "status": "assessed"},
        "/api/portfolio/profiles/": {"system": world["alfa_sak"].pk, "hosting": "saas"},
        "/api/portfolio/external-parties/": {"name": "Matrikkelen", "kind": "national_register"},
        f"/api/portfolio/integrations/{into}/approve/": {"reason": "Ok"},
        f"/api/portfolio/integrations/{other}/approve/": {"reason": "Ok"},
    }
    assert check_access_table(clients, rows, data=data) >= len(rows)


def test_creating_for_another_agencys_systems_is_refused(clients, world, api):
    before = Integration.objects.count()
    response = clients("owner").post(
        "/api/portfolio/integrations/",
        {"name": "Ikke min", "provider_system": world["beta_hr"].pk, "consumer_system": world["gamma_gis"].pk},
        content_type="application/json",
    )
    assert response.status_code == 403
    response = clients("owner").post(
        "/api/portfolio/profiles/", {"system": world["beta_hr"].pk}, content_type="application/json"
    )
    assert response.status_code == 403
    assert Integration.objects.count() == before


def test_the_api_refuses_personal_data_without_a_legal_basis(clients, world, api):
    response = clients("owner").post(
        "/api/portfolio/integrations/",
        {
            "name": "Personer",
            "provider_party": world["freg"].pk,
            "consumer_system": world["alfa_sak"].pk,
            "personal_data": True,
        },
        content_type="application/json",
    )
    assert response.status_code == 400
    assert "legal_basis_kind" in response.json() and "legal_basis_reference" in response.json()
    assert not Integration.objects.filter(name="Personer").exists()


def test_the_governance_flow_through_the_api(clients, world, api, beta_owner):
    from django.test import Client

    from kompass.core.models import ApiToken

    into = api["into"]
    reviewer = Client()
    _token, key = ApiToken.issue(beta_owner, "test")
    reviewer.defaults["HTTP_AUTHORIZATION"] = f"Token {key}"
    url = f"/api/portfolio/integrations/{into}/"
    assert clients("owner", "token").post(url + "activate/").status_code == 400  # not approved
    response = reviewer.post(url + "reject/", {"reason": ""}, content_type="application/json")
    assert response.status_code == 400
    response = reviewer.post(url + "approve/", {"reason": "Hjemmel ok"}, content_type="application/json")
    assert response.status_code == 200 and response.json()["status"] == "approved"
    assert reviewer.post(url + "approve/", {}, content_type="application/json").status_code == 400  # twice
    response = clients("owner", "token").post(url + "activate/")
    assert response.status_code == 200 and response.json()["status"] == "active"
    kinds = list(GovernanceDecision.objects.filter(integration_id=into).values_list("kind", flat=True))
    assert kinds == ["requested", "approved", "activated"]


def test_transformation_answers_carry_dependency_conflicts(clients, world, api, cast, beta_owner):
    integration = Integration.objects.get(pk=api["into"])
    services.approve_integration(integration, beta_owner)
    response = clients("agreement", "token").post(
        "/api/portfolio/transformations/",
        {"system": world["alfa_sak"].pk, "wave": api["wave"], "status": "planned"},
        content_type="application/json",
    )
    assert response.status_code == 201, response.json()
    assert [c["depends_on"] for c in response.json()["conflicts"]] == [world["beta_hr"].pk]
    listed = clients("agreement", "token").get("/api/portfolio/transformations/").json()
    rows = listed["results"] if isinstance(listed, dict) else listed
    assert rows[0]["conflicts"][0]["integration"] == integration.pk
    bad = clients("agreement", "token").post(
        "/api/portfolio/transformations/",
        {"system": world["alfa_arkiv"].pk, "status": "migrated"},
        content_type="application/json",
    )
    assert bad.status_code == 400 and "completed_on" in bad.json()


def test_burn_down_rejects_bad_dates(clients, api):
    assert clients("agreement", "token").get("/api/portfolio/burn-down/?start=2027-13-01").status_code == 400
    assert (
        clients("agreement", "token").get("/api/portfolio/burn-down/?start=2027-05-01&end=2027-01-01").status_code
        == 400
    )
    ok = clients("agreement", "token").get("/api/portfolio/burn-down/?start=2027-01-01&end=2027-03-01")
    assert [p["day"] for p in ok.json()] == ["2027-01-01", "2027-02-01", "2027-03-01"]


def test_deleting_a_wave_in_use_is_a_conflict_and_changes_nothing(clients, world, api):
    from kompass.portfolio.models import Transformation

    Transformation.objects.create(system=world["alfa_sak"], wave_id=api["wave"], status="planned")
    response = clients("agreement", "token").delete(f"/api/portfolio/waves/{api['wave']}/")
    assert response.status_code == 409
    assert MigrationWave.objects.filter(pk=api["wave"]).exists()
