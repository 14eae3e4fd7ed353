"""The reports app's access table: every cast member (and two vendor representatives) × every page and endpoint
× every method, written by hand. Refused writes must change nothing (``check_access_table`` compares the whole
database)."""

import datetime as dt

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from kompass.core.models import ApiToken, Organisation, Service
from kompass.reports import services
from kompass.reports.models import MonthlyReport
from kompass.reports.tests.conftest import JUNE, Contract
from kompass.testing.cast import CAST
from kompass.testing.matrix import check_access_table

pytestmark = pytest.mark.django_db

EDIT = {"admin", "agreement"}  # the agreement manager (and administrators)
REP, OTHER = "rep", "other_rep"  # the contract's representative, and one of another contract
EVERYONE = [*CAST, REP, OTHER]
PAGES = [True]  # set while the pages table is written


def status(key, allowed, ok=200, refused=403, hidden=()):
    if key == "vendor" and refused == 403 and PAGES[0]:
        return 302  # the integration account is signed out of the web UI
    if key in allowed:
        return ok
    return 404 if key in hidden else refused


@pytest.fixture
def everyone(clients, rep, other_rep):
    extra, made = {REP: rep, OTHER: other_rep}, {}

    def _client(key, kind="session"):
        if key not in extra:
            return clients(key, kind)
        if (key, kind) not in made:
            client = Client()
            if kind == "session":
                client.force_login(extra[key])
            else:
                client.defaults["HTTP_AUTHORIZATION"] = f"Token {ApiToken.issue(extra[key], 't')[1]}"
            made[key, kind] = client
        return made[key, kind]

    return _client


