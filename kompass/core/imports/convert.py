"""Turn one cell into a field's value (or a message for the person): text, choices, numbers, dates, references."""

import re
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.utils.translation import gettext as _

from kompass.core.imports.reader import Cell, CellKind
from kompass.core.imports.spec import Field, FieldType, normalise

__all__ = ["convert"]

_TRUE = {"ja", "j", "yes", "y", "true", "sann", "1", "x"}
_FALSE = {"nei", "n", "no", "false", "usann", "0"}
_DATE_FORMATS = ("%Y-%m-%d", "%d.%m.%Y", "%d.%m.%y", "%d/%m/%Y")


def convert(f: Field, cell: Cell, helper, *, required: bool) -> tuple[Any, str]:
    """The cleaned value of one cell, or an error message. ``helper``: the choice index or the resolver."""
    if cell.kind == CellKind.ERROR:
        return None, _("The cell shows the Excel error %(error)s.") % {"error": cell.text}
    if cell.is_empty:
        if required:
            return None, _("“%(field)s” is required.") % {"field": f.label}
        if f.default is not None:
            return f.default, ""
        return ("" if f.type in _TEXT_TYPES else None), ""
    try:
        value = _CONVERTERS[f.type](f, cell, helper)
        if f.max_length and isinstance(value, str) and len(value) > f.max_length:
            raise ValidationError(
                _("At most %(max)s characters (this has %(length)s).") % {"max": f.max_length, "length": len(value)}
            )
        for validator in f.validators:
            validator(value)
    except ValidationError as exc:
        return None, " ".join(exc.messages)
    return value, ""


def _text(f: Field, cell: Cell, resolver) -> str:
    return cell.text


def _choice(f: Field, cell: Cell, index) -> str:
    value = index.get(normalise(cell.text))
    if value is None:
        allowed = ", ".join(str(label) for _value, label in f.choices)
        raise ValidationError(
            _("Unknown %(field)s “%(value)s”. Allowed: %(allowed)s.")
            % {"field": str(f.label).lower(), "value": cell.text, "allowed": allowed}
        )
    return value


def _number_text(cell: Cell) -> str:
    return cell.text.replace(" ", "").replace("\u2009", "").replace("\u202f", "")


def _int(f: Field, cell: Cell, resolver) -> int:
    if cell.kind == CellKind.NUMBER and float(cell.raw).is_integer():
        return int(cell.raw)
    text = _number_text(cell)
    if re.fullmatch(r"-?\d+", text):
        return int(text)
    raise ValidationError(_("“%(value)s” is not a whole number.") % {"value": cell.text})


def _decimal(f: Field, cell: Cell, resolver) -> Decimal:
    if cell.kind == CellKind.NUMBER:
        return Decimal(repr(cell.raw)) if isinstance(cell.raw, float) else Decimal(cell.raw)
    text = _number_text(cell)
    if "," in text and "." in text:  # 1.234,50 or 1,234.50: the last one is the decimal separator
        thousands = "." if text.rfind(",") > text.rfind(".") else ","
        text = text.replace(thousands, "")
    try:
        return Decimal(text.replace(",", "."))
    except InvalidOperation:
        raise ValidationError(_("“%(value)s” is not a number.") % {"value": cell.text}) from None


def _date(f: Field, cell: Cell, resolver) -> date:
    if isinstance(cell.raw, datetime):
        return cell.raw.date()
    if isinstance(cell.raw, date):
        return cell.raw
    for pattern in _DATE_FORMATS:
        try:
            return datetime.strptime(cell.text, pattern).date()  # noqa: DTZ007 - a calendar date, no time zone
        except ValueError:
            continue
    raise ValidationError(_("“%(value)s” is not a date; use 31.12.2026 or 2026-12-31.") % {"value": cell.text})


def _bool(f: Field, cell: Cell, resolver) -> bool:
    if isinstance(cell.raw, bool):
        return cell.raw
    word = normalise(cell.text)
    if word in _TRUE:
        return True
    if word in _FALSE:
        return False
    raise ValidationError(_("“%(value)s” is not yes or no.") % {"value": cell.text})


def _email(f: Field, cell: Cell, resolver) -> str:
    validate_email(cell.text)
    return cell.text.lower()


def _reference(f: Field, cell: Cell, resolver) -> Any:
    found = resolver(cell.text) if resolver else None
    if found is None:
        raise ValidationError(
            _("No %(field)s matches “%(value)s”.") % {"field": str(f.label).lower(), "value": cell.text}
        )
    return found


_TEXT_TYPES = {FieldType.TEXT, FieldType.ID, FieldType.CHOICE, FieldType.EMAIL}
_CONVERTERS = {
    FieldType.TEXT: _text,
    FieldType.ID: _text,
    FieldType.CHOICE: _choice,
    FieldType.INT: _int,
    FieldType.DECIMAL: _decimal,
    FieldType.DATE: _date,
    FieldType.BOOL: _bool,
    FieldType.EMAIL: _email,
    FieldType.REFERENCE: _reference,
}
