"""The signing certificate: configured from settings, a demo one outside production, refused in production."""

import os
import stat
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import override_settings

from kompass.core.pdf.certificates import (
    DEMO_CERT_NAME,
    DEMO_KEY_NAME,
    DOCUMENT_SIGNING_OIDS,
    SigningNotConfigured,
    ensure_demo_certificate,
    get_signing_identity,
)
from kompass.core.pdf.sign import sign_pdf, validate_pdf

UNSET = {"KOMPASS_SIGNING_KEY_FILE": "", "KOMPASS_SIGNING_CERT_FILE": "", "KOMPASS_SIGNING_CHAIN_FILE": ""}
MINIMAL_PDF_CONTEXT = {"title": "T", "columns": ["A"], "rows": [["1"]]}


def test_production_without_a_certificate_refuses_to_sign(tmp_path):
    with override_settings(PRODUCTION=True, KOMPASS_SIGNING_DIR=tmp_path, **UNSET):
        with pytest.raises(SigningNotConfigured, match="KOMPASS_SIGNING_KEY_FILE"):
            get_signing_identity()
        with pytest.raises(SigningNotConfigured):
            sign_pdf(b"%PDF-1.7", reason="r", location="l")
    assert not list(tmp_path.iterdir()), "no demo certificate is made in production"


@pytest.mark.django_db
def test_the_demo_certificate_is_created_once_and_reused(tmp_path):
    with override_settings(KOMPASS_SIGNING_DIR=tmp_path, **UNSET):
        first = get_signing_identity()
        stamp = (tmp_path / DEMO_CERT_NAME).stat().st_mtime_ns
        second = get_signing_identity()
    assert first.demo and second.demo
    assert first.fingerprint == second.fingerprint
    assert (tmp_path / DEMO_CERT_NAME).stat().st_mtime_ns == stamp
    assert stat.S_IMODE((tmp_path / DEMO_KEY_NAME).stat().st_mode) == 0o600
    certificate = first.certificate
    assert certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value.startswith(
        "Kompass demo signing certificate – "
    )
    usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    extended = certificate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(DOCUMENT_SIGNING_OIDS) <= set(extended)
    assert first.trust_roots, "a self-signed certificate is its own trust root"


def test_a_demo_certificate_names_the_organisation(tmp_path):
    key_path, cert_path = ensure_demo_certificate(tmp_path, "Øvre Åsen kommune")
    certificate = x509.load_pem_x509_certificate(cert_path.read_bytes())
    assert "Øvre Åsen kommune" in certificate.subject.rfc4514_string()


def _issue(tmp_path, passphrase: bytes | None):
    """A small CA and an end-entity certificate signed by it (EC keys, quick to make)."""
    now = datetime.now(UTC)

    def build(subject, issuer, public_key, signing_key, ca):
        return (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(issuer)
            .public_key(public_key)
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=30))
            .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=not ca,
                    content_commitment=not ca,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=ca,
                    crl_sign=ca,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .sign(signing_key, hashes.SHA256())
        )

    ca_key, key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Kommunens test-CA")])
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Kompass signering – Testkommune")])
    ca = build(ca_name, ca_name, ca_key.public_key(), ca_key, ca=True)
    certificate = build(name, ca_name, key.public_key(), ca_key, ca=False)
    encryption = serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    paths = {"key": tmp_path / "key.pem", "cert": tmp_path / "cert.pem", "chain": tmp_path / "chain.pem"}
    paths["key"].write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    )
    paths["cert"].write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    paths["chain"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return paths, ca


@pytest.mark.django_db
def test_a_configured_certificate_with_chain_and_passphrase_signs(tmp_path):
    paths, ca = _issue(tmp_path, b"hemmelig-passord")
    configured = {
        "KOMPASS_SIGNING_KEY_FILE": str(paths["key"]),
        "KOMPASS_SIGNING_CERT_FILE": str(paths["cert"]),
        "KOMPASS_SIGNING_CHAIN_FILE": str(paths["chain"]),
        "KOMPASS_SIGNING_KEY_PASSPHRASE": "hemmelig-passord",
    }
    from kompass.core.pdf.render import render_pdf

    with override_settings(PRODUCTION=True, **configured):
        identity = get_signing_identity()
        assert not identity.demo
        pdf = render_pdf("core/pdf/table.html", MINIMAL_PDF_CONTEXT, lang="nb")
        signed = sign_pdf(pdf, reason="Godkjent", location="Oslo")
    assert b"DEMOSERTIFIKAT" not in signed and b"DEMO CERTIFICATE" not in signed
    result = validate_pdf(signed, [ca])
    assert result.bottom_line, result
    assert "Kompass signering – Testkommune" in result.signer_subject
    assert validate_pdf(signed, identity.trust_roots).bottom_line, "the chain's root is the trust root"


def test_a_wrong_passphrase_is_a_clear_error(tmp_path):
    paths, _ca = _issue(tmp_path, b"riktig")
    with override_settings(
        KOMPASS_SIGNING_KEY_FILE=str(paths["key"]),
        KOMPASS_SIGNING_CERT_FILE=str(paths["cert"]),
        KOMPASS_SIGNING_CHAIN_FILE="",
        KOMPASS_SIGNING_KEY_PASSPHRASE="feil",
    ):
        with pytest.raises(SigningNotConfigured, match="Cannot load the signing key"):
            get_signing_identity()


def test_a_missing_file_is_a_clear_error(tmp_path):
    with override_settings(
        KOMPASS_SIGNING_KEY_FILE=str(tmp_path / "nope.pem"), KOMPASS_SIGNING_CERT_FILE=str(tmp_path / "cert.pem")
    ):
        with pytest.raises(SigningNotConfigured, match="nope.pem"):
            get_signing_identity()


def test_settings_want_key_and_certificate_together(tmp_path):
    env = {k: v for k, v in os.environ.items() if not k.startswith("KOMPASS_")}
    env.update(KOMPASS_VAR_DIR=str(tmp_path), KOMPASS_SIGNING_KEY_FILE="/run/secrets/key.pem")
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", "import kompass.settings"],
        cwd=settings.BASE_DIR,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "KOMPASS_SIGNING_CERT_FILE" in result.stderr


@pytest.mark.django_db
def test_the_command_prints_subject_fingerprint_and_validity(tmp_path):
    out = StringIO()
    with override_settings(KOMPASS_SIGNING_DIR=tmp_path, **UNSET):
        call_command("signing_certificate", stdout=out)
        fingerprint = get_signing_identity().fingerprint
    text = out.getvalue()
    assert "demo" in text
    assert "Kompass demo signing certificate" in text
    assert fingerprint in text
    assert "Valid until:" in text
    assert (tmp_path / DEMO_CERT_NAME).is_file()


def test_the_command_fails_clearly_in_production_without_a_certificate(tmp_path):
    with override_settings(PRODUCTION=True, KOMPASS_SIGNING_DIR=tmp_path, **UNSET):
        with pytest.raises(CommandError, match="KOMPASS_SIGNING_KEY_FILE"):
            call_command("signing_certificate", stdout=StringIO())
