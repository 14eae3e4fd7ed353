"""Mapping and validating messy specifications: the preview's rows, errors, warnings and diff. No database."""

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from kompass.core.imports import (
    ColumnMapping,
    Field,
    FieldType,
    ImportSpec,
    RowKind,
    build_preview,
    columns_for,
    export_csv,
    export_xlsx,
    normalise,
    read_sheet,
    suggest_mapping,
)
from kompass.core.imports.reader import clean_text
from kompass.core.imports.testing import Formatted, make_csv, make_xlsx

STATUSES = [("open", "Open"), ("in_progress", "In progress"), ("done", "Done")]
STATUS_WORDS = {"open": ["Åpen", "Ikke startet"], "in_progress": ["Pågår", "Under arbeid"], "done": ["Ferdig"]}


def requirement_spec(**overrides):
    """A requirement register's spec, as the contract app would declare it (without a database)."""
    options = {
        "name": "test.requirement",
        "fields": [
            Field("ref", "ID", FieldType.ID, required=True, synonyms=["Krav-ID", "Kravnr", "Krav nr."]),
            Field("text", "Text", required=True, synonyms=["Kravtekst", "Beskrivelse"]),
            Field("chapter", "Chapter", synonyms=["Kapittel"]),
            Field("status", "Status", FieldType.CHOICE, choices=STATUSES, choice_synonyms=STATUS_WORDS),
            Field("due", "Due", FieldType.DATE, synonyms=["Frist"]),
        ],
        "key": "ref",
        "section_field": "chapter",
        "existing": lambda context: context.get("existing", {}),
        "apply": lambda rows, diff, context: None,
    }
    return ImportSpec(**{**options, **overrides})


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


SPEC = requirement_spec()
HEADER = ["Krav-ID", "Kravtekst", "Status", "Frist"]


def preview_of(rows, spec=SPEC, context=None, mapping=None, **xlsx):
    return build_preview(make_xlsx(rows, **xlsx), "krav.xlsx", spec, context, mapping)


def messages(items):
    return [str(item) for item in items]


def test_a_messy_specification_previews_cleanly():
    preview = preview_of(
        [
            ["Kravspesifikasjon – drift og sikkerhet"],
            ["Versjon 3", "2026-11-01"],
            [],
            ["Krav-ID ", "Kravtekst\u00a0", "STATUS", "Frist:"],
            [None, "Kapittel 1 Drift"],
            ["1.1", "Leverandøren skal overvåke driften.", "Åpen", "31.12.2026"],
            [],
            ["1.2\u00a0", "  Leverandøren skal rapportere  ", "pågår", None],
            HEADER,  # the header again, as on every printed page
            [None, "Kapittel 2 Sikkerhet"],
            ["2.3.0", "Leverandøren skal logge.", "Ferdig", datetime.datetime(2027, 1, 15)],
        ]
    )
    assert messages(preview.errors) == []
    assert preview.warnings == []
    assert preview.mapping.header_row == 4
    assert preview.mapping.columns == {"Krav-ID": "ref", "Kravtekst": "text", "STATUS": "status", "Frist:": "due"}
    assert [(r.number, r.key, r.values["chapter"], r.values["status"]) for r in preview.rows] == [
        (6, "1.1", "Kapittel 1 Drift", "open"),
        (8, "1.2", "Kapittel 1 Drift", "in_progress"),
        (11, "2.3.0", "Kapittel 2 Sikkerhet", "done"),
    ]
    assert preview.rows[0].values["due"] == datetime.date(2026, 12, 31)
    assert preview.rows[1].values["text"] == "Leverandøren skal rapportere"
    assert (preview.sections, preview.repeated_headers) == (2, 1)
    assert preview.diff.counts() == {"added": 3, "changed": 0, "removed": 0, "unchanged": 0}


def test_merged_chapter_rows_and_merged_categories():
    spec = requirement_spec(
        fields=[*SPEC.fields, Field("category", "Category", synonyms=["Kategori"])], section_field="chapter"
    )
    preview = preview_of(
        [
            ["Kategori", "Krav-ID", "Kravtekst"],
            ["Kapittel 1 Drift"],
            ["Overvåking", "1.1", "a"],
            [None, "1.2", "b"],
        ],
        spec=spec,
        merges=["A2:C2", "A3:A4"],
    )
    assert messages(preview.errors) == []
    assert [(r.key, r.values["chapter"], r.values["category"]) for r in preview.rows] == [
        ("1.1", "Kapittel 1 Drift", "Overvåking"),
        ("1.2", "Kapittel 1 Drift", "Overvåking"),
    ]


