"""sign_pdf / validate_pdf: PAdES-B-B with a visible, DejaVu Sans stamp; two signers; tampering is caught."""

from io import BytesIO

import pytest
from django.test import override_settings
from fontTools.ttLib import TTFont
from pypdf import PdfReader

from kompass.core.models import Organisation
from kompass.core.pdf.certificates import _make_demo_certificate, ensure_demo_certificate, get_signing_identity
from kompass.core.pdf.render import render_pdf
from kompass.core.pdf.sign import STAMP_FONT, sign_pdf, validate_pdf


@pytest.fixture(scope="module")
def identity(tmp_path_factory):
    directory = tmp_path_factory.mktemp("signing")
    ensure_demo_certificate(directory, "Testkommune")
    with override_settings(KOMPASS_SIGNING_DIR=directory, KOMPASS_SIGNING_KEY_FILE="", KOMPASS_SIGNING_CERT_FILE=""):
        yield get_signing_identity()


@pytest.fixture(scope="module")
def document():
    context = {
        "organisation": Organisation(name="Testkommune"),
        "title": "Godkjenningsprotokoll",
        "columns": ["ID", "Krav"],
        "rows": [[f"K-{i}", "Blåbær"] for i in range(30)],
        "signature_slots": [("customer", "Kunde"), ("vendor", "Leverandør")],
    }
    return render_pdf("core/pdf/table.html", context, lang="nb")


@pytest.fixture(scope="module")
def signed(document, identity):
    return sign_pdf(document, signer=identity, reason="Godkjent av kunden", location="Oslo", field_name="customer")


@pytest.fixture(scope="module")
def twice_signed(signed, identity):
    return sign_pdf(signed, signer=identity, reason="Godkjent av leverandøren", location="Bærum", field_name="vendor")


def test_it_signs_and_the_signature_validates(signed, identity, document):
    assert signed.startswith(document), "signing is an incremental update: the original bytes stay"
    result = validate_pdf(signed, identity.trust_roots)
    assert result.bottom_line, result
    assert result.intact
    assert result.coverage == "ENTIRE_FILE"
    assert "Kompass demo signing certificate – Testkommune" in result.signer_subject
    assert result.signing_time is not None
    (report,) = result.signatures
    assert report.field_name == "customer"


def test_it_is_a_pades_signature(signed):
    reader = PdfReader(BytesIO(signed))
    (field,) = [f for f in reader.trailer["/Root"]["/AcroForm"]["/Fields"] if f.get_object()["/T"] == "customer"]
    value = field.get_object()["/V"].get_object()
    assert value["/SubFilter"] == "/ETSI.CAdES.detached"
    assert value["/Reason"] == "Godkjent av kunden"
    assert value["/Location"] == "Oslo"


def test_a_second_signature_keeps_the_first_valid(twice_signed, identity):
    result = validate_pdf(twice_signed, identity.trust_roots)
    assert result.bottom_line, result
    first, second = result.signatures
    assert (first.field_name, second.field_name) == ("customer", "vendor")
    assert first.bottom_line and first.coverage == "ENTIRE_REVISION" and first.modification_level == "FORM_FILLING"
    assert second.bottom_line and second.coverage == "ENTIRE_FILE"


def test_a_field_cannot_be_signed_twice(signed, identity):
    with pytest.raises(ValueError, match="customer"):
        sign_pdf(signed, signer=identity, reason="Igjen", location="Oslo", field_name="customer")


def test_a_stranger_is_not_trusted(signed):
    _key, stranger = _make_demo_certificate("Someone else")
    result = validate_pdf(signed, [stranger])
    assert not result.bottom_line
    assert result.intact, "the bytes are fine; only the trust is missing"


def test_a_flipped_byte_outside_the_signature_is_invalid(signed, identity):
    tampered = bytearray(signed)
    position = signed.index(b"/Contents <") - 200  # inside the signed revision, outside /Contents
    tampered[position] ^= 0x01
    result = validate_pdf(bytes(tampered), identity.trust_roots)
    assert not result.bottom_line
    assert not all(report.intact for report in result.signatures) or result.error


