"""Shared PDF rendering (WeasyPrint, Punkt look) and PAdES signing (pyHanko) for Kompass's apps.

Typical use (the contract app's approval protocol, on the last approval)::

    pdf = render_pdf("contracts/pdf/protocol.html", {"title": ..., "requirements": ...}, lang="nb")
    signed = sign_pdf(pdf, reason="Godkjenningsprotokoll godkjent", location="Oslo", field_name="customer")
    snapshot = ProtocolSnapshot.objects.create(pdf=ContentFile(signed, "protokoll.pdf"),
                                               sha256=hashlib.sha256(signed).hexdigest(), ...)
    assert validate_pdf(signed, get_signing_identity().trust_roots).bottom_line

All functions are synchronous (pyHanko runs its own event loop inside): call them from a view, a task
or a command, or through ``sync_to_async`` from async code.
"""

from kompass.core.pdf.certificates import SigningIdentity, SigningNotConfigured, get_signing_identity
from kompass.core.pdf.parts import render_pdf_parts
from kompass.core.pdf.render import render_pdf
from kompass.core.pdf.sign import SignatureReport, ValidationResult, sign_pdf, validate_pdf

__all__ = [
    "SignatureReport",
    "SigningIdentity",
    "SigningNotConfigured",
    "ValidationResult",
    "get_signing_identity",
    "render_pdf",
    "render_pdf_parts",
    "sign_pdf",
    "validate_pdf",
]
