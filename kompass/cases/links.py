"""One-click "solved" / "not solved" links in the resolved e-mail: no login, and each resolution's link works once.

The token is signed (Django's signing, with a salt of its own) and names the case and the ``CaseChange`` that
resolved it. It is good only while that change is still the case's latest resolution and the case is still
resolved, so once the requester (or anyone) has answered, or the case was resolved again, the link is spent.
Opening the link shows a page with one button (a GET changes nothing, so mail scanners that follow links cannot
answer for the requester); the button's POST answers.
"""

from __future__ import annotations

from django.core import signing
from django.urls import reverse

__all__ = ["SALT", "resolution_links", "resolve_token"]

SALT = "kompass.cases.resolution"
MAX_AGE = 60 * 60 * 24 * 30


def _token(case, change, answer: str) -> str:
    return signing.dumps({"c": case.pk, "ch": change.pk, "a": answer}, salt=SALT, compress=True)


def resolution_links(case, change) -> dict[str, str]:
    """Paths (without host) of the two answers; the e-mail template prefixes the site's address."""
    return {
        answer: reverse("cases:resolution_answer", args=[_token(case, change, answer)])
        for answer in ("solved", "not_solved")
    }


def resolve_token(token: str):
    """``(case, answer)`` for a token that is still good, else ``None``."""
    from kompass.cases.models import Case, CaseChange

    try:
        data = signing.loads(token, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return None
    if not isinstance(data, dict) or data.get("a") not in ("solved", "not_solved"):
        return None
    case = Case.objects.filter(pk=data.get("c"), state=Case.State.RESOLVED).first()
    if case is None:
        return None
    latest = CaseChange.objects.filter(case=case, kind="state", detail__to=Case.State.RESOLVED).order_by("-pk").first()
    if latest is None or latest.pk != data.get("ch"):
        return None
    return case, data["a"]
