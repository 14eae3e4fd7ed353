"""The certificate Kompass signs PDFs with: configured by environment variables, or a demo one.

Configured (``KOMPASS_SIGNING_KEY_FILE`` + ``KOMPASS_SIGNING_CERT_FILE``, optional ``KOMPASS_SIGNING_CHAIN_FILE``
and ``KOMPASS_SIGNING_KEY_PASSPHRASE``): that key and certificate sign every PDF. Not configured outside
production: a self-signed demo certificate is generated once into ``var/signing/`` and reused, and every stamp
says it is a demo. Not configured in production: signing is refused, so no document is ever signed with a
certificate nobody trusts without anyone noticing.
"""

import fcntl
import hashlib
import os
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID, ObjectIdentifier
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from pyhanko.sign import signers

__all__ = [
    "DEMO_CERT_NAME",
    "DEMO_KEY_NAME",
    "SigningIdentity",
    "SigningNotConfigured",
    "certificate_summary",
    "ensure_demo_certificate",
    "get_signing_identity",
]

DEMO_KEY_NAME = "demo-signing-key.pem"
DEMO_CERT_NAME = "demo-signing-cert.pem"
DEMO_VALIDITY = timedelta(days=3 * 365)
#: id-kp-documentSigning (RFC 9336) and Microsoft's Document Signing, which Adobe Reader also recognises.
DOCUMENT_SIGNING_OIDS = (ObjectIdentifier("1.3.6.1.5.5.7.3.36"), ObjectIdentifier("1.3.6.1.4.1.311.10.3.12"))


class SigningNotConfigured(ImproperlyConfigured):
    """No usable signing certificate: unset in production, or the configured files cannot be loaded."""


@dataclass(frozen=True)
class SigningIdentity:
    """A loaded signer with what the rest of Kompass needs to know about it."""

    signer: signers.SimpleSigner
    certificate: x509.Certificate
    demo: bool
    #: Certificates a validator should trust for our own signatures: the chain's last certificate, or the
    #: certificate itself when it is self-signed (the demo one).
    trust_roots: list[asn1_x509.Certificate] = field(default_factory=list)

    @property
    def subject(self) -> str:
        return self.certificate.subject.rfc4514_string()

    @property
    def fingerprint(self) -> str:
        return self.certificate.fingerprint(hashes.SHA256()).hex(":").upper()


def certificate_summary(certificate: x509.Certificate) -> dict[str, str]:
    """Subject, issuer, SHA-256 fingerprint and validity of a certificate, for people."""
    return {
        "subject": certificate.subject.rfc4514_string(),
        "issuer": certificate.issuer.rfc4514_string(),
        "fingerprint_sha256": certificate.fingerprint(hashes.SHA256()).hex(":").upper(),
        "not_before": certificate.not_valid_before_utc.isoformat(),
        "not_after": certificate.not_valid_after_utc.isoformat(),
    }


def get_signing_identity() -> SigningIdentity:
    """The configured signer, or the demo one outside production; raises :class:`SigningNotConfigured`."""
    key_file, cert_file = settings.KOMPASS_SIGNING_KEY_FILE, settings.KOMPASS_SIGNING_CERT_FILE
    if key_file and cert_file:
        chain_file = settings.KOMPASS_SIGNING_CHAIN_FILE or None
        passphrase = settings.KOMPASS_SIGNING_KEY_PASSPHRASE or None
        return _load(Path(key_file), Path(cert_file), Path(chain_file) if chain_file else None, passphrase, demo=False)
    if settings.PRODUCTION:
        raise SigningNotConfigured(
            "PDF signing needs a certificate in production: set KOMPASS_SIGNING_KEY_FILE and "
            "KOMPASS_SIGNING_CERT_FILE (see docs/operations.md, 'Signing certificate'). "
            "Kompass does not sign with a demo certificate in production."
        )
    key_path, cert_path = ensure_demo_certificate(Path(settings.KOMPASS_SIGNING_DIR))
    return _load(key_path, cert_path, None, None, demo=True)


def _load(key_path: Path, cert_path: Path, chain_path: Path | None, passphrase: str | None, *, demo: bool):
    for label, path in (("key", key_path), ("certificate", cert_path), ("chain", chain_path)):
        if path is not None and not path.is_file():
            raise SigningNotConfigured(f"The signing {label} file {path} does not exist or is not a file.")
    signer = signers.SimpleSigner.load(
        str(key_path),
        str(cert_path),
        ca_chain_files=[str(chain_path)] if chain_path else None,
        key_passphrase=passphrase.encode() if passphrase else None,
    )
    if signer is None:  # pyHanko logs the reason and returns None
        raise SigningNotConfigured(
            f"Cannot load the signing key {key_path} with the certificate {cert_path} "
            "(wrong passphrase, unsupported format, or a key that does not match the certificate?)."
        )
    certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
    if chain_path:
        chain = list(signer.cert_registry)
        roots = [cert for cert in chain if cert.self_signed] or chain[-1:]
    else:
        roots = [signer.signing_cert] if signer.signing_cert.self_signed else []
    return SigningIdentity(signer=signer, certificate=certificate, demo=demo, trust_roots=roots)


# --- The demo certificate -------------------------------------------------------------------------------------


def ensure_demo_certificate(directory: Path, organisation_name: str | None = None) -> tuple[Path, Path]:
    """Create the demo key and self-signed certificate in ``directory`` unless they exist; return their paths.

    A lock file makes concurrent first uses (web and worker starting together) create one pair, not two
    that do not match.
    """
    directory.mkdir(parents=True, exist_ok=True)
    key_path, cert_path = directory / DEMO_KEY_NAME, directory / DEMO_CERT_NAME
    with open(directory / ".lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if key_path.is_file() and cert_path.is_file():
            return key_path, cert_path
        if organisation_name is None:
            from kompass.core.models import Organisation

            organisation_name = Organisation.current().name
        key, certificate = _make_demo_certificate(organisation_name)
        _write_private(
            key_path,
            key.private_bytes(
                serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            ),
        )
        _write_private(cert_path, certificate.public_bytes(serialization.Encoding.PEM))
    return key_path, cert_path


def _write_private(path: Path, data: bytes) -> None:
    temporary = path.with_suffix(".tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
    os.replace(temporary, path)


def _make_demo_certificate(organisation_name: str):
    key = rsa.generate_private_key(public_exponent=65537, key_size=3072)
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COMMON_NAME, f"Kompass demo signing certificate – {organisation_name}"[:64]),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organisation_name[:64]),
            x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, "DEMO – not for production use"),
            x509.NameAttribute(NameOID.COUNTRY_NAME, "NO"),
        ]
    )
    now = datetime.now(UTC)
    serial = int.from_bytes(hashlib.sha256(os.urandom(32)).digest()[:16], "big") >> 1
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(serial)
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + DEMO_VALIDITY)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,  # nonRepudiation
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(
            x509.ExtendedKeyUsage([*DOCUMENT_SIGNING_OIDS, ExtendedKeyUsageOID.EMAIL_PROTECTION]), critical=False
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )
    return key, certificate
