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
  slots) of every part point to the joined pages (pypdf's ``append`` carries both).
* **Page numbers** ("Page X of Y") and the title in the footer can only be known once every part is laid out:
  the parts are rendered without the page footer (``without_page_footer``), then one light document of empty
  pages with only those footers (``core/pdf/page_footers.html``) is rendered for the joined page count and each
  footer is drawn onto its page as a form XObject, marked as a pagination ``/Artifact``.

Templates are rendered to HTML in the calling process (they may read the database); the child processes only
run WeasyPrint on that HTML. Processes are forked (the parent's loaded fonts and modules are reused); with one
part, or one usable core, everything runs in this process.
"""

import io
import os
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context

from django.conf import settings
from django.template.loader import render_to_string
from django.utils import timezone, translation
from pypdf import PdfReader, PdfWriter
from pypdf.generic import (
    ArrayObject,
    DecodedStreamObject,
    DictionaryObject,
    Fit,
    NameObject,
    NumberObject,
    StreamObject,
)

from kompass.core.models import Organisation
from kompass.core.pdf.render import _css_string, page_counter_css, write_html

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
        organisation = Organisation.current()
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
    readers = [PdfReader(io.BytesIO(part)) for part in parts]
    writer = join_pdfs(readers)
    footers = PdfReader(io.BytesIO(write_html(footer_html_for(len(writer.pages)), tagged=False)))
    _draw_footers(writer, footers)
    output = io.BytesIO()
    writer.write(output)
    return output.getvalue()


def _footer_template(title: str, lang: str):
    with translation.override(lang):
        context = {"lang": lang, "title": title, "title_css": _css_string(title), "page_counter": page_counter_css()}

    def html(pages: int) -> str:
        return render_to_string("core/pdf/page_footers.html", {**context, "pages": range(pages)})

    return html


def join_pdfs(readers: list[PdfReader]) -> PdfWriter:
    """Join WeasyPrint PDFs page by page, keeping one structure tree, the bookmarks and the named destinations."""
    writer = PdfWriter()
    first = readers[0]
    offsets = []
    for index, reader in enumerate(readers):
        offsets.append(len(writer.pages))
        writer.append(reader, import_outline=index == 0)
    # A later part's headings belong under the document's title heading (the first part's last top-level
    # bookmark), as they would in one rendering, not beside it.
    outlines = writer._root_object.get("/Outlines")
    parent = outlines.get_object().get("/Last") if outlines is not None else None
    for reader, offset in zip(readers[1:], offsets[1:], strict=True):
        _copy_outline(writer, reader, reader.outline, offset, parent)
    _join_structure(writer, readers)
    catalog, source = writer._root_object, first.trailer["/Root"]
    for key in ("/Lang", "/MarkInfo", "/ViewerPreferences"):
        if key in source:
            catalog[NameObject(key)] = source[key].clone(writer) if hasattr(source[key], "clone") else source[key]
    if "/Metadata" in source:
        catalog[NameObject("/Metadata")] = source.raw_get("/Metadata").clone(writer)
    if first.metadata:
        writer.add_metadata({key: str(value) for key, value in first.metadata.items()})
    return writer


def _copy_outline(writer: PdfWriter, reader: PdfReader, items: list, offset: int, parent) -> None:
    last = None
    for item in items:
        if isinstance(item, list):
            _copy_outline(writer, reader, item, offset, last)
            continue
        page = reader.get_destination_page_number(item) + offset
        fit = Fit.xyz(item.get("/Left"), item.get("/Top"), item.get("/Zoom"))
        last = writer.add_outline_item(title=str(item.title), page_number=page, parent=parent, fit=fit)


def _join_structure(writer: PdfWriter, readers: list[PdfReader]) -> None:
    if not all("/StructTreeRoot" in reader.trailer["/Root"] for reader in readers):
        return
    tree = DictionaryObject({NameObject("/Type"): NameObject("/StructTreeRoot")})
    tree_ref = writer._add_object(tree)
    document = DictionaryObject(
        {
            NameObject("/Type"): NameObject("/StructElem"),
            NameObject("/S"): NameObject("/Document"),
            NameObject("/P"): tree_ref,
        }
    )
    document_ref = writer._add_object(document)
    kids, nums = ArrayObject(), ArrayObject()
    offset = page_index = 0
    for reader in readers:
        source_tree = reader.trailer["/Root"]["/StructTreeRoot"]
        source_documents = source_tree["/K"]
        source_documents = source_documents if isinstance(source_documents, list) else [source_documents]
        for source_document in source_documents:
            source_kids = source_document.get_object()["/K"]
            for kid in source_kids if isinstance(source_kids, list) else [source_kids]:
                element = kid.get_object()
                del element["/P"]  # cloned without its old parents; re-parented below
                clone = kid.clone(writer) if hasattr(kid, "clone") else element.clone(writer)
                clone.get_object()[NameObject("/P")] = document_ref
                kids.append(
                    clone.indirect_reference
                    if hasattr(clone, "indirect_reference") and clone.indirect_reference
                    else clone
                )
        source_nums = source_tree["/ParentTree"]["/Nums"]
        top = -1
        for index in range(0, len(source_nums), 2):
            key = int(source_nums[index])
            nums.append(NumberObject(key + offset))
            nums.append(source_nums[index + 1].clone(writer))
            top = max(top, key)
        for page in reader.pages:
            target = writer.pages[page_index]
            if "/StructParents" in page:
                target[NameObject("/StructParents")] = NumberObject(int(page["/StructParents"]) + offset)
            page_index += 1
        offset += top + 1
    document[NameObject("/K")] = kids
    tree[NameObject("/K")] = ArrayObject([document_ref])
    tree[NameObject("/ParentTree")] = writer._add_object(DictionaryObject({NameObject("/Nums"): nums}))
    tree[NameObject("/ParentTreeNextKey")] = NumberObject(offset)
    writer._root_object[NameObject("/StructTreeRoot")] = tree_ref


def _draw_footers(writer: PdfWriter, footers: PdfReader) -> None:
    """Draw footer page *n* onto page *n* as a form XObject inside an ``/Artifact`` (pagination, not content)."""
    for page, footer in zip(writer.pages, footers.pages, strict=True):
        form = StreamObject()
        form.set_data(footer.get_contents().get_data())
        form.update(
            {
                NameObject("/Type"): NameObject("/XObject"),
                NameObject("/Subtype"): NameObject("/Form"),
                NameObject("/BBox"): footer.mediabox.clone(writer)
                if hasattr(footer.mediabox, "clone")
                else ArrayObject(footer.mediabox),
                NameObject("/Resources"): footer["/Resources"].clone(writer),
            }
        )
        # WeasyPrint shares one resource dictionary between the pages: each page gets its own (shallow) copy,
        # whose XObjects include its own footer.
        resources = DictionaryObject(page["/Resources"].get_object())
        xobjects = (
            DictionaryObject(resources["/XObject"].get_object()) if "/XObject" in resources else DictionaryObject()
        )
        xobjects[NameObject(FOOTER_XOBJECT)] = writer._add_object(form)
        resources[NameObject("/XObject")] = xobjects
        page[NameObject("/Resources")] = resources
        # The page's own content leaves its coordinate transformation in place: save the state before it and
        # restore it before the footer, which brings its own.
        save, draw = DecodedStreamObject(), DecodedStreamObject()
        save.set_data(b"q\n")
        draw.set_data(f"\nQ q /Artifact <</Type /Pagination>> BDC {FOOTER_XOBJECT} Do EMC Q\n".encode())
        contents = page.raw_get("/Contents")
        existing = contents.get_object()
        streams = list(existing) if isinstance(existing, ArrayObject) else [contents]
        page[NameObject("/Contents")] = ArrayObject([writer._add_object(save), *streams, writer._add_object(draw)])
