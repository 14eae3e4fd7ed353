"""The monthly service report: its sections as rows, the PDF (WeasyPrint, SVG charts) and the Excel workbook,
stored immutably as numbered versions with SHA-256, and sent through the notifications ledger.

Both files are made from the same :func:`sections` rows, so the PDF's tables and the workbook's sheets cannot
disagree. Regenerating stores a new version and lists what changed since the previous one (from the figures
kept on each version).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import io
from decimal import Decimal

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _

from kompass.cases import services as cases
from kompass.contract import services as contracts
from kompass.core import durable
from kompass.reports import charts, compute, services
from kompass.reports.models import MonthlyReport, ReportJob
from kompass.surveys import services as surveys
from kompass.vendors import services as vendors

HOUR = Decimal(3600)


def _hours(seconds: int) -> Decimal:
    return (Decimal(seconds) / HOUR).quantize(Decimal("0.01"))


def _local(moment):
    return moment.astimezone(services.zone()).strftime("%d.%m.%Y %H:%M") if moment else ""


def sections(contract, month: dt.date) -> dict:
    """Every section of the report as ``{"columns": [...], "rows": [[...]]}`` plus the summary, the charts'
    data and ``figures`` (what the next version is compared with)."""
    figures = services.month_figures(contract, month)
    if figures.version is None:
        raise services.ReportError(
            _("The contract has no service levels valid in %(month)s.") % {"month": f"{month:%m.%Y}"}
        )
    statement = services.build_statement(contract, month, figures=figures)  # the report shows the statement as of now
    start, end = services.month_bounds(month)
    names = figures.services
    attainment = {
        "title": _("Attainment"),
        "columns": [
            _("Service"),
            _("Priority"),
            _("Resolved"),
            _("Excluded"),
            _("Response met"),
            _("Response missed"),
            _("Resolution met"),
            _("Resolution missed"),
            _("Attainment (%)"),
            _("Vendor's timestamps (%)"),
            _("Counts"),
            _("Required (%)"),
            _("Median (h)"),
            _("P90 (h)"),
            _("Backlog"),
        ],
        "rows": [
            [
                names.get(s),
                p,
                r.cases,
                r.excluded,
                r.response_met,
                r.response_missed,
                r.resolution_met,
                r.resolution_missed,
                compute.pct(r.attainment_pct, 1),
                compute.pct(r.vendor_attainment_pct, 1),
                r.counts,
                r.required_pct,
                r.median_resolution_hours,
                r.p90_resolution_hours,
                r.backlog,
            ]
            for (s, p), r in sorted(figures.attainment.items())
        ],
    }
    availability = {
        "title": _("Availability"),
        "columns": [
            _("Service"),
            _("Service time (h)"),
            _("Downtime (h)"),
            _("Excluded (h)"),
            _("Available (%)"),
            _("Target (%)"),
        ],
        "rows": [
            [
                names.get(s),
                _hours(r.service_seconds),
                _hours(r.downtime_seconds),
                _hours(r.excluded_seconds),
                compute.pct(r.available_pct, 3),
                r.target_pct,
            ]
            for s, r in figures.availability.items()
        ],
    }
    lines = list(statement.lines.all())
    compensation = {
        "title": _("Compensation"),
        "columns": [_("Level"), _("Measured (%)"), _("Target (%)"), _("Missed"), _("Credit (%)"), _("Credit (NOK)")],
        "rows": [
            [
                line.label,
                compute.pct(line.measured, 2),
                line.target.normalize(),
                _("yes") if line.missed else _("no"),
                line.percent,
                line.amount,
            ]
            for line in lines
        ],
    }
    majors = cases.major_incidents(set(names), start, end)
    major = {
        "title": _("Major incidents"),
        "columns": [
            _("Case"),
            _("Title"),
            _("Service"),
            _("Priority"),
            _("Reported"),
            _("Resolved"),
            _("Cases attached"),
        ],
        "rows": [
            [
                m["number"],
                m["title"],
                names.get(m["service_id"]),
                m["priority"],
                _local(m["created"]),
                _local(m["resolved_at"]),
                m["children"],
            ]
            for m in majors
        ],
    }
    temperature_rows = []
    for dimension in surveys.DIMENSIONS:
        average = surveys.grid(dimension, month, month).average.get(month)
        mean = getattr(average, "mean", None)
        temperature_rows.append([dimension, round(float(mean), 2) if mean is not None else None])
    temperature = {
        "title": _("Temperature measurements"),
        "columns": [_("Dimension"), _("Average (1–5)")],
        "rows": temperature_rows,
    }
    deviations = {
        "title": _("Open deviations"),
        "columns": [_("Requirement"), _("Text"), _("Agreed remediation"), _("Due")],
        "rows": [
            [
                d["requirement_id"],
                d["text"][:300],
                d["remediation"][:300],
                d["due_on"].isoformat() if d["due_on"] else "",
            ]
            for d in contracts.open_deviations(contract)
        ],
    }
    health = vendors.ebonding_figures(start, end)
    labels = {
        "sent": _("Updates sent to the vendor"),
        "received": _("Updates received from the vendor"),
        "failed": _("Failed updates"),
        "drift_repaired": _("Drift repaired by reconciliation"),
        "reconciliation_runs": _("Reconciliation runs"),
        "requesters_not_informed": _("Vendor resolutions with the requester not informed"),
    }
    ebonding = {
        "title": _("E-bonding health"),
        "columns": [_("Figure"), _("Value")],
        "rows": [[labels[key], value] for key, value in health.items()],
    }
    missed = [line for line in lines if line.missed]
    summary = {
        "title": _("Summary"),
        "columns": [_("Figure"), _("Value")],
        "rows": [
            [_("Contract"), str(contract)],
            [_("Month"), f"{month:%m.%Y}"],
            [_("Service levels"), str(figures.version)],
            [_("Levels measured"), len(lines)],
            [_("Levels missed"), len(missed)],
            [_("Monthly fee (NOK)"), statement.monthly_fee],
            [_("Credit before caps (NOK)"), statement.uncapped],
            [_("Credit after caps (NOK)"), statement.capped],
            [_("Adjustments (NOK)"), statement.adjustments],
            [_("Credit owed (NOK)"), statement.total],
            [_("Major incidents"), len(majors)],
            [_("Open deviations"), len(deviations["rows"])],
        ],
    }
    trend = services.trend(contract, month, current_figures=figures)
    return {
        "contract": contract,
        "month": month,
        "statement": statement,
        "sections": [summary, attainment, availability, compensation, major, temperature, deviations, ebonding],
        "trend": trend,
        "figures": {
            "total": str(statement.total),
            "uncapped": str(statement.uncapped),
            "lines": {
                line.key: {"label": line.label, "measured": str(line.measured), "amount": str(line.amount)}
                for line in lines
            },
            "major_incidents": len(majors),
            "open_deviations": len(deviations["rows"]),
            "ebonding": health,
        },
    }


def changes_between(before: dict, after: dict) -> list[str]:
    """What changed from one version's figures to the next, as sentences (empty: nothing)."""
    if not before:
        return []
    out = []
    if before.get("total") != after.get("total"):
        out.append(_("Credit owed: %(a)s → %(b)s NOK") % {"a": before.get("total"), "b": after.get("total")})
    old_lines, new_lines = before.get("lines", {}), after.get("lines", {})
    for key, line in new_lines.items():
        old = old_lines.get(key)
        if old is None:
            out.append(_("New level: %(label)s") % {"label": line["label"]})
        elif (old["measured"], old["amount"]) != (line["measured"], line["amount"]):
            out.append(
                _("%(label)s: %(m1)s %% → %(m2)s %%, %(a1)s → %(a2)s NOK")
                % {
                    "label": line["label"],
                    "m1": old["measured"],
                    "m2": line["measured"],
                    "a1": old["amount"],
                    "a2": line["amount"],
                }
            )
    for key in old_lines.keys() - new_lines.keys():
        out.append(_("Level no longer measured: %(label)s") % {"label": old_lines[key]["label"]})
    for key, label in (("major_incidents", _("Major incidents")), ("open_deviations", _("Open deviations"))):
        if before.get(key) != after.get(key):
            out.append(f"{label}: {before.get(key)} → {after.get(key)}")
    if before.get("ebonding") != after.get("ebonding"):
        out.append(_("E-bonding health figures changed"))
    return out


