"""The portfolio's pages: a hand-written role × page × method table, and the governance flow through the UI."""

import datetime as dt

import pytest

from kompass.core.imports.models import ImportBatch
from kompass.core.imports.testing import make_csv
from kompass.core.models import Organisation
from kompass.portfolio import services
from kompass.portfolio.imports import INTEGRATIONS, SYSTEMS, import_scope
from kompass.portfolio.models import (
    DataSet,
    ExternalParty,
    InfrastructureItem,
    Integration,
    MigrationWave,
    SystemProfile,
)
from kompass.testing.cast import CAST
from kompass.testing.matrix import check_access_table

pytestmark = pytest.mark.django_db

SEE_ALL = {"admin", "agreement", "desk"}
SEE_ALFA = {"kam", "it_contact", "owner", "agency_admin"}
MAINTAIN_ALFA = {"admin", "agreement", "owner", "agency_admin"}
CENTRAL = {"admin", "agreement"}
IMPORT_SYSTEMS = {"admin", "agreement", "agency_admin"}  # core's System "create"


def expect(ok, allowed, *, hidden=frozenset()):
    """``ok`` for ``allowed``, 404 for ``hidden`` (sees the page but not the object), 302 for the vendor, else 403."""
    statuses = {}
    for key in CAST:
        if key == "vendor":
            statuses[key] = 302
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
def pages(world, cast, beta_owner):
    Organisation.current()  # created on the first page otherwise, which a refused write must not do
    into_alfa = services.request_integration(
        cast["owner"], name="HR til Sak", provider_system=world["beta_hr"], consumer_system=world["alfa_sak"]
    )
    beta_gamma = services.request_integration(
        beta_owner, name="HR til GIS", provider_system=world["beta_hr"], consumer_system=world["gamma_gis"]
    )
    item = InfrastructureItem.objects.create(system=world["alfa_sak"], kind="server", name="srv-sak-1")
    wave = MigrationWave.objects.create(name="Bølge 1", starts_on=dt.date(2027, 1, 1), ends_on=dt.date(2027, 3, 1))
    data_set = DataSet.objects.create(name="Ansatte", publisher_party=world["freg"])
    return {
        "party": world["freg"].pk,
        "data_set": data_set.pk,
        "sak": world["alfa_sak"].pk,
        "hr": world["beta_hr"].pk,
        "into": into_alfa.pk,
        "bg": beta_gamma.pk,
        "item": item.pk,
        "wave": wave.pk,
    }


def _batch(spec, rows, agency, user):
    upload = make_csv(rows)
    batch = ImportBatch.upload(_named(upload, "import.csv"), kind=spec.name, scope=import_scope(agency), user=user)
    preview = batch.preview(spec, {"agency": agency, "user": user})
    assert not preview.errors, preview.errors
    return batch


def _named(data: bytes, name: str):
    from django.core.files.uploadedfile import SimpleUploadedFile

    return SimpleUploadedFile(name, data)


