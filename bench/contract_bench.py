"""Benchmark the contract register: importing a 5,000-row specification, generating the approval protocol.

    .venv/bin/python bench/contract_bench.py                  # temporary SQLite database
    .venv/bin/python bench/contract_bench.py --rows 5000 --protocol 297 5000

Import: an .xlsx requirement specification (title block, chapter rows every 50 rows, ID, text, kind,
verification method, milestone, status in Norwegian) is uploaded into a contract, previewed (read + map +
validate + diff) and applied through ``ImportBatch`` exactly as the import page does. Protocol: a protocol
with N requirements (a few deviations, evidence on some) is rendered (WeasyPrint) and PAdES-signed (pyHanko);
signing and rendering are timed apart.

Besides wall-clock seconds each phase reports ``cpu``, this process's CPU seconds (``time.process_time``;
SQLite runs in process) plus those of the child processes a long protocol is rendered in (``getrusage``):
on a shared, oversubscribed machine the wall clock mostly measures the others.
"""

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def setup_django(var_dir: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kompass.settings")
    os.environ.setdefault("KOMPASS_ENV", "test")
    os.environ["KOMPASS_VAR_DIR"] = var_dir
    os.environ.setdefault("DATABASE_URL", f"sqlite:///{var_dir}/bench.sqlite3")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def spec_rows(n: int) -> list[list]:
    rows = [
        ["Kravspesifikasjon, bilag 2"],
        [],
        ["Krav-ID", "Kravtekst", "Kravtype", "Verifiseringsmetode", "Milepæl", "Status"],
    ]
    statuses = ["Ikke påbegynt", "Pågår", "Klar", "Verifisert"]
    methods = ["Test", "Dokumentgjennomgang", "Demonstrasjon", "Inspeksjon", "Måling"]
    for i in range(n):
        if i % 50 == 0:
            rows.append([None, f"Kapittel {i // 50 + 1}"])
        rows.append(
            [
                f"{i // 50 + 1}.{i % 50 + 1}",
                f"Leverandøren skal levere funksjon nummer {i} i henhold til kundens rutiner og krav.",
                "Absolutt" if i % 3 else "Evaluert",
                methods[i % 5],
                "Driftsovertakelse" if i % 2 else "Etableringsperiodens slutt",
                statuses[i % 4],
            ]
        )
    return rows


def make_contract(name: str):
    from kompass.contract.models import Contract, Milestone

    contract = Contract.objects.create(name=name, vendor_name="Driftsleverandør AS", takeover_on=date(2026, 5, 1))
    Milestone.objects.create(contract=contract, name="Driftsovertakelse", kind="takeover", due_on=date(2026, 5, 1))
    Milestone.objects.create(contract=contract, name="Etableringsperiodens slutt", due_on=date(2026, 11, 1))
    return contract


def bench_import(rows: int, user) -> dict:
    from django.core.files.uploadedfile import SimpleUploadedFile

    from kompass.contract.imports import REQUIREMENTS, import_context
    from kompass.core.imports.models import ImportBatch
    from kompass.core.imports.testing import make_xlsx

    contract = make_contract(f"Importbenk {time.time_ns()}")
    data = make_xlsx(spec_rows(rows))
    context = import_context(contract, user)
    cpu = time.process_time()
    started = time.perf_counter()
    batch = ImportBatch.upload(
        SimpleUploadedFile("krav.xlsx", data), kind=REQUIREMENTS.name, scope=contract.import_scope
    )
    preview = batch.preview(REQUIREMENTS, context)
    previewed = time.perf_counter()
    assert preview.ok, preview.errors[:3]
    batch.apply(REQUIREMENTS, context, fingerprint=preview.fingerprint)
    applied = time.perf_counter()
    cpu = time.process_time() - cpu
    assert contract.requirements.count() == rows
    return {"preview": previewed - started, "apply": applied - previewed, "total": applied - started, "cpu": cpu}


def _cpu() -> float:
    """CPU seconds of this process and of its finished children (the protocol's rendering processes)."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return time.process_time() + children.ru_utime + children.ru_stime


def bench_protocol(n: int, user) -> dict:
    from kompass.contract import protocol as protocols
    from kompass.contract.models import ApprovalProtocol, Evidence, Requirement
    from kompass.core.pdf import sign_pdf

    contract = make_contract(f"Protokollbenk {time.time_ns()}")
    S = Requirement.Status
    Requirement.objects.bulk_create(
        [
            Requirement(
                contract=contract,
                requirement_id=f"{i // 40 + 1}.{i % 40 + 1}",
                position=i,
                chapter=f"{i // 40 + 1} Kapittel",
                text=f"Leverandøren skal sørge for at tjeneste {i} overvåkes og rapporteres hver måned.",
                status=S.DEVIATION if i % 37 == 0 else S.VERIFIED,
                remediation="Utbedres etter avtalt plan." if i % 37 == 0 else "",
                remediation_due_on=date(2026, 9, 1) if i % 37 == 0 else None,
                verification_method="test",
            )
            for i in range(n)
        ]
    )
    Evidence.objects.bulk_create(
        [
            Evidence(requirement=r, kind="case", title="Sak", case_reference=f"SAK-2026-{r.pk}", added_by=user)
            for r in contract.requirements.all()[: n // 5]
        ]
    )
    protocol = ApprovalProtocol.objects.create(contract=contract, version=1, created_by=user)
    cpu = _cpu()
    started = time.perf_counter()
    pdf = protocols.protocol_pdf(protocol)
    rendered = time.perf_counter()
    sign_pdf(pdf, reason="Benk", location="Oslo", field_name="kompass")
    signed = time.perf_counter()
    cpu = _cpu() - cpu
    return {
        "render": rendered - started,
        "sign": signed - rendered,
        "total": signed - started,
        "cpu": cpu,  # CPU seconds (this process and its children): what the work costs, whatever else runs
        "kb": len(pdf) // 1024,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--protocol", type=int, nargs="*", default=[297, 5000])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as var_dir:
        setup_django(var_dir)
        from kompass.core.models import User

        user = User.objects.create_user("bench@example.test", "x", full_name="Benk")
        runs = [bench_import(args.rows, user) for _ in range(args.repeat)]
        print(
            f"import {args.rows} rows (median of {args.repeat}):",
            {k: round(statistics.median(r[k] for r in runs), 2) for k in runs[0]},
        )
        for n in args.protocol:
            runs = [bench_protocol(n, user) for _ in range(args.repeat if n < 1000 else 1)]
            print(f"protocol {n} requirements:", {k: round(statistics.median(r[k] for r in runs), 2) for k in runs[0]})


if __name__ == "__main__":
    main()
