"""What a domain app declares to import something: its fields, its key, and how to write the rows.

An :class:`ImportSpec` is a plain declaration, usually a module-level constant in the app's
``imports.py``. A :class:`ColumnMapping` ties the columns of one file to the spec's fields; it is
suggested from the header names and can be overridden, saved as JSON and reused next time.
"""

import re
import unicodedata
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import translation
from django.utils.translation import gettext

from kompass.core.imports.reader import Cell, Sheet, clean_text

__all__ = [
    "ColumnMapping",
    "Field",
    "FieldType",
    "ImportSpec",
    "RowKind",
    "find_header",
    "lookup_by",
    "normalise",
    "suggest_mapping",
]

HEADER_SCAN_ROWS = 30  # the header is looked for in the first rows of the sheet
_FOLD = str.maketrans({"ø": "o", "æ": "ae", "ð": "d", "þ": "th", "ß": "ss", "ł": "l", "đ": "d"})
_NON_WORD = re.compile(r"[\W_]+")


def normalise(text: str) -> str:
    """Header names and choice words without case, diacritics, spaces or punctuation ("Krav-ID:" ≈ "krav id")."""
    folded = str(text).casefold()
    if not folded.isascii():
        decomposed = unicodedata.normalize("NFKD", folded.translate(_FOLD))
        folded = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _NON_WORD.sub("", folded)


class FieldType(StrEnum):
    TEXT = "text"
    ID = "id"  # the text of an identifier; numeric cells are flagged, never guessed at
    CHOICE = "choice"
    INT = "int"
    DECIMAL = "decimal"
    DATE = "date"
    BOOL = "bool"
    EMAIL = "email"
    REFERENCE = "reference"  # resolved to an object by ``resolver``


class RowKind(StrEnum):
    DATA = "data"
    SECTION = "section"  # a chapter or category row: its text is carried onto the rows below
    SKIP = "skip"


#: ``resolver(context)`` returns a function that turns a cell's text into an object, None if unknown, or
#: raises ``ValidationError`` with a message for the person (e.g. an ambiguous match).
ResolverFactory = Callable[[Mapping[str, Any]], Callable[[str], Any]]


@dataclass(frozen=True)
class Field:
    """One importable field. ``label`` is the header an export writes and the first name the mapping looks for."""

    name: str
    label: Any  # str or lazy translation
    type: FieldType = FieldType.TEXT
    required: bool = False
    synonyms: Sequence[str] = ()  # other header names, e.g. ("Krav-ID", "Kravnr", "Requirement ID")
    choices: Sequence[tuple[str, Any]] = ()  # (value, label) as in Django's ``TextChoices.choices``
    choice_synonyms: Mapping[str, Sequence[str]] = field(default_factory=dict)  # value → other words
    resolver: ResolverFactory | None = None
    max_length: int | None = None
    validators: Sequence[Callable[[Any], None]] = ()  # raise ValidationError; run on the cleaned value
    default: Any = None  # the value of an empty cell; None means "" for text types and None for the others

    def header_names(self) -> set[str]:
        """Normalised names this field answers to: its name, its label in every language, its synonyms."""
        names = {normalise(self.name), *(normalise(s) for s in self.synonyms)}
        names.update(normalise(label) for label in _in_every_language(self.label))
        return names - {""}

    def choice_index(self) -> dict[str, str]:
        """Normalised word → choice value, from values, labels in every language and synonyms."""
        index: dict[str, str] = {}
        for value, label in self.choices:
            for word in (value, *_in_every_language(label), *self.choice_synonyms.get(value, ())):
                index.setdefault(normalise(word), value)
        return index

    def choice_label(self, value: str) -> str:
        return next((str(label) for key, label in self.choices if key == value), value)


def _in_every_language(text: Any) -> list[str]:
    """A lazy label in each configured language (so "Status" and "Tilstand" both match), else itself."""
    if isinstance(text, str):
        return [text]
    words = []
    for code, _name in settings.LANGUAGES:
        with translation.override(code):
            words.append(str(text))
    return words


_AMBIGUOUS = object()


def lookup_by(queryset: Callable[[Mapping[str, Any]], Iterable[Any]], *attributes: str) -> ResolverFactory:
    """A resolver matching a cell against ``attributes`` of the objects, ignoring case and extra spaces.

    The objects are read once per preview: ``lookup_by(lambda ctx: Agency.objects.all(), "short_code", "name")``.
    Punctuation counts (``ola.n@`` is not ``olan@``); a text that fits two objects is refused, not guessed.
    """

    def factory(context: Mapping[str, Any]) -> Callable[[str], Any]:
        index: dict[str, Any] = {}
        for obj in queryset(context):
            for attribute in attributes:
                key = clean_text(str(getattr(obj, attribute) or "")).casefold()
                if key:
                    index[key] = obj if index.get(key, obj) == obj else _AMBIGUOUS

        def resolve(text: str) -> Any:
            found = index.get(clean_text(text).casefold())
            if found is _AMBIGUOUS:
                raise ValidationError(
                    gettext("More than one match for “%(value)s”; use a value that is unique.") % {"value": text}
                )
            return found

        return resolve

    return factory