def test_portfolio_pages_access_table(clients, world, pages, agencies, cast):
    sak, hr, into, bg = pages["sak"], pages["hr"], pages["into"], pages["bg"]
    item, wave = pages["item"], pages["wave"]
    party, data_set = pages["party"], pages["data_set"]
    batches = {
        "systems": _batch(SYSTEMS, [["Systemnavn", "Drift"], ["Nytt", "SaaS"]], agencies["alfa"], cast["agreement"]),
        "beta": _batch(SYSTEMS, [["Systemnavn", "Drift"], ["Nytt", "SaaS"]], agencies["beta"], cast["agreement"]),
        "integrations": _batch(
            INTEGRATIONS, [["Integrasjon", "Fra system", "Til system"], ["Ny", "HR", "Arkiv"]], agencies["alfa"], None
        ),
    }
    fingerprints = {key: batch.fingerprint for key, batch in batches.items()}
    batches = {key: batch.pk for key, batch in batches.items()}
    profile = {
        "hosting": "public_cloud",
        "confidentiality": "high",
        "integrity": "medium",
        "availability": "high",
        "lifecycle": "in_use",
    }
    request = {
        "name": "Arkivuttrekk",
        "provider_system": str(sak),
        "consumer_system": str(world["alfa_arkiv"].pk),
        "direction": "one_way",
        "frequency": "daily",
        "technology": "file",
    }
    rows = table(
        ("GET", "/portfolio/", expect(200, SEE_ALL | SEE_ALFA)),
        ("GET", f"/portfolio/systems/{sak}/", expect(200, SEE_ALL | SEE_ALFA)),
        ("GET", f"/portfolio/systems/{hr}/", expect(200, SEE_ALL, hidden=SEE_ALFA)),
        ("GET", f"/portfolio/systems/{sak}/profile/", expect(200, MAINTAIN_ALFA)),
        ("POST", f"/portfolio/systems/{sak}/profile/", expect(302, MAINTAIN_ALFA)),
        (
            "POST",
            f"/portfolio/systems/{hr}/profile/",
            expect(302, {"admin", "agreement"}, hidden={"owner", "agency_admin"}),
        ),
        ("GET", f"/portfolio/systems/{sak}/transformation/", expect(200, MAINTAIN_ALFA)),
        ("GET", "/portfolio/integrations/", expect(200, SEE_ALL | SEE_ALFA)),
        ("GET", f"/portfolio/integrations/{into}/", expect(200, SEE_ALL | SEE_ALFA)),
        (
            "GET",
            f"/portfolio/integrations/{bg}/",
            expect(200, SEE_ALL | {"kam"}, hidden={"it_contact", "owner", "agency_admin"}),
        ),
        ("GET", "/portfolio/integrations/new/", expect(200, MAINTAIN_ALFA)),
        ("POST", "/portfolio/integrations/new/", expect(302, MAINTAIN_ALFA)),
        # Only the providing side (beta) reviews: of the cast, the administrator.
        ("POST", f"/portfolio/integrations/{into}/decide/", expect(302, {"admin"}, hidden=set())),
        ("GET", f"/portfolio/integrations/{into}/edit/", expect(200, MAINTAIN_ALFA)),
        ("POST", f"/portfolio/integrations/{into}/edit/", expect(302, MAINTAIN_ALFA)),
        ("GET", f"/portfolio/integrations/{bg}/edit/", expect(200, CENTRAL, hidden={"owner", "agency_admin"})),
        ("GET", "/portfolio/map/", expect(200, SEE_ALL | SEE_ALFA)),
        ("GET", "/portfolio/transformation/", expect(200, SEE_ALL | SEE_ALFA)),
        # Infrastructure items: the system's maintainers.
        ("GET", f"/portfolio/systems/{sak}/infrastructure/new/", expect(200, MAINTAIN_ALFA)),
        ("POST", f"/portfolio/systems/{sak}/infrastructure/new/", expect(302, MAINTAIN_ALFA)),
        (
            "POST",
            f"/portfolio/systems/{hr}/infrastructure/new/",
            expect(302, CENTRAL, hidden={"owner", "agency_admin"}),
        ),
        ("GET", f"/portfolio/infrastructure/{item}/", expect(200, MAINTAIN_ALFA)),
        ("POST", f"/portfolio/infrastructure/{item}/", expect(302, MAINTAIN_ALFA)),
        ("POST", f"/portfolio/infrastructure/{item}/delete/", expect(302, MAINTAIN_ALFA)),
        # Waves: the programme's plan, seen by all, edited centrally.
        ("GET", "/portfolio/waves/", expect(200, SEE_ALL | SEE_ALFA)),
        ("GET", "/portfolio/waves/new/", expect(200, CENTRAL)),
        ("POST", "/portfolio/waves/new/", expect(302, CENTRAL)),
        ("GET", f"/portfolio/waves/{wave}/", expect(200, CENTRAL)),
        ("POST", f"/portfolio/waves/{wave}/", expect(302, CENTRAL)),
        # External parties and data sets: shared by every agency, kept centrally.
        ("GET", "/portfolio/parties/", expect(200, SEE_ALL | SEE_ALFA)),
        ("GET", "/portfolio/parties/new/", expect(200, CENTRAL)),
        ("POST", "/portfolio/parties/new/", expect(302, CENTRAL)),
        ("GET", f"/portfolio/parties/{party}/", expect(200, SEE_ALL | SEE_ALFA)),
        ("GET", f"/portfolio/parties/{party}/edit/", expect(200, CENTRAL)),
        ("POST", f"/portfolio/parties/{party}/edit/", expect(302, CENTRAL)),
        ("GET", "/portfolio/data-sets/", expect(200, SEE_ALL | SEE_ALFA)),
        ("GET", "/portfolio/data-sets/new/", expect(200, CENTRAL)),
        ("POST", "/portfolio/data-sets/new/", expect(302, CENTRAL)),
        ("GET", f"/portfolio/data-sets/{data_set}/", expect(200, SEE_ALL | SEE_ALFA)),
        ("GET", f"/portfolio/data-sets/{data_set}/edit/", expect(200, CENTRAL)),
        ("POST", f"/portfolio/data-sets/{data_set}/edit/", expect(302, CENTRAL)),
        # Imports: systems need core's System "create" in the agency, integrations the right to request.
        ("GET", "/portfolio/import/systems/", expect(200, IMPORT_SYSTEMS)),
        ("POST", "/portfolio/import/systems/", expect(400, IMPORT_SYSTEMS)),  # no file: the form says so
        ("GET", f"/portfolio/import/systems/{batches['systems']}/", expect(200, IMPORT_SYSTEMS)),
        ("POST", f"/portfolio/import/systems/{batches['systems']}/apply/", expect(302, IMPORT_SYSTEMS)),
        ("GET", f"/portfolio/import/systems/{batches['beta']}/", expect(200, CENTRAL, hidden={"agency_admin"})),
        ("GET", "/portfolio/import/integrations/", expect(200, MAINTAIN_ALFA)),
        ("GET", f"/portfolio/import/integrations/{batches['integrations']}/", expect(200, MAINTAIN_ALFA)),
        ("POST", f"/portfolio/import/integrations/{batches['integrations']}/apply/", expect(302, MAINTAIN_ALFA)),
    )
    # Those who see the integration but may not review it get 403; those who don't see it (none here) 404.
    data = {
        f"/portfolio/systems/{sak}/profile/": profile,
        f"/portfolio/systems/{hr}/profile/": profile,
        "/portfolio/integrations/new/": request,
        f"/portfolio/integrations/{into}/decide/": {"decision": "approve", "reason": "Ok"},
        f"/portfolio/integrations/{into}/edit/": {**request, "name": "HR til Sak", "provider_system": str(hr)},
        f"/portfolio/systems/{sak}/infrastructure/new/": {
            "kind": "database",
            "name": "db-sak",
            "legacy_platform": "on",
        },
        f"/portfolio/systems/{hr}/infrastructure/new/": {"kind": "database", "name": "db-hr"},
        f"/portfolio/infrastructure/{item}/": {
            "kind": "server",
            "name": "srv-sak-1",
            "decommissioned_on": "2027-02-01",
        },
        "/portfolio/waves/new/": {"name": "Bølge 2", "starts_on": "2027-04-01", "ends_on": "2027-06-30"},
        f"/portfolio/waves/{wave}/": {"name": "Bølge 1", "starts_on": "2027-01-01", "ends_on": "2027-03-31"},
        "/portfolio/parties/new/": {"name": "Matrikkelen", "kind": "national_register", "organisation_number": ""},
        f"/portfolio/parties/{party}/edit/": {
            "name": "Folkeregisteret",
            "kind": "national_register",
            "organisation_number": "974 760 673",
            "contact": "Skatteetaten",
        },
        "/portfolio/data-sets/new/": {"name": "Eiendommer", "fields": "matrikkelnummer\nadresse"},
        f"/portfolio/data-sets/{data_set}/edit/": {
            "name": "Ansatte",
            "publisher_party": str(party),
            "personal_data": "on",
            "keywords": "folkeregister",
        },
        f"/portfolio/import/systems/{batches['systems']}/apply/": {"fingerprint": fingerprints["systems"]},
        f"/portfolio/import/integrations/{batches['integrations']}/apply/": {
            "fingerprint": fingerprints["integrations"]
        },
    }
    assert check_access_table(clients, rows, data=data) >= len(rows)


