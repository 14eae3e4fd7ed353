"""Applying imports to the database: all rows or none, stale previews refused, re-import diffs, ImportBatch, export."""

import io

import pytest
from auditlog.models import LogEntry
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation

from kompass.core.imports import (
    Field,
    FieldType,
    ImportRefused,
    ImportSpec,
    StalePreview,
    apply_import,
    build_preview,
    columns_for,
    export_csv,
    export_xlsx,
    lookup_by,
)
from kompass.core.imports.models import ImportBatch
from kompass.core.imports.testing import make_csv, make_xlsx
from kompass.core.models import Agency, Service, System, User

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def label(model, name):
    return model._meta.get_field(name).verbose_name  # the model's own (translated) label is the column header


# --- A tiny spec for the service catalogue ----------------------------------------------------------------------

SERVICE_FIELDS = ["name", "description", "delivery", "vendor_name", "active"]


def service_values(context):
    return {s["name"]: s for s in Service.objects.values(*SERVICE_FIELDS)}


def write_services(rows, diff, context):
    explode_at = context.get("explode_at")
    for row in diff.added:
        if row.key == explode_at:
            raise RuntimeError(f"the database fell over at {row.key}")
        Service.objects.create(**row.values)  # one by one: auditlog records each
    services = Service.objects.in_bulk([c.key for c in diff.changed], field_name="name")
    for change in diff.changed:
        service = services[change.key]
        for field_change in change.fields:
            setattr(service, field_change.field, field_change.new)
        service.save()
    retired = 0
    if context.get("retire_removed"):
        retired = Service.objects.filter(name__in=diff.removed, active=True).update(active=False)
    return {"retired": retired}


SERVICES = ImportSpec(
    name="test.service",
    fields=[
        Field("name", label(Service, "name"), FieldType.ID, required=True, synonyms=["Tjeneste"]),
        Field("description", label(Service, "description"), synonyms=["Beskrivelse"]),
        Field(
            "delivery",
            label(Service, "delivery"),
            FieldType.CHOICE,
            choices=Service.Delivery.choices,
            choice_synonyms={"vendor": ["Leverandør", "Ekstern"], "internal": ["Intern", "UKE"]},
        ),
        Field("vendor_name", label(Service, "vendor_name")),
        Field("active", label(Service, "active"), FieldType.BOOL, default=True),
    ],
    key="name",
    existing=service_values,
    apply=write_services,
)

HEADER = ["Tjeneste", "Beskrivelse", "Levert av", "Leverandør", "Aktiv"]


def catalogue(count, *, bad_row=None):
    rows = [HEADER]
    for n in range(1, count + 1):
        delivery = "Ukjent leveranse" if n + 1 == bad_row else ("Leverandør" if n % 2 else "Intern")
        rows.append([f"Tjeneste {n:05}", f"Beskrivelse {n}", delivery, "Leverandør AS" if n % 2 else "", "ja"])
    return rows


def test_it_applies_every_row_and_audits_each():
    preview = build_preview(make_xlsx(catalogue(3)), "tjenester.xlsx", SERVICES)
    assert preview.ok
    summary = apply_import(preview, SERVICES)
    assert summary == {"added": 3, "changed": 0, "removed": 0, "unchanged": 0, "rows": 3, "retired": 0}
    first = Service.objects.get(name="Tjeneste 00001")
    assert (first.delivery, first.vendor_name, first.active) == ("vendor", "Leverandør AS", True)
    assert LogEntry.objects.get_for_model(Service).count() == 3


def test_an_error_in_row_4999_of_5000_writes_nothing():
    preview = build_preview(make_xlsx(catalogue(5000, bad_row=4999)), "tjenester.xlsx", SERVICES)
    assert [(e.row, e.column) for e in preview.errors] == [(4999, "C")]
    assert len(preview.rows) == 4999
    with pytest.raises(ImportRefused, match="fix the error") as refused:
        apply_import(preview, SERVICES)
    assert refused.value.preview.errors == preview.errors
    assert Service.objects.count() == 0