def test_a_chapter_title_merged_across_the_id_column_is_a_chapter():
    preview = preview_of(
        [HEADER, ["Kapittel 3 Sikkerhet"], ["3.1", "a"], ["3.2"]],
        merges=["A2:D2"],
    )
    assert [(r.key, r.values["chapter"]) for r in preview.rows] == [("3.1", "Kapittel 3 Sikkerhet")]
    assert messages(preview.errors) == ["Row 4, column B: “Text” is required."]  # an ID alone is not a chapter


def test_an_id_excel_stored_as_a_number_is_flagged_not_guessed():
    preview = preview_of([HEADER, [1.1, "a"], [Formatted(2.1, "0.00"), "b"], [7, "c"], ["2.3.0", "d"]])
    assert preview.errors == []
    assert [r.key for r in preview.rows] == ["1.1", "2.10", "7", "2.3.0"]
    assert [(w.row, w.column) for w in preview.warnings] == [(2, "A"), (3, "A")]
    assert "1.10" in preview.warnings[0].message
    assert str(preview.warnings[0]).startswith("Row 2, column A: Excel stored the ID 1.1 as a number")


def test_a_numeric_id_that_may_be_another_id_is_refused():
    preview = preview_of([HEADER, [1.1, "numeric"], ["1.10", "text"], ["1.1 ", "text, once more"]])
    assert messages(preview.errors) == [
        "Row 2, column A: Excel stored the ID 1.1 as a number, so it cannot be told apart from ID 1.10 on row 3. "
        "Format the ID column as text and type the ID again.",
        "Row 4, column A: ID 1.1 appears on rows 2 and 4.",
    ]


def test_a_numeric_id_that_may_be_an_existing_id_is_refused():
    existing = {"1.10": {"ref": "1.10", "text": "a"}, "2": {"ref": "2", "text": "b"}, "3.5": {"ref": "3.5"}}
    preview = preview_of(
        [HEADER, [1.1, "a"], [2, "b"], [3.5, "c"], [7, "007 in Excel"]], context={"existing": existing}
    )
    assert messages(preview.errors) == [
        "Row 2, column A: Excel stored the ID 1.1 as a number, so it cannot be told apart from the existing ID 1.10. "
        "Format the ID column as text and type the ID again."
    ]
    existing = {"007": {"ref": "007", "text": "x"}}
    preview = preview_of([HEADER, [7, "Excel dropped the zeros"]], context={"existing": existing})
    assert [e.row for e in preview.errors] == [2]


def test_text_ids_that_only_look_alike_are_different_ids():
    preview = preview_of([HEADER, ["1.1", "a"], ["1.10", "b"], ["1.1.0", "c"]])
    assert preview.errors == [] and preview.warnings == []
    assert [r.key for r in preview.rows] == ["1.1", "1.10", "1.1.0"]


def test_duplicate_ids_are_refused_naming_both_rows():
    rows = [HEADER] + [[f"1.{n}", f"krav {n}"] for n in range(1, 60)]
    rows[51] = ["2.3", "again"]  # sheet row 52
    rows[13] = ["2.3", "first"]  # sheet row 14
    preview = preview_of(rows)
    assert messages(preview.errors) == ["Row 52, column A: ID 2.3 appears on rows 14 and 52."]
    with translation.override("nb"):
        preview = preview_of(rows)
        assert messages(preview.errors) == ["Rad 52, kolonne A: ID 2.3 står på rad 14 og 52."]


def test_unknown_status_lists_the_allowed_values():
    preview = preview_of(
        [HEADER, ["1.1", "a", "Ferdigstilt"], ["1.2", "b", "under ARBEID"], ["1.3", "c", "Not started"]]
    )
    assert messages(preview.errors) == [
        "Row 2, column C: Unknown status “Ferdigstilt”. Allowed: Open, In progress, Done.",
        "Row 4, column C: Unknown status “Not started”. Allowed: Open, In progress, Done.",
    ]
    assert [(r.key, r.values["status"]) for r in preview.rows] == [("1.2", "in_progress")]


def test_a_row_without_an_id_but_with_several_cells_is_an_error_not_a_chapter():
    preview = preview_of([HEADER, [None, "Kapittel 1"], [None, "Leverandøren skal ...", "Åpen"]])
    assert messages(preview.errors) == ["Row 3, column A: “ID” is required."]
    assert preview.sections == 1


