"""One PDF rendered in parts, in parallel processes, and joined: for documents too long to lay out in one go.

WeasyPrint lays a document out on one core, ~10 ms of CPU per table row of the approval protocol, so a
5,000-requirement protocol takes most of a minute. :func:`render_pdf_parts` renders each part (a context of the
same template; each part begins on a new page) in its own process and joins them into one PDF that reads as if
it had been rendered whole:

* **Tags** (PDF/UA): WeasyPrint writes one ``/Part`` structure element per page under one ``/Document``. The
  parts' ``/Part`` elements are joined under a single ``/Document`` in page order, the parent trees are merged
  (each page's ``/StructParents`` and each key shifted by the parts before it), and the catalogue keeps the
  language, ``/MarkInfo``, the display-title preference and the XMP metadata (PDF/UA identification) of the first
  part. Marked-content ids are per page, so the content streams are unchanged.
* **Bookmarks** (the reader's table of contents, from the headings) and **named destinations** (the signature
  slots) of every part point to the joined pages; a later part's bookmarks are filed under the first part's
  title heading, as one rendering would have them.
* **Page numbers** ("Page X of Y") and the title in the footer can only be known once every part is laid out:
  the parts are rendered without the page footer (``without_page_footer``), then one light document of empty
  pages with only those footers (``core/pdf/page_footers.html``) is rendered for the joined page count and each
  footer is drawn onto its page as a form XObject, marked as a pagination ``/Artifact``.

Templates are rendered to HTML in the calling process (they may read the database); the child processes only
run WeasyPrint on that HTML. Processes are forked (the parent's loaded fonts and modules are reused); with one
part, or one usable core, everything runs in this process.
"""

import io
import logging
import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation

from kompass.core.models import Organisation
from kompass.core.pdf.render import _css_string, page_counter_css, write_html

# pikepdf announces its C++ log bridge at INFO when imported, i.e. in every command and process start.
logging.getLogger("pikepdf._core").setLevel(logging.WARNING)
import pikepdf  # noqa: E402
from pikepdf import Array, Dictionary, Name  # noqa: E402

__all__ = ["join_pdfs", "render_pdf_parts", "usable_cores"]

FOOTER_XOBJECT = "/KompassPageFooter"


def usable_cores() -> int:
    """The cores this process may run on (its CPU affinity), at least 1."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # pragma: no cover - not Linux
        return max(1, os.cpu_count() or 1)


def render_pdf_parts(
    template_name: str,
    contexts: list[dict],
    *,
    title: str,
    request=None,
    lang: str | None = None,
    processes: int | None = None,
) -> bytes:
    """Render ``template_name`` once per context (the parts, in order) and join them into one PDF.

    Every context gets what :func:`kompass.core.pdf.render_pdf` adds (``organisation``, ``created``, ``lang``,
    ``page_counter``) and ``without_page_footer``; ``title`` is the footer's title on every page.
    ``processes`` defaults to the usable cores; the parts are handed out in order.
    """
    lang = lang or translation.get_language() or settings.LANGUAGE_CODE
    created = timezone.now()
    with translation.override(lang):
        organisation = None if all(c.get("organisation") for c in contexts) else Organisation.current()
        base = {"created": created, "lang": translation.get_language(), "page_counter": page_counter_css()}
        htmls = [
            render_to_string(
                template_name,
                {
                    **base,
                    **context,
                    "organisation": context.get("organisation") or organisation,
                    "without_page_footer": True,
                },
                request=request,
            )
            for context in contexts
        ]
        footer_html_for = _footer_template(title, lang)
    processes = min(processes or usable_cores(), len(htmls))
    if processes > 1:
        with ProcessPoolExecutor(max_workers=processes, mp_context=get_context("fork")) as pool:
            parts = list(pool.map(write_html, htmls))
    else:
        parts = [write_html(html) for html in htmls]
    joined = join_pdfs(parts)
    footers = pikepdf.Pdf.open(io.BytesIO(write_html(footer_html_for(len(joined.pages)), tagged=False)))
    _draw_footers(joined, footers)
    output = io.BytesIO()
    # No object streams, as render_pdf writes them (pyHanko's validator reads those slowly).
    joined.save(output, object_stream_mode=pikepdf.ObjectStreamMode.disable)
    return output.getvalue()


def _footer_template(title: str, lang: str):
    with translation.override(lang):
        context = {"lang": lang, "title": title, "title_css": _css_string(title), "page_counter": page_counter_css()}

    def html(pages: int) -> str:
        return render_to_string("core/pdf/page_footers.html", {**context, "pages": range(pages)})

    return html


def join_pdfs(parts: list[bytes]) -> pikepdf.Pdf:
    """Join WeasyPrint PDFs page by page into one, keeping one structure tree, the bookmarks and named destinations.

    pikepdf (qpdf, C++) copies the objects: pypdf took ~3 ms per protocol row for the same, more than a tenth
    of the rendering saved.
    """
    out = pikepdf.Pdf.new()
    document = out.make_indirect(Dictionary(Type=Name.StructElem, S=Name.Document))
    kids, nums, names = Array(), Array(), Array()
    bookmarks: list[tuple[int, tuple]] = []  # (part, bookmark as plain data)
    offset = 0
    tagged = True
    for index, data in enumerate(parts):
        pdf = pikepdf.Pdf.open(io.BytesIO(data))
        start = len(out.pages)
        out.pages.extend(pdf.pages)
        pages = {page.obj.objgen: out.pages[start + n].obj for n, page in enumerate(pdf.pages)}
        numbers = {page.obj.objgen: start + n for n, page in enumerate(pdf.pages)}
        if index == 0:
            for key in ("/Lang", "/MarkInfo", "/ViewerPreferences", "/Metadata"):
                if key in pdf.Root:
                    out.Root[key] = _copied(out, pdf, pdf.Root[key])
            out.docinfo = _copied(out, pdf, pdf.docinfo)
        tagged = tagged and "/StructTreeRoot" in pdf.Root
        if tagged:
            offset = _copy_structure(out, pdf, start, offset, document, kids, nums)
        with pdf.open_outline() as outline:
            bookmarks += [(index, _bookmark(item, numbers)) for item in outline.root]
        for name, destination in _named_destinations(pdf):
            names.extend([name, Array([pages[destination[0].objgen], *list(destination)[1:]])])
    if tagged:
        document.K = kids
        tree = out.make_indirect(
            Dictionary(
                Type=Name.StructTreeRoot,
                K=Array([document]),
                ParentTree=out.make_indirect(Dictionary(Nums=nums)),
                ParentTreeNextKey=offset,
            )
        )
        document.P = tree
        out.Root.StructTreeRoot = tree
    if len(names):
        out.Root.Names = Dictionary(Dests=out.make_indirect(Dictionary(Names=names)))
    _join_outlines(out, bookmarks)
    return out


def _copied(out, pdf, value):
    """``value`` of ``pdf`` as an object of ``out`` (qpdf copies only indirect objects between documents)."""
    if isinstance(value, Dictionary | Array | pikepdf.Stream):
        return out.copy_foreign(value if value.is_indirect else pdf.make_indirect(value))
    return value


def _copy_structure(out, pdf, start: int, offset: int, document, kids, nums) -> int:
    """Copy a part's ``/Part`` elements under ``document`` and its parent tree, shifted by ``offset``."""
    tree = pdf.Root.StructTreeRoot
    sources = tree.K if isinstance(tree.K, Array) else Array([tree.K])
    for source in sources:
        for kid in source.K if isinstance(source.K, Array) else [source.K]:
            del kid.P  # copied without its old parents; re-parented below
            copy = out.copy_foreign(kid)
            copy.P = document
            kids.append(copy)
    top = -1
    source_nums = tree.ParentTree.Nums
    for index in range(0, len(source_nums), 2):
        key, value = int(source_nums[index]), source_nums[index + 1]
        nums.append(key + offset)
        nums.append(_copied(out, pdf, value))
        top = max(top, key)
    for n, page in enumerate(pdf.pages):
        if "/StructParents" in page.obj:
            out.pages[start + n].obj.StructParents = int(page.obj.StructParents) + offset
    return offset + top + 1