def test_an_exception_while_applying_rolls_everything_back():
    Service.objects.create(name="Tjeneste 00001", description="gammel")
    preview = build_preview(make_xlsx(catalogue(50)), "tjenester.xlsx", SERVICES)
    assert preview.ok and len(preview.diff.changed) == 1
    with pytest.raises(RuntimeError, match="fell over"):
        apply_import(preview, SERVICES, {"explode_at": "Tjeneste 00049"})
    assert list(Service.objects.values_list("name", "description")) == [("Tjeneste 00001", "gammel")]


def test_a_stale_preview_is_refused():
    preview = build_preview(make_xlsx(catalogue(3)), "tjenester.xlsx", SERVICES)
    Service.objects.create(name="Tjeneste 00002", description="laget av noen andre i mellomtiden")
    with pytest.raises(StalePreview) as stale:
        apply_import(preview, SERVICES)
    assert Service.objects.count() == 1
    assert [c.key for c in stale.value.preview.diff.changed] == ["Tjeneste 00002"]  # the fresh preview to show


def test_warnings_must_be_accepted():
    data = make_xlsx([HEADER, [1.1, "Excel gjorde navnet til et tall"]])
    preview = build_preview(data, "tjenester.xlsx", SERVICES)
    assert preview.ok and len(preview.warnings) == 1
    with pytest.raises(ImportRefused, match="flagged"):
        apply_import(preview, SERVICES)
    assert Service.objects.count() == 0
    apply_import(preview, SERVICES, accept_warnings=True)
    assert Service.objects.get().name == "1.1"


def test_a_revised_file_merges_by_key_and_shows_the_diff():
    apply_import(build_preview(make_xlsx(catalogue(4)), "v1.xlsx", SERVICES), SERVICES)
    revised = catalogue(4)
    revised[2][1] = "Ny beskrivelse"  # Tjeneste 00002: text changed
    del revised[3]  # Tjeneste 00003 removed
    revised.append(["Tjeneste 00005", "Ny tjeneste", "Intern", "", "ja"])
    preview = build_preview(make_xlsx(revised), "v2.xlsx", SERVICES)
    diff = preview.diff
    assert diff.counts() == {"added": 1, "changed": 1, "removed": 1, "unchanged": 2}
    assert [(c.key, [(f.field, f.old, f.new) for f in c.fields]) for c in diff.changed] == [
        ("Tjeneste 00002", [("description", "Beskrivelse 2", "Ny beskrivelse")])
    ]
    assert diff.removed == ["Tjeneste 00003"]
    summary = apply_import(preview, SERVICES, {"retire_removed": True})
    assert summary["retired"] == 1
    assert Service.objects.get(name="Tjeneste 00002").description == "Ny beskrivelse"
    assert not Service.objects.get(name="Tjeneste 00003").active
    assert Service.objects.count() == 5


# --- ImportBatch: the upload between preview and apply ---------------------------------------------------------


@pytest.fixture
def media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


def upload(data, name="tjenester.xlsx"):
    return SimpleUploadedFile(name, data)


def test_a_batch_holds_the_file_from_preview_to_apply(media):
    user = User.objects.create_user("avtale@example.no", full_name="Avtale Forvalter")
    batch = ImportBatch.upload(upload(make_xlsx(catalogue(3))), kind=SERVICES.name, scope="catalogue", user=user)
    assert batch.file.name.startswith("imports/") and (media / batch.file.name).is_file()
    assert len(batch.sha256) == 64 and batch.created_by == user

    preview = batch.preview(SERVICES)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.PREVIEWED
    assert batch.summary["added"] == 3 and batch.fingerprint == preview.fingerprint

    summary = batch.apply(SERVICES, fingerprint=preview.fingerprint)
    batch.refresh_from_db()
    assert (batch.status, batch.summary, batch.applied is not None) == ("applied", summary, True)
    assert Service.objects.count() == 3
    with pytest.raises(ImportRefused, match="already been applied"):
        batch.apply(SERVICES, fingerprint=preview.fingerprint)
    assert ImportBatch.remembered_mapping(SERVICES.name, "catalogue").columns["Tjeneste"] == "name"