def test_the_map_data_holds_only_what_the_user_sees(clients, pages, cast):
    data = clients("owner").get("/api/portfolio/map/").json()
    assert [e["label"] for e in data["edges"]] == ["HR til Sak"]
    assert {n["label"] for n in data["nodes"]} == {"HR (BETA)", "Sak (ALFA)"} or {
        n["label"] for n in data["nodes"]
    } == {
        "HR",
        "Sak",
    }
    assert len(clients("agreement").get("/api/portfolio/map/").json()["edges"]) == 2
    filtered = clients("agreement").get(
        "/api/portfolio/map/", {"agency": cast["owner"].role_assignments.get().agency_id}
    )
    assert [e["label"] for e in filtered.json()["edges"]] == ["HR til Sak"]


def test_request_then_approve_through_the_pages(clients, world, cast, beta_owner):
    from django.test import Client

    response = clients("owner").post(
        "/portfolio/integrations/new/",
        {
            "name": "Folkeregisteret til Sak",
            "provider_party": str(world["freg"].pk),
            "consumer_system": str(world["alfa_sak"].pk),
            "direction": "one_way",
            "frequency": "daily",
            "technology": "api",
            "personal_data": "on",
        },
    )
    assert response.status_code == 400  # personal data without a legal basis
    assert "legal basis" in response.content.decode().lower() or "rettslig grunnlag" in response.content.decode()
    assert not Integration.objects.exists()
    response = clients("owner").post(
        "/portfolio/integrations/new/",
        {
            "name": "HR til Sak",
            "provider_system": str(world["beta_hr"].pk),
            "consumer_system": str(world["alfa_sak"].pk),
            "direction": "one_way",
            "frequency": "daily",
            "technology": "api",
        },
    )
    integration = Integration.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/portfolio/integrations/{integration.pk}/"
    reviewer = Client()
    reviewer.force_login(beta_owner)
    page = reviewer.get(f"/portfolio/integrations/{integration.pk}/").content.decode()
    assert f'action="/portfolio/integrations/{integration.pk}/decide/"' in page
    assert reviewer.post(f"/portfolio/integrations/{integration.pk}/decide/", {"decision": "reject"}).status_code == 400
    response = reviewer.post(f"/portfolio/integrations/{integration.pk}/decide/", {"decision": "approve", "reason": ""})
    assert response.status_code == 302
    integration.refresh_from_db()
    assert integration.status == Integration.Status.APPROVED
    assert clients("owner").post(f"/portfolio/integrations/{integration.pk}/activate/").status_code == 302
    integration.refresh_from_db()
    assert integration.status == Integration.Status.ACTIVE
    assert clients("owner").post(f"/portfolio/integrations/{integration.pk}/activate/").status_code == 400