def _named_destinations(pdf):
    try:
        names = pdf.Root.Names.Dests.Names
    except AttributeError:
        return []
    pairs = []
    for index in range(0, len(names) - 1, 2):
        destination = names[index + 1]
        if isinstance(destination, Dictionary):
            destination = destination.D
        pairs.append((names[index], destination))
    return pairs


def _bookmark(item, numbers: dict) -> tuple:
    """(title, page number in the joined document, left, top, children) of one outline item."""
    destination = item.destination
    children = tuple(_bookmark(child, numbers) for child in item.children)
    return str(item.title), numbers[destination[0].objgen], float(destination[2]), float(destination[3]), children


def _outline_item(bookmark: tuple) -> pikepdf.OutlineItem:
    title, page, left, top, children = bookmark
    item = pikepdf.OutlineItem(title, page, "XYZ", left=left, top=top)
    item.children.extend(_outline_item(child) for child in children)
    return item


def _join_outlines(out, bookmarks) -> None:
    """The first part's bookmarks as they are; a later part's under the first part's last top-level one (the
    document's title heading), where one rendering would have put them."""
    with out.open_outline() as outline:
        parent = None
        for part, bookmark in bookmarks:
            item = _outline_item(bookmark)
            if part == 0 or parent is None:
                outline.root.append(item)
                parent = item if part == 0 else parent
            else:
                parent.children.append(item)


def _draw_footers(out: pikepdf.Pdf, footers: pikepdf.Pdf) -> None:
    """Draw footer page *n* onto page *n* as a form XObject inside an ``/Artifact`` (pagination, not content)."""
    for page, footer in zip(out.pages, footers.pages, strict=True):
        form = out.copy_foreign(footer.as_form_xobject())
        # WeasyPrint shares one resource dictionary between the pages: each page gets its own (shallow) copy,
        # whose XObjects include its own footer.
        resources = page.obj.Resources
        own = Dictionary({key: resources[key] for key in resources.keys()})
        xobjects = resources.get("/XObject")
        own.XObject = (
            Dictionary({key: xobjects[key] for key in xobjects.keys()}) if xobjects is not None else Dictionary()
        )
        own.XObject[FOOTER_XOBJECT] = form
        page.obj.Resources = own
        # The page's own content leaves its coordinate transformation in place: save the state before it and
        # restore it before the footer.
        page.contents_add(pikepdf.Stream(out, b"q\n"), prepend=True)
        page.contents_add(
            pikepdf.Stream(out, f"\nQ q /Artifact <</Type /Pagination>> BDC {FOOTER_XOBJECT} Do EMC Q\n".encode())
        )
