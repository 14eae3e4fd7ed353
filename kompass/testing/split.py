"""How CI's two runs (SQLite and PostgreSQL, side by side) share work whose answer cannot depend on the database.

A share is ``all`` (everything, the default for a plain ``make test``), ``none``, or ``i/n``: the i-th of n
disjoint parts, chosen by a stable hash of the item's key, so the parts ``1/n`` … ``n/n`` together hold every
item exactly once whatever the order of the run. ``.ci/run`` gives the SQLite run ``1/2`` and the PostgreSQL
run ``2/2`` where it splits a check this way (see README, *CI*).
"""

import zlib


class ShareError(ValueError):
    """The share is not ``all``, ``none`` or ``i/n`` with 1 ≤ i ≤ n."""


def parse_share(share: str) -> tuple[int, int] | None:
    """``(i, n)`` for ``i/n``, ``(1, 1)`` for ``all``, ``None`` for ``none``."""
    text = (share or "all").strip().lower()
    if text == "all":
        return 1, 1
    if text == "none":
        return None
    try:
        part, parts = (int(x) for x in text.split("/"))
    except ValueError:
        raise ShareError(f"not a share (all, none or i/n): {share!r}") from None
    if not 1 <= part <= parts:
        raise ShareError(f"not a share (all, none or i/n with 1 <= i <= n): {share!r}")
    return part, parts


def in_share(key: str, share: str) -> bool:
    """Whether the item named ``key`` belongs to ``share``."""
    parsed = parse_share(share)
    if parsed is None:
        return False
    part, parts = parsed
    return zlib.crc32(key.encode()) % parts == part - 1