def test_a_flipped_byte_inside_contents_is_reported_not_raised(signed, identity):
    tampered = bytearray(signed)
    start = signed.rindex(b"/Contents <") + len(b"/Contents <")
    position = start + 1000  # inside the CMS blob (hex)
    tampered[position] = ord("0") if tampered[position] != ord("0") else ord("1")
    result = validate_pdf(bytes(tampered), identity.trust_roots)
    assert not result.bottom_line
    (report,) = result.signatures
    assert not report.bottom_line
    assert report.error, "pyHanko raises for a mangled /Contents; validate_pdf reports it instead"


def test_garbage_is_reported_not_raised(identity):
    result = validate_pdf(b"not a pdf", identity.trust_roots)
    assert not result.bottom_line
    assert result.error


def test_an_unsigned_pdf_is_not_valid(document, identity):
    result = validate_pdf(document, identity.trust_roots)
    assert not result.bottom_line
    assert result.signatures == []


def _walk_appearance(xobject, fonts: dict, streams: list) -> None:
    xobject = xobject.get_object()
    streams.append(xobject.get_data())
    resources = xobject.get("/Resources", {})
    for font in resources.get("/Font", {}).values():
        fonts[str(font.get_object()["/BaseFont"])] = font.get_object()
    for child in resources.get("/XObject", {}).values():
        _walk_appearance(child, fonts, streams)


def _stamp_fonts(pdf: bytes, field_name: str):
    """(page index, /Rect, fonts by name, appearance streams) of the stamp of ``field_name``."""
    reader = PdfReader(BytesIO(pdf))
    for page_number, page in enumerate(reader.pages):
        for annotation in page.get("/Annots", []):
            annotation = annotation.get_object()
            if annotation.get("/T") == field_name:
                fonts, streams = {}, []
                _walk_appearance(annotation["/AP"]["/N"], fonts, streams)
                return page_number, annotation["/Rect"], fonts, b"".join(streams)
    raise AssertionError(f"no stamp for {field_name}")


def test_the_stamp_embeds_dejavu_sans_with_correct_widths(signed):
    _page, _rect, fonts, _streams = _stamp_fonts(signed, "customer")
    (name,) = [name for name in fonts if "DejaVuSans" in name]
    descendant = fonts[name]["/DescendantFonts"][0].get_object()
    assert "/FontFile2" in descendant["/FontDescriptor"], "the TrueType font program is embedded"
    # /W is in thousandths of an em: DejaVu Sans's "D" is 1577/2048 em wide, so 770, not 1577.
    font = TTFont(STAMP_FONT)
    expected = round(font["hmtx"]["D"][0] * 1000 / font["head"].unitsPerEm)
    widths = [value for item in descendant["/W"] if isinstance(item, list) for value in item]
    assert expected in widths
    assert max(widths) <= 1100, "widths in font units (2048 per em) would draw the stamp twice as wide"


def test_the_stamp_sits_in_its_slot_and_says_demo(twice_signed):
    page, rect, _fonts, streams = _stamp_fonts(twice_signed, "customer")
    other_page, other_rect, _fonts, _streams = _stamp_fonts(twice_signed, "vendor")
    reader = PdfReader(BytesIO(twice_signed))
    assert page == other_page == len(reader.pages) - 1
    assert rect != other_rect and float(rect[0]) < float(other_rect[0]), "side by side, in the template's slots"
    assert float(rect[1]) > 100, "above the page footer, where the slot is"
    assert b"DEMOSERTIFIKAT" in streams, "the stamp says it is a demo, in the active language"
    assert b"Godkjent av kunden" in streams


@pytest.mark.django_db
def test_without_a_slot_the_stamp_goes_to_the_last_page(identity):
    Organisation.objects.create(name="Testkommune")
    pdf = render_pdf("core/pdf/table.html", {"title": "Uten plass", "columns": ["A"], "rows": [["1"]]}, lang="nb")
    signed = sign_pdf(pdf, signer=identity, reason="Test", location="Oslo", visible_stamp_text="Signert 100 %")
    _page, rect, _fonts, streams = _stamp_fonts(signed, "Kompass")
    assert float(rect[1]) > 0 and float(rect[2]) < 595
    assert b"(Signert 100 " in streams, "the given text replaces the default lines; a literal % survives"
    assert b"Reason" not in streams
    assert validate_pdf(signed, identity.trust_roots).bottom_line
