"""Keyset pagination of the queue: soonest due first (cases without a due time last), then by id.

A page is "the next ``size`` cases after (due, id)", so page 500 costs what page 1 costs: an index range scan
from the cursor, never ``OFFSET 24950``. The cursor is the last row's due time and id, in the URL as
``cursor=<due as epoch microseconds or "-">.<id>`` (plain, not signed: it selects nothing the matrix has not
already allowed, it only says where to start).
"""

from __future__ import annotations

from datetime import UTC, datetime

from django.db.models import F, Q

__all__ = ["ORDER", "REVERSED", "CursorError", "decode", "encode", "page", "page_before"]

#: The queue's order; the cursor condition below must follow it exactly.
ORDER = (F("resolution_due").asc(nulls_last=True), "pk")
#: The same order backwards, for the page before a cursor.
REVERSED = (F("resolution_due").desc(nulls_first=True), "-pk")
_NO_DUE = "-"
_BIGGEST = 2**63 - 1


class CursorError(ValueError):
    """A cursor that is not one of ours (edited by hand, cut short)."""


def encode(due: datetime | None, pk: int) -> str:
    stamp = _NO_DUE if due is None else str(int(due.timestamp() * 1_000_000))
    return f"{stamp}.{pk}"


def decode(token: str) -> tuple[datetime | None, int]:
    try:
        stamp, pk_text = token.split(".")
        pk = int(pk_text)
        due = None if stamp == _NO_DUE else datetime.fromtimestamp(int(stamp) / 1_000_000, tz=UTC)
    except (ValueError, OverflowError, OSError):
        raise CursorError(token) from None
    if not 0 < pk <= _BIGGEST:
        raise CursorError(token)
    return due, pk


def page(queryset, token: str | None, size: int) -> tuple[list, str | None]:
    """The ``size`` rows after ``token`` (from the start without one) and the cursor of the next page, if any.

    A cursor with a due time reads in two steps, each an index range: the dated rows after it, then (when the
    page is not full) the undated ones, so PostgreSQL never has to sort an ``OR … IS NULL`` condition.
    """
    queryset = queryset.order_by(*ORDER)
    if token:
        due, pk = decode(token)
        if due is None:
            rows = list(queryset.filter(resolution_due__isnull=True, pk__gt=pk)[: size + 1])
        else:
            # "due >= X" first, so the database starts its index range at X (an OR alone is a filter on a scan
            # from the very first row: 5.7 s for page 500 of a million cases on PostgreSQL, 2 ms with this).
            dated = Q(resolution_due__gte=due) & (Q(resolution_due__gt=due) | Q(pk__gt=pk))
            rows = list(queryset.filter(dated)[: size + 1])
            if len(rows) <= size:
                rows += list(queryset.filter(resolution_due__isnull=True)[: size + 1 - len(rows)])
    else:
        rows = list(queryset[: size + 1])
    more = len(rows) > size
    rows = rows[:size]
    return rows, encode(rows[-1].resolution_due, rows[-1].pk) if more and rows else None


def page_before(queryset, token: str, size: int) -> tuple[list, str | None]:
    """The ``size`` rows just before ``token`` (in queue order) and the cursor that leads to the page before
    them: ``None`` when they are the first page. The same two index ranges as :func:`page`, walked backwards."""
    due, pk = decode(token)
    backwards = queryset.order_by(*REVERSED)
    if due is None:
        rows = list(backwards.filter(resolution_due__isnull=True, pk__lt=pk)[: size + 1])
        if len(rows) <= size:
            rows += list(backwards.filter(resolution_due__isnull=False)[: size + 1 - len(rows)])
    else:
        dated = Q(resolution_due__lte=due) & (Q(resolution_due__lt=due) | Q(pk__lt=pk))
        rows = list(backwards.filter(dated)[: size + 1])
    more = len(rows) > size
    rows = rows[:size][::-1]
    return rows, encode(rows[0].resolution_due, rows[0].pk) if more and rows else None
