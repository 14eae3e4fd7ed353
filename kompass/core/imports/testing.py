"""Build spreadsheets in tests, as messy as real ones: for this package's tests and the apps that import."""

import io
from collections.abc import Iterable, Sequence
from typing import Any

__all__ = ["Formatted", "make_csv", "make_xlsx"]


class Formatted:
    """A cell value with an Excel number format: ``Formatted(1.1, "0.00")`` shows ``1.10``."""

    def __init__(self, value: Any, number_format: str):
        self.value, self.number_format = value, number_format


def make_xlsx(
    rows: Iterable[Sequence[Any]],
    *,
    title: str = "Krav",
    merges: Sequence[str] = (),
    more_sheets: dict[str, Iterable[Sequence[Any]]] | None = None,
) -> bytes:
    """A workbook whose first sheet holds ``rows`` (None = empty cell), with ``merges`` like ``"A5:D5"``."""
    from openpyxl import Workbook

    workbook = Workbook()
    sheet = workbook.active
    sheet.title = title
    _fill(sheet, rows)
    for merged in merges:
        sheet.merge_cells(merged)
    for name, extra_rows in (more_sheets or {}).items():
        _fill(workbook.create_sheet(name), extra_rows)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _fill(sheet, rows):
    for row_number, row in enumerate(rows, start=1):
        for column, value in enumerate(row, start=1):
            if value is None:
                continue
            cell = sheet.cell(row_number, column)
            if isinstance(value, Formatted):
                cell.value, cell.number_format = value.value, value.number_format
            else:
                cell.value = value


def make_csv(rows: Iterable[Sequence[Any]], *, delimiter: str = ";", encoding: str = "utf-8") -> bytes:
    """A CSV file as Excel would save it; ``encoding="utf-8-sig"`` adds the BOM."""
    import csv

    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow(["" if value is None else value for value in row])
    return buffer.getvalue().encode(encoding)