def test_custom_row_classifier_decides_what_a_chapter_row_is():
    def classify(cells, spec):
        # In this specification a chapter is a whole number in the ID column ("2"), the title beside it.
        return RowKind.SECTION if cells["ref"].text.isdigit() else RowKind.DATA

    spec = requirement_spec(classify=classify)
    preview = preview_of([HEADER, ["2", "Drift"], ["2.1", "a"]], spec=spec)
    assert [(r.key, r.values["chapter"]) for r in preview.rows] == [("2.1", "2")]


def test_typed_fields_report_the_cell():
    spec = requirement_spec(
        fields=[
            *SPEC.fields,
            Field("weight", "Weight", FieldType.DECIMAL),
            Field("points", "Points", FieldType.INT),
            Field("must", "Must", FieldType.BOOL),
            Field("contact", "Contact", FieldType.EMAIL),
        ]
    )
    header = ["ID", "Text", "Weight", "Points", "Must", "Contact", "Due"]
    preview = preview_of(
        [
            header,
            ["1", "ok", "1 234,50", "1 000", "Ja", "Ola@Example.no", "2026-12-31"],
            ["2", "ok", 0.25, 3.0, True, None, None],
            ["3", "bad", "mye", "2,5", "kanskje", "ola@", "31/13/2026"],
        ],
        spec=spec,
    )
    good, numbers = preview.rows
    assert good.values == {
        "ref": "1",
        "text": "ok",
        "chapter": "",
        "weight": Decimal("1234.50"),
        "points": 1000,
        "must": True,
        "contact": "ola@example.no",
        "due": datetime.date(2026, 12, 31),
    }
    assert (numbers.values["weight"], numbers.values["points"], numbers.values["must"]) == (Decimal("0.25"), 3, True)
    assert [(e.row, e.column, e.field) for e in preview.errors] == [
        (4, "C", "weight"),
        (4, "D", "points"),
        (4, "E", "must"),
        (4, "F", "contact"),
        (4, "G", "due"),
    ]
    assert preview.errors[0].message == "“mye” is not a number."


def test_excel_error_cells_are_errors():
    preview = preview_of([HEADER, ["1.1", "#N/A"], ["1.2", "=1/0"]])  # a formula never calculated has no value
    assert messages(preview.errors) == [
        "Row 2, column B: The cell shows the Excel error #N/A.",
        "Row 3, column B: “Text” is required.",
    ]


def test_clean_row_errors_name_the_field():
    def clean_row(values, context):
        if values["status"] == "done" and not values["due"]:
            raise ValidationError({"due": "A done requirement needs a date."})

    preview = preview_of([HEADER, ["1.1", "a", "Ferdig"]], spec=requirement_spec(clean_row=clean_row))
    assert messages(preview.errors) == ["Row 2, column D: A done requirement needs a date."]


def test_a_file_without_the_required_columns_is_refused_as_a_whole():
    preview = preview_of([["Nummer", "Beskrivelse"], ["1", "a"]])
    assert messages(preview.errors) == ["No column is mapped to “ID”, which is required."]
    preview = preview_of([["Nummer", "Innhold"], ["1", "a"]])
    assert messages(preview.errors) == [
        "No header row found: none of the first 30 rows names the columns “ID”, “Text”."
    ]


def test_a_mapping_is_suggested_overridden_and_remembered_as_json():
    rows = [["Nr", "Beskrivelse", "Tilstand", "Merknad"], ["1.1", "a", "Åpen", "x"]]
    sheet = read_sheet(make_xlsx(rows), "krav.xlsx")
    suggested = suggest_mapping(sheet, SPEC)
    assert suggested.columns == {"Beskrivelse": "text"}

    chosen = ColumnMapping(columns={"Nr": "ref", "Beskrivelse": "text", "Tilstand": "status"}, sheet="Krav")
    preview = preview_of(rows, mapping=chosen)
    assert preview.errors == [] and preview.rows[0].values["status"] == "open"

    remembered = ColumnMapping.from_json(preview.mapping.to_json())
    assert remembered == preview.mapping and remembered.header_row == 1
    # A revised file: a title row above, the columns moved, header in other case. The remembered names still fit.
    revised = [["Revisjon 2"], ["Tilstand", "NR", "beskrivelse"], ["Åpen", "1.1", "b"]]
    mapping = suggest_mapping(read_sheet(make_xlsx(revised), "krav.xlsx"), SPEC, remembered)
    assert mapping.columns == {"Tilstand": "status", "NR": "ref", "beskrivelse": "text"}
    assert mapping.header_row == 2


