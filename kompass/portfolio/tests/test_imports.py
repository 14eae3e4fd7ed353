"""Import of systems and integrations through the shared machinery: preview, row errors, diff, atomic apply."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from kompass.core.imports import ImportRefused, build_preview
from kompass.core.imports.models import ImportBatch
from kompass.core.imports.testing import make_csv, make_xlsx
from kompass.core.models import System
from kompass.portfolio import services
from kompass.portfolio.imports import INTEGRATIONS, SYSTEMS, run_import
from kompass.portfolio.models import GovernanceDecision, Integration, SystemProfile

pytestmark = pytest.mark.django_db

SYSTEM_HEADER = [
    "Systemnavn",
    "Kritikalitet",
    "Systemeier",
    "Leverandør",
    "Drift",
    "Personopplysninger",
    "Antall brukere",
]


def preview_systems(rows, agencies, cast, fmt="xlsx"):
    data = make_xlsx([SYSTEM_HEADER, *rows]) if fmt == "xlsx" else make_csv([SYSTEM_HEADER, *rows])
    return build_preview(data, f"systemer.{fmt}", SYSTEMS, {"agency": agencies["alfa"], "user": cast["agreement"]})


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_systems_import_creates_systems_and_profiles(agencies, cast, fmt):
    preview = preview_systems(
        [
            ["Gerica", "Kritisk", cast["owner"].email, "Tieto", "Offentlig sky", "ja", 1200],
            ["Visma", "Lav", "", "Visma", "SaaS", "nei", 40],
        ],
        agencies,
        cast,
        fmt,
    )
    assert not preview.errors
    result = run_import(preview, SYSTEMS, agency=agencies["alfa"], user=cast["agreement"])
    assert result["added"] == 2
    gerica = System.objects.get(agency=agencies["alfa"], name="Gerica")
    assert (gerica.criticality, gerica.system_owner) == ("critical", cast["owner"])
    profile = SystemProfile.objects.get(system=gerica)
    assert (profile.vendor_name, profile.hosting, profile.personal_data, profile.user_count) == (
        "Tieto",
        "public_cloud",
        True,
        1200,
    )
    # The same file again: no diff; a changed cell: one change, on the profile.
    again = preview_systems(
        [
            ["Gerica", "Kritisk", cast["owner"].email, "Tieto", "Privat sky", "ja", 1200],
            ["Visma", "Lav", "", "Visma", "SaaS", "nei", 40],
        ],
        agencies,
        cast,
        fmt,
    )
    assert [(c.key, [f.field for f in c.fields]) for c in again.diff.changed] == [("Gerica", ["hosting"])]
    run_import(again, SYSTEMS, agency=agencies["alfa"], user=cast["agreement"])
    assert SystemProfile.objects.get(system=gerica).hosting == "private_cloud"


def test_a_row_error_imports_nothing(agencies, cast):
    preview = preview_systems(
        [
            ["Gerica", "Kritisk", cast["owner"].email, "Tieto", "Offentlig sky", "ja", 1200],
            ["Visma", "Ukjent nivå", "nobody@example.no", "Visma", "SaaS", "nei", "mange"],
        ],
        agencies,
        cast,
    )
    assert {e.column for e in preview.errors} == {"B", "C", "G"}
    assert {e.row for e in preview.errors} == {3}
    with pytest.raises(ImportRefused):
        run_import(preview, SYSTEMS, agency=agencies["alfa"], user=cast["agreement"])
    assert not System.objects.exists() and not SystemProfile.objects.exists()


def test_only_those_who_may_create_systems_import_them(agencies, cast):
    preview = preview_systems([["Gerica", "Kritisk", "", "Tieto", "SaaS", "nei", 1]], agencies, cast)
    for key in ("owner", "it_contact", "kam", "desk", "requester"):
        with pytest.raises(PermissionDenied):
            run_import(preview, SYSTEMS, agency=agencies["alfa"], user=cast[key])
    with pytest.raises(PermissionDenied):  # alfa's administrator, beta's systems
        run_import(preview, SYSTEMS, agency=agencies["beta"], user=cast["agency_admin"])
    assert not System.objects.exists()


INTEGRATION_HEADER = [
    "Integrasjon",
    "Fra system",
    "Fra ekstern",
    "Til system",
    "Personopplysninger",
    "Rettslig grunnlag",
    "Hjemmel",
]


def preview_integrations(rows, agencies, user):
    data = make_xlsx([INTEGRATION_HEADER, *rows])
    return build_preview(data, "integrasjoner.xlsx", INTEGRATIONS, {"agency": agencies["alfa"], "user": user})


def test_integrations_are_imported_as_requests(world, agencies, cast):
    preview = preview_integrations(
        [
            ["Folkeregisteret til Sak", "", "Folkeregisteret", "Sak", "ja", "Lov", "folkeregisterloven § 10-2"],
            ["HR til Sak", "HR", "", "Sak", "nei", "", ""],
        ],
        agencies,
        cast["owner"],
    )
    assert not preview.errors, preview.errors
    run_import(preview, INTEGRATIONS, agency=agencies["alfa"], user=cast["owner"])
    assert set(Integration.objects.values_list("name", "status")) == {
        ("Folkeregisteret til Sak", "requested"),
        ("HR til Sak", "requested"),
    }
    assert GovernanceDecision.objects.filter(kind="requested").count() == 2
    hr = Integration.objects.get(name="HR til Sak")
    assert set(hr.agencies.values_list("short_code", flat=True)) == {"ALFA", "BETA"}


def test_integration_rows_need_a_legal_basis_for_personal_data_and_one_party_per_side(world, agencies, cast):
    preview = preview_integrations(
        [
            ["A", "", "Folkeregisteret", "Sak", "ja", "", ""],
            ["B", "HR", "Folkeregisteret", "Sak", "nei", "", ""],
            ["C", "HR", "", "Sak", "nei", "", ""],
        ],
        agencies,
        cast["owner"],
    )
    assert sorted({e.row for e in preview.errors}) == [2, 3]
    with pytest.raises(ImportRefused):
        run_import(preview, INTEGRATIONS, agency=agencies["alfa"], user=cast["owner"])
    assert not Integration.objects.exists()


def test_a_change_to_an_approved_integration_rolls_back_the_whole_import(world, agencies, cast, beta_owner):
    approved = services.request_integration(
        cast["owner"], name="HR til Sak", provider_system=world["beta_hr"], consumer_system=world["alfa_sak"]
    )
    services.approve_integration(approved, beta_owner)
    preview = preview_integrations(
        [
            ["Ny integrasjon", "HR", "", "Arkiv", "nei", "", ""],
            ["HR til Sak", "HR", "", "Arkiv", "nei", "", ""],  # would re-point an approved integration
        ],
        agencies,
        cast["owner"],
    )
    assert not preview.errors
    with pytest.raises(ValidationError, match="forbi bestillingsstadiet"):  # the UI's language: bokmål
        run_import(preview, INTEGRATIONS, agency=agencies["alfa"], user=cast["owner"])
    assert list(Integration.objects.values_list("name", flat=True)) == ["HR til Sak"]
    assert Integration.objects.get().consumer_system == world["alfa_sak"]


def test_an_integration_the_user_may_not_request_rolls_back_everything(world, agencies, cast):
    preview = preview_integrations(
        [["Ok", "HR", "", "Sak", "nei", "", ""], ["Ikke min", "HR", "", "GIS", "nei", "", ""]], agencies, cast["owner"]
    )
    with pytest.raises(PermissionDenied):
        run_import(preview, INTEGRATIONS, agency=agencies["alfa"], user=cast["owner"])
    assert not Integration.objects.exists()


# --- The pages: core's upload → mapping → preview → apply, for one agency ----------------------------------------


def _upload(client, kind, agency, rows, name="import.xlsx"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    data = make_xlsx(rows) if name.endswith(".xlsx") else make_csv(rows)
    response = client.post(
        f"/portfolio/import/{kind}/", {"agency": str(agency.pk), "file": SimpleUploadedFile(name, data)}
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    return response["Location"]


def test_systems_import_through_the_pages(clients, agencies, cast):
    client = clients("agency_admin")
    page = client.get("/portfolio/import/systems/").content.decode()
    assert "Bydel Alfa" in page and "Bydel Beta" not in page  # only the agencies one may import for
    preview_url = _upload(
        client, "systems", agencies["alfa"], [SYSTEM_HEADER, ["Gerica", "Kritisk", "", "Tieto", "SaaS", "ja", 10]]
    )
    preview = client.get(preview_url)
    assert preview.status_code == 200
    text = preview.content.decode()
    assert 'data-testid="import-added"' in text and "Gerica" in text
    # Remap: leave the vendor column out, preview again (the mapping form of core).
    batch = ImportBatch.objects.get()
    form = {f"column_{n}": field for n, field in enumerate(["name", "criticality", "system_owner", "", "hosting"], 1)}
    form.update({"column_6": "personal_data", "column_7": "user_count"})
    assert client.post(preview_url, form).status_code == 200
    batch.refresh_from_db()
    assert "Leverandør" not in batch.mapping["columns"]
    response = client.post(f"{preview_url}apply/", {"fingerprint": batch.fingerprint})
    assert response.status_code == 302 and response["Location"] == f"/portfolio/?agency={agencies['alfa'].pk}"
    profile = SystemProfile.objects.get(system__name="Gerica")
    assert (profile.hosting, profile.vendor_name, profile.user_count) == ("saas", "", 10)
    # Applied once: a second apply changes nothing.
    assert client.post(f"{preview_url}apply/", {"fingerprint": batch.fingerprint}).status_code == 302
    assert System.objects.filter(name="Gerica").count() == 1


def test_import_pages_apply_all_rows_or_none(clients, world, agencies, cast, beta_owner):
    approved = services.request_integration(
        cast["owner"], name="HR til Sak", provider_system=world["beta_hr"], consumer_system=world["alfa_sak"]
    )
    services.approve_integration(approved, beta_owner)
    client = clients("owner")
    # A row error: the preview lists it with row and column, and nothing can be applied.
    url = _upload(
        client,
        "integrations",
        agencies["alfa"],
        [INTEGRATION_HEADER, ["A", "", "Folkeregisteret", "Sak", "ja", "", ""]],
        name="feil.csv",
    )
    text = client.get(url).content.decode()
    assert 'data-testid="import-errors"' in text and 'data-testid="import-apply"' not in text
    batch = ImportBatch.objects.latest("pk")
    assert client.post(f"{url}apply/", {"fingerprint": batch.fingerprint}).status_code == 400
    # A valid file whose second row would re-point an approved integration: the services refuse it, and the
    # first row's request is rolled back with it.
    url = _upload(
        client,
        "integrations",
        agencies["alfa"],
        [INTEGRATION_HEADER, ["Ny integrasjon", "HR", "", "Arkiv", "nei", "", ""], ["HR til Sak", "HR", "", "Arkiv"]],
    )
    text = client.get(url).content.decode()
    assert 'data-testid="import-apply"' in text
    batch = ImportBatch.objects.latest("pk")
    response = client.post(f"{url}apply/", {"fingerprint": batch.fingerprint})
    assert response.status_code == 400
    assert "forbi bestillingsstadiet" in response.content.decode()
    assert list(Integration.objects.values_list("name", flat=True)) == ["HR til Sak"]
    assert not GovernanceDecision.objects.filter(integration__name="Ny integrasjon").exists()
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED
    # Another agency's batch is out of reach.
    beta_batch = ImportBatch.objects.create(kind=INTEGRATIONS.name, scope=f"portfolio:{agencies['beta'].pk}")
    assert client.get(f"/portfolio/import/integrations/{beta_batch.pk}/").status_code == 404
    assert client.get("/portfolio/import/unknown/").status_code == 404
