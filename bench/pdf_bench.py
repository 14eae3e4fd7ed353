"""Benchmark of PDF rendering and signing (kompass.core.pdf): a 297- and a 5,000-row protocol-like document.

    .venv/bin/python bench/pdf_bench.py [--rows 297 5000] [--repeat 3] [--lang nb] [--keep DIR]

Each document is the generic ``core/pdf/table.html`` with six columns per requirement (id, a two-line
requirement text with Norwegian letters, status, owner, milestone, a comment), fixed column widths, and
two signature slots, as the approval protocol will have. Per size it times, in one warm process:
render (WeasyPrint, tagged PDF/UA-1), sign (pyHanko PAdES-B-B with the demo certificate and a DejaVu Sans
stamp), a second signature (incremental), and validating both. Prints wall and CPU seconds, best and median
of ``--repeat`` rounds (the first round of the process, which loads fonts and parses the stylesheets, is
reported separately as "cold"). No database: the organisation is passed in the context.
Targets (mission, capability 4): protocol for 297 requirements < 3 s, for 5,000 < 30 s.
"""

from __future__ import annotations

import argparse
import os
import platform
import statistics
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kompass.settings")
os.environ.setdefault("KOMPASS_VAR_DIR", tempfile.mkdtemp(prefix="kompass-pdf-bench-"))

import django  # noqa: E402

django.setup()

from io import BytesIO  # noqa: E402

from django.test import override_settings  # noqa: E402
from pyhanko.pdf_utils.reader import PdfFileReader  # noqa: E402

from kompass.core.models import Organisation  # noqa: E402
from kompass.core.pdf.certificates import ensure_demo_certificate, get_signing_identity  # noqa: E402
from kompass.core.pdf.render import render_pdf  # noqa: E402
from kompass.core.pdf.sign import sign_pdf, validate_pdf  # noqa: E402

STATUSES = ["Godkjent", "Godkjent med avvik", "Under verifisering", "Ikke godkjent"]
MILESTONES = ["Ved driftsovertakelse", "Ved slutten av etableringsperioden"]


def context(rows: int) -> dict:
    return {
        "organisation": Organisation(name="Oslo kommune"),
        "title": f"Godkjenningsprotokoll – {rows} krav",
        "intro": "Protokollen viser status for hvert krav i kravspesifikasjonen ved slutten av etableringsperioden.",
        "caption": "Krav",
        "columns": ["ID", "Krav", "Status", "Eier", "Milepæl", "Kommentar"],
        "widths": ["8%", "34%", "12%", "12%", "14%", "20%"],
        "rows": [
            [
                f"K-{i:04d}",
                f"Leverandøren skal sørge for at tjeneste {i} overvåkes døgnet rundt og at avvik "
                "meldes til kundens tjenesteeier innen fastsatt frist.",
                STATUSES[i % len(STATUSES)],
                f"Tjenesteeier {i % 37}",
                MILESTONES[i % 2],
                "Verifisert ved gjennomgang av rapporter for tre måneder; ingen åpne avvik." if i % 3 else "",
            ]
            for i in range(rows)
        ],
        "signature_slots": [("customer", "For kunden"), ("vendor", "For leverandøren")],
    }


def timed(function):
    wall, cpu = time.perf_counter(), time.process_time()
    result = function()
    return result, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[297, 5000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--lang", default="nb")
    parser.add_argument("--keep", type=Path, help="write the signed PDFs into this directory")
    args = parser.parse_args()

    signing_dir = Path(os.environ["KOMPASS_VAR_DIR"]) / "signing"
    ensure_demo_certificate(signing_dir, "Oslo kommune")
    with override_settings(KOMPASS_SIGNING_DIR=signing_dir, KOMPASS_SIGNING_KEY_FILE="", KOMPASS_SIGNING_CERT_FILE=""):
        identity = get_signing_identity()
    print(
        f"# {platform.python_implementation()} {platform.python_version()}, {os.cpu_count()} CPUs, "
        f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
    )

    _, cold, cold_cpu = timed(partial(render_pdf, "core/pdf/table.html", context(10), lang=args.lang))
    print(f"cold start (first render in the process, 10 rows): {cold:.2f} s wall, {cold_cpu:.2f} s CPU")
    print("| rows | pages | size | render | sign | 2nd sign | validate both | render + sign (wall) | CPU |")
    print("|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
    for rows in args.rows:
        rounds = []
        for _ in range(args.repeat):
            pdf, render_wall, render_cpu = timed(
                partial(render_pdf, "core/pdf/table.html", context(rows), lang=args.lang)
            )
            sign = partial(sign_pdf, signer=identity, reason="Godkjent", location="Oslo")
            signed, sign_wall, sign_cpu = timed(partial(sign, pdf, field_name="customer"))
            twice, second_wall, _ = timed(partial(sign, signed, field_name="vendor"))
            result, validate_wall, _ = timed(partial(validate_pdf, twice, identity.trust_roots))
            assert result.bottom_line, result
            rounds.append(
                (render_wall, sign_wall, second_wall, validate_wall, render_wall + sign_wall, render_cpu + sign_cpu)
            )
        pages = int(PdfFileReader(BytesIO(twice)).root["/Pages"]["/Count"])
        best = [min(column) for column in zip(*rounds, strict=True)]
        median = [statistics.median(column) for column in zip(*rounds, strict=True)]
        cells = " | ".join(f"{b:.2f} ({m:.2f})" for b, m in zip(best, median, strict=True))
        print(f"| {rows} | {pages} | {len(twice) / 1e6:.1f} MB | {cells} |")
        if args.keep:
            args.keep.mkdir(parents=True, exist_ok=True)
            (args.keep / f"protocol-{rows}.pdf").write_bytes(twice)
    print("Seconds; best (median) of", args.repeat, "rounds.")


if __name__ == "__main__":
    main()
