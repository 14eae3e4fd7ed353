"""Importing messy requirement specifications through the core machinery; re-import diffs; export."""

import io

import pytest
from auditlog.models import LogEntry
from django.utils import translation
from openpyxl import load_workbook

from kompass.contract.imports import REQUIREMENTS, export_columns, export_rows, import_context
from kompass.contract.models import Requirement
from kompass.core.imports import ColumnMapping, ImportRefused, apply_import, build_preview, export_xlsx
from kompass.core.imports.testing import Formatted, make_csv, make_xlsx

pytestmark = pytest.mark.django_db
HEADER = ["Krav-ID", "Kravtekst", "Kravtype", "Verifiseringsmetode", "Milepæl", "Status"]


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def preview_of(data, contract, user, filename="krav.xlsx", mapping=None):
    return build_preview(data, filename, REQUIREMENTS, import_context(contract, user), mapping)


def messy_sheet():
    """A title block, a merged chapter row, blank lines, the header repeated, trailing spaces, a chapter without ID."""
    return [
        ["Kravspesifikasjon – bilag 2", None, None, None, None, None],
        [None] * 6,
        HEADER,
        ["Kapittel 1 Drift", None, None, None, None, None],  # merged A4:F4
        [
            "1.1 ",
            " Leverandøren skal overvåke tjenestene døgnet rundt. ",
            "Absolutt",
            "Test",
            "Driftsovertakelse",
            None,
        ],
        ["1.2", "Leverandøren skal varsle ved brudd.", "Evaluert", "Dokumentgjennomgang", "Driftsovertakelse", "Pågår"],
        [None] * 6,
        HEADER,  # the header again, as when two sheets were pasted together
        [None, "Kapittel 2 Sikkerhet", None, None, None, None],
        ["1.10", "Tilgang skal logges.", "A", "Inspeksjon", "Etableringsperiodens slutt", "Ikke påbegynt"],
        ["2.3.0", "Sikkerhetskopier skal testes månedlig.", "E", "Måling", None, "Klar"],
    ]


def test_a_messy_specification_imports_exactly(cast, contract):
    data = make_xlsx(messy_sheet(), merges=["A4:F4"])
    preview = preview_of(data, contract, cast["agreement"])
    assert preview.errors == [] and preview.warnings == []
    assert [row.key for row in preview.rows] == ["1.1", "1.2", "1.10", "2.3.0"]
    apply_import(preview, REQUIREMENTS, import_context(contract, cast["agreement"]))
    got = {
        r.requirement_id: (r.chapter, r.text, r.kind, r.verification_method, str(r.milestone or ""), r.status)
        for r in Requirement.objects.all()
    }
    assert got == {
        "1.1": (
            "Kapittel 1 Drift",
            "Leverandøren skal overvåke tjenestene døgnet rundt.",
            "mandatory",
            "test",
            "Driftsovertakelse",
            "not_started",
        ),
        "1.2": (
            "Kapittel 1 Drift",
            "Leverandøren skal varsle ved brudd.",
            "evaluated",
            "document_review",
            "Driftsovertakelse",
            "in_progress",
        ),
        "1.10": (
            "Kapittel 2 Sikkerhet",
            "Tilgang skal logges.",
            "mandatory",
            "inspection",
            "Etableringsperiodens slutt",
            "not_started",
        ),
        "2.3.0": (
            "Kapittel 2 Sikkerhet",
            "Sikkerhetskopier skal testes månedlig.",
            "evaluated",
            "measurement",
            "",
            "ready",
        ),
    }
    assert list(Requirement.objects.order_by("position").values_list("requirement_id", flat=True)) == [
        "1.1",
        "1.2",
        "1.10",
        "2.3.0",
    ]


def test_errors_are_exact_and_nothing_is_written(cast, contract):
    rows = [
        HEADER,
        ["1.1", "Første", "Absolutt", "Test", "Driftsovertakelse", "Ferdig-ish"],  # unknown status
        ["1.2", "Andre", "Absolutt", "Telepati", None, None],  # unknown method
        ["1.3", "Tredje", None, None, "Månelanding", None],  # unknown milestone
        ["1.1", "Dobbel", None, None, None, None],  # duplicate of row 2
        ["1.4", None, None, None, None, None],  # no text
    ]
    preview = preview_of(make_xlsx(rows), contract, cast["agreement"])
    messages = [(e.row, e.column, e.message) for e in preview.errors]
    assert messages == [
        (2, "F", messages[0][2]),
        (3, "D", messages[1][2]),
        (4, "E", "No milestone matches “Månelanding”."),
        (5, "A", "ID 1.1 appears on rows 2 and 5."),
        (6, "B", "“requirement text” is required."),
    ], messages
    assert messages[0][2].startswith("Unknown status “Ferdig-ish”. Allowed: Not started, In progress,")
    assert messages[1][2].startswith("Unknown verification method “Telepati”.")
    before = LogEntry.objects.count()
    with pytest.raises(ImportRefused):
        apply_import(preview, REQUIREMENTS, import_context(contract, cast["agreement"]))
    assert not Requirement.objects.exists() and LogEntry.objects.count() == before


