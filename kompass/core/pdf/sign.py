"""PAdES signatures on Kompass PDFs: sign (B-B, SHA-256, visible stamp) and validate.

Each signature is an incremental update, so a second party can sign later without invalidating the first.
The stamp is drawn with DejaVu Sans, embedded in the PDF (pyHanko's default font is Courier, which has no
"æøå" a reader can be sure to show). A template reserves room for a stamp with
``{% include "core/pdf/includes/signature_slot.html" with field_name="..." %}``; the stamp is placed on that
slot, or, without one, in the bottom-right corner of the last page.

There is no timestamp server here, so signatures are PAdES-B-B: the signing time is the signer's own claim.
"""

from dataclasses import dataclass, field
from datetime import datetime
from io import BytesIO
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding
from django.utils import timezone
from django.utils.translation import gettext
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.pdf_utils.text import TextBoxStyle
from pyhanko.sign import fields, signers
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.stamp import TextStampStyle
from pyhanko_certvalidator import ValidationContext

from kompass.core.pdf.certificates import SigningIdentity, get_signing_identity
from kompass.core.pdf.fonts import StampFontFactory

__all__ = [
    "STAMP_FONT",
    "STAMP_HEIGHT_MM",
    "STAMP_WIDTH_MM",
    "SignatureReport",
    "ValidationResult",
    "sign_pdf",
    "slot_name",
    "validate_pdf",
]

#: Debian's fonts-dejavu-core; .ci/run installs it.
STAMP_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
#: The stamp's size; ``.pdf-signature-slot`` in core/pdf/base.html has the same.
STAMP_WIDTH_MM, STAMP_HEIGHT_MM = 80, 24
_POINTS_PER_MM = 72 / 25.4
_MARGIN_MM = 18  # core/pdf/base.html's side margin
_FALLBACK_BOTTOM_MM = 24


def slot_name(field_name: str) -> str:
    """The HTML id (and PDF named destination) of the slot reserved for the signature ``field_name``."""
    return f"signature-{field_name}"


# --- Signing ------------------------------------------------------------------------------------------------------


def sign_pdf(
    pdf_bytes: bytes,
    *,
    signer: SigningIdentity | signers.Signer | None = None,
    reason: str,
    location: str,
    field_name: str = "Kompass",
    visible_stamp_text: str | None = None,
) -> bytes:
    """Add a PAdES-B-B signature (SHA-256) with a visible stamp as an incremental update; return the new PDF.

    ``signer`` defaults to the configured certificate (:func:`get_signing_identity`; refused in production
    when none is configured). ``field_name`` must be new in the document: two parties sign two fields.
    ``visible_stamp_text`` replaces the stamp's default lines (signer, time, reason, location); a demo
    certificate's stamp always says it is a demo.
    """
    identity = signer if isinstance(signer, SigningIdentity) else None
    if signer is None:
        identity = get_signing_identity()
    pyhanko_signer = identity.signer if identity else signer
    demo = bool(identity and identity.demo)

    writer = IncrementalPdfFileWriter(BytesIO(pdf_bytes), strict=False)
    existing = [name for name, _value, _ref in fields.enumerate_sig_fields(writer.prev, filled_status=None)]
    if field_name in existing:
        raise ValueError(f"The PDF already has a signature field named {field_name!r}.")
    page, box = _stamp_position(writer.prev, field_name, len(existing))

    lines = [_escape(visible_stamp_text)] if visible_stamp_text else _default_stamp_lines(reason, location)
    if demo:
        lines.insert(0, _escape(gettext("DEMO CERTIFICATE – not valid for real use")))
    stamp_style = TextStampStyle(
        stamp_text="\n".join(lines),
        text_box_style=TextBoxStyle(font=StampFontFactory(str(STAMP_FONT)), font_size=8, leading=10),
        border_width=1,
    )
    metadata = signers.PdfSignatureMetadata(
        field_name=field_name,
        reason=reason,
        location=location,
        md_algorithm="sha256",
        subfilter=fields.SigSeedSubFilter.PADES,
    )
    pdf_signer = signers.PdfSigner(
        metadata,
        signer=pyhanko_signer,
        stamp_style=stamp_style,
        new_field_spec=fields.SigFieldSpec(sig_field_name=field_name, on_page=page, box=box),
    )
    when = timezone.localtime().strftime("%Y-%m-%d %H:%M:%S %Z")
    output = pdf_signer.sign_pdf(writer, appearance_text_params={"when": when})
    return output.getvalue()


def _escape(text: str) -> str:
    return text.replace("%", "%%")  # the stamp text is a %-template


def _default_stamp_lines(reason: str, location: str) -> list[str]:
    return [
        _escape(gettext("Digitally signed by")) + " %(signer)s",
        _escape(gettext("Time")) + ": %(when)s",
        _escape(gettext("Reason")) + ": " + _escape(reason),
        _escape(gettext("Location")) + ": " + _escape(location),
    ]


