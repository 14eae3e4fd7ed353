"""A small, safe HTML → plain text conversion for HTML-only mail, on the stdlib ``html.parser``.

Safe because nothing is rendered or fetched: tags are dropped, ``<script>``/``<style>``/``<head>`` content is
skipped, entities are decoded, and the result is plain text (a link keeps its address in ``<…>``). Block
elements become line breaks, list items get a ``- `` bullet, and ``<blockquote>`` content gets a ``> `` prefix
per level, so that the quote stripping in :mod:`kompass.cases.intake.quotes` treats a quoted HTML reply like a
quoted text reply. No new dependency: mail HTML needs no more than this.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

__all__ = ["html_to_text"]

_SKIP = {"script", "style", "head", "title", "template", "noscript"}
_BLOCK = {
    "address", "article", "aside", "div", "dl", "dt", "dd", "fieldset", "figure", "footer", "form", "h1", "h2", "h3",
    "h4", "h5", "h6", "header", "hr", "li", "main", "nav", "ol", "p", "pre", "section", "table", "tr", "ul",
}  # fmt: skip
_PARAGRAPH = {"p", "pre", "table", "ul", "ol", "h1", "h2", "h3", "h4", "h5", "h6"}  # separated by a blank line
_SPACES = re.compile(r"[ \t\r\n\f\v\u00a0]+")


class _TextExtractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.lines: list[str] = []
        self.current: list[str] = []
        self.skipping = 0  # depth inside elements whose content is not text
        self.quote_depth = 0
        self.pre = 0
        self.link: tuple[str, int] | None = None  # (href, where its text starts in ``current``)

    # A line is flushed with the quote depth it was written at, before the depth changes.
    def flush(self, *, paragraph: bool = False) -> None:
        text = "".join(self.current)
        if not self.pre:
            text = _SPACES.sub(" ", text).strip()
        self.current = []
        prefix = "> " * self.quote_depth
        for line in text.split("\n") if text else []:
            self.lines.append((prefix + line).rstrip())
        if paragraph and self.lines and self.lines[-1].strip("> ") != "":
            self.lines.append(prefix.rstrip())

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in _SKIP:
            self.skipping += 1
        elif self.skipping:
            return
        elif tag == "br":
            self.flush()
        elif tag == "blockquote":
            self.flush(paragraph=True)
            self.quote_depth += 1
        elif tag in _BLOCK:
            self.flush(paragraph=tag in _PARAGRAPH)
            if tag == "li":
                self.current.append("- ")
            elif tag == "hr":
                self.lines.append("> " * self.quote_depth + "----")
            elif tag == "pre":
                self.pre += 1
        elif tag in {"td", "th"} and self.current:
            self.current.append(" | ")
        elif tag == "a":
            href = (dict(attrs).get("href") or "").strip()
            self.link = (href, len(self.current)) if href.startswith(("http://", "https://")) else None
        elif tag == "img":
            alt = dict(attrs).get("alt")
            if alt:
                self.current.append(f"[{alt}]")

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _SKIP:  # <br/>, <hr/>, <img/>: no content to skip
            self.handle_starttag(tag, attrs)

    def handle_endtag(self, tag: str) -> None:
        if tag in _SKIP:
            self.skipping = max(0, self.skipping - 1)
        elif self.skipping:
            return
        elif tag == "a" and self.link:
            href, start = self.link
            self.link = None
            if href not in "".join(self.current[start:]):  # keep where a link goes, unless its text says so
                self.current.append(f" <{href}>")
        elif tag == "blockquote":
            self.flush(paragraph=True)
            self.quote_depth = max(0, self.quote_depth - 1)
        elif tag in _BLOCK:
            self.flush(paragraph=tag in _PARAGRAPH)
            if tag == "pre":
                self.pre = max(0, self.pre - 1)

    def handle_data(self, data: str) -> None:
        if not self.skipping:
            self.current.append(data)


def html_to_text(html: str) -> str:
    """Plain text of an HTML document: readable, never executable."""
    parser = _TextExtractor()
    parser.feed(html)
    parser.close()
    parser.flush()
    text = "\n".join(parser.lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()