def test_profile_is_created_on_first_save(clients, world):
    sak = world["alfa_sak"]
    assert not SystemProfile.objects.filter(system=sak).exists()
    response = clients("owner").post(
        f"/portfolio/systems/{sak.pk}/profile/",
        {
            "hosting": "saas",
            "confidentiality": "high",
            "integrity": "high",
            "availability": "low",
            "lifecycle": "in_use",
            "special_categories": "on",
        },
    )
    assert response.status_code == 400  # special categories without personal data
    assert not SystemProfile.objects.filter(system=sak).exists()
    response = clients("owner").post(
        f"/portfolio/systems/{sak.pk}/profile/",
        {
            "hosting": "saas",
            "confidentiality": "high",
            "integrity": "high",
            "availability": "low",
            "lifecycle": "in_use",
            "personal_data": "on",
            "user_count": "250",
        },
    )
    assert response.status_code == 302
    assert SystemProfile.objects.get(system=sak).user_count == 250


def test_planning_a_wave_flags_a_conflict_on_the_page(clients, world, cast, beta_owner):
    import datetime as dt

    from kompass.portfolio.models import MigrationWave

    wave = MigrationWave.objects.create(name="Bølge 1", starts_on=dt.date(2027, 1, 1), ends_on=dt.date(2027, 3, 1))
    integration = services.request_integration(
        cast["owner"], name="HR til Sak", provider_system=world["beta_hr"], consumer_system=world["alfa_sak"]
    )
    services.approve_integration(integration, beta_owner)
    response = clients("owner").post(
        f"/portfolio/systems/{world['alfa_sak'].pk}/transformation/",
        {"path": "rehost", "wave": str(wave.pk), "status": "planned", "risk": "medium"},
        follow=True,
    )
    assert response.status_code == 200
    text = response.content.decode()
    assert "avhenger av et system som ikke har noen migreringsbølge" in text or "no migration wave" in text
    overview = clients("owner").get("/portfolio/transformation/").content.decode()
    assert "Bølge 1" in overview and "HR" in overview