def test_the_diff_shows_added_changed_removed_and_unchanged():
    existing = {
        "1.1": {"ref": "1.1", "text": "Leverandøren skal overvåke.", "status": "open", "chapter": "Drift"},
        "1.2": {"ref": "1.2", "text": "Leverandøren skal rapportere.", "status": "open", "chapter": "Drift"},
        "1.3": {"ref": "1.3", "text": "Fjernet krav.", "status": "done", "chapter": "Drift"},
    }
    preview = preview_of(
        [
            ["Krav-ID", "Kravtekst"],  # no status column: statuses are not compared, so not changed
            [None, "Drift"],
            ["1.1", "Leverandøren skal overvåke. "],
            ["1.2", "Leverandøren skal rapportere månedlig."],
            ["1.4", "Nytt krav."],
        ],
        context={"existing": existing},
    )
    diff = preview.diff
    assert diff.counts() == {"added": 1, "changed": 1, "removed": 1, "unchanged": 1}
    assert [row.key for row in diff.added] == ["1.4"]
    (change,) = diff.changed
    assert (change.key, change.row) == ("1.2", 4)
    assert [(c.field, c.old, c.new) for c in change.fields] == [
        ("text", "Leverandøren skal rapportere.", "Leverandøren skal rapportere månedlig.")
    ]
    assert diff.removed == ["1.3"]


def test_a_row_with_errors_is_not_shown_as_removed():
    existing = {"1.1": {"text": "a"}}
    preview = preview_of([HEADER, ["1.1", "a", "Ukjent"]], context={"existing": existing})
    assert preview.diff.removed == [] and len(preview.errors) == 1


def test_csv_from_norwegian_excel_cp1252_semicolons():
    data = make_csv(
        [["Krav-ID", "Kravtekst", "Status"], ["", "Kapittel 1 – Drift", ""], ["1.1", "Måling, årlig", "Åpen"]],
        encoding="cp1252",
    )
    preview = build_preview(data, "krav.csv", SPEC)
    assert preview.errors == []
    assert [(r.key, r.values["text"], r.values["chapter"]) for r in preview.rows] == [
        ("1.1", "Måling, årlig", "Kapittel 1 – Drift")
    ]


def test_the_fingerprint_covers_file_mapping_and_existing_records():
    data = make_xlsx([HEADER, ["1.1", "a"]])
    first = build_preview(data, "krav.xlsx", SPEC)
    assert build_preview(data, "krav.xlsx", SPEC).fingerprint == first.fingerprint
    assert preview_of([HEADER, ["1.1", "b"]]).fingerprint != first.fingerprint
    changed_records = build_preview(data, "krav.xlsx", SPEC, {"existing": {"1.1": {"text": "a"}}})
    assert changed_records.fingerprint != first.fingerprint
    other_mapping = ColumnMapping(columns={"Krav-ID": "ref", "Kravtekst": "text"})
    assert build_preview(data, "krav.xlsx", SPEC, None, other_mapping).fingerprint != first.fingerprint


@pytest.mark.parametrize("bad_key", ["nope", ""])
def test_a_spec_must_name_its_key_among_its_fields(bad_key):
    with pytest.raises(ValueError, match="key"):
        requirement_spec(key=bad_key)


# --- Export → import round trip, for any text ---------------------------------------------------------------------

ROUND_TRIP = ImportSpec(
    name="test.round_trip",
    fields=[Field("ref", "ID", FieldType.ID), Field("text", "Text")],
    key="ref",
    existing=lambda context: context["existing"],
    apply=lambda rows, diff, context: None,
)
_TEXT = st.text(st.characters(blacklist_categories=("Cc", "Cs", "Co", "Cn"), whitelist_characters="\n"), max_size=40)
_KEYS = _TEXT.map(clean_text).filter(lambda key: key and normalise(key) not in {"id", "text"})


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(records=st.dictionaries(_KEYS, _TEXT, min_size=1, max_size=8), fmt=st.sampled_from(["xlsx", "csv"]))
def test_any_text_survives_export_and_import(records, fmt):
    rows = [{"ref": key, "text": text} for key, text in records.items()]
    columns = columns_for(ROUND_TRIP)
    data = export_xlsx(columns, rows) if fmt == "xlsx" else export_csv(columns, rows, delimiter=",")
    existing = {row["ref"]: row for row in rows}
    preview = build_preview(data, f"export.{fmt}", ROUND_TRIP, {"existing": existing})
    assert preview.errors == [] and preview.warnings == []
    assert preview.diff.counts() == {"added": 0, "changed": 0, "removed": 0, "unchanged": len(rows)}
