"""render_pdf: the Punkt base template, Norwegian text, page numbers, metadata, tags, and no network."""

import socket
from io import BytesIO

import pytest
from pypdf import PdfReader
from weasyprint import HTML

from kompass.core.models import Organisation
from kompass.core.pdf.fetcher import STATIC_ORIGIN, StaticFilesURLFetcher, base_url
from kompass.core.pdf.render import page_counter_css, render_pdf

ROWS = 300


def table_context(rows: int = ROWS) -> dict:
    return {
        "title": "Godkjenningsprotokoll – Blåbærsyltetøy",
        "intro": "Særskilte krav til øvrige tjenester på Ålesund og Tromsø.",
        "caption": "Krav",
        "columns": ["ID", "Krav", "Status", "Poeng"],
        "rows": [[f"K-{i:04d}", f"Krav {i}: leverandøren skal følge opp æøå ÆØÅ", "Godkjent", i] for i in range(rows)],
        "numeric": [3],
        "widths": ["12%", "60%", "16%", "12%"],
    }


@pytest.fixture(scope="module")
def protocol():
    """One 300-row document in bokmål, rendered once for the module (no database: the organisation is given)."""
    context = {**table_context(), "organisation": Organisation(name="Øvre Åsen kommune")}
    return PdfReader(BytesIO(render_pdf("core/pdf/table.html", context, lang="nb")))


def test_it_extracts_norwegian_letters_and_page_numbers(protocol):
    pages = [page.extract_text() for page in protocol.pages]
    total = len(pages)
    assert total > 5, "300 rows make several A4 pages"
    text = "\n".join(pages)
    assert "Godkjenningsprotokoll – Blåbærsyltetøy" in text
    assert "Særskilte krav til øvrige tjenester på Ålesund og Tromsø." in text
    assert "Krav 299: leverandøren skal følge opp æøå ÆØÅ" in text
    for number, page in enumerate(pages, start=1):
        assert f"Side {number} av {total}" in page
        assert "Øvre Åsen kommune" in page, f"page {number} lacks the organisation header"


def test_the_table_header_repeats_on_every_page_and_rows_are_not_split(protocol):
    for page in protocol.pages[1:]:
        lines = [line for line in page.extract_text().splitlines() if line.strip()]
        assert "ID Krav Status Poeng" in lines
    # Every row's text appears whole on one page.
    per_page = [page.extract_text() for page in protocol.pages]
    for i in (0, 37, 150, 299):
        row = f"K-{i:04d} Krav {i}: leverandøren skal følge opp æøå ÆØÅ"
        assert sum(row in page for page in per_page) == 1


def test_it_has_metadata_language_and_tags(protocol):
    metadata = protocol.metadata
    assert metadata.title == "Godkjenningsprotokoll – Blåbærsyltetøy"
    assert metadata.author == "Øvre Åsen kommune"
    assert metadata.creation_date is not None
    root = protocol.trailer["/Root"]
    assert root["/Lang"] == "nb"
    assert root["/MarkInfo"]["/Marked"] == True  # noqa: E712 - a pypdf BooleanObject
    assert "/StructTreeRoot" in root
    assert protocol.pdf_header == "%PDF-1.7"
    assert b"pdfuaid" in root["/Metadata"].get_object().get_data()


def test_it_embeds_oslo_sans(protocol):
    fonts = {str(font.get_object()["/BaseFont"]) for font in protocol.pages[0]["/Resources"]["/Font"].values()}
    assert any("Oslo-Sans" in font for font in fonts), fonts


@pytest.mark.django_db
def test_it_speaks_english_when_asked():
    pdf = render_pdf("core/pdf/table.html", {**table_context(3), "title": "Monthly report"}, lang="en")
    text = PdfReader(BytesIO(pdf)).pages[0].extract_text()
    assert "Page 1 of 1" in text
    assert "Created" in text
    assert Organisation.current().name in text, "without one in the context, the current organisation heads it"


def test_page_counter_is_translated_css():
    from django.utils import translation

    with translation.override("nb"):
        assert page_counter_css() == '"Side " counter(page) " av " counter(pages)'
    with translation.override("en"):
        assert page_counter_css() == '"Page " counter(page) " of " counter(pages)'


# --- The URL fetcher ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://example.com/logo.png",
        "https://example.com/static/vendor/punkt/fonts/OsloSans-Regular.woff2",
        "file:///etc/passwd",
        "file:///work/kompass/settings.py",
        "ftp://example.com/x",
        f"{STATIC_ORIGIN}/etc/passwd",
        f"{STATIC_ORIGIN}/static/../../kompass/settings.py",
        f"{STATIC_ORIGIN}/static/vendor/../../../../settings.py",
        f"{STATIC_ORIGIN}/static/%2e%2e/%2e%2e/settings.py",
        f"{STATIC_ORIGIN}/static//etc/passwd",
        f"{STATIC_ORIGIN}/static/vendor/punkt/fonts/no-such-font.woff2",
    ],
)
def test_the_fetcher_refuses_anything_but_our_static_files(url):
    with pytest.raises(ValueError):
        StaticFilesURLFetcher().fetch(url)


def test_the_fetcher_serves_our_static_files():
    response = StaticFilesURLFetcher().fetch(f"{STATIC_ORIGIN}/static/vendor/punkt/fonts/OsloSans-Regular.woff2")
    assert response.read()[:4] == b"wOF2"
    assert response.content_type == "font/woff2"


def test_rendering_never_opens_a_connection(monkeypatch):
    attempts = []

    def refuse(*args, **kwargs):
        attempts.append(args)
        raise OSError("no network in PDF rendering")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    html = (
        '<p>før</p><img src="http://192.0.2.1/x.png"><img src="https://example.com/y.png">'
        '<img src="file:///etc/hostname"><link rel="stylesheet" href="http://192.0.2.1/x.css">'
    )
    pdf = HTML(string=html, base_url=base_url(), url_fetcher=StaticFilesURLFetcher()).write_pdf()
    assert pdf.startswith(b"%PDF")
    assert attempts == []
