"""Turn a sheet and a mapping into a :class:`Preview`: clean rows, row-level errors, warnings and the diff.

Nothing here writes. Every message names the sheet row as the spreadsheet shows it and, where it is
about one cell, the column letter, so a person can find it. Errors block the import; warnings are
flags for a person (an ID that Excel stored as a number) and must be accepted before applying.
"""

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _

from kompass.core.imports.convert import convert
from kompass.core.imports.diff import Diff, comparable, compute_diff
from kompass.core.imports.reader import Cell, CellKind, Sheet, column_letter, read_sheet
from kompass.core.imports.spec import (
    HEADER_SCAN_ROWS,
    ColumnMapping,
    FieldType,
    ImportSpec,
    RowKind,
    find_header,
    normalise,
    suggest_mapping,
)

__all__ = ["ImportRow", "Preview", "RowError", "build_preview"]

SUMMARY_MESSAGES = 200  # a summary keeps this many errors and warnings; the preview itself has them all
_PLAIN_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")


@dataclass(frozen=True)
class RowError:
    """A problem on one row (``row`` 0: with the file or the mapping as a whole)."""

    row: int
    message: str
    column: str = ""  # column letter, e.g. "C"
    field: str = ""  # field name

    def __str__(self) -> str:
        if not self.row:
            return self.message
        if self.column:
            return _("Row %(row)s, column %(column)s: %(message)s") % {
                "row": self.row,
                "column": self.column,
                "message": self.message,
            }
        return _("Row %(row)s: %(message)s") % {"row": self.row, "message": self.message}

    def to_json(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "field": self.field, "message": self.message}


@dataclass
class ImportRow:
    """A valid data row: its sheet row number, key and cleaned values (only mapped fields, plus the section)."""

    number: int
    key: str
    values: dict[str, Any]
    cells: dict[str, Cell] = field(default_factory=dict, repr=False)


@dataclass
class Preview:
    """Everything a person needs to decide, and everything ``apply_import`` needs to check and write."""

    spec_name: str
    filename: str
    sheet: str
    mapping: ColumnMapping
    header: list[Cell] = field(default_factory=list, repr=False)  # the header row's cells, for a mapping form
    rows: list[ImportRow] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    diff: Diff = field(default_factory=Diff)
    sections: int = 0
    repeated_headers: int = 0
    skipped_rows: int = 0  # blank in every mapped column, or classified as SKIP
    fingerprint: str = ""
    data: bytes = field(default=b"", repr=False)

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> dict[str, Any]:
        """JSON-ready counts and the first messages, e.g. for ``ImportBatch.summary``."""
        return {
            "rows": len(self.rows),
            "error_count": len(self.errors),
            "warning_count": len(self.warnings),
            "errors": [e.to_json() for e in self.errors[:SUMMARY_MESSAGES]],
            "warnings": [w.to_json() for w in self.warnings[:SUMMARY_MESSAGES]],
            "sections": self.sections,
            "repeated_headers": self.repeated_headers,
            "skipped_rows": self.skipped_rows,
            **self.diff.counts(),
        }


def build_preview(
    data: bytes,
    filename: str,
    spec: ImportSpec,
    context: Mapping[str, Any] | None = None,
    mapping: ColumnMapping | None = None,
) -> Preview:
    """Read the file, map its columns (suggesting a mapping if none is given) and validate every row."""
    context = context or {}
    sheet = read_sheet(data, filename, mapping.sheet if mapping else None)
    if mapping is None or not mapping.columns:
        mapping = suggest_mapping(sheet, spec, mapping)
    mapping = ColumnMapping(dict(mapping.columns), sheet.name, mapping.header_row)  # the caller's stays as it was
    preview = Preview(spec.name, filename, sheet.name, mapping, data=data)
    existing = {str(k): v for k, v in spec.existing(context).items()}
    _validate(preview, sheet, spec, context, existing)
    preview.fingerprint = fingerprint(data, spec, mapping, existing)
    return preview


