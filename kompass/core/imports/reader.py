"""Read a spreadsheet (.xlsx or .csv) into rows of cells that keep each cell's own type and display text.

Why not tablib/django-import-export: they hand over values only. A numeric cell typed ``1.10`` arrives
as the float ``1.1`` with no trace of its number format, merged cells and the sheet row numbers a
person sees are gone, and their CSV reader does not guess Norwegian encodings or ``;``. Every step
here needs exactly that information, and openpyxl plus the standard ``csv`` module give it directly.

Decisions:

* **Blank rows** (every cell empty after stripping) are skipped; row numbers stay the sheet's own.
* **Whitespace**: leading/trailing spaces, tabs and non-breaking spaces are stripped from the text,
  and runs of inner whitespace in a line are collapsed; line breaks inside a cell are kept.
* **Merged cells**: the value belongs to the top-left cell. It is copied *down* the first column of
  the range (a category merged over rows 5–9 applies to each of those rows) but not *across*: a
  chapter title merged over A5:D5 stays in A5, so it never lands in an ID column. Copied cells are
  marked ``merged=True``.
* **Formulas** are read as their last calculated value (``data_only=True``). In CSV, a leading apostrophe
  before ``=``, ``+``, ``@`` or ``'`` (how the export keeps such text from being run as a formula) is dropped.
* **Numbers**: ``text`` is what Excel would show for the common number formats (``0``, ``0.00``,
  ``#,##0``, percentages) and otherwise the shortest form of the value (``1.1``, ``7``). The raw value
  is kept, so callers can tell an ID that Excel turned into a number from one stored as text.
"""

import csv
import hashlib
import io
import re
import threading
import unicodedata
import zipfile
from collections import OrderedDict
from dataclasses import dataclass, field
from datetime import date, datetime, time
from enum import StrEnum
from pathlib import PurePath

from django.utils.translation import gettext as _

__all__ = [
    "Cell",
    "CellKind",
    "ImportFileError",
    "Sheet",
    "clean_text",
    "column_letter",
    "list_sheets",
    "read_sheet",
]

CSV_ENCODINGS = ("utf-8-sig", "cp1252", "latin-1")  # latin-1 decodes anything, so it is the last resort
CSV_DELIMITERS = (";", ",", "\t")  # ';' first: Excel in a Norwegian locale writes it
SNIFF_LINES = 20
XLSX_SUFFIXES = {".xlsx", ".xlsm"}
CSV_SUFFIXES = {".csv", ".txt", ".tsv"}

_FORMULA_START = ("=", "+", "@")  # text starting with these is a formula to a spreadsheet
_CSV_ESCAPED = "=+@'"  # a CSV export puts an apostrophe before text starting with one of these
_SPACES = re.compile(r"[^\S\n]+")  # whitespace except line breaks (includes NBSP, thin space, tabs)


class ImportFileError(ValueError):
    """The file cannot be read at all (wrong format, damaged, no such sheet). The message is for the user."""


class CellKind(StrEnum):
    EMPTY = "empty"
    TEXT = "text"
    NUMBER = "number"
    DATE = "date"
    BOOL = "bool"
    ERROR = "error"  # an Excel error value such as #N/A or #REF!


@dataclass(frozen=True, slots=True)
class Cell:
    """One cell as read: its display ``text`` (stripped), the ``raw`` value, its ``kind`` and where it is."""

    text: str
    raw: object
    kind: CellKind
    number_format: str
    row: int  # 1-based, as the spreadsheet shows it
    column: int  # 1-based
    merged: bool = False  # copied from the top-left cell of a merged range
    span: int = 1  # columns covered, when this is the top-left cell of a merged range

    @property
    def coordinate(self) -> str:
        return f"{column_letter(self.column)}{self.row}"

    @property
    def is_empty(self) -> bool:
        return self.text == ""


@dataclass
class Sheet:
    """The non-blank rows of one sheet (or of a CSV file), each a list of cells in column order."""

    name: str
    rows: list[list[Cell]] = field(default_factory=list)
    blank_rows: int = 0
    encoding: str = ""  # CSV only
    delimiter: str = ""  # CSV only