@pytest.fixture
def objects(worked_example, contract, rep, cast, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    Organisation.current()
    statement = services.build_statement(contract, JUNE)
    line = statement.lines.get(key__startswith="resolution")
    other_line = statement.lines.get(key__startswith="availability")
    dispute = services.dispute_line(other_line, user=rep, reason="Planlagt vedlikehold")
    report = MonthlyReport(contract=contract, month=JUNE, version=1, pdf_sha256="0" * 64, xlsx_sha256="0" * 64)
    report.pdf.save("r.pdf", ContentFile(b"%PDF-1.7"), save=False)
    report.xlsx.save("r.xlsx", ContentFile(b"PK"), save=False)
    report.save()
    second = Contract.objects.create(name="Annen avtale", vendor_name="Annen AS", monthly_fee=1000)
    return {"statement": statement, "line": line, "dispute": dispute, "report": report, "second": second}


def test_pages(everyone, objects, contract, version, service):
    s, ln, d, r = objects["statement"].pk, objects["line"].pk, objects["dispute"].pk, objects["report"].pk
    c, v = contract.pk, version.pk
    version.valid_to = dt.date(2026, 12, 31)  # so a copy may start in 2027
    version.save()
    cl, al = version.case_levels.get().pk, version.availability_levels.get().pk
    seers = EDIT | {REP, OTHER}  # may open the lists (a representative of another contract sees them empty)
    PAGES[0] = True
    table = {}
    for key in EVERYONE:
        table[key, "GET", f"/reports/?contract={c}&month=2026-06"] = status(key, EDIT)
        table[key, "GET", f"/reports/drill/?contract={c}&month=2026-06&service={service.pk}&priority=1"] = status(
            key, EDIT
        )
        table[key, "GET", "/reports/agencies/?month=2026-06"] = status(key, EDIT | {"kam"})
        table[key, "GET", "/reports/levels/"] = status(key, seers | {"kam"})
        table[key, "GET", f"/reports/levels/{v}/"] = status(key, EDIT | {"kam", REP}, hidden={OTHER})
        table[key, "GET", "/reports/levels/new/"] = status(key, EDIT)
        table[key, "POST", "/reports/levels/new/"] = status(key, EDIT, ok=302)
        table[key, "GET", f"/reports/levels/{v}/edit/"] = status(key, EDIT, hidden={OTHER})
        table[key, "GET", f"/reports/levels/?contract={c}"] = status(key, seers | {"kam"})
        table[key, "GET", f"/reports/levels/{v}/copy/"] = status(key, EDIT)
        table[key, "POST", f"/reports/levels/{v}/copy/"] = status(key, EDIT, ok=302)
        for kind, pk in (("case-levels", cl), ("availability", al)):
            new = "case-levels" if kind == "case-levels" else "availability"
            table[key, "GET", f"/reports/levels/{v}/{new}/new/"] = status(key, EDIT)
            table[key, "POST", f"/reports/levels/{v}/{new}/new/"] = status(key, EDIT, ok=302)
            table[key, "GET", f"/reports/{kind}/{pk}/edit/"] = status(key, EDIT)
            table[key, "POST", f"/reports/{kind}/{pk}/edit/"] = status(key, EDIT, ok=302)
            table[key, "POST", f"/reports/{kind}/{pk}/delete/"] = status(key, EDIT, ok=302)
        table[key, "GET", "/reports/exclusions/"] = status(key, seers)
        table[key, "GET", "/reports/exclusions/new/"] = status(key, EDIT)
        table[key, "POST", "/reports/exclusions/new/"] = status(key, EDIT, ok=302)
        table[key, "GET", "/reports/outages/new/"] = status(key, EDIT)
        table[key, "POST", "/reports/outages/new/"] = status(key, EDIT, ok=302)
        table[key, "GET", "/reports/statements/"] = status(key, seers)
        table[key, "GET", f"/reports/statements/{s}/"] = status(key, EDIT | {REP}, hidden={OTHER})
        table[key, "POST", f"/reports/statements/{s}/adjust/"] = status(key, EDIT, ok=302, hidden={OTHER})
        table[key, "POST", f"/reports/lines/{ln}/accept/"] = status(key, EDIT | {REP}, ok=302, hidden={OTHER})
        table[key, "POST", f"/reports/lines/{ln}/dispute/"] = status(key, EDIT | {REP}, ok=302, hidden={OTHER})
        # The dispute is the vendor's: the customer's side answers it; the vendor answering itself is a 400.
        table[key, "POST", f"/reports/disputes/{d}/answer/"] = (
            400 if key == REP else status(key, EDIT, ok=302, hidden={OTHER})
        )
        table[key, "POST", f"/reports/disputes/{d}/resolve/"] = status(key, EDIT, ok=302, hidden={OTHER})
        table[key, "POST", f"/reports/contracts/{c}/generate/"] = status(key, EDIT, ok=302)
        table[key, "GET", "/reports/monthly/"] = status(key, seers)
        table[key, "GET", f"/reports/monthly/{r}/"] = status(key, EDIT | {REP}, hidden={OTHER})
        table[key, "GET", f"/reports/monthly/{r}/pdf/"] = status(key, EDIT | {REP}, hidden={OTHER})
    case_level = {
        "service": service.pk,
        "priority": 1,
        "resolution_hours": "4",
        "service_hours": "24x7",
        "required_pct": "95",
        "credit_pct": "2",
    }
    availability = {"service": service.pk, "target_pct": "99.5", "window": "month", "service_hours": "24x7"}
    other_service = Service.objects.create(name="Lagring", delivery="vendor", vendor_name="Leverandør AS")
    check_access_table(
        everyone,
        table,
        data={
            "/reports/levels/new/": {
                "contract": objects["second"].pk,
                "name": "Ny",
                "valid_from": "2026-01-01",
                "accumulation": "sum",
                "counts": "kompass",
            },
            f"/reports/levels/{v}/copy/": {"name": "Bilag 5 (2027)", "valid_from": "2027-01-01"},
            f"/reports/levels/{v}/case-levels/new/": case_level | {"priority": 2},
            f"/reports/case-levels/{cl}/edit/": case_level | {"resolution_hours": "5"},
            f"/reports/levels/{v}/availability/new/": availability | {"service": other_service.pk},
            f"/reports/availability/{al}/edit/": availability | {"tiers_text": "99 10"},
            "/reports/exclusions/new/": {"contract": c, "kind": "customer", "case_number": "KOM-1", "reason": "Kunden"},
            "/reports/outages/new/": {
                "contract": c,
                "service": service.pk,
                "starts": "2026-06-03T10:00",
                "ends": "2026-06-03T11:00",
                "cause": "Nett",
            },
            f"/reports/statements/{s}/adjust/": {"amount": "-100", "reason": "Avtalt"},
            f"/reports/lines/{ln}/dispute/": {"text": "Feil tall"},
            f"/reports/disputes/{d}/answer/": {"text": "Svar"},
            f"/reports/disputes/{d}/resolve/": {"text": "Løst"},
            f"/reports/contracts/{c}/generate/": {"month": "2026-06"},
        },
        kinds=("session",),
    )


def test_api(everyone, objects, contract, version, service):
    s, ln, d = objects["statement"].pk, objects["line"].pk, objects["dispute"].pk
    c = contract.pk
    seers = EDIT | {REP, OTHER}
    PAGES[0] = False
    table = {}
    for key in EVERYONE:
        table[key, "GET", "/api/sla-versions/"] = status(key, seers | {"kam"})
        table[key, "POST", "/api/sla-versions/"] = status(key, EDIT, ok=201)
        table[key, "GET", f"/api/sla-versions/{version.pk}/"] = status(key, EDIT | {"kam", REP}, hidden={OTHER})
        table[key, "PATCH", f"/api/sla-versions/{version.pk}/"] = status(key, EDIT, hidden={OTHER})
        table[key, "GET", "/api/sla-case-levels/"] = status(key, EDIT | {"kam"})
        table[key, "POST", "/api/sla-case-levels/"] = status(key, EDIT, ok=201)
        table[key, "GET", "/api/sla-availability-levels/"] = status(key, EDIT | {"kam"})
        table[key, "GET", "/api/sla-outages/"] = status(key, seers)
        table[key, "POST", "/api/sla-outages/"] = status(key, EDIT, ok=201)
        table[key, "GET", "/api/sla-exclusions/"] = status(key, seers)
        table[key, "POST", "/api/sla-exclusions/"] = status(key, EDIT, ok=201)
        table[key, "GET", "/api/sla-statements/"] = status(key, seers)
        table[key, "GET", f"/api/sla-statements/{s}/"] = status(key, EDIT | {REP}, hidden={OTHER})
        table[key, "POST", "/api/sla-statements/build/"] = status(key, EDIT)
        table[key, "POST", f"/api/sla-statements/{s}/adjust/"] = status(key, EDIT, hidden={OTHER})
        table[key, "POST", f"/api/sla-statement-lines/{ln}/accept/"] = status(key, EDIT | {REP}, hidden={OTHER})
        table[key, "POST", f"/api/sla-statement-lines/{ln}/dispute/"] = status(
            key, EDIT | {REP}, ok=201, hidden={OTHER}
        )
        table[key, "POST", f"/api/sla-disputes/{d}/answer/"] = 400 if key == REP else status(key, EDIT, hidden={OTHER})
        table[key, "POST", f"/api/sla-disputes/{d}/resolve/"] = status(key, EDIT, hidden={OTHER})
        table[key, "GET", f"/api/sla-measurements/?contract={c}&month=2026-06"] = status(
            key, EDIT | {REP}, hidden={OTHER}
        )
        table[key, "GET", "/api/sla-reports/"] = status(key, seers)
    for row in [row for row in table if row[0] == "vendor"]:  # the integration account reaches none of it
        table[row] = {"session": 401, "token": 403}  # (its session is signed out; its token is refused)
    check_access_table(
        everyone,
        table,
        data={
            "/api/sla-versions/": {"contract": objects["second"].pk, "name": "V", "valid_from": "2026-01-01"},
            f"/api/sla-versions/{version.pk}/": {"name": "Bilag 5 (rettet)"},
            "/api/sla-case-levels/": {
                "version": version.pk,
                "service": service.pk,
                "priority": 2,
                "resolution_hours": "8",
                "required_pct": "95",
            },
            "/api/sla-outages/": {
                "contract": c,
                "service": service.pk,
                "starts": "2026-06-03T10:00:00+02:00",
                "ends": "2026-06-03T11:00:00+02:00",
                "cause": "Nett",
            },
            "/api/sla-exclusions/": {"contract": c, "kind": "customer", "case_number": "KOM-1", "reason": "Kunden"},
            "/api/sla-statements/build/": {"contract": c, "month": "2026-06"},
            f"/api/sla-statements/{s}/adjust/": {"amount": "-100", "reason": "Avtalt"},
            f"/api/sla-statement-lines/{ln}/dispute/": {"text": "Feil tall"},
            f"/api/sla-disputes/{d}/answer/": {"text": "Svar"},
            f"/api/sla-disputes/{d}/resolve/": {"text": "Løst"},
        },
        kinds=("session", "token"),
    )


def test_bad_input_is_a_400_and_changes_nothing(client, cast, objects, contract, version):
    from kompass.testing.matrix import database_snapshot

    client.force_login(cast["agreement"])
    before = database_snapshot()
    bad = [
        ("/api/sla-availability-levels/", {"version": version.pk, "service": 999999, "target_pct": "99"}),
        ("/api/sla-availability-levels/", {"version": version.pk, "target_pct": "101"}),
        ("/api/sla-exclusions/", {"contract": contract.pk, "kind": "customer", "reason": "Uten periode"}),
        ("/api/sla-versions/", {"contract": contract.pk, "name": "Overlapper", "valid_from": "2026-03-01"}),
        ("/api/sla-statements/build/", {"contract": contract.pk, "month": "2026-13"}),
        (f"/api/sla-statements/{objects['statement'].pk}/adjust/", {"amount": "NaN", "reason": "x"}),
    ]
    for url, payload in bad:
        assert client.post(url, payload, content_type="application/json").status_code == 400, url
    assert client.get(f"/api/sla-measurements/?contract={contract.pk}&month=juni").status_code == 400
    assert database_snapshot() == before
    assert dt.date(2026, 6, 1) == JUNE
