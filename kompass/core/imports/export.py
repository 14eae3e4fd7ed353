"""Write records to .xlsx or .csv with the columns of an import spec, so the file can be imported again.

Rows are mappings field name → value (the shape ``spec.existing`` returns, with the key included). Both
writers stream: the .xlsx writer uses openpyxl's write-only mode (memory stays flat for big lists) and
the CSV writer is a generator for a ``StreamingHttpResponse``.
"""

import csv
import io
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, BinaryIO

from django.utils.text import capfirst
from django.utils.translation import gettext as _

from kompass.core.imports.reader import _FORMULA_START, column_letter
from kompass.core.imports.spec import Field, FieldType, ImportSpec

__all__ = ["Column", "columns_for", "export_csv", "export_xlsx", "iter_csv", "write_xlsx"]

_WIDTHS = {FieldType.ID: 14, FieldType.TEXT: 60, FieldType.DATE: 12, FieldType.BOOL: 8, FieldType.INT: 10}


@dataclass(frozen=True)
class Column:
    """One exported column: its header, the row key it reads, and (for import fields) how to write the value."""

    header: str
    name: str
    field: Field | None = None
    width: int = 24

    def value(self, row: Mapping[str, Any]) -> Any:
        value = row.get(self.name)
        if value is None or value == "":
            return None
        kind = self.field.type if self.field else None
        if kind == FieldType.CHOICE:
            return self.field.choice_label(value)
        if kind == FieldType.BOOL or isinstance(value, bool):
            return _("Yes") if value else _("No")
        if kind in (FieldType.ID, FieldType.TEXT, FieldType.EMAIL, FieldType.REFERENCE) or not isinstance(
            value, int | float | Decimal | date
        ):
            return str(value)
        return value


def columns_for(spec: ImportSpec, extra: Sequence[tuple[Any, str]] = ()) -> list[Column]:
    """The spec's fields in order, then ``extra`` (header, row key) columns such as status and evidence."""
    columns = [Column(capfirst(str(f.label)), f.name, f, _WIDTHS.get(f.type, 24)) for f in spec.fields]
    columns += [Column(capfirst(str(header)), name) for header, name in extra]
    return columns


def write_xlsx(columns: Sequence[Column], rows: Iterable[Mapping[str, Any]], out: BinaryIO, title: str = "") -> int:
    """Write a workbook to ``out``: bold frozen header, auto filter, widths, IDs as text. Returns the row count."""
    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.styles import Font

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title=(title or "Export")[:31])
    sheet.freeze_panes = "A2"
    for index, column in enumerate(columns, start=1):
        sheet.column_dimensions[column_letter(index)].width = column.width
    bold = Font(bold=True)
    header = []
    for column in columns:
        cell = WriteOnlyCell(sheet, value=column.header)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    count = 0
    for row in rows:
        cells = []
        for column in columns:
            value = column.value(row)
            cell = WriteOnlyCell(sheet, value=value)
            if isinstance(value, str):
                cell.data_type = "s"  # never a formula, whatever the text starts with
                if column.field and column.field.type == FieldType.ID:
                    cell.number_format = "@"  # Excel keeps an edited "1.10" as text
            elif isinstance(value, date):
                cell.number_format = "dd.mm.yyyy" if not isinstance(value, datetime) else "dd.mm.yyyy hh:mm"
            cells.append(cell)
        sheet.append(cells)
        count += 1
    sheet.auto_filter.ref = f"A1:{column_letter(max(len(columns), 1))}{count + 1}"
    workbook.save(out)
    return count


def export_xlsx(columns: Sequence[Column], rows: Iterable[Mapping[str, Any]], title: str = "") -> bytes:
    buffer = io.BytesIO()
    write_xlsx(columns, rows, buffer, title)
    return buffer.getvalue()


class _Line:
    def write(self, text: str) -> str:
        return text


def _csv_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, date):
        return value.isoformat()
    text = str(value)
    # No formula injection when opened in Excel; a leading apostrophe is escaped too, so the reader can undo it.
    return "'" + text if text.startswith((*_FORMULA_START, "'")) else text


def iter_csv(columns: Sequence[Column], rows: Iterable[Mapping[str, Any]], delimiter: str = ";") -> Iterator[str]:
    """CSV lines, the first with a UTF-8 BOM so Excel reads the encoding; ``;`` suits Excel in a Norwegian locale."""
    writer = csv.writer(_Line(), delimiter=delimiter)
    yield "\ufeff" + writer.writerow([column.header for column in columns])
    for row in rows:
        yield writer.writerow([_csv_text(column.value(row)) for column in columns])


def export_csv(columns: Sequence[Column], rows: Iterable[Mapping[str, Any]], delimiter: str = ";") -> bytes:
    return "".join(iter_csv(columns, rows, delimiter)).encode("utf-8")
