"""Reading .xlsx and .csv files: cell types and display text, merged cells, blank rows, encodings, delimiters."""

import datetime

import pytest

from kompass.core.imports import CellKind, ImportFileError, list_sheets, read_sheet
from kompass.core.imports.reader import clean_text, format_number, sniff_delimiter
from kompass.core.imports.testing import Formatted, make_csv, make_xlsx


def texts(sheet):
    return [[cell.text for cell in row] for row in sheet.rows]


def test_it_keeps_each_cells_type_display_text_and_position():
    data = make_xlsx(
        [
            ["ID", "Tekst", "Frist", "Ferdig"],
            [1.1, "Drift", datetime.datetime(2026, 12, 31), True],
            [Formatted(1.1, "0.00"), "Sikkerhet", None, False],
            ["2.3.0", 7, None, None],
        ]
    )
    sheet = read_sheet(data, "krav.xlsx")
    assert sheet.name == "Krav"
    number, text, when, done = sheet.rows[1]
    assert (number.text, number.raw, number.kind, number.coordinate) == ("1.1", 1.1, CellKind.NUMBER, "A2")
    assert (text.text, text.kind) == ("Drift", CellKind.TEXT)
    assert (when.text, when.kind) == ("2026-12-31", CellKind.DATE)
    assert (done.text, done.kind) == ("TRUE", CellKind.BOOL)
    shown_as = sheet.rows[2][0]
    assert (shown_as.text, shown_as.raw, shown_as.number_format) == ("1.10", 1.1, "0.00")
    assert [cell.text for cell in sheet.rows[3][:2]] == ["2.3.0", "7"]
    assert sheet.rows[3][0].kind == CellKind.TEXT


def test_it_skips_blank_rows_but_keeps_the_sheets_row_numbers():
    data = make_xlsx([["ID", "Tekst"], [None, None], ["1", "a"], ["  ", "\u00a0"], ["2", "b"]])
    sheet = read_sheet(data, "krav.xlsx")
    assert texts(sheet) == [["ID", "Tekst"], ["1", "a"], ["2", "b"]]
    assert [row[0].row for row in sheet.rows] == [1, 3, 5]
    assert sheet.blank_rows == 2


def test_it_strips_spaces_and_non_breaking_spaces():
    data = make_xlsx([["  ID\u00a0", "Tekst "], ["\u00a01.2 ", "Line  one \n  line two\u00a0"]])
    assert texts(read_sheet(data, "krav.xlsx")) == [["ID", "Tekst"], ["1.2", "Line one\nline two"]]
    assert clean_text("\u00a0a\u2009 b\r\n c ") == "a b\nc"


def test_merged_values_are_copied_down_not_across():
    data = make_xlsx(
        [
            ["Kategori", "ID", "Tekst"],
            ["Kapittel 1: Drift", None, None],
            ["Overvåking", "1.1", "a"],
            [None, "1.2", "b"],
            [None, "1.3", "c"],
        ],
        merges=["A2:C2", "A3:A5"],
    )
    sheet = read_sheet(data, "krav.xlsx")
    assert texts(sheet) == [
        ["Kategori", "ID", "Tekst"],
        ["Kapittel 1: Drift"],
        ["Overvåking", "1.1", "a"],
        ["Overvåking", "1.2", "b"],
        ["Overvåking", "1.3", "c"],
    ]
    assert [row[0].merged for row in sheet.rows[2:]] == [False, True, True]


def test_it_lists_and_picks_sheets():
    data = make_xlsx([["ID"]], more_sheets={"Revisjon 2": [["ID", "Tekst"], ["9.9", "ny"]]})
    assert list_sheets(data, "krav.xlsx") == ["Krav", "Revisjon 2"]
    assert texts(read_sheet(data, "krav.xlsx", "Revisjon 2"))[1] == ["9.9", "ny"]
    with pytest.raises(ImportFileError, match="Revisjon 3"):
        read_sheet(data, "krav.xlsx", "Revisjon 3")


def test_number_formats_are_shown_as_excel_shows_them():
    assert format_number(1.1, "General") == "1.1"
    assert format_number(7.0, "General") == "7"
    assert format_number(1.1, "0.00") == "1.10"
    assert format_number(1234.5, "#,##0.00") == "1234.50"
    assert format_number(0.25, "0%") == "25%"


@pytest.mark.parametrize(
    ("encoding", "delimiter"),
    [("cp1252", ";"), ("utf-8-sig", ";"), ("utf-8", ","), ("utf-8", "\t"), ("utf-16", ";"), ("latin-1", ",")],
)
def test_csv_encodings_and_delimiters_are_detected(encoding, delimiter):
    data = make_csv(
        [["Krav-ID", "Kravtekst", "Status"], ["1.1", "Leverandøren skal måle, årlig", "Åpen"]],
        delimiter=delimiter,
        encoding=encoding,
    )
    sheet = read_sheet(data, "krav.csv")
    assert texts(sheet) == [["Krav-ID", "Kravtekst", "Status"], ["1.1", "Leverandøren skal måle, årlig", "Åpen"]]
    assert sheet.delimiter == delimiter
    assert sheet.name == "krav"
    assert all(cell.kind == CellKind.TEXT for cell in sheet.rows[1])


def test_csv_with_a_bom_does_not_keep_it_in_the_first_header():
    data = make_csv([["ID", "Tekst"], ["1", "a"]], encoding="utf-8-sig")
    sheet = read_sheet(data, "krav.csv")
    assert sheet.encoding == "utf-8-sig"
    assert sheet.rows[0][0].text == "ID"


def test_sniffing_prefers_the_consistent_delimiter():
    assert sniff_delimiter("ID;Tekst\n1;Kan, og skal\n2;Ja, nei\n") == ";"
    assert sniff_delimiter("ID,Tekst\n1,a; b\n2,c\n") == ","


def test_it_refuses_files_it_cannot_read():
    with pytest.raises(ImportFileError, match=".xls"):
        read_sheet(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 100, "krav.xls")
    with pytest.raises(ImportFileError):
        read_sheet(b"PK\x03\x04 broken", "krav.xlsx")
    with pytest.raises(ImportFileError):
        read_sheet(b"%PDF-1.7", "krav.pdf")


def test_a_file_read_again_comes_from_the_cache_and_callers_cannot_change_it(monkeypatch):
    from kompass.core.imports import reader

    data = make_xlsx([["ID", "Tekst"], ["1.10", "Drift"]])
    first = read_sheet(data, "krav.xlsx")
    first.rows.pop()  # a caller changing its copy
    first.rows[0].clear()
    monkeypatch.setattr(reader, "_read_xlsx", lambda *args: pytest.fail("read twice"))
    again = read_sheet(data, "krav.xlsx", first.name)  # the first sheet, now by its name: the same read
    assert texts(again) == [["ID", "Tekst"], ["1.10", "Drift"]]
