"""The monthly service report: the PDF's text and the workbook's sheets against the database; versions; the
schedule; the notification ledger."""

import io
from decimal import Decimal as D

import pytest
from django.apps import apps
from django.core.exceptions import ValidationError
from openpyxl import load_workbook
from pypdf import PdfReader

from kompass.reports import charts, report, services
from kompass.reports.models import MonthlyReport
from kompass.reports.tests.conftest import JUNE, at

pytestmark = pytest.mark.django_db
Delivery = apps.get_model("notifications", "Delivery")


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path


def test_the_report_pdf_and_workbook_show_the_database_figures(worked_example, contract, cast, rep, service):
    import hashlib

    stored = report.generate(contract, JUNE, user=cast["agreement"])
    statement = services.build_statement(contract, JUNE)
    pdf_bytes = stored.pdf.open("rb").read()
    assert hashlib.sha256(pdf_bytes).hexdigest() == stored.pdf_sha256
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf_bytes)).pages)

    def nb(value) -> str:  # the PDF is bokmål: a decimal comma
        return str(value).replace(".", ",")

    assert nb(statement.total) in text and nb(statement.total) == "28000,00"
    line = {ln.key: ln for ln in statement.lines.all()}
    assert (
        nb(line[f"availability:{service.pk}"].amount) in text and nb(line[f"resolution:{service.pk}:1"].amount) in text
    )
    assert "99,167" in text  # availability, three places: (720 − 6) / 720
    assert "90,0" in text  # P1 attainment: 18 of 20
    assert contract.name in text
    book = load_workbook(io.BytesIO(stored.xlsx.open("rb").read()))
    assert len(book.sheetnames) == 8
    compensation = list(book.worksheets[3].iter_rows(min_row=2, values_only=True))
    assert D(str(sum(row[5] for row in compensation))) == statement.uncapped == D(28000)
    attainment = list(book.worksheets[1].iter_rows(min_row=2, values_only=True))
    assert sum(row[6] for row in attainment) == 18 and sum(row[7] for row in attainment) == 2
    availability = list(book.worksheets[2].iter_rows(min_row=2, values_only=True))
    assert availability[0][2] == 6.0 and availability[0][1] == 720.0
    # sent through the ledger to the vendor's representatives and the customer's
    recipients = set(Delivery.objects.filter(event="reports.monthly_report").values_list("recipient", flat=True))
    assert recipients == {rep.pk, cast["agreement"].pk}


def test_regenerating_makes_a_new_version_listing_what_changed(worked_example, contract, cast, service):
    first = report.generate(contract, JUNE, user=cast["agreement"])
    services.record_exclusion(  # the whole 6-hour outage was agreed maintenance: availability is met
        contract,
        user=cast["agreement"],
        kind="maintenance",
        reason="Avtalt",
        service=service,
        starts=at(2026, 6, 10, 6),
        ends=at(2026, 6, 10, 14),
    )
    services.build_statement(contract, JUNE)
    second = report.generate(contract, JUNE, user=cast["agreement"])
    assert (first.version, second.version) == (1, 2)
    assert any("28000.00" in change and "8000.00" in change for change in second.changes)
    first.refresh_from_db()
    with pytest.raises(ValidationError):
        first.save()
    assert MonthlyReport.objects.filter(contract=contract, month=JUNE).count() == 2


def _work(worker="worker-1"):
    """What the default queue's worker does with the report jobs (``kompass.core.tasks.process_durable``)."""
    from kompass.core import durable

    durable.autodiscover()
    return durable.PROCESSORS["reports.reportjob"].run(worker)


def test_the_schedule_enqueues_last_months_report_once_and_the_worker_makes_it(worked_example, contract, cast):
    import datetime as dt

    from kompass.reports.models import ReportJob

    jobs = report.enqueue_due(today=dt.date(2026, 7, 1))
    assert [j.month for j in jobs] == [JUNE] and not MonthlyReport.objects.exists()  # the scheduler made nothing
    assert report.enqueue_due(today=dt.date(2026, 7, 1)) == []  # asked twice: still one job
    assert _work().done == 1
    stored = MonthlyReport.objects.get()
    assert (stored.month, stored.trigger, stored.version) == (JUNE, "schedule", 1)
    assert ReportJob.objects.get().report == stored and ReportJob.objects.get().state == "done"
    assert report.enqueue_due(today=dt.date(2026, 7, 1)) == [] and _work().claimed == 0


def test_a_killed_workers_report_is_made_by_the_next_and_only_once(worked_example, contract, cast):
    import datetime as dt

    from django.utils import timezone

    from kompass.core import durable
    from kompass.reports.models import ReportJob

    job = report.request(contract, JUNE, user=cast["agreement"])
    assert durable.claim(ReportJob, "killed-worker")  # claimed, then the worker died before generating
    assert _work().claimed == 0  # its lease still holds
    ReportJob.objects.filter(pk=job.pk).update(lease_expires_at=timezone.now() - dt.timedelta(seconds=1))
    assert _work().done == 1
    job.refresh_from_db()
    assert (job.state, job.attempts, job.report.version, job.report.created_by) == ("done", 2, 1, cast["agreement"])
    # killed after storing its report, before marking the row done: run again, it makes no second version
    ReportJob.objects.filter(pk=job.pk).update(
        state="claimed", lease_expires_at=timezone.now() - dt.timedelta(seconds=1)
    )
    assert _work().done == 1 and MonthlyReport.objects.count() == 1
    with pytest.raises(services.ReportError):
        report.request(contract, dt.date(2025, 6, 1), user=cast["agreement"])  # no levels valid then


def test_svg_charts_escape_text_and_mark_misses():
    svg = charts.bar_chart(["<A>", "B"], [99.9, 98.0], title="T & U", target=99.5, floor=95, ceiling=100)
    assert svg.startswith("<svg") and "&lt;A&gt;" in svg and "T &amp; U" in svg
    assert svg.count('fill="#ff8274"') == 1  # the bar under the target
    line = charts.line_chart(["1", "2", "3"], [("S", [1.0, None, 3.0])], title="L")
    assert "<polyline" not in line  # a gap leaves two single points, no line through the missing month
