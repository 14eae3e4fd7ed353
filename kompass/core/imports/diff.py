"""Compare imported rows with the records that exist: added, changed (which fields, old → new), removed."""

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import TYPE_CHECKING, Any

from kompass.core.imports.reader import clean_text

if TYPE_CHECKING:
    from kompass.core.imports.spec import ImportSpec
    from kompass.core.imports.validate import ImportRow

__all__ = ["Change", "Diff", "FieldChange", "comparable", "compute_diff"]


@dataclass(frozen=True)
class FieldChange:
    field: str
    label: str
    old: Any
    new: Any


@dataclass
class Change:
    """An existing record whose imported row differs in ``fields``."""

    key: str
    row: int
    fields: list[FieldChange]


@dataclass
class Diff:
    """What applying would do. ``removed``: keys that exist but are not in the file (the app decides what to do)."""

    added: list["ImportRow"] = field(default_factory=list)
    changed: list[Change] = field(default_factory=list)
    removed: list[str] = field(default_factory=list)
    unchanged: int = 0

    @property
    def is_empty(self) -> bool:
        return not (self.added or self.changed or self.removed)

    def counts(self) -> dict[str, int]:
        return {
            "added": len(self.added),
            "changed": len(self.changed),
            "removed": len(self.removed),
            "unchanged": self.unchanged,
        }

    def changed_keys(self) -> set[str]:
        return {change.key for change in self.changed}


def comparable(value: Any) -> Any:
    """A value that compares equal for the same data from the file and from the database."""
    if value is None:
        return ""
    if hasattr(value, "_meta") and hasattr(value, "pk"):  # a model instance: compare by primary key
        return ("pk", value.pk)
    if isinstance(value, bool):
        return value
    if isinstance(value, int | float | Decimal):
        return Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
    if isinstance(value, datetime):
        return value.date() if value.time() == datetime.min.time() else value
    if isinstance(value, date):
        return value
    return clean_text(str(value))


def compute_diff(
    rows: Sequence["ImportRow"],
    existing: Mapping[str, Mapping[str, Any]],
    spec: "ImportSpec",
    fields: Iterable[str],
    *,
    seen_keys: set[str] | None = None,
) -> Diff:
    """Compare only ``fields`` (those the file has a column for): a file without a status column changes no status.

    ``seen_keys`` are all keys in the file, also on rows with errors, so such a row is not shown as removed.
    """
    fields = [name for name in fields if name != spec.key]
    labels = {name: str(spec.field(name).label) for name in fields}
    diff = Diff()
    for row in rows:
        current = existing.get(row.key)
        if current is None:
            diff.added.append(row)
            continue
        changes = [
            FieldChange(name, labels[name], current.get(name), row.values.get(name))
            for name in fields
            if comparable(current.get(name)) != comparable(row.values.get(name))
        ]
        if changes:
            diff.changed.append(Change(row.key, row.number, changes))
        else:
            diff.unchanged += 1
    seen = seen_keys if seen_keys is not None else {row.key for row in rows}
    diff.removed = sorted(key for key in existing if key not in seen)
    return diff
