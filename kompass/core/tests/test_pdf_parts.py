"""render_pdf_parts: parts rendered in parallel processes and joined read as one document (tags, bookmarks,
named destinations, page numbers), and the joined PDF signs and validates."""

from io import BytesIO

import pytest
from pypdf import PdfReader

from kompass.core.models import Organisation
from kompass.core.pdf import get_signing_identity, render_pdf_parts, sign_pdf, validate_pdf


def part(title: str, rows: int) -> dict:
    return {
        "title": title,
        "caption": title,
        "columns": ["ID", "Krav"],
        "rows": [[f"{title}-{i}", f"Krav {i}: æøå"] for i in range(rows)],
        "widths": ["20%", "80%"],
        "organisation": Organisation(name="Øvre Åsen kommune"),
    }


@pytest.fixture(scope="module")
def joined():
    last = {**part("Andre", 5), "signature_slots": [("kompass", "Signatur")]}
    data = render_pdf_parts("core/pdf/table.html", [part("Første", 60), last], title="Samlet", lang="nb", processes=2)
    return data, PdfReader(BytesIO(data))


def test_the_parts_make_one_document_with_continuous_page_numbers(joined):
    _data, reader = joined
    pages = len(reader.pages)
    texts = [page.extract_text() for page in reader.pages]
    assert pages >= 3 and "Første-0" in texts[0] and "Andre-4" in texts[-1]
    for number, text in enumerate(texts, start=1):
        assert text.count(f"Side {number} av {pages}") == 1 and "Samlet" in text
    root = reader.trailer["/Root"]
    document = root["/StructTreeRoot"]["/K"][0]
    assert document["/S"] == "/Document" and len(document["/K"]) == pages  # a /Part per page, in order
    assert [kid.raw_get("/Pg").idnum for kid in document["/K"]] == [p.indirect_reference.idnum for p in reader.pages]
    keys = root["/StructTreeRoot"]["/ParentTree"]["/Nums"][::2]
    assert len(set(keys)) == len(keys) and {p["/StructParents"] for p in reader.pages} <= set(keys)
    assert root["/Lang"] == "nb" and root["/MarkInfo"]["/Marked"] and "/Metadata" in root
    first, *_rest = reader.outline  # the second part's title is filed under the first's
    assert first["/Title"] == "Første" and reader.outline[1][-1]["/Title"] == "Andre"
    assert reader.get_destination_page_number(reader.outline[1][-1]) == pages - 1
    names = root["/Names"]["/Dests"]["/Names"]
    assert names[0] == "signature-kompass" and names[1][0].idnum == reader.pages[-1].indirect_reference.idnum


@pytest.mark.django_db
def test_the_joined_pdf_is_signed_whole(joined, settings, tmp_path):
    settings.KOMPASS_SIGNING_DIR = tmp_path / "signing"
    data, _reader = joined
    signed = sign_pdf(data, reason="Test", location="Oslo", field_name="kompass")
    result = validate_pdf(signed, get_signing_identity().trust_roots)
    assert result.bottom_line and result.coverage == "ENTIRE_FILE"
    assert "/Annots" in PdfReader(BytesIO(signed)).pages[-1]  # the stamp, in the last part's slot
