"""The default queue's worker generates the monthly reports (a durable row per report asked for) and computes the
scorecard's figures again when the page asks (a durable row per contract and month)."""

from kompass.core.durable import processor
from kompass.reports.models import ReportJob, ScorecardFigures


@processor(ReportJob, queue="default", batch_size=1)
def generate_report(job: ReportJob) -> None:
    from kompass.reports import report

    report.run_job(job)


@processor(ScorecardFigures, queue="default", batch_size=1)
def compute_scorecard(row: ScorecardFigures) -> None:
    from kompass.reports import services

    services.refresh_scorecard(row.contract, row.month)