def test_a_large_map_shows_agencies_with_counts(clients, pages, cast, world, monkeypatch):
    from kompass.portfolio import views

    monkeypatch.setattr(views, "MAP_DETAIL_LIMIT", 1)
    data = clients("agreement").get("/api/portfolio/map/").json()
    assert data["level"] == "agency" and data["total"] == 2
    assert {n["label"] for n in data["nodes"]} == {"ALFA", "BETA", "GAMMA"}
    assert sorted((e["source"], e["target"], e["count"]) for e in data["edges"]) == sorted(
        [
            (f"a{world['beta_hr'].agency_id}", f"a{world['alfa_sak'].agency_id}", 1),
            (f"a{world['beta_hr'].agency_id}", f"a{world['gamma_gis'].agency_id}", 1),
        ]
    )
    # The owner sees one integration: below the limit again only if it is 1 or less, so systems.
    assert clients("owner").get("/api/portfolio/map/").json()["level"] == "system"


def test_the_system_page_shows_the_cases_the_viewer_may_see(clients, world, cast):
    from kompass.cases import services as cases

    service = world["alfa_sak"].services.first() or _service()
    origin = cases.ChangeOrigin.by_user(cast["requester"])
    cases.create_case(
        requester=cast["requester"], service=service, title="Sak-feil", system=world["alfa_sak"], origin=origin
    )
    page = clients("owner").get(f"/portfolio/systems/{world['alfa_sak'].pk}/").content.decode()
    assert "1 åpne av 1 saker" in page and "Sak-feil" in page
    other = clients("agreement").get(f"/portfolio/systems/{world['alfa_arkiv'].pk}/").content.decode()
    assert "0 åpne av 0 saker" in other


def _service():
    from kompass.core.models import Service

    return Service.objects.get(name="Brukerstøtte")


def test_a_request_is_edited_and_an_active_integration_changed_by_a_replacement(clients, world, cast, beta_owner):
    integration = services.request_integration(
        cast["owner"], name="HR til Sak", provider_system=world["beta_hr"], consumer_system=world["alfa_sak"]
    )
    form = {
        "name": "HR til Sak",
        "provider_system": str(world["beta_hr"].pk),
        "consumer_system": str(world["alfa_sak"].pk),
        "direction": "one_way",
        "frequency": "hourly",
        "technology": "api",
        "personal_data": "on",
    }
    owner = clients("owner")
    assert owner.post(f"/portfolio/integrations/{integration.pk}/edit/", form).status_code == 400  # no legal basis
    form.update(legal_basis_kind="law", legal_basis_reference="arbeidsmiljøloven § 1-1")
    assert owner.post(f"/portfolio/integrations/{integration.pk}/edit/", form).status_code == 302
    integration.refresh_from_db()
    assert (integration.frequency, integration.status, integration.personal_data) == ("hourly", "requested", True)
    # Moving the request away from one's own systems is refused, and changes nothing.
    moved = {**form, "consumer_system": str(world["gamma_gis"].pk)}
    assert owner.post(f"/portfolio/integrations/{integration.pk}/edit/", moved).status_code == 403
    integration.refresh_from_db()
    assert integration.consumer_system == world["alfa_sak"]
    services.approve_integration(integration, beta_owner)
    services.activate_integration(integration, cast["owner"])
    assert owner.get(f"/portfolio/integrations/{integration.pk}/edit/").status_code == 403  # past the request
    page = owner.get(f"/portfolio/integrations/new/?replaces={integration.pk}").content.decode()
    assert "arbeidsmiljøloven § 1-1" in page  # the form starts from the current integration
    response = owner.post(f"/portfolio/integrations/new/?replaces={integration.pk}", {**form, "name": "HR til Sak v2"})
    assert response.status_code == 302
    replacement = Integration.objects.get(name="HR til Sak v2")
    assert (replacement.supersedes, replacement.status) == (integration, "requested")
    services.approve_integration(replacement, beta_owner)
    services.activate_integration(replacement, cast["owner"])
    integration.refresh_from_db()
    assert integration.status == Integration.Status.RETIRED


