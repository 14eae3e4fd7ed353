"""The one small interface every vendor transport implements; the sync logic (``vendors/sync.py``) uses only it.

Records are flat dicts of raw string values (ServiceNow's Table API shape: ``sys_id``, ``sys_mod_count``,
``sys_updated_on`` in UTC ``YYYY-MM-DD HH:MM:SS``). Journal rows are dicts with ``sys_id``, ``element``
(``comments`` or ``work_notes``), ``value``, ``sys_created_on`` and ``sys_created_by``. Failures raise
:class:`~kompass.vendors.transports.servicenow.TransportError` (``retryable``, ``refused``).
"""

from __future__ import annotations

from typing import Protocol


class Transport(Protocol):
    def create(self, table: str, fields: dict) -> dict: ...

    def update(self, table: str, sys_id: str, fields: dict) -> dict: ...

    def add_journal(self, table: str, sys_id: str, element: str, text: str) -> dict: ...

    def add_attachment(self, table: str, sys_id: str, file_name: str, content_type: str, data: bytes) -> dict: ...

    def fetch(self, table: str, sys_id: str, fields: list[str] | None = None) -> dict | None: ...

    def fetch_changed_since(
        self, table: str, since: str, *, fields: list[str] | None = None, limit: int = 200, offset: int = 0
    ) -> list[dict]: ...

    def fetch_journal_since(self, table: str, sys_id: str, since: str = "", *, limit: int = 500) -> list[dict]: ...

    def fetch_many(self, table: str, sys_ids: list[str], fields: list[str] | None = None) -> list[dict]: ...

    def find_by_correlation(self, table: str, correlation_id: str, fields: list[str] | None = None) -> list[dict]: ...

    def journal_has_marker(self, table: str, sys_id: str, marker: str) -> bool: ...

    def close(self) -> None: ...
