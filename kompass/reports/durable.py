"""The default queue's worker generates the monthly reports (a durable row per report asked for)."""

from kompass.core.durable import processor
from kompass.reports.models import ReportJob


@processor(ReportJob, queue="default", batch_size=1)
def generate_report(job: ReportJob) -> None:
    from kompass.reports import report

    report.run_job(job)
