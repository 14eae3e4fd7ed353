"""Which vendor a new case goes to: the routing table, cached in each process.

The ``case_changed`` receiver asks on every case creation, most of which go to no vendor. The table
(service → connection and table, for active routes of active connections) is kept per process together with
the token of :class:`~kompass.vendors.models.RoutingVersion` it was read at; each question reads only that
one-row token (by primary key) and reloads the table when it differs. The token changes in the same
transaction as any save or delete of a :class:`ServiceRoute` or :class:`VendorConnection` (``receivers.py``),
so another process's change is seen by the next question after its commit. ``QuerySet.update()`` sends no
signal: code that changes a route's or a connection's ``active`` flag that way must call :func:`bump`.
"""

from __future__ import annotations

import threading
import uuid
from typing import NamedTuple

from kompass.vendors.models import RoutingVersion, ServiceRoute

ROW = 1


class Route(NamedTuple):
    connection_id: int
    table: str


_lock = threading.Lock()
_cache: dict = {"token": object(), "routes": {}}  # a token no row has: the first question loads the table


def token() -> str | None:
    return RoutingVersion.objects.filter(pk=ROW).values_list("token", flat=True).first()


def route_for(service_id: int | None) -> Route | None:
    """The route of a new case on ``service_id``, or ``None`` (one primary-key read while the table is current)."""
    current = token()
    with _lock:
        if _cache["token"] == current:
            return _cache["routes"].get(service_id)
    # Read after the token: a change committed in between is in the table, and the next question reloads.
    routes = {
        service: Route(connection, table)
        for service, connection, table in ServiceRoute.objects.filter(active=True, connection__active=True)
        .order_by()
        .values_list("service_id", "connection_id", "table")
    }
    with _lock:
        _cache.update(token=current, routes=routes)
    return routes.get(service_id)


def bump() -> None:
    """Give the routing table a new token (in the caller's transaction): every process reloads it."""
    fresh = uuid.uuid4().hex
    if not RoutingVersion.objects.filter(pk=ROW).update(token=fresh):
        RoutingVersion.objects.get_or_create(pk=ROW, defaults={"token": fresh})


def forget() -> None:
    """Drop this process's table (tests)."""
    with _lock:
        _cache.update(token=object(), routes={})
