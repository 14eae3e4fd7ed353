"""The *new* text of a reply: the quoted earlier message, the attribution line and the signature removed.

Heuristics, in order (each cuts everything after it):

1. a reply header block: Outlook's ``From: … / Sent: …`` (bokmål ``Fra: … / Sendt: …``, also ``Date:``/``Dato:``),
   optionally after a ``____`` rule; ``-----Original Message-----`` / ``-----Opprinnelig melding-----``;
2. an attribution line: Gmail's ``On <date> <name> wrote:`` / ``Den <dato> skrev <navn>:`` (also when Gmail wraps it
   over two lines);
3. the signature delimiter ``-- `` (RFC 3676; also a bare ``--``, since many clients strip the space);

then lines quoted with ``>`` are dropped wherever they are (so interleaved answers are kept), and a trailing
"Sent from my iPhone" / "Sendt fra min iPhone" / "Get Outlook for iOS" line or a closing "Med vennlig hilsen …"
block of at most a few lines (name, title, phone) is removed.

Forwarded messages are *not* stripped: the forwarded content is what the sender wants us to see
(:func:`is_forward`).
"""

from __future__ import annotations

import re

__all__ = ["extract_new_text", "is_forward"]

_HEADER_FROM = re.compile(r"^\s*\*?(from|fra|von|de)\s*:\*?\s+\S", re.IGNORECASE)
_HEADER_NEXT = re.compile(
    r"^\s*\*?(sent|sendt|date|dato|to|til|subject|emne|cc|gesendet|envoyé)\s*:\*?\s", re.IGNORECASE
)
_ORIGINAL = re.compile(
    r"^\s*-{2,}\s*(original message|opprinnelig melding|original meddelelse|ursprüngliche nachricht)\s*-{2,}\s*$",
    re.IGNORECASE,
)
_RULE = re.compile(r"^\s*_{10,}\s*$")
_ON_WROTE = re.compile(r"^\s*(on|am)\b.{0,300}\b(wrote|schrieb)\s*:\s*$", re.IGNORECASE)
_DEN_SKREV = re.compile(r"^\s*(den|på|man|tir|ons|tor|fre|lør|søn)\.?\b.{0,300}\bskrev\b.{0,300}:\s*$", re.IGNORECASE)
_SIGNATURE = re.compile(r"^--\s?$")
_SENT_FROM = re.compile(
    r"^\s*(sent from my|sendt fra min|sendt fra|sent from|get outlook for|hent outlook for|"
    r"skickat från)\b.{0,60}$",
    re.IGNORECASE,
)
_SIGN_OFF = re.compile(
    r"^\s*(med vennlig hilsen|vennlig hilsen|med hilsen|mvh\.?|hilsen|best regards|kind regards|regards|"
    r"best wishes|thanks and regards)\s*,?\s*$",
    re.IGNORECASE,
)
_SIGN_OFF_MAX_LINES = 8  # a sign-off followed by more than this many lines is not a signature block
_FORWARD_SUBJECT = re.compile(r"^\s*(fwd?|vs|vb|wg|tr|fw)\s*:", re.IGNORECASE)
_FORWARD_MARKER = re.compile(
    r"^\s*-{2,}\s*(forwarded message|videresendt melding|begin forwarded message|videresendt e-post)\s*-*\s*$"
    r"|^\s*(begin forwarded message|videresendt melding)\s*:\s*$",
    re.IGNORECASE,
)


def is_forward(subject: str, text: str) -> bool:
    """A forwarded message (``Fwd:``/``VS:``/``FW:`` subject or a "Forwarded message" marker in the body)."""
    if _FORWARD_SUBJECT.match(subject or ""):
        return True
    return any(_FORWARD_MARKER.match(line) for line in text.splitlines())


def _is_header_block(lines: list[str], index: int) -> bool:
    """``From: …`` followed within four lines by ``Sent:``/``Date:``/``To:``/``Subject:`` (any language above)."""
    if not _HEADER_FROM.match(lines[index]):
        return False
    following = [line for line in lines[index + 1 : index + 6] if line.strip()][:4]
    return any(_HEADER_NEXT.match(line) for line in following)


def _cut_index(lines: list[str]) -> int:
    for index, line in enumerate(lines):
        if _ORIGINAL.match(line) or _SIGNATURE.match(line):
            return index
        if _RULE.match(line):
            following = next((i for i in range(index + 1, len(lines)) if lines[i].strip()), None)
            if following is not None and _is_header_block(lines, following):
                return index
        if _is_header_block(lines, index):
            return index
        if _ON_WROTE.match(line) or _DEN_SKREV.match(line):
            return index
        if index + 1 < len(lines):  # Gmail wraps a long attribution line; the second part ends in "wrote:"
            joined = f"{line.rstrip()} {lines[index + 1].strip()}"
            if (_ON_WROTE.match(joined) or _DEN_SKREV.match(joined)) and not lines[index].rstrip().endswith(":"):
                return index
    return len(lines)


def _strip_trailing_blank(lines: list[str]) -> list[str]:
    while lines and not lines[-1].strip():
        lines.pop()
    return lines


def extract_new_text(text: str) -> str:
    """The part of ``text`` the sender wrote now (see the module docstring for the rules)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    lines = lines[: _cut_index(lines)]
    lines = [line for line in lines if not line.lstrip().startswith(">")]
    lines = _strip_trailing_blank(lines)
    if lines and _SENT_FROM.match(lines[-1]):
        lines = _strip_trailing_blank(lines[:-1])
    content = [i for i, line in enumerate(lines) if line.strip()]
    for position, index in enumerate(content):
        if _SIGN_OFF.match(lines[index]) and len(content) - position - 1 <= _SIGN_OFF_MAX_LINES and position > 0:
            lines = _strip_trailing_blank(lines[:index])
            break
    text = "\n".join(line.rstrip() for line in lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n")
