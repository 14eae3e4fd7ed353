"""Slots on one app's pages that other apps fill, so the page's app imports none of them (core knows no app).

An app registers a renderer from its own ``panels.py`` (autodiscovered by ``CoreConfig.ready``)::

    from kompass.core import panels

    @panels.panel("case_detail")
    def vendor_link(request, obj) -> str | None:
        return render_to_string("vendors/includes/case_panel.html", {...}, request=request)

A renderer gets the request and the page's object and returns HTML (escaped by its template) or ``None``
(nothing to show, e.g. the user may not see it). The page's template renders the slot with
``{% panels "case_detail" object %}`` (``kompass`` template tags). A renderer that fails is logged and left
out: another app's panel never breaks the page it sits on.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from django.utils.html import format_html_join
from django.utils.safestring import SafeString, mark_safe

logger = logging.getLogger(__name__)

Renderer = Callable[[object, object], "str | None"]
_slots: dict[str, list[tuple[int, str, Renderer]]] = {}

__all__ = ["panel", "register", "render", "renderers"]


def register(slot: str, renderer: Renderer, *, order: int = 100) -> Renderer:
    name = f"{renderer.__module__}.{renderer.__qualname__}"
    entries = [entry for entry in _slots.get(slot, []) if entry[1] != name]  # re-registering replaces
    entries.append((order, name, renderer))
    _slots[slot] = sorted(entries, key=lambda entry: (entry[0], entry[1]))
    return renderer


def panel(slot: str, *, order: int = 100):
    """Decorator form of :func:`register`."""

    def decorate(renderer: Renderer) -> Renderer:
        return register(slot, renderer, order=order)

    return decorate


def renderers(slot: str) -> list[Renderer]:
    return [entry[2] for entry in _slots.get(slot, [])]


def render(slot: str, request, obj) -> SafeString:
    parts = []
    for renderer in renderers(slot):
        try:
            html = renderer(request, obj)
        except Exception:  # noqa: BLE001 - one app's panel never breaks another app's page
            logger.exception("Panel %s of slot %s failed", getattr(renderer, "__qualname__", renderer), slot)
            continue
        if html:
            parts.append((mark_safe(html),))  # noqa: S308 - the renderer's template escaped it
    return format_html_join("\n", "{}", parts)
