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


def test_the_schedule_makes_last_months_report_once(worked_example, contract, cast):
    import datetime as dt

    made = report.generate_due(today=dt.date(2026, 7, 1))
    assert [m.month for m in made] == [JUNE]
    assert report.generate_due(today=dt.date(2026, 7, 1)) == []


def test_svg_charts_escape_text_and_mark_misses():
    svg = charts.bar_chart(["<A>", "B"], [99.9, 98.0], title="T & U", target=99.5, floor=95, ceiling=100)
    assert svg.startswith("<svg") and "&lt;A&gt;" in svg and "T &amp; U" in svg
    assert svg.count('fill="#ff8274"') == 1  # the bar under the target
    line = charts.line_chart(["1", "2", "3"], [("S", [1.0, None, 3.0])], title="L")
    assert "<polyline" not in line  # a gap leaves two single points, no line through the missing month