def _no_existing(context: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    return {}


def default_classify(cells: Mapping[str, Cell], spec: "ImportSpec") -> RowKind:
    """Which rows are chapter rows: text in one mapped column only, and that is not the key, or spans columns.

    * no ID, one text ("Kapittel 2 Drift" in the text column): a section;
    * one text in the ID column, merged across columns (a chapter title over A5:D5): a section;
    * anything else is data. A keyless row with more filled cells looks like a requirement whose ID is
      missing, and one with only an ID looks like one whose text is missing: both are reported as errors
      rather than silently becoming chapters. An app with other conventions passes its own ``classify``.
    """
    filled = [cell for cell in cells.values() if cell.text]
    if len(filled) != 1:
        return RowKind.DATA
    key_cell = cells.get(spec.key)
    if key_cell is None or not key_cell.text or key_cell.span > 1:
        return RowKind.SECTION
    return RowKind.DATA


@dataclass(frozen=True)
class ImportSpec:
    """An importable kind of record.

    * ``key``: the field that identifies a record; re-imports merge on it.
    * ``existing(context)``: the current records, ``{key: {field: value}}``, for the diff and staleness check.
    * ``apply(rows, diff, context)``: write the rows; runs inside one transaction, so raising undoes it all.
    * ``classify(cells, spec)``: decide from a row's cells (field → Cell) if it is data, a section or skipped.
    * ``section_field``: a field that section rows set and the data rows below inherit (e.g. "chapter").
    * ``clean_row(values, context)``: cross-field checks; raise ``ValidationError`` (a dict names fields).
    """

    name: str  # e.g. "contracts.requirement"; stored on ImportBatch.kind
    fields: Sequence[Field]
    key: str
    apply: Callable[..., Mapping[str, Any] | None]
    existing: Callable[[Mapping[str, Any]], Mapping[str, Mapping[str, Any]]] = _no_existing
    classify: Callable[[Mapping[str, Cell], "ImportSpec"], RowKind] = default_classify
    section_field: str | None = None
    clean_row: Callable[[dict[str, Any], Mapping[str, Any]], None] | None = None

    def __post_init__(self):
        names = [f.name for f in self.fields]
        if self.key not in names:
            raise ValueError(f"{self.name}: the key {self.key!r} is not one of the fields {names}")
        if self.section_field and self.section_field not in names:
            raise ValueError(f"{self.name}: the section field {self.section_field!r} is not one of the fields")

    def field(self, name: str) -> Field:
        return next(f for f in self.fields if f.name == name)

    @property
    def key_field(self) -> Field:
        return self.field(self.key)


# --- Column mapping -----------------------------------------------------------------------------------------------


@dataclass
class ColumnMapping:
    """Which column of the file holds which field: header text → field name, plus the sheet and header row.

    Columns are found by their header text, not their letter, so a remembered mapping still fits a revised
    file whose columns moved. ``to_json()``/``from_json()`` store it (e.g. per contract).
    """

    columns: dict[str, str] = field(default_factory=dict)  # header text as in the file → field name
    sheet: str = ""
    header_row: int = 0  # sheet row number; 0 = find it

    def to_json(self) -> dict[str, Any]:
        return {"sheet": self.sheet, "header_row": self.header_row, "columns": dict(self.columns)}

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> "ColumnMapping":
        data = data or {}
        return cls(
            columns={str(k): str(v) for k, v in (data.get("columns") or {}).items() if v},
            sheet=str(data.get("sheet") or ""),
            header_row=int(data.get("header_row") or 0),
        )

    def fields_by_column(self, header: Sequence[Cell]) -> dict[int, str]:
        """Column number → field name for this header row (first column wins if a header text repeats)."""
        wanted = {normalise(text): name for text, name in self.columns.items()}
        result: dict[int, str] = {}
        for cell in header:
            name = wanted.get(normalise(cell.text))
            if name and name not in result.values():
                result[cell.column] = name
        return result


def _score(row: Sequence[Cell], names: Mapping[str, str]) -> int:
    return len({names[key] for cell in row if (key := normalise(cell.text)) in names})


def _header_names(spec: ImportSpec, mapping: ColumnMapping | None) -> dict[str, str]:
    names = {alias: f.name for f in spec.fields for alias in f.header_names()}
    if mapping:
        names.update({normalise(text): name for text, name in mapping.columns.items()})
    return names


def find_header(sheet: Sheet, spec: ImportSpec, mapping: ColumnMapping | None = None) -> int | None:
    """The index in ``sheet.rows`` of the header: the first of the top rows naming the most fields (at least 1)."""
    if mapping and mapping.header_row:
        return next((i for i, row in enumerate(sheet.rows) if row and row[0].row == mapping.header_row), None)
    names = _header_names(spec, mapping)
    best, best_score = None, 0
    for index, row in enumerate(sheet.rows[:HEADER_SCAN_ROWS]):
        score = _score(row, names)
        if score > best_score:
            best, best_score = index, score
    return best


def suggest_mapping(sheet: Sheet, spec: ImportSpec, remembered: ColumnMapping | None = None) -> ColumnMapping:
    """Map the header's columns to fields: a remembered mapping first, then labels and synonyms."""
    mapping = ColumnMapping(sheet=sheet.name)
    index = find_header(sheet, spec, remembered and ColumnMapping(columns=remembered.columns))
    if index is None:
        return mapping
    header = sheet.rows[index]
    mapping.header_row = header[0].row
    remembered_names = {normalise(t): n for t, n in (remembered.columns if remembered else {}).items()}
    automatic = _header_names(spec, None)
    for cell in header:
        key = normalise(cell.text)
        name = remembered_names.get(key) or automatic.get(key)
        if name and name not in mapping.columns.values():
            mapping.columns[cell.text] = name
    return mapping