def test_infrastructure_items_count_in_the_burn_down(clients, world):
    sak = world["alfa_sak"].pk
    owner = clients("owner")
    form = {"kind": "server", "name": "srv-1", "legacy_platform": "on"}
    assert owner.post(f"/portfolio/systems/{sak}/infrastructure/new/", form).status_code == 302
    assert owner.post(f"/portfolio/systems/{sak}/infrastructure/new/", form).status_code == 400  # the same name
    item = InfrastructureItem.objects.get()
    assert (
        owner.post(f"/portfolio/infrastructure/{item.pk}/", {**form, "decommissioned_on": "2026-01-05"}).status_code
        == 302
    )
    item.refresh_from_db()
    assert item.decommissioned_on == dt.date(2026, 1, 5)
    assert "srv-1" in owner.get(f"/portfolio/systems/{sak}/").content.decode()


def test_moving_a_wave_flags_the_conflicts_it_creates(clients, world, cast, beta_owner):
    first = MigrationWave.objects.create(name="Bølge 1", starts_on=dt.date(2027, 1, 1), ends_on=dt.date(2027, 3, 1))
    second = MigrationWave.objects.create(name="Bølge 2", starts_on=dt.date(2027, 4, 1), ends_on=dt.date(2027, 6, 1))
    integration = services.request_integration(
        cast["owner"], name="HR til Sak", provider_system=world["beta_hr"], consumer_system=world["alfa_sak"]
    )
    services.approve_integration(integration, beta_owner)
    services.plan_wave(services.transformation_of(world["alfa_sak"]), second, cast["agreement"])
    services.plan_wave(services.transformation_of(world["beta_hr"]), first, cast["agreement"])
    assert not services.dependency_conflicts()
    # The provider's wave moves after the consumer's: the save says so.
    form = {"name": "Bølge 1", "starts_on": "2027-09-01", "ends_on": "2027-10-01"}
    response = clients("agreement").post(f"/portfolio/waves/{first.pk}/", form, follow=True)
    assert response.status_code == 200
    assert "1 avhengighetskonflikt(er)" in response.content.decode()
    assert len(services.dependency_conflicts()) == 1


def test_external_parties_and_data_sets_pages(clients, pages, world, cast):
    """The pages list and show what integrations reach; the forms refuse bad input and change nothing."""
    manager, owner = clients("agreement"), clients("owner")
    Integration.objects.get(pk=pages["into"]).data_sets.add(pages["data_set"])
    listing = owner.get("/portfolio/parties/").content.decode()
    assert "Folkeregisteret" in listing and 'href="/portfolio/parties/new/"' not in listing  # no button for her
    assert 'href="/portfolio/parties/new/"' in manager.get("/portfolio/parties/").content.decode()
    detail = owner.get(f"/portfolio/parties/{pages['party']}/").content.decode()
    assert "Ansatte" in detail and "HR til Sak" not in detail  # HR til Sak is between two systems
    shown = owner.get(f"/portfolio/data-sets/{pages['data_set']}/").content.decode()
    assert "HR til Sak" in shown and "Folkeregisteret" in shown
    # A data set on an integration the user does not see: listed, but that integration is not.
    hidden = Integration.objects.get(pk=pages["bg"])
    hidden.data_sets.add(pages["data_set"])
    assert "HR til GIS" not in owner.get(f"/portfolio/data-sets/{pages['data_set']}/").content.decode()
    assert "HR til GIS" in manager.get(f"/portfolio/data-sets/{pages['data_set']}/").content.decode()

    before = list(ExternalParty.objects.values_list("name", "organisation_number"))
    bad = manager.post(
        "/portfolio/parties/new/", {"name": "Enhetsregisteret", "kind": "state", "organisation_number": "12"}
    )
    assert bad.status_code == 400 and "ni sifre" in bad.content.decode()
    taken = manager.post("/portfolio/parties/new/", {"name": "Folkeregisteret", "kind": "state"})
    assert taken.status_code == 400
    assert list(ExternalParty.objects.values_list("name", "organisation_number")) == before
    both = manager.post(
        "/portfolio/data-sets/new/",
        {
            "name": "Adresser",
            "publisher_party": str(pages["party"]),
            "publisher_agency": str(world["alfa_sak"].agency_id),
        },
    )
    assert both.status_code == 400 and DataSet.objects.count() == 1
    saved = manager.post(
        "/portfolio/parties/new/",
        {"name": " Enhetsregisteret ", "kind": "national_register", "organisation_number": "974 760 673"},
    )
    party = ExternalParty.objects.get(name="Enhetsregisteret")
    assert saved.status_code == 302 and saved["Location"] == f"/portfolio/parties/{party.pk}/"
    assert party.organisation_number == "974760673"
