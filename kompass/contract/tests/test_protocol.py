"""The approval protocol: approvals with the password, the signed snapshot, the PDF's text, PAdES, immutability."""

import io
from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from pypdf import PdfReader

from kompass.contract import protocol as protocols
from kompass.contract import services
from kompass.contract.models import (
    ApprovalProtocol,
    Evidence,
    ProtocolApproval,
    ProtocolEntry,
    ProtocolLocked,
    Requirement,
)
from kompass.core.pdf import get_signing_identity, validate_pdf
from kompass.testing.cast import PASSWORD

pytestmark = pytest.mark.django_db
S = Requirement.Status


@pytest.fixture(autouse=True)
def _signing_dir(settings, tmp_path):
    settings.KOMPASS_SIGNING_DIR = tmp_path / "signing"
    settings.MEDIA_ROOT = tmp_path / "media"
    get_signing_identity.cache_clear() if hasattr(get_signing_identity, "cache_clear") else None


@pytest.fixture
def takeover(contract):
    return contract.milestones.get(kind="takeover")


@pytest.fixture
def ready_register(cast, requirements):
    """1.1 verified, 1.2 a deviation with a plan, 1.10 not applicable."""
    user = cast["agreement"]
    services.set_status(requirements[0], S.READY, user=user)
    services.set_status(requirements[0], S.VERIFIED, user=user)
    # A case found by kompass.cases.services.find_by_number (tested in test_services); stored as its number.
    Evidence.objects.create(
        requirement=requirements[0], kind="case", title="Sak", case_reference="KOM-2026-000017", added_by=user
    )
    services.set_status(
        requirements[1], S.DEVIATION, user=user, remediation="Ny varslingsrutine innføres", due_on=date(2026, 9, 1)
    )
    services.set_status(requirements[2], S.NOT_APPLICABLE, user=user, reason="Ingen stormaskin")
    return requirements


def pdf_text(data: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(data)).pages)


def sign_off(contract, takeover, cast, rep):
    protocol = protocols.start_protocol(contract, takeover, user=cast["agreement"])
    protocols.approve(protocol, user=cast["agreement"], password=PASSWORD)
    return protocols.approve(protocol, user=rep, password=PASSWORD)


def test_both_parties_approve_and_the_protocol_is_signed(cast, rep, contract, takeover, ready_register):
    protocol = protocols.start_protocol(contract, takeover, user=cast["agreement"])
    with pytest.raises(ValidationError, match="password is not correct"):
        protocols.approve(protocol, user=cast["agreement"], password="wrong")
    assert not ProtocolApproval.objects.exists()
    protocols.approve(protocol, user=cast["agreement"], password=PASSWORD)
    protocol.refresh_from_db()
    assert protocol.status == ApprovalProtocol.Status.DRAFT
    protocols.approve(protocol, user=rep, password=PASSWORD)
    protocol.refresh_from_db()
    assert protocol.is_signed and protocol.signed_at and len(protocol.sha256) == 64
    assert sorted(protocol.approvals.values_list("party", "user__email")) == [
        ("customer", cast["agreement"].email),
        ("vendor", rep.email),
    ]
    assert list(protocol.entries.values_list("requirement_id", "status")) == [
        ("1.1", S.VERIFIED),
        ("1.2", S.DEVIATION),
        ("1.10", S.NOT_APPLICABLE),
    ]
    data = protocol.pdf.read()
    import hashlib

    assert hashlib.sha256(data).hexdigest() == protocol.sha256
    # The PAdES signature validates with pyHanko's validator against the configured (demo) certificate.
    result = validate_pdf(data, get_signing_identity().trust_roots)
    assert result.bottom_line and result.intact
    # ... and any change to the bytes breaks it.
    tampered = data[:300] + bytes([data[300] ^ 1]) + data[301:]  # one bit, inside the signed byte range
    assert not validate_pdf(tampered, get_signing_identity().trust_roots).bottom_line


@pytest.fixture(params=["whole", "in parts"])
def rendering(request, monkeypatch):
    """The protocol rendered in one go, or (as a long one is) in parts in parallel processes and joined."""
    if request.param == "in parts":
        monkeypatch.setattr(protocols, "PARALLEL_FROM", 2)
        monkeypatch.setattr(protocols, "usable_cores", lambda: 2)
    return request.param