def test_a_batch_refuses_a_preview_the_person_did_not_see(media):
    batch = ImportBatch.upload(upload(make_xlsx(catalogue(3))), kind=SERVICES.name)
    preview = batch.preview(SERVICES)
    Service.objects.create(name="Tjeneste 00003")
    with pytest.raises(StalePreview):
        batch.apply(SERVICES, fingerprint=preview.fingerprint)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.PREVIEWED and Service.objects.count() == 1


def test_a_failed_batch_is_recorded_and_writes_nothing(media):
    batch = ImportBatch.upload(upload(make_xlsx(catalogue(3))), kind=SERVICES.name)
    preview = batch.preview(SERVICES)
    with pytest.raises(RuntimeError):
        batch.apply(SERVICES, {"explode_at": "Tjeneste 00002"}, fingerprint=preview.fingerprint)
    batch.refresh_from_db()
    assert batch.status == ImportBatch.Status.FAILED
    assert "fell over" in batch.summary["failure"]
    assert Service.objects.count() == 0


def test_a_remembered_mapping_is_used_for_the_next_upload(media):
    odd = [["Navn på tjenesten", "Hva"], ["Tjeneste A", "a"]]
    first = ImportBatch.upload(upload(make_xlsx(odd)), kind=SERVICES.name, scope="contract:1")
    from kompass.core.imports import ColumnMapping

    mapping = ColumnMapping(columns={"Navn på tjenesten": "name", "Hva": "description"})
    preview = first.preview(SERVICES, mapping=mapping)
    first.apply(SERVICES, fingerprint=preview.fingerprint)

    second = ImportBatch.upload(
        upload(make_xlsx([["Tittel"], *odd, ["Tjeneste B", "b"]])), kind=SERVICES.name, scope="contract:1"
    )
    preview = second.preview(SERVICES)
    assert preview.ok and [r.key for r in preview.diff.added] == ["Tjeneste B"]
    other_scope = ImportBatch.upload(upload(make_xlsx(odd)), kind=SERVICES.name, scope="contract:2")
    assert not other_scope.preview(SERVICES).ok


def test_an_oversized_upload_is_refused(media):
    big = SimpleUploadedFile("stor.csv", b"x")
    big.size = 21 * 1024 * 1024
    with pytest.raises(ImportRefused, match="too large"):
        ImportBatch.upload(big, kind=SERVICES.name)


# --- Systems of one agency: references and choices, as the portfolio will import them --------------------------


def system_values(context):
    systems = System.objects.filter(agency=context["agency"]).select_related("system_owner")
    return {
        s.name: {
            "name": s.name,
            "criticality": s.criticality,
            "system_owner": s.system_owner,
            "description": s.description,
        }
        for s in systems
    }


def write_systems(rows, diff, context):
    for row in diff.added:
        System.objects.create(agency=context["agency"], **row.values)
    systems = System.objects.filter(agency=context["agency"]).in_bulk([c.key for c in diff.changed], field_name="name")
    for change in diff.changed:
        for field_change in change.fields:
            setattr(systems[change.key], field_change.field, field_change.new)
        systems[change.key].save()


SYSTEMS = ImportSpec(
    name="test.system",
    fields=[
        Field("name", label(System, "name"), FieldType.ID, required=True, synonyms=["System", "Systemnavn"]),
        Field(
            "criticality",
            label(System, "criticality"),
            FieldType.CHOICE,
            choices=System.Criticality.choices,
            choice_synonyms={"critical": ["Kritisk"], "high": ["Høy"], "medium": ["Middels"], "low": ["Lav"]},
        ),
        Field(
            "system_owner",
            label(System, "system_owner"),
            FieldType.REFERENCE,
            synonyms=["Systemeier"],
            resolver=lookup_by(lambda context: User.objects.filter(is_active=True), "email", "full_name"),
        ),
        Field("description", label(System, "description")),
    ],
    key="name",
    existing=system_values,
    apply=write_systems,
)


@pytest.fixture
def alfa():
    return Agency.objects.create(name="Bydel Alfa", short_code="ALFA", kind=Agency.Kind.DISTRICT)