def fingerprint(data: bytes, spec: ImportSpec, mapping: ColumnMapping, existing: Mapping[str, Any]) -> str:
    """Changes when the file, the mapping or the existing records change: a preview of other data is stale."""
    state = {
        "spec": spec.name,
        "file": hashlib.sha256(data).hexdigest(),
        "mapping": mapping.to_json(),
        "existing": {key: {f: comparable(v) for f, v in values.items()} for key, values in existing.items()},
    }
    return hashlib.sha256(json.dumps(state, sort_keys=True, default=str).encode()).hexdigest()


# --- Rows ---------------------------------------------------------------------------------------------------------


def _validate(preview: Preview, sheet: Sheet, spec: ImportSpec, context, existing) -> None:
    header_index = find_header(sheet, spec, preview.mapping)
    if header_index is None:
        labels = ", ".join(f"“{f.label}”" for f in spec.fields if f.required) or f"“{spec.key_field.label}”"
        preview.errors.append(
            RowError(
                0,
                _("No header row found: none of the first %(count)s rows names the columns %(labels)s.")
                % {"count": HEADER_SCAN_ROWS, "labels": labels},
            )
        )
        return
    header = sheet.rows[header_index]
    preview.header = header
    preview.mapping.header_row = header[0].row
    columns = preview.mapping.fields_by_column(header)
    mapped = set(columns.values())
    for f in spec.fields:
        if (f.required or f.name == spec.key) and f.name not in mapped and f.name != spec.section_field:
            preview.errors.append(
                RowError(0, _("No column is mapped to “%(field)s”, which is required.") % {"field": f.label})
            )
    if preview.errors:
        return

    header_text = {cell.column: normalise(cell.text) for cell in header}
    longest_header = max((len(cell.text) for cell in header), default=0)
    fields = {name: spec.field(name) for name in mapped}
    # Built once per preview: reference lookups (one query each) and choice words (labels in every language).
    helpers: dict[str, Any] = {name: f.choice_index() for name, f in fields.items() if f.type == FieldType.CHOICE}
    helpers.update(
        {name: f.resolver(context) for name, f in fields.items() if f.type == FieldType.REFERENCE and f.resolver}
    )
    section = ""
    keys: dict[str, int] = {}  # key → first row
    numeric_keys: list[tuple[Decimal, str, int, str, bool]] = []  # value, key, row, column, stored as a number

    for cells in sheet.rows[header_index + 1 :]:
        by_field = {columns[c.column]: c for c in cells if c.column in columns}
        if not any(not c.is_empty for c in by_field.values()):
            preview.skipped_rows += 1
            continue
        repeats = sum(
            1
            for c in by_field.values()
            if c.text and len(c.text) <= longest_header + 5 and normalise(c.text) == header_text.get(c.column)
        )
        if repeats * 2 >= len(columns):  # a header repeated on a later page or block
            preview.repeated_headers += 1
            continue
        kind = spec.classify(by_field, spec)
        if kind == RowKind.SKIP:
            preview.skipped_rows += 1
            continue
        if kind == RowKind.SECTION:
            section = next(c.text for c in sorted(by_field.values(), key=lambda c: c.column) if c.text)
            preview.sections += 1
            continue

        number = cells[0].row
        row_errors: list[RowError] = []
        values: dict[str, Any] = {}
        for name, f in fields.items():
            cell = by_field.get(name) or Cell("", None, CellKind.EMPTY, "", number, _column_of(columns, name))
            value, message = convert(f, cell, helpers.get(name), required=f.required or name == spec.key)
            if message:
                row_errors.append(RowError(number, message, column_letter(cell.column), name))
            else:
                values[name] = value
        if spec.section_field and not values.get(spec.section_field):
            values[spec.section_field] = section

        key = values.get(spec.key, "")
        key_cell = by_field.get(spec.key)
        if key_cell is not None and key_cell.kind == CellKind.NUMBER and key:
            _flag_numeric_key(preview, key_cell, key, spec.key)
        if key:
            if key in keys:
                row_errors.append(
                    RowError(
                        number,
                        _("ID %(id)s appears on rows %(first)s and %(row)s.")
                        % {"id": key, "first": keys[key], "row": number},
                        column_letter(key_cell.column) if key_cell else "",
                        spec.key,
                    )
                )
            else:
                keys[key] = number
                if _PLAIN_NUMBER.match(key):
                    stored_as_number = key_cell.kind == CellKind.NUMBER
                    numeric_keys.append((Decimal(key), key, number, column_letter(key_cell.column), stored_as_number))

        if not row_errors and spec.clean_row:
            try:
                spec.clean_row(values, context)
            except ValidationError as exc:
                row_errors.extend(_row_validation_errors(exc, number, columns))
        if row_errors:
            preview.errors.extend(row_errors)
        else:
            preview.rows.append(ImportRow(number, key, values, by_field))

    preview.errors.extend(_numeric_collisions(numeric_keys, existing, spec))
    preview.errors.sort(key=lambda e: (e.row, e.column))
    compared = sorted(mapped | ({spec.section_field} if spec.section_field else set()))
    preview.diff = compute_diff(preview.rows, existing, spec, compared, seen_keys=set(keys))