def column_letter(column: int) -> str:
    """1 → A, 27 → AA."""
    letters = ""
    while column > 0:
        column, remainder = divmod(column - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def clean_text(value: str) -> str:
    """Strip and collapse spaces (NBSP included) on each line; drop empty leading/trailing lines."""
    value = unicodedata.normalize("NFC", value).replace("\r\n", "\n").replace("\r", "\n")
    lines = [_SPACES.sub(" ", line).strip() for line in value.split("\n")]
    return "\n".join(lines).strip()


def _file_kind(data: bytes, filename: str) -> str:
    suffix = PurePath(filename or "").suffix.lower()
    if data[:4] == b"PK\x03\x04" or suffix in XLSX_SUFFIXES:
        return "xlsx"
    if data[:8] == b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1":  # the old binary .xls (OLE2)
        raise ImportFileError(_("This is an old Excel file (.xls). Save it as .xlsx or .csv and upload it again."))
    if suffix in CSV_SUFFIXES or not suffix:
        return "csv"
    raise ImportFileError(_("Upload an Excel file (.xlsx) or a CSV file (.csv)."))


def list_sheets(data: bytes, filename: str) -> list[str]:
    """The sheet names of a workbook, in workbook order; a CSV file has one sheet named after the file."""
    if _file_kind(data, filename) == "csv":
        return [PurePath(filename or "data.csv").stem]
    workbook = _open_workbook(data, read_only=True)
    try:
        return list(workbook.sheetnames)
    finally:
        workbook.close()


#: Sheets read recently, by (SHA-256 of the file, file name, sheet): the preview and the apply of one import
#: read the same bytes twice (apply validates again inside its transaction), and parsing a 5,000-row workbook
#: is most of an import's time. Reading is a pure function of the bytes and cells are frozen, so a hit is
#: exactly what a fresh read would return. Small (a few files per process) and per process: a miss just reads.
READ_CACHE_SIZE = 4
_read_cache: OrderedDict[tuple[str, str, str], Sheet] = OrderedDict()
_read_cache_lock = threading.Lock()


def read_sheet(data: bytes, filename: str, sheet: str | None = None) -> Sheet:
    """Read one sheet (the first one if ``sheet`` is empty) of an .xlsx file, or a whole CSV file."""
    csv_file = _file_kind(data, filename) == "csv"
    digest = hashlib.sha256(data).hexdigest()
    key = (digest, filename or "", "" if csv_file else sheet or "")
    with _read_cache_lock:
        cached = _read_cache.get(key)
        if cached is not None:
            _read_cache.move_to_end(key)
    if cached is None:
        cached = _read_csv(data, PurePath(filename or "data.csv").stem) if csv_file else _read_xlsx(data, sheet)
        with _read_cache_lock:
            _read_cache[key] = cached
            if not csv_file:  # the first sheet read by default is the same sheet read by its name
                _read_cache[(digest, filename or "", cached.name)] = cached
            while len(_read_cache) > READ_CACHE_SIZE:
                _read_cache.popitem(last=False)
    # A new Sheet and row list each time: a caller may append or drop rows without touching the cached one.
    return Sheet(cached.name, [list(row) for row in cached.rows], cached.blank_rows, cached.encoding, cached.delimiter)


# --- .xlsx ------------------------------------------------------------------------------------------------------


def _open_workbook(data: bytes, *, read_only: bool):
    import openpyxl  # imported here: reading CSV must not pay for it

    try:
        return openpyxl.load_workbook(io.BytesIO(data), read_only=read_only, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise ImportFileError(_("The file could not be read as an Excel workbook (.xlsx).")) from exc


def _read_xlsx(data: bytes, sheet_name: str | None) -> Sheet:
    # read_only=False: merged ranges are only known to a fully loaded worksheet.
    workbook = _open_workbook(data, read_only=False)
    if sheet_name and sheet_name not in workbook.sheetnames:
        raise ImportFileError(_("The workbook has no sheet named “%(sheet)s”.") % {"sheet": sheet_name})
    worksheet = workbook[sheet_name] if sheet_name else workbook.worksheets[0]
    sheet = Sheet(name=worksheet.title)

    copied_down: dict[tuple[int, int], tuple[int, int]] = {}  # (row, column) → top-left it copies
    spans: dict[tuple[int, int], int] = {}
    for merged in worksheet.merged_cells.ranges:
        spans[(merged.min_row, merged.min_col)] = merged.max_col - merged.min_col + 1
        for row in range(merged.min_row + 1, merged.max_row + 1):
            copied_down[(row, merged.min_col)] = (merged.min_row, merged.min_col)

    for row_cells in worksheet.iter_rows():
        cells = []
        for xl_cell in row_cells:
            if not hasattr(xl_cell, "column"):  # an EmptyCell of a ragged row
                continue
            source = copied_down.get((xl_cell.row, xl_cell.column))
            origin = worksheet.cell(*source) if source else xl_cell
            text, raw, kind = _xlsx_value(origin)
            span = spans.get((xl_cell.row, xl_cell.column), 1)
            number_format = origin.number_format or "General"
            cells.append(Cell(text, raw, kind, number_format, xl_cell.row, xl_cell.column, bool(source), span))
        if any(not cell.is_empty for cell in cells):
            sheet.rows.append(_trim(cells))
        elif cells:
            sheet.blank_rows += 1
    return sheet


def _trim(cells: list[Cell]) -> list[Cell]:
    while cells and cells[-1].is_empty:
        cells.pop()
    return cells


def _xlsx_value(cell) -> tuple[str, object, CellKind]:
    value = cell.value
    if value is None:
        return "", None, CellKind.EMPTY
    if cell.data_type == "e":
        return str(value), value, CellKind.ERROR
    if isinstance(value, bool):
        return ("TRUE" if value else "FALSE"), value, CellKind.BOOL
    if isinstance(value, datetime):
        text = value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ", timespec="minutes")
        return text, value, CellKind.DATE
    if isinstance(value, date | time):
        return value.isoformat(), value, CellKind.DATE
    if isinstance(value, int | float):
        return format_number(value, cell.number_format or "General"), value, CellKind.NUMBER
    text = clean_text(str(value))
    return text, value, (CellKind.TEXT if text else CellKind.EMPTY)


_FIXED_FORMAT = re.compile(r"^(#,##)?0(\.(0+))?(%?)$")


def format_number(value: int | float, number_format: str) -> str:
    """The text Excel shows for ``value`` under the common number formats; the shortest form otherwise."""
    match = _FIXED_FORMAT.match(number_format.split(";")[0].replace("\\", "").strip())
    if match:
        decimals = len(match.group(3) or "")
        if match.group(4):
            return f"{value * 100:.{decimals}f}%"
        return f"{value:.{decimals}f}"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return repr(value) if isinstance(value, float) else str(value)


# --- .csv -------------------------------------------------------------------------------------------------------


def _decode(data: bytes) -> tuple[str, str]:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):  # Excel's "Unicode text" is UTF-16 with a BOM
        return data.decode("utf-16"), "utf-16"
    for encoding in CSV_ENCODINGS:
        try:
            return data.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise AssertionError("latin-1 decodes every byte")  # pragma: no cover


def sniff_delimiter(text: str) -> str:
    """The delimiter that splits the first lines into the most rows of one, consistent width (> 1 column)."""
    lines = [line for line in text.splitlines() if line.strip()][:SNIFF_LINES]
    best, best_score = CSV_DELIMITERS[0], (0, 0)
    for delimiter in CSV_DELIMITERS:
        widths = [len(row) for row in csv.reader(lines, delimiter=delimiter)]
        if not widths:
            continue
        modal = max(set(widths), key=widths.count)
        score = (widths.count(modal), modal) if modal > 1 else (0, 0)
        if score > best_score:
            best, best_score = delimiter, score
    return best


def _read_csv(data: bytes, name: str) -> Sheet:
    text, encoding = _decode(data)
    delimiter = sniff_delimiter(text)
    sheet = Sheet(name=name, encoding=encoding, delimiter=delimiter)
    try:
        for number, values in enumerate(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter), start=1):
            cells = []
            for column, value in enumerate(values, start=1):
                cleaned = clean_text(value)
                if cleaned[:1] == "'" and cleaned[1:2] and cleaned[1] in _CSV_ESCAPED:
                    cleaned = cleaned[1:]  # the export's escape for text starting with = + @ (or ')
                kind = CellKind.TEXT if cleaned else CellKind.EMPTY
                cells.append(Cell(cleaned, value, kind, "", number, column))
            if any(not cell.is_empty for cell in cells):
                sheet.rows.append(_trim(cells))
            else:
                sheet.blank_rows += 1
    except csv.Error as exc:
        raise ImportFileError(_("The CSV file could not be read: %(error)s") % {"error": exc}) from exc
    return sheet
