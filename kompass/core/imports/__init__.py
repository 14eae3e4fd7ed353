"""The shared import machinery: read a sheet, map columns, validate rows, preview, diff, apply atomically, export.

Domain apps (the contract register's requirements, the portfolio's systems and integrations) declare
*what* they import; this package does the rest, once. The flow, and the function for each step:

1. **Upload** ``ImportBatch.upload(file, kind=spec.name, scope="contract:12", user=user)`` stores the file
   under ``imports/`` (default storage) with its SHA-256; every import leaves this record.
2. **Pick the sheet** ``list_sheets(data, filename)``; a CSV file has one.
3. **Map columns** ``suggest_mapping(sheet, spec, remembered)`` finds the header row (it may sit below a
   title block) and matches header names to field labels and synonyms without case or diacritics. The
   :class:`ColumnMapping` is JSON (``to_json``/``from_json``); ``ImportBatch.remembered_mapping(kind, scope)``
   returns the last applied one for the same scope, e.g. the same contract.
4. **Preview** ``build_preview(data, filename, spec, context, mapping)`` (or ``batch.preview(spec, context)``)
   returns a :class:`Preview`: the valid ``rows``, ``errors`` and ``warnings`` (:class:`RowError` with the
   sheet row and column letter a person sees in Excel), and the ``diff`` against ``spec.existing(context)``:
   added, changed (field, old → new), removed, unchanged. Nothing is written.
5. **Apply** ``apply_import(preview, spec, context, expected_fingerprint=..., accept_warnings=...)`` (or
   ``batch.apply(...)``) re-reads and re-validates inside one transaction, refuses with
   :class:`StalePreview` if the file, mapping or existing records changed since the preview (the
   fingerprint covers all three), with :class:`ImportRefused` if there are errors or unaccepted warnings,
   then calls ``spec.apply(rows, diff, context)``. Any exception rolls everything back: all rows or none.
6. **Export** ``export_xlsx(columns_for(spec, extra), rows)`` / ``iter_csv(...)``: the same columns, so an
   exported file imports again with no diff.

The pages: :mod:`.forms` has ``UploadForm``, ``MappingForm`` (the sheet, and a field per header column)
and ``ApplyForm`` (the fingerprint the person saw, "I have checked the flagged rows"); the includes
``core/imports/upload.html``, ``mapping.html`` and ``preview.html`` render them. Apps add views and URLs.
Tests build messy files with :mod:`.testing` (``make_xlsx(rows, merges=[...])``, ``make_csv(rows, encoding=...)``).

A spec in brief (see :class:`ImportSpec` and :class:`Field`): ``fields`` with a ``type`` (text, id, choice,
int, decimal, date, bool, email, reference), ``required``, header ``synonyms``, ``choices`` plus
``choice_synonyms`` (e.g. "Åpen", "Ikke startet"), a ``resolver`` for references (``lookup_by(...)``),
``validators`` and a ``default`` for empty cells; the ``key``; ``existing(context)`` giving
``{key: {field: value}}`` with the values the fields produce (objects for references); ``apply(rows, diff,
context)``; optionally ``classify`` (chapter rows), ``section_field`` and ``clean_row``. Only fields the file
has a column for are compared and handed to ``apply``: a file without a status column changes no status.

What the rows may look like (see :mod:`.reader` and :mod:`.validate` for the exact rules): title rows
above the header, the header repeated further down (skipped), blank lines (skipped), merged cells (the
value is copied down, not across), chapter rows without an ID (``RowKind.SECTION``; their text is
carried into ``spec.section_field``), stray spaces and non-breaking spaces (stripped), Norwegian and
English choice words (labels in every language plus ``choice_synonyms``). IDs are never guessed at: an ID
Excel stored as a number (``1.1``, perhaps typed ``1.10``) is a warning a person must accept, an ID that
collides with another once read as text is an error, and so is an ID on two rows ("ID 2.3 appears on
rows 14 and 52."). CSV files may be UTF-8 (with or without BOM), UTF-16, cp1252 or latin-1, separated by
``;``, ``,`` or tabs.

Why openpyxl and not tablib/django-import-export: they deliver values without the cell's type, number
format, merged ranges or row numbers (``1.10`` arrives as ``1.1``), which is exactly what the checks above
need; the rest (mapping, validation, diff, a transaction) is a few hundred lines here.
"""

from kompass.core.imports.apply import ImportRefused, StalePreview, apply_import
from kompass.core.imports.diff import Change, Diff, FieldChange
from kompass.core.imports.export import Column, columns_for, export_csv, export_xlsx, iter_csv, write_xlsx
from kompass.core.imports.reader import Cell, CellKind, ImportFileError, Sheet, list_sheets, read_sheet
from kompass.core.imports.spec import (
    ColumnMapping,
    Field,
    FieldType,
    ImportSpec,
    RowKind,
    find_header,
    lookup_by,
    normalise,
    suggest_mapping,
)
from kompass.core.imports.validate import ImportRow, Preview, RowError, build_preview

__all__ = [
    "Cell",
    "CellKind",
    "Change",
    "Column",
    "ColumnMapping",
    "Diff",
    "Field",
    "FieldChange",
    "FieldType",
    "ImportFileError",
    "ImportRefused",
    "ImportRow",
    "ImportSpec",
    "Preview",
    "RowError",
    "RowKind",
    "Sheet",
    "StalePreview",
    "apply_import",
    "build_preview",
    "columns_for",
    "export_csv",
    "export_xlsx",
    "find_header",
    "iter_csv",
    "list_sheets",
    "lookup_by",
    "normalise",
    "read_sheet",
    "suggest_mapping",
    "write_xlsx",
]
