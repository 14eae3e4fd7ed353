"""The protocol's pages and the admin: approve with the password, download, a signed protocol is read-only."""

import pytest

from kompass.contract.models import ApprovalProtocol, ProtocolApproval
from kompass.testing.cast import PASSWORD

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.KOMPASS_SIGNING_DIR = tmp_path / "signing"
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def draft(clients, contract, requirements):
    am = clients("agreement")
    takeover = contract.milestones.get(kind="takeover")
    response = am.post(f"/contract/{contract.pk}/protocols/new/", {"milestone": takeover.pk})
    assert response.status_code == 302
    return ApprovalProtocol.objects.get()


def test_the_parties_approve_in_the_app_and_the_pdf_is_signed(clients, client, rep, draft):
    am = clients("agreement")
    url = draft.get_absolute_url()
    response = am.post(url, {"password": "wrong"})
    assert response.status_code == 400 and not ProtocolApproval.objects.exists()
    assert am.post(url, {"password": PASSWORD}).status_code == 302
    client.force_login(rep)
    page = client.get(url)
    assert page.status_code == 200 and page.context["may_approve"]
    assert client.post(url, {"password": PASSWORD}).status_code == 302
    draft.refresh_from_db()
    assert draft.is_signed
    pdf = client.get(f"/contract/protocols/{draft.pk}/pdf/")
    assert pdf.status_code == 200 and pdf["Content-Type"] == "application/pdf"
    assert b"".join(pdf.streaming_content if pdf.streaming else [pdf.content]) == draft.pdf.open("rb").read()


def test_others_cannot_see_or_approve(clients, client, other_rep, draft):
    for key in ["desk", "it_contact", "requester"]:
        assert clients(key).get(draft.get_absolute_url()).status_code == 403
        assert clients(key).post(draft.get_absolute_url(), {"password": PASSWORD}).status_code == 403
    client.force_login(other_rep)
    assert client.get(draft.get_absolute_url()).status_code == 404
    assert client.post(draft.get_absolute_url(), {"password": PASSWORD}).status_code == 404
    assert client.get(f"/contract/protocols/{draft.pk}/pdf/").status_code == 404
    assert not ProtocolApproval.objects.exists()


def test_a_draft_pdf_is_rendered_live(clients, draft):
    response = clients("agreement").get(f"/contract/protocols/{draft.pk}/pdf/")
    assert response.status_code == 200 and response.content.startswith(b"%PDF")


def test_the_admin_cannot_change_or_delete_a_signed_protocol(clients, client, rep, draft, cast):
    am = clients("agreement")
    am.post(draft.get_absolute_url(), {"password": PASSWORD})
    client.force_login(rep)
    client.post(draft.get_absolute_url(), {"password": PASSWORD})
    draft.refresh_from_db()
    sha = draft.sha256
    staff = cast["admin"]
    staff.is_staff = staff.is_superuser = True
    staff.save()
    client.force_login(staff)
    admin = client
    change = f"/django-admin/contract/approvalprotocol/{draft.pk}/change/"
    assert admin.get(change).status_code == 200  # shown, read-only
    admin.post(change, {"sha256": "0" * 64})
    delete = f"/django-admin/contract/approvalprotocol/{draft.pk}/delete/"
    assert admin.post(delete, {"post": "yes"}).status_code == 403
    bulk = admin.post(
        "/django-admin/contract/approvalprotocol/", {"action": "delete_selected", "_selected_action": [draft.pk]}
    )
    assert bulk.status_code in (200, 302)
    assert ApprovalProtocol.objects.get(pk=draft.pk).sha256 == sha