def test_the_pdf_shows_counts_deviation_evidence_and_approvals(
    cast, rep, contract, takeover, ready_register, rendering
):
    protocol = sign_off(contract, takeover, cast, rep)
    data = protocol.pdf.read()
    text = pdf_text(data)
    assert "Godkjenningsprotokoll" in text and contract.name in text
    assert "Verifisert 1" in text and "Avvik 1" in text and "Ikke relevant 1" in text and "Totalt 3" in text
    assert "Ny varslingsrutine innføres" in text and "01.09.2026" in text
    assert "KOM-2026-000017" in text.replace("\n", "") and "Ingen stormaskin" in text
    assert f"Kunde: godkjent av {cast['agreement']}" in text and f"Leverandør: godkjent av {rep}" in text
    assert "UTKAST" not in text
    reader = PdfReader(io.BytesIO(data))
    pages = len(reader.pages)
    assert pages >= 2  # (in parts, each part begins on a new page)
    for number, page in enumerate(reader.pages, start=1):  # one page number each, counted over the whole
        assert page.extract_text().count(f"Side {number} av {pages}") == 1
    # One structure tree (PDF/UA): a /Document with a /Part per page, each page's marked content in the parent tree.
    root = reader.trailer["/Root"]
    document = root["/StructTreeRoot"]["/K"][0]
    assert document["/S"] == "/Document" and [kid["/S"] for kid in document["/K"]] == ["/Part"] * pages
    keys = root["/StructTreeRoot"]["/ParentTree"]["/Nums"][::2]
    assert sorted(p["/StructParents"] for p in reader.pages) == sorted(set(keys))[:pages]
    assert root["/Lang"] == "nb" and root["/MarkInfo"]["/Marked"]
    # The bookmarks: the title, with every section under it (the last from the last part).
    title, sections = reader.outline
    assert title["/Title"] == "Godkjenningsprotokoll" and sections[-1]["/Title"] == "Godkjenninger"
    if rendering == "in parts":  # the last part's page, in the joined document
        assert reader.get_destination_page_number(sections[-1]) == pages - 1
    # The signature covers the joined document and sits in its slot on the last page.
    result = validate_pdf(data, get_signing_identity().trust_roots)
    assert result.bottom_line and result.coverage == "ENTIRE_FILE"
    assert reader.get_fields()["kompass"].indirect_reference and "/Annots" in reader.pages[-1]


def test_a_signed_protocol_cannot_change(cast, rep, contract, takeover, ready_register):
    protocol = sign_off(contract, takeover, cast, rep)
    protocol.sha256 = "0" * 64
    with pytest.raises(ProtocolLocked):
        protocol.save()
    with pytest.raises(ProtocolLocked):
        protocol.delete()
    with pytest.raises(ProtocolLocked):
        ApprovalProtocol.objects.filter(pk=protocol.pk).update(sha256="0" * 64)
    entry = protocol.entries.first()
    entry.status = S.APPROVED
    with pytest.raises(ProtocolLocked):
        entry.save()
    with pytest.raises(ProtocolLocked):
        ProtocolEntry.objects.filter(protocol=protocol).update(status=S.APPROVED)
    with pytest.raises(ProtocolLocked):
        ProtocolApproval.objects.filter(protocol=protocol).delete()
    with pytest.raises(ValidationError, match="already signed"):
        protocols.approve(protocol, user=cast["agreement"], password=PASSWORD)
    # The register moves on; the signed snapshot does not.
    services.set_status(ready_register[0], S.APPROVED, user=cast["agreement"])
    assert ApprovalProtocol.objects.get(pk=protocol.pk).entries.get(requirement_id="1.1").status == S.VERIFIED


def test_a_new_version_shows_what_changed(cast, rep, contract, takeover, ready_register):
    first = sign_off(contract, takeover, cast, rep)
    services.set_status(ready_register[0], S.APPROVED, user=cast["agreement"])
    second = protocols.start_protocol(contract, takeover, user=cast["agreement"])
    assert (first.version, second.version) == (1, 2)
    previous, changes = protocols.changes_since_previous(second)
    assert previous == first
    assert [(c.requirement_id, c.old, c.new) for c in changes] == [("1.1", "Verified", "Approved")]
    with pytest.raises(ValidationError, match="already awaiting approval"):
        protocols.start_protocol(contract, takeover, user=cast["agreement"])
    text = pdf_text(protocols.protocol_pdf(second))
    assert "UTKAST" in text and "Endringer siden versjon 1" in text


def test_an_approval_of_older_content_is_withdrawn(cast, rep, contract, takeover, ready_register):
    protocol = protocols.start_protocol(contract, takeover, user=cast["agreement"])
    protocols.approve(protocol, user=cast["agreement"], password=PASSWORD)
    services.set_status(ready_register[0], S.APPROVED, user=cast["agreement"])  # the register changes
    protocols.approve(protocol, user=rep, password=PASSWORD)
    protocol.refresh_from_db()
    assert not protocol.is_signed
    assert list(protocol.approvals.values_list("party", flat=True)) == ["vendor"]


def test_only_the_parties_approve(cast, rep, other_rep, contract, takeover, ready_register):
    protocol = protocols.start_protocol(contract, takeover, user=cast["agreement"])
    for key in ["desk", "kam", "it_contact", "requester"]:
        with pytest.raises(PermissionDenied):
            protocols.approve(protocol, user=cast[key], password=PASSWORD)
    with pytest.raises(PermissionDenied):
        protocols.approve(protocol, user=other_rep, password=PASSWORD)
    with pytest.raises(PermissionDenied):
        protocols.start_protocol(contract, takeover, user=rep)
    protocols.approve(protocol, user=rep, password=PASSWORD)
    with pytest.raises(ValidationError, match="already approved"):
        protocols.approve(protocol, user=rep, password=PASSWORD)
    assert ProtocolApproval.objects.count() == 1
