"""App health summaries on ``/healthz``, so core's check shows what apps know without knowing the apps.

An app registers a callable from its own ``health.py`` (autodiscovered by ``CoreConfig.ready``)::

    from kompass.core import health

    @health.check("vendors")
    def summary() -> dict:
        return {"status": "ok", "outbox_backlog": 0}

The callable returns a small JSON-able dict with a ``status`` of ``ok``, ``attention`` (something for an
operator to look at; the check still passes) or ``failing`` (``/healthz`` answers 503). No personal data and
no error texts: ``/healthz`` needs no log-in. A callable that raises counts as ``failing``.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

logger = logging.getLogger(__name__)

OK, ATTENTION, FAILING = "ok", "attention", "failing"
_checks: dict[str, Callable[[], dict]] = {}

__all__ = ["ATTENTION", "FAILING", "OK", "check", "register", "summaries"]


def register(name: str, func: Callable[[], dict]) -> Callable[[], dict]:
    _checks[name] = func
    return func


def check(name: str):
    def decorate(func):
        return register(name, func)

    return decorate


def summaries() -> dict[str, dict]:
    """Every registered summary by name (sorted); a failing callable gives ``{"status": "failing"}``."""
    out = {}
    for name in sorted(_checks):
        try:
            result = dict(_checks[name]())
        except Exception:  # noqa: BLE001 - a broken app check is a failing component, not a 500
            logger.exception("Health check %s failed", name)
            result = {"status": FAILING, "error": "check raised"}
        result.setdefault("status", OK)
        out[name] = result
    return out
