"""Shared PDF rendering (WeasyPrint, Punkt look) and PAdES signing (pyHanko) for Kompass's apps.

Typical use (the contract app's approval protocol)::

    pdf = render_pdf("contracts/pdf/protocol.html", {"title": ..., "requirements": ...}, lang="nb")
    signed = sign_pdf(pdf, reason="Godkjent", location="Oslo", field_name="customer")
    result = validate_pdf(signed, get_signing_identity().trust_roots)
"""

from kompass.core.pdf.certificates import SigningIdentity, SigningNotConfigured, get_signing_identity
from kompass.core.pdf.render import render_pdf
from kompass.core.pdf.sign import SignatureReport, ValidationResult, sign_pdf, validate_pdf

__all__ = [
    "SignatureReport",
    "SigningIdentity",
    "SigningNotConfigured",
    "ValidationResult",
    "get_signing_identity",
    "render_pdf",
    "sign_pdf",
    "validate_pdf",
]
