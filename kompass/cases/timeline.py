"""A case's one timeline: public replies, internal notes (for those who may see them) and its changes.

Everything is read through the restricted managers, so a requester's or an agency role's timeline has no
note and no change row about a note in it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from kompass.cases.models import CaseChange, Note, Reply
from kompass.core import access

__all__ = ["Entry", "timeline", "visible_changes"]


def may_see_notes(case, user) -> bool:
    return access.can(user, "view", Note(case=case))


def visible_changes(case, user):
    changes = CaseChange.objects.restrict(user, "view").filter(case=case).select_related("actor")
    if not may_see_notes(case, user):
        changes = changes.filter(internal=False)
    return changes.order_by("created", "pk")


@dataclass(frozen=True)
class Entry:
    """One line of the timeline: ``kind`` is "reply", "note" or "change"."""

    kind: str
    at: datetime
    obj: object


def timeline(case, user) -> list[Entry]:
    entries = [
        Entry("reply", r.created, r)
        for r in Reply.objects.restrict(user, "view")
        .filter(case=case)
        .select_related("author")
        .prefetch_related("attachments")
    ]
    entries += [
        Entry("note", n.created, n)
        for n in Note.objects.restrict(user, "view").filter(case=case).select_related("author")
    ]
    entries += [Entry("change", c.created, c) for c in visible_changes(case, user) if c.kind not in ("reply", "note")]
    return sorted(entries, key=lambda e: (e.at, e.kind))
