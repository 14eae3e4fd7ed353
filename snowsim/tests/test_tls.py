"""snowsim.tls: local CA + localhost server certificate, created once and reused."""

import ipaddress
import ssl
import stat

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from snowsim.tls import ensure_certificate


def test_it_creates_ca_and_server_certificate(tmp_path):
    cert_path, key_path, ca_path = ensure_certificate(tmp_path / "tls")
    assert cert_path.exists() and key_path.exists() and ca_path.exists()
    assert (tmp_path / "tls" / "ca-key.pem").exists()
    cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
    ca = x509.load_pem_x509_certificate(ca_path.read_bytes())
    cert.verify_directly_issued_by(ca)
    assert ca.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is True
    assert cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca is False


def test_it_covers_localhost_and_loopback_addresses(tmp_path):
    cert_path, _, _ = ensure_certificate(tmp_path)
    san = (
        x509.load_pem_x509_certificate(cert_path.read_bytes())
        .extensions.get_extension_for_class(x509.SubjectAlternativeName)
        .value
    )
    assert san.get_values_for_type(x509.DNSName) == ["localhost"]
    assert set(san.get_values_for_type(x509.IPAddress)) == {
        ipaddress.ip_address("127.0.0.1"),
        ipaddress.ip_address("::1"),
    }


def test_private_keys_are_owner_only(tmp_path):
    _, key_path, _ = ensure_certificate(tmp_path)
    for path in (key_path, tmp_path / "ca-key.pem"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        serialization.load_pem_private_key(path.read_bytes(), password=None)


def test_it_reuses_existing_files(tmp_path):
    first = ensure_certificate(tmp_path)
    contents = [p.read_bytes() for p in first]
    second = ensure_certificate(tmp_path)
    assert second == first
    assert [p.read_bytes() for p in second] == contents


def test_a_broken_server_certificate_is_replaced_but_the_ca_is_kept(tmp_path):
    cert_path, _, ca_path = ensure_certificate(tmp_path)
    ca_before = ca_path.read_bytes()
    cert_path.write_text("garbage")
    cert_path2, _, ca_path2 = ensure_certificate(tmp_path)
    assert ca_path2.read_bytes() == ca_before
    x509.load_pem_x509_certificate(cert_path2.read_bytes()).verify_directly_issued_by(
        x509.load_pem_x509_certificate(ca_before)
    )


def test_an_ssl_context_accepts_the_files(tmp_path):
    cert_path, key_path, ca_path = ensure_certificate(tmp_path)
    server = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    server.load_cert_chain(cert_path, key_path)
    client = ssl.create_default_context(cafile=str(ca_path))
    assert client.verify_mode == ssl.CERT_REQUIRED
