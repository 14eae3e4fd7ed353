"""Export of a queue list to .csv and .xlsx, streamed, with the case's own fields only.

The rows come from the caller's restricted, filtered queryset (the matrix and the search decide which cases);
the columns are the case's facts, never its conversation, so no internal note can reach an export. Cells that a
spreadsheet would read as a formula (``=``, ``+``, ``-``, ``@``) are prefixed with an apostrophe.
"""

from __future__ import annotations

import csv
import tempfile
from collections.abc import Iterator

from django.http import FileResponse, Http404, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _

__all__ = ["COLUMNS", "XLSX_LIMIT", "response", "rows"]

#: (header, value of a case); read through ``select_related`` of the queue.
COLUMNS = [
    (lambda: _("Number"), lambda c: c.number),
    (lambda: _("Title"), lambda c: c.title),
    (lambda: _("Agency"), lambda c: c.agency.name),
    (lambda: _("Type"), lambda c: c.get_type_display()),
    (lambda: _("State"), lambda c: c.get_state_display()),
    (lambda: _("Priority"), lambda c: c.priority),
    (lambda: _("SLA state"), lambda c: c.get_sla_state_display()),
    (lambda: _("Resolution due"), lambda c: _local(c.resolution_due)),
    (lambda: _("Service"), lambda c: c.service.name),
    (lambda: _("Team"), lambda c: c.team),
    (lambda: _("Assignee"), lambda c: str(c.assignee) if c.assignee else ""),
    (lambda: _("Requester"), lambda c: str(c.requester)),
    (lambda: _("Created"), lambda c: _local(c.created)),
]
#: An Excel sheet holds 1,048,576 rows; the rest of a longer list is cut (the header says so).
XLSX_LIMIT = 1_048_575
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _local(value):
    return timezone.localtime(value).replace(tzinfo=None) if value else None


def _safe(value):
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def rows(queryset) -> Iterator[list]:
    """The header, then one list of values per case, read in chunks."""
    yield [header() for header, _value in COLUMNS]
    for case in queryset.iterator(chunk_size=2000):
        yield [_safe(value(case)) for _header, value in COLUMNS]


class _Echo:
    def write(self, value):
        return value


def _filename(fmt: str) -> str:
    return f"saker-{timezone.localtime():%Y%m%d-%H%M}.{fmt}"


def response(queryset, fmt: str):
    """A streamed ``.csv`` (UTF-8 with BOM, for Excel) or an ``.xlsx`` written row by row to a temporary file."""
    if fmt == "csv":
        writer = csv.writer(_Echo(), delimiter=";")

        def lines():
            yield "\ufeff"
            for row in rows(queryset):
                yield writer.writerow(["" if v is None else v for v in row])

        streamed = StreamingHttpResponse(lines(), content_type="text/csv; charset=utf-8")
        streamed["Content-Disposition"] = f'attachment; filename="{_filename("csv")}"'
        return streamed
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet(_("Cases"))
        for number, row in enumerate(rows(queryset)):
            if number > XLSX_LIMIT:
                break
            sheet.append(row)
        spool = tempfile.TemporaryFile()  # noqa: SIM115 - FileResponse closes it
        book.save(spool)
        spool.seek(0)
        return FileResponse(
            spool,
            as_attachment=True,
            filename=_filename("xlsx"),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
    raise Http404
