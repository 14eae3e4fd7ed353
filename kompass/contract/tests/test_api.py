"""The register's API: who sees what, the status change, approving, and that signed protocols never change."""

import pytest

from kompass.contract.models import ApprovalProtocol, Requirement
from kompass.core.models import Organisation
from kompass.testing.cast import PASSWORD
from kompass.testing.matrix import check_access_table

pytestmark = pytest.mark.django_db
S = Requirement.Status


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.KOMPASS_SIGNING_DIR = tmp_path / "signing"
    settings.MEDIA_ROOT = tmp_path / "media"


def test_api_access_table(clients, contract, requirements):
    Organisation.current()
    r = requirements[0].pk
    table = {}
    for key in ["admin", "agreement"]:
        table[(key, "GET", "/api/contracts/")] = 200
        table[(key, "GET", f"/api/requirements/{r}/")] = 200
        table[(key, "POST", f"/api/requirements/{r}/status/")] = 200
    for key in ["desk", "kam", "it_contact", "owner", "agency_admin", "requester", "noroles"]:
        table[(key, "GET", "/api/contracts/")] = 403
        table[(key, "GET", f"/api/requirements/{r}/")] = 403
        table[(key, "POST", f"/api/requirements/{r}/status/")] = 403
    table[("vendor", "GET", "/api/requirements/")] = {"token": 403}
    check_access_table(
        clients, table, data={f"/api/requirements/{r}/status/": {"status": "in_progress"}}, kinds=("session", "token")
    )


def test_a_representative_reads_and_progresses_only_their_contract(client, rep, other_rep, contract, requirements):
    client.force_login(rep)
    listed = client.get(f"/api/requirements/?contract={contract.pk}").json()
    assert [r["requirement_id"] for r in listed["results"]] == ["1.1", "1.2", "1.10"]
    r = requirements[0].pk
    assert (
        client.post(f"/api/requirements/{r}/status/", {"status": "ready"}, content_type="application/json").status_code
        == 200
    )
    response = client.post(f"/api/requirements/{r}/status/", {"status": "verified"}, content_type="application/json")
    assert response.status_code == 403
    response = client.post(f"/api/requirements/{r}/status/", {"status": "approved"}, content_type="application/json")
    assert response.status_code == 400  # ready → approved is not a step of the workflow
    assert Requirement.objects.get(pk=r).status == S.READY
    client.force_login(other_rep)
    assert client.get("/api/requirements/").json()["count"] == 0
    assert client.get(f"/api/requirements/{r}/").status_code == 404


def test_approve_through_the_api_and_a_signed_protocol_refuses_writes(
    clients, client, cast, rep, contract, requirements
):
    from kompass.contract import protocol as protocols

    protocol = protocols.start_protocol(contract, None, user=cast["agreement"])
    am = clients("agreement")
    url = f"/api/approval-protocols/{protocol.pk}/approve/"
    assert am.post(url, {"password": "wrong"}, content_type="application/json").status_code == 400
    assert am.post(url, {"password": PASSWORD}, content_type="application/json").status_code == 200
    client.force_login(rep)
    body = client.post(url, {"password": PASSWORD}, content_type="application/json").json()
    assert body["status"] == "signed" and len(body["sha256"]) == 64
    sha = body["sha256"]
    for method in ("put", "patch", "delete"):
        response = getattr(am, method)(
            f"/api/approval-protocols/{protocol.pk}/", {"sha256": "0"}, content_type="application/json"
        )
        assert response.status_code == 405
    assert am.post(url, {"password": PASSWORD}, content_type="application/json").status_code == 400
    assert ApprovalProtocol.objects.get(pk=protocol.pk).sha256 == sha