def _column_of(columns: Mapping[int, str], name: str) -> int:
    return next((column for column, field_name in columns.items() if field_name == name), 0)


def _row_validation_errors(exc: ValidationError, number: int, columns) -> list[RowError]:
    if hasattr(exc, "error_dict"):
        return [
            RowError(number, " ".join(messages), column_letter(_column_of(columns, name)), name)
            for name, messages in exc.message_dict.items()
        ]
    return [RowError(number, message) for message in exc.messages]


def _flag_numeric_key(preview: Preview, cell: Cell, key: str, key_field: str) -> None:
    """An ID Excel stored as a number may not be what was typed (1.10 becomes 1.1): ask a person."""
    if isinstance(cell.raw, int | float) and float(cell.raw).is_integer() and key == str(int(cell.raw)):
        return  # a whole number shown as such (7) is what was typed
    example = key + "0" if "." in key else key + ".0"
    preview.warnings.append(
        RowError(
            cell.row,
            _(
                "Excel stored the ID %(id)s as a number, so it may have been typed differently (for example "
                "%(example)s). Check it, or format the ID column as text and type the IDs again."
            )
            % {"id": key, "example": example},
            column_letter(cell.column),
            key_field,
        )
    )


def _numeric_collisions(numeric_keys, existing: Mapping[str, Any], spec: ImportSpec) -> list[RowError]:
    """Refuse a numeric ID equal in value to another ID (numeric 1.1 and text 1.10): it may be the same one.

    The other ID may be on another row or an existing record's (imported as text earlier).
    """
    by_value: dict[Decimal, list[tuple[str, int]]] = {}
    for value, key, row, _column, _stored_as_number in numeric_keys:
        by_value.setdefault(value, []).append((key, row))
    for key in existing:
        if _PLAIN_NUMBER.match(key):
            by_value.setdefault(Decimal(key), []).append((key, 0))
    errors = []
    for value, key, row, column, stored_as_number in numeric_keys:
        if not stored_as_number:
            continue
        for other_key, other_row in by_value[value]:
            if other_key == key:
                continue  # the same text: this row itself, or the existing record it updates
            if other_row:
                message = _(
                    "Excel stored the ID %(id)s as a number, so it cannot be told apart from ID "
                    "%(other)s on row %(other_row)s. Format the ID column as text and type the ID again."
                ) % {"id": key, "other": other_key, "other_row": other_row}
            else:
                message = _(
                    "Excel stored the ID %(id)s as a number, so it cannot be told apart from the existing ID "
                    "%(other)s. Format the ID column as text and type the ID again."
                ) % {"id": key, "other": other_key}
            errors.append(RowError(row, message, column, spec.key))
    return errors