def test_ids_stored_as_numbers_are_flagged_and_collisions_refused(cast, contract):
    rows = [
        HEADER,
        [1.1, "Tall", None, None, None, None],
        [Formatted(1.2, "0.00"), "Formatert", None, None, None, None],
    ]
    preview = preview_of(make_xlsx(rows), contract, cast["agreement"])
    assert preview.errors == []
    assert [w.row for w in preview.warnings] == [2, 3]
    with pytest.raises(ImportRefused):
        apply_import(preview, REQUIREMENTS, import_context(contract, cast["agreement"]))
    assert not Requirement.objects.exists()
    apply_import(preview, REQUIREMENTS, import_context(contract, cast["agreement"]), accept_warnings=True)
    assert sorted(Requirement.objects.values_list("requirement_id", flat=True)) == ["1.1", "1.20"]

    colliding = [
        HEADER,
        ["1.10", "Tekst", None, None, None, None],
        [1.1, "Tall som kolliderer", None, None, None, None],
    ]
    preview = preview_of(make_xlsx(colliding), contract, cast["agreement"])
    assert any("1.10" in e.message for e in preview.errors), preview.errors


def test_a_revised_specification_shows_the_diff_and_merges_by_id(cast, contract):
    first = make_csv([["Krav-ID", "Kravtekst"], ["1.1", "A"], ["1.2", "B"], ["1.3", "C"]])
    context = import_context(contract, cast["agreement"])
    apply_import(preview_of(first, contract, cast["agreement"], "krav.csv"), REQUIREMENTS, context)
    kept = Requirement.objects.get(requirement_id="1.2")
    kept.status = Requirement.Status.VERIFIED
    kept.save()

    revised = make_csv(
        [["Krav-ID", "Kravtekst"], ["1.1", "A"], ["1.2", "B endret"], ["1.4", "D"]], encoding="utf-8-sig"
    )
    preview = preview_of(revised, contract, cast["agreement"], "krav.csv")
    assert [row.key for row in preview.diff.added] == ["1.4"]
    assert [(c.key, [(f.field, f.old, f.new) for f in c.fields]) for c in preview.diff.changed] == [
        ("1.2", [("text", "B", "B endret")])
    ]
    assert preview.diff.removed == ["1.3"] and preview.diff.unchanged == 1
    assert Requirement.objects.get(requirement_id="1.2").text == "B"  # a preview writes nothing
    apply_import(preview, REQUIREMENTS, context)
    current = dict(Requirement.objects.filter(withdrawn=False).values_list("requirement_id", "text"))
    assert current == {"1.1": "A", "1.2": "B endret", "1.4": "D"}
    assert Requirement.objects.get(requirement_id="1.2").status == Requirement.Status.VERIFIED  # no status column
    assert Requirement.objects.get(requirement_id="1.3").withdrawn


def test_a_remembered_mapping_fits_a_file_with_odd_headers(cast, contract):
    rows = [["Nummer", "Hva", "Kapitteltittel"], ["1.1", "Tekst", "Drift"]]
    mapping = ColumnMapping(columns={"Nummer": "requirement_id", "Hva": "text", "Kapitteltittel": "chapter"})
    preview = preview_of(make_xlsx(rows), contract, cast["agreement"], mapping=mapping)
    assert preview.errors == [] and preview.rows[0].values["chapter"] == "Drift"


def test_export_has_the_import_columns_plus_evidence_and_reimports_without_diff(cast, contract, requirements):
    from kompass.contract import services

    services.add_evidence(requirements[0], user=cast["agreement"], kind="link", url="https://docs.example/a")
    data = export_xlsx(export_columns(), export_rows(contract))
    sheet = load_workbook(io.BytesIO(data)).active
    values = list(sheet.values)
    assert values[0][0] == "Requirement ID" and values[0][-1] == "Evidence"
    assert [row[0] for row in values[1:]] == ["1.1", "1.2", "1.10"]
    assert values[1][-1] == "https://docs.example/a"
    preview = preview_of(data, contract, cast["agreement"])
    assert preview.errors == [] and preview.diff.is_empty