def _cell(value):
    """A cell for the workbook: numbers stay numbers; text that Excel would read as a formula is escaped."""
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, str) and value.startswith(("=", "+", "-", "@", "\t", "\r")):
        return "'" + value
    return value


def workbook(data: dict) -> bytes:
    """One sheet per section with the raw rows (a header row first)."""
    from openpyxl import Workbook

    book = Workbook()
    book.remove(book.active)
    for section in data["sections"]:
        sheet = book.create_sheet(section["title"][:31])
        sheet.append(section["columns"])
        for row in section["rows"]:
            sheet.append([_cell(v) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def pdf(data: dict) -> bytes:
    from kompass.core.pdf import render_pdf

    trend = data["trend"]
    labels = [f"{r['month']:%m.%y}" for r in trend]
    attainment_chart = charts.line_chart(
        labels,
        [
            (
                _("Resolution attainment (%)"),
                [float(r["attainment"]) if r["attainment"] is not None else None for r in trend],
            )
        ],
        title=_("Resolution attainment, last 12 months"),
        ceiling=100,
    )
    availability = data["sections"][2]["rows"]
    availability_chart = charts.bar_chart(
        [str(row[0]) for row in availability],
        [float(row[4]) if row[4] is not None else None for row in availability],
        title=_("Availability per service this month"),
        target=float(availability[0][5]) if availability else None,
        floor=95,
        ceiling=100,
        unit=" %",
    )
    return render_pdf(
        "reports/pdf/monthly.html",
        {
            "title": _("Monthly service report %(month)s") % {"month": f"{data['month']:%m.%Y}"},
            "subject": str(data["contract"]),
            "data": data,
            "attainment_chart": mark_safe(attainment_chart),  # noqa: S308 - built by charts.py, every text escaped
            "availability_chart": mark_safe(availability_chart),  # noqa: S308
        },
        lang=settings.LANGUAGE_CODE,
    )


def generate(contract, month: dt.date, *, user=None, trigger: str = "manual", job=None) -> MonthlyReport:
    """Store a new version of the month's report and send it to the contract's recipients (``job``: the
    :class:`ReportJob` that asked for it, marked with the report in the same transaction)."""
    month = services.first_of_month(month)
    data = sections(contract, month)
    pdf_bytes, xlsx_bytes = pdf(data), workbook(data)
    for _attempt in range(3):
        previous = MonthlyReport.objects.filter(contract=contract, month=month).order_by("-version").first()
        version = previous.version + 1 if previous else 1
        try:
            with transaction.atomic():
                stored = MonthlyReport(
                    contract=contract,
                    month=month,
                    version=version,
                    pdf_sha256=hashlib.sha256(pdf_bytes).hexdigest(),
                    xlsx_sha256=hashlib.sha256(xlsx_bytes).hexdigest(),
                    figures=data["figures"],
                    changes=changes_between(previous.figures if previous else {}, data["figures"]),
                    trigger=trigger,
                    created_by=user,
                )
                name = f"tjenesterapport-{contract.pk}-{month:%Y-%m}-v{version}"
                stored.pdf.save(f"{name}.pdf", ContentFile(pdf_bytes), save=False)
                stored.xlsx.save(f"{name}.xlsx", ContentFile(xlsx_bytes), save=False)
                stored.save()
                _send(stored)
                if job is not None:
                    ReportJob.objects.filter(pk=job.pk).update(report=stored)
            return stored
        except IntegrityError:  # another process stored this version number first: take the next one
            continue
    raise services.ReportError(_("The report could not be stored; try again."))


def recipients(contract) -> list:
    people = list(contract.vendor_representatives.filter(is_active=True))
    if contract.customer_representative_id and contract.customer_representative.is_active:
        people.append(contract.customer_representative)
    return people


def _send(stored: MonthlyReport) -> None:
    from kompass.notifications import services as notifications

    notifications.send(
        event="reports.monthly_report",
        recipients=recipients(stored.contract),
        template="reports/notifications/monthly_report",
        context={
            "contract": str(stored.contract),
            "month": f"{stored.month:%m.%Y}",
            "version": stored.version,
            "sha256": stored.pdf_sha256,
            "changes": stored.changes,
            "url": stored.get_absolute_url(),
            "site_url": settings.KOMPASS_CASES_SITE_URL.rstrip("/"),
        },
        key=f"reports:monthly:{stored.pk}",
        obj=stored,
    )


def enqueue_due(today: dt.date | None = None) -> list[ReportJob]:
    """The scheduled run (in the scheduler: quick): a :class:`ReportJob` for last month's report of every contract
    with service levels, once per contract and month; the worker generates them (:func:`run_job`)."""
    from django.utils import timezone

    month = services.previous_month(today or timezone.localdate())
    made = []
    for contract in contracts.contracts():
        if services.version_for(contract, month) is None:
            continue
        if MonthlyReport.objects.filter(contract=contract, month=month, trigger="schedule").exists():
            continue
        job, created = ReportJob.objects.get_or_create(contract=contract, month=month, trigger="schedule")
        if created:
            made.append(job)
    if made:
        durable.kick(ReportJob)
    return made


def request(contract, month: dt.date, *, user) -> ReportJob:
    """A new version of the month's report asked for by hand; the worker generates it (:func:`run_job`)."""
    if services.version_for(contract, month) is None:
        raise services.ReportError(
            _("The contract has no service levels valid in %(month)s.") % {"month": f"{month:%m.%Y}"}
        )
    job = ReportJob.objects.create(
        contract=contract, month=services.first_of_month(month), trigger="manual", requested_by=user
    )
    durable.kick(ReportJob)
    return job


def run_job(job: ReportJob) -> MonthlyReport:
    """The worker's part: import the month's major incidents, then generate and store the report. A job run again
    (its worker was killed) that already stored its report does nothing more; a scheduled job whose month has a
    scheduled report already takes that one."""
    job = ReportJob.objects.select_related("contract", "report").get(pk=job.pk)
    if job.report is not None:
        return job.report
    if job.trigger == "schedule":
        done = MonthlyReport.objects.filter(contract=job.contract, month=job.month, trigger="schedule").first()
        if done is not None:
            ReportJob.objects.filter(pk=job.pk).update(report=done)
            return done
    services.import_major_incidents(job.contract, job.month, user=job.requested_by)
    return generate(job.contract, job.month, user=job.requested_by, trigger=job.trigger, job=job)
