"""Limit/offset pagination with bounds, so a huge ``limit`` or ``offset`` is clamped, never a database error.

DRF's ``LimitOffsetPagination`` passes any positive integer through; a value past 64 bits makes SQLite
raise ``OverflowError`` (a 500) and asks PostgreSQL for an absurd page. Kompass caps a page at
:data:`MAX_LIMIT` rows and an offset at :data:`MAX_OFFSET` (far past any real list: deep lists page
by filter, not by offset).
"""

from rest_framework.pagination import LimitOffsetPagination

__all__ = ["BoundedLimitOffsetPagination", "MAX_LIMIT", "MAX_OFFSET"]

MAX_LIMIT = 1000
MAX_OFFSET = 10_000_000


class BoundedLimitOffsetPagination(LimitOffsetPagination):
    max_limit = MAX_LIMIT

    def get_offset(self, request):
        return min(super().get_offset(request), MAX_OFFSET)