@pytest.fixture
def owner():
    return User.objects.create_user("eier@example.no", full_name="Sys Eier")


def test_systems_resolve_references_and_report_unknown_ones(alfa, owner):
    rows = [
        ["System", "Kritikalitet", "Systemeier"],
        ["Gerica", "Kritisk", owner.email.upper()],
        ["Visma", "middels", owner.full_name],
        ["Ukjent", "Lav", "nobody@example.no"],
    ]
    User.objects.create_user("ola.n@example.no", full_name="Ola Nordmann")
    User.objects.create_user("olan@example.no", full_name="Ola Nordmann")
    rows += [["Lønn", "Høy", "ola.n@example.no"], ["Arkiv", "Lav", "ola nordmann"]]
    preview = build_preview(make_xlsx(rows), "systemer.xlsx", SYSTEMS, {"agency": alfa})
    assert [str(e) for e in preview.errors] == [
        "Row 4, column C: No system owner matches “nobody@example.no”.",
        "Row 6, column C: More than one match for “ola nordmann”; use a value that is unique.",
    ]
    assert [(r.key, r.values["system_owner"].email) for r in preview.rows] == [
        ("Gerica", owner.email),
        ("Visma", owner.email),
        ("Lønn", "ola.n@example.no"),
    ]


@pytest.mark.parametrize("fmt", ["xlsx", "csv"])
def test_export_then_import_gives_no_diff(alfa, owner, fmt):
    System.objects.create(
        agency=alfa,
        name="1.10",
        criticality="high",
        system_owner=owner,
        description="Fagsystem; med «sitater», komma, og\nlinjeskift",
    )
    System.objects.create(agency=alfa, name="=SUM(A1)", criticality="low", description="")
    System.objects.create(agency=alfa, name="2.3.0", criticality="critical", description="Årlig ÆØÅ")
    context = {"agency": alfa}
    rows = list(system_values(context).values())
    columns = columns_for(SYSTEMS, extra=[("Evidence", "evidence")])
    data = export_xlsx(columns, rows, "Systemer") if fmt == "xlsx" else export_csv(columns, rows)
    preview = build_preview(data, f"systemer.{fmt}", SYSTEMS, context)
    assert preview.errors == [] and preview.warnings == []
    assert preview.diff.counts() == {"added": 0, "changed": 0, "removed": 0, "unchanged": 3}


@translation.override("nb")
def test_the_xlsx_export_is_readable_for_people():
    from openpyxl import load_workbook

    rows = [{"name": "1.10", "description": "x", "delivery": "vendor", "vendor_name": "", "active": True}]
    workbook = load_workbook(io.BytesIO(export_xlsx(columns_for(SERVICES), rows, "Tjenester")))
    sheet = workbook["Tjenester"]
    assert [c.value for c in sheet[1]] == ["Navn", "Beskrivelse", "Levert av", "Leverandør", "Aktiv"]
    assert sheet["A1"].font.b and sheet.freeze_panes == "A2" and sheet.auto_filter.ref == "A1:E2"
    assert (sheet["A2"].value, sheet["A2"].data_type, sheet["A2"].number_format) == ("1.10", "s", "@")
    assert sheet["C2"].value == "Leveres av en leverandør" and sheet["E2"].value == "Ja"


@translation.override("nb")
def test_the_csv_export_opens_in_norwegian_excel():
    data = export_csv(columns_for(SERVICES), [{"name": "=cmd", "description": "a;b", "active": False}])
    text = data.decode("utf-8")
    assert text.startswith("\ufeffNavn;Beskrivelse;Levert av;Leverandør;Aktiv\r\n")
    assert '\'=cmd;"a;b";;;Nei' in text


def test_csv_round_trip_through_norwegian_excel_semicolons_and_cp1252():
    rows = [["Tjeneste", "Beskrivelse", "Levert av"], ["Lønn", "Lønnsutbetaling – månedlig", "Intern"]]
    preview = build_preview(make_csv(rows, encoding="cp1252"), "tjenester.csv", SERVICES)
    apply_import(preview, SERVICES)
    assert Service.objects.get().description == "Lønnsutbetaling – månedlig"
