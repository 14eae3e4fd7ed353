"""The register's pages: who reaches what (hand-written table), the import flow, bulk status, the requirement page."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from kompass.contract.models import ApprovalProtocol, Evidence, Milestone, Requirement, RequirementComment
from kompass.core.imports.models import ImportBatch
from kompass.core.imports.testing import make_xlsx
from kompass.core.models import Organisation
from kompass.testing.matrix import check_access_table

pytestmark = pytest.mark.django_db
S = Requirement.Status


@pytest.fixture
def rep_client(client, rep):
    client.force_login(rep)
    return client


@pytest.fixture
def am_client(clients):
    return clients("agreement")


def test_page_access_table(clients, contract, requirements, rep, other_rep):
    Organisation.current()  # created on the first page view otherwise, which would look like a refused write
    c, r = contract.pk, requirements[0].pk
    m = contract.milestones.first().pk
    p = ApprovalProtocol.objects.create(contract=contract, version=1).pk
    milestone = {"name": "Ny milepæl", "kind": "other", "due_on": "2027-01-15"}
    pages = [
        "/contract/",
        f"/contract/{c}/",
        f"/contract/{c}/requirements/",
        f"/contract/{c}/overdue/",
        f"/contract/{c}/export.xlsx",
        f"/contract/requirements/{r}/",
    ]
    table = {}
    for key in ["admin", "agreement"]:
        for url in pages:
            table[(key, "GET", url)] = 200
        table[(key, "GET", f"/contract/{c}/import/")] = 200
        table[(key, "GET", f"/contract/{c}/edit/")] = 200
        table[(key, "GET", f"/contract/{c}/milestones/new/")] = 200
        table[(key, "POST", f"/contract/{c}/milestones/new/")] = 302
        table[(key, "GET", f"/contract/milestones/{m}/edit/")] = 200
        table[(key, "POST", f"/contract/milestones/{m}/edit/")] = 302
        table[(key, "GET", f"/contract/protocols/{p}/reauthenticate/")] = 404  # no SSO configured
    for key in ["desk", "kam", "it_contact", "owner", "agency_admin", "requester", "noroles"]:
        table[(key, "GET", "/contract/")] = 403
        for url in pages[1:]:
            table[(key, "GET", url)] = 403  # no view anywhere: refused before the object is looked up
        table[(key, "POST", f"/contract/requirements/{r}/status/")] = 403
        table[(key, "POST", f"/contract/{c}/requirements/bulk-status/")] = 403
        table[(key, "POST", f"/contract/{c}/import/")] = 403
        table[(key, "GET", f"/contract/{c}/milestones/new/")] = 403
        table[(key, "POST", f"/contract/{c}/milestones/new/")] = 403
        table[(key, "POST", f"/contract/milestones/{m}/edit/")] = 403
        table[(key, "GET", f"/contract/protocols/{p}/reauthenticate/")] = 403
    check_access_table(
        clients,
        table,
        data={
            f"/contract/requirements/{r}/status/": {"status": "in_progress"},
            f"/contract/{c}/requirements/bulk-status/": {"status": "in_progress", "comment": "x", "ids": [r]},
            f"/contract/{c}/milestones/new/": milestone,
            f"/contract/milestones/{m}/edit/": milestone,
        },
    )


def test_representatives_see_their_contract_only(client, contract, requirements, rep, other_rep):
    c, r = contract.pk, requirements[0].pk
    client.force_login(rep)
    for url in ["/contract/", f"/contract/{c}/", f"/contract/{c}/requirements/", f"/contract/requirements/{r}/"]:
        assert client.get(url).status_code == 200, url
    assert client.get(f"/contract/{c}/import/").status_code == 403
    assert client.get(f"/contract/{c}/edit/").status_code == 403
    assert client.get(f"/contract/{c}/milestones/new/").status_code == 403
    milestone = contract.milestones.first()
    assert (
        client.post(f"/contract/milestones/{milestone.pk}/edit/", {"name": "X", "due_on": "2027-01-01"}).status_code
        == 403
    )
    assert client.get("/core/systems/").status_code in (403, 404)
    client.logout()
    client.force_login(other_rep)
    for url in [f"/contract/{c}/", f"/contract/{c}/requirements/", f"/contract/requirements/{r}/"]:
        assert client.get(url).status_code == 404, url
    response = client.post(f"/contract/requirements/{r}/status/", {"status": "in_progress"})
    assert response.status_code == 404
    assert Requirement.objects.get(pk=r).status == S.NOT_STARTED


def test_the_vendor_may_set_ready_but_not_verified(rep_client, requirements):
    r = requirements[0]
    assert rep_client.post(f"/contract/requirements/{r.pk}/status/", {"status": "ready"}).status_code == 302
    response = rep_client.post(f"/contract/requirements/{r.pk}/status/", {"status": "verified"})
    assert response.status_code == 403
    assert Requirement.objects.get(pk=r.pk).status == S.READY


def test_a_refused_transition_shows_the_error_and_changes_nothing(am_client, requirements):
    r = requirements[0]
    response = am_client.post(f"/contract/requirements/{r.pk}/status/", {"status": "deviation"})
    assert response.status_code == 400
    assert "Et avvik må ha avtalt utbedring og frist." in response.content.decode()  # the UI is bokmål
    assert Requirement.objects.get(pk=r.pk).status == S.NOT_STARTED


def test_bulk_status_change_needs_a_comment(am_client, contract, requirements):
    url = f"/contract/{contract.pk}/requirements/bulk-status/"
    ids = [r.pk for r in requirements]
    am_client.post(url, {"status": "in_progress", "ids": ids, "comment": ""})
    assert not Requirement.objects.filter(status=S.IN_PROGRESS).exists()
    assert am_client.post(url, {"status": "in_progress", "ids": ids, "comment": "Oppstart"}).status_code == 302
    assert Requirement.objects.filter(status=S.IN_PROGRESS).count() == 3
    assert RequirementComment.objects.filter(text="Oppstart").count() == 3


def test_evidence_and_comments_on_the_requirement_page(rep_client, requirements):
    r = requirements[0]
    url = f"/contract/requirements/{r.pk}/"
    response = rep_client.post(url + "evidence/", {"kind": "link", "url": "https://docs.example/x", "title": "Rutine"})
    assert response.status_code == 302
    upload = SimpleUploadedFile("testrapport.pdf", b"%PDF-1.4 test", content_type="application/pdf")
    assert rep_client.post(url + "evidence/", {"kind": "file", "file": upload}).status_code == 302
    assert rep_client.post(url + "comment/", {"text": "Testet i dag"}).status_code == 302
    page = rep_client.get(url).content.decode()
    assert "Rutine" in page and "testrapport.pdf" in page and "Testet i dag" in page
    assert Evidence.objects.count() == 2
    assert rep_client.post(url + "evidence/", {"kind": "link", "url": ""}).status_code == 400
    assert Evidence.objects.count() == 2


def test_import_upload_map_preview_and_apply(am_client, contract):
    rows = [
        ["Kravspesifikasjon"],
        ["Nummer", "Kravtekst", "Status"],
        ["1.1", "Overvåking", "Pågår"],
        ["1.2", "Varsling", None],
    ]
    upload = SimpleUploadedFile("krav.xlsx", make_xlsx(rows))
    response = am_client.post(f"/contract/{contract.pk}/import/", {"file": upload})
    assert response.status_code == 302
    batch = ImportBatch.objects.get(scope=contract.import_scope)
    preview_url = f"/contract/{contract.pk}/import/{batch.pk}/"
    preview = am_client.get(preview_url).context["preview"]
    assert not preview.ok and [e.row for e in preview.errors] == [0]  # "Nummer" is no known header: ID unmapped
    response = am_client.post(preview_url, {"column_1": "requirement_id", "column_2": "text", "column_3": "status"})
    assert response.status_code == 200
    fingerprint = response.context["preview"].fingerprint
    assert response.context["preview"].ok
    assert not Requirement.objects.exists()
    response = am_client.post(preview_url + "apply/", {"fingerprint": fingerprint})
    assert response.status_code == 302
    assert dict(Requirement.objects.values_list("requirement_id", "status")) == {
        "1.1": "in_progress",
        "1.2": "not_started",
    }
    # The mapping is remembered for the contract: the next file with the same headers needs no mapping.
    again = SimpleUploadedFile("krav2.xlsx", make_xlsx(rows + [["1.3", "Ny", None]]))
    am_client.post(f"/contract/{contract.pk}/import/", {"file": again})
    second = ImportBatch.objects.filter(scope=contract.import_scope).latest("created")
    response = am_client.get(f"/contract/{contract.pk}/import/{second.pk}/")
    assert response.context["preview"].ok and [r.key for r in response.context["preview"].diff.added] == ["1.3"]


def test_a_stale_or_wrong_fingerprint_applies_nothing(am_client, contract):
    upload = SimpleUploadedFile("krav.csv", b"Krav-ID;Kravtekst\r\n1.1;A\r\n")
    am_client.post(f"/contract/{contract.pk}/import/", {"file": upload})
    batch = ImportBatch.objects.get(scope=contract.import_scope)
    response = am_client.post(f"/contract/{contract.pk}/import/{batch.pk}/apply/", {"fingerprint": "0" * 64})
    assert response.status_code == 400
    assert not Requirement.objects.exists()


def test_the_contract_page_shows_progress_as_a_table_and_chart_data(am_client, contract, requirements):
    page = am_client.get(f"/contract/{contract.pk}/").content.decode()
    assert 'id="progress-chart-data"' in page and "chart.umd.min.js" in page
    assert "Krav etter milepæl og status" in page and "Driftsovertakelse" in page


def test_milestones_are_added_and_edited_and_names_stay_unique(am_client, contract):
    takeover = contract.milestones.get(kind="takeover")
    new = {"name": "Ett år etter", "kind": "other", "due_on": "2027-05-01"}
    assert am_client.post(f"/contract/{contract.pk}/milestones/new/", new).status_code == 302
    added = Milestone.objects.get(name="Ett år etter")
    assert added.contract == contract and str(added.due_on) == "2027-05-01"
    clash = {"name": "driftsovertakelse", "kind": "other", "due_on": "2027-05-01"}
    assert am_client.post(f"/contract/milestones/{added.pk}/edit/", clash).status_code == 400
    moved = {"name": "Driftsovertakelse", "kind": "takeover", "due_on": "2026-06-01"}
    assert am_client.post(f"/contract/milestones/{takeover.pk}/edit/", moved).status_code == 302
    takeover.refresh_from_db()
    assert str(takeover.due_on) == "2026-06-01"
    page = am_client.get(f"/contract/{contract.pk}/").content.decode()
    assert "Ett år etter" in page and f"/contract/milestones/{added.pk}/edit/" in page


def test_the_burn_up_counts_done_requirements_over_time_with_a_chart(am_client, contract, requirements):
    from kompass.contract import services

    Requirement.objects.filter(pk=requirements[2].pk).update(status=S.VERIFIED)  # as an import writes it: no audit
    assert services.burnup(contract)[-1][1] == 1
    services.set_status(requirements[0], S.READY, user=contract.customer_representative)
    services.set_status(requirements[0], S.VERIFIED, user=contract.customer_representative)
    points = services.burnup(contract)
    assert points[-1][1] == 2
    page = am_client.get(f"/contract/{contract.pk}/")
    chart = page.context["burnup_chart"]
    assert chart["datasets"][0]["data"][-1] == 2 and chart["datasets"][1]["data"][-1] == 3
    assert 'id="burnup-chart-data"' in page.content.decode()