def _stamp_position(reader: PdfFileReader, field_name: str, existing_count: int):
    """(page index, box in points) for the stamp: the template's slot if it has one, else the last page."""
    width, height = STAMP_WIDTH_MM * _POINTS_PER_MM, STAMP_HEIGHT_MM * _POINTS_PER_MM
    page_count = int(reader.root["/Pages"]["/Count"])
    slot = _named_destination(reader, slot_name(field_name))
    if slot is not None:
        page_ref, left, top = slot
        for index in range(page_count):
            if reader.find_page_for_modification(index)[0].idnum == page_ref.idnum:
                return index, (round(left), round(top - height), round(left + width), round(top))
    last = page_count - 1
    media_box = reader.find_page_for_modification(last)[0].get_object()["/MediaBox"]
    right = float(media_box[2]) - _MARGIN_MM * _POINTS_PER_MM
    bottom = (_FALLBACK_BOTTOM_MM * _POINTS_PER_MM) + existing_count * (height + 6)
    return last, (round(right - width), round(bottom), round(right), round(bottom + height))


def _named_destination(reader: PdfFileReader, name: str):
    try:
        names = reader.root["/Names"]["/Dests"]["/Names"]
    except KeyError:
        return None
    for index in range(0, len(names) - 1, 2):
        if str(names[index]) == name:
            destination = names[index + 1]
            if isinstance(destination, generic.DictionaryObject):
                destination = destination["/D"]
            return destination.raw_get(0), float(destination[2]), float(destination[3])
    return None


# --- Validation ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SignatureReport:
    """One signature's validation, judged by pyHanko's ``bottom_line``."""

    field_name: str
    bottom_line: bool
    intact: bool = False
    valid: bool = False
    trusted: bool = False
    coverage: str = ""
    modification_level: str = ""
    signer_subject: str = ""
    signing_time: datetime | None = None
    error: str = ""
    summary: str = ""


@dataclass(frozen=True)
class ValidationResult:
    """All signatures of a PDF. ``bottom_line`` is true only if there is one and every one is sound."""

    signatures: list[SignatureReport] = field(default_factory=list)
    error: str = ""

    @property
    def bottom_line(self) -> bool:
        return not self.error and bool(self.signatures) and all(sig.bottom_line for sig in self.signatures)

    @property
    def latest(self) -> SignatureReport | None:
        return self.signatures[-1] if self.signatures else None

    @property
    def signer_subject(self) -> str:
        return self.latest.signer_subject if self.latest else ""

    @property
    def signing_time(self) -> datetime | None:
        return self.latest.signing_time if self.latest else None

    @property
    def intact(self) -> bool:
        return bool(self.signatures) and all(sig.intact for sig in self.signatures)

    @property
    def coverage(self) -> str:
        return self.latest.coverage if self.latest else ""


TrustRoot = x509.Certificate | asn1_x509.Certificate | bytes


def validate_pdf(pdf_bytes: bytes, trust_roots: list[TrustRoot], *, allow_fetching: bool = False) -> ValidationResult:
    """Validate every signature in ``pdf_bytes`` against ``trust_roots`` (certificates, or PEM/DER bytes).

    Never raises for a bad document: a PDF that cannot be read, or a signature whose /Contents was tampered
    with (pyHanko raises then), is reported as invalid with the reason in ``error``. ``allow_fetching``
    lets pyHanko fetch CRLs/OCSP responses (off: no network; revocation is then soft-failed).
    """
    roots = [_as_asn1(root) for root in trust_roots]
    try:
        reader = PdfFileReader(BytesIO(pdf_bytes), strict=False)
        embedded = list(reader.embedded_signatures)
    except Exception as exc:  # noqa: BLE001 - any parse failure means "not a valid signed PDF"
        return ValidationResult(error=f"The PDF cannot be read: {exc}")
    reports = [_validate_one(sig, roots, allow_fetching) for sig in embedded]
    return ValidationResult(signatures=reports, error="" if reports else "The PDF has no signatures.")


def _validate_one(embedded, roots, allow_fetching: bool) -> SignatureReport:
    name = embedded.field_name
    context = ValidationContext(trust_roots=roots, allow_fetching=allow_fetching)
    try:
        status = validate_pdf_signature(embedded, context)
    except Exception as exc:  # noqa: BLE001 - pyHanko raises SignatureValidationError for a mangled /Contents
        return SignatureReport(field_name=name, bottom_line=False, error=f"{type(exc).__name__}: {exc}")
    return SignatureReport(
        field_name=name,
        bottom_line=status.bottom_line,
        intact=status.intact,
        valid=status.valid,
        trusted=status.trusted,
        coverage=status.coverage.name if status.coverage else "",
        modification_level=status.modification_level.name if status.modification_level else "",
        signer_subject=status.signing_cert.subject.human_friendly,
        signing_time=status.signer_reported_dt,
        summary=status.summary(),
    )


def _as_asn1(root: TrustRoot) -> asn1_x509.Certificate:
    if isinstance(root, asn1_x509.Certificate):
        return root
    if isinstance(root, x509.Certificate):
        return asn1_x509.Certificate.load(root.public_bytes(Encoding.DER))
    if root.lstrip().startswith(b"-----BEGIN"):
        return asn1_x509.Certificate.load(x509.load_pem_x509_certificate(root).public_bytes(Encoding.DER))
    return asn1_x509.Certificate.load(root)
