"""Benchmark the core import machinery: read, validate (preview) and apply a 5,000-row specification.

    .venv/bin/python bench/import_bench.py                 # 5,000 rows, temporary SQLite database
    DATABASE_URL=postgres://... .venv/bin/python bench/import_bench.py --rows 5000

A synthetic requirement register (ID, text, chapter rows every 50 rows, status with Norwegian words, a
reference to a user by e-mail, a due date) is written with openpyxl, then each phase is timed on its own:
reading the sheet, building the preview (read + map + validate + diff), and applying (which reads and
validates again, checks the fingerprint and writes every row as a ``Service`` through ``Model.save()``,
so auditlog records each one, as a domain app's import would). A second run re-imports a revision
(10 % changed, 1 % removed, 1 % added) to time the diff path.

``read_sheet`` keeps the last few parsed files per process (by SHA-256): the cache is emptied after the
standalone read phase so that each preview reads its file cold, as an upload does; each apply then finds
the preview's read, as it does when the same worker serves the preview and the apply.
"""

import argparse
import datetime
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def setup_django(var_dir: str) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kompass.settings")
    os.environ.setdefault("KOMPASS_ENV", "test")
    os.environ["KOMPASS_VAR_DIR"] = var_dir
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def build_spec():
    from kompass.core.imports import Field, FieldType, ImportSpec, lookup_by
    from kompass.core.models import Service, User

    def existing(context):
        # Service has no status, owner or due date: the synthetic records report the values every row imports.
        owner = User.objects.get(email="eier@example.no")
        constant = {"status": "open", "owner": owner, "due": datetime.date(2027, 1, 31)}
        return {
            s["name"]: {"ref": s["name"], "text": s["description"], "chapter": s["owning_team"], **constant}
            for s in Service.objects.values("name", "description", "owning_team")
        }

    def apply(rows, diff, context):
        added = [Service(name=r.key, description=r.values["text"], owning_team=r.values["chapter"]) for r in diff.added]
        if context.get("bulk"):
            Service.objects.bulk_create(added, batch_size=1000)  # no auditlog entries: the ImportBatch records it
        else:
            for service in added:
                service.save()
        services = Service.objects.in_bulk([c.key for c in diff.changed], field_name="name")
        model_field = {"text": "description", "chapter": "owning_team"}
        for change in diff.changed:
            service = services[change.key]
            for field_change in change.fields:
                setattr(service, model_field[field_change.field], field_change.new)
            service.save()
        Service.objects.filter(name__in=diff.removed).update(active=False)

    statuses = [("open", "Open"), ("in_progress", "In progress"), ("done", "Done")]
    return ImportSpec(
        name="bench.requirement",
        fields=[
            Field("ref", "ID", FieldType.ID, required=True, synonyms=["Krav-ID"]),
            Field("text", "Text", required=True, synonyms=["Kravtekst"]),
            Field("chapter", "Chapter", synonyms=["Kapittel"]),
            Field("status", "Status", FieldType.CHOICE, choices=statuses, choice_synonyms={"open": ["Åpen"]}),
            Field(
                "owner",
                "Owner",
                FieldType.REFERENCE,
                synonyms=["Ansvarlig"],
                resolver=lookup_by(lambda context: User.objects.all(), "email"),
            ),
            Field("due", "Due", FieldType.DATE, synonyms=["Frist"]),
        ],
        key="ref",
        section_field="chapter",
        existing=existing,
        apply=apply,
    )


def make_rows(count: int, revision: int = 0):
    rows = [["Kravspesifikasjon"], [], ["Krav-ID", "Kravtekst", "Status", "Ansvarlig", "Frist"]]
    for n in range(count):
        if n % 50 == 0:
            rows.append([None, f"Kapittel {n // 50 + 1}"])
        if revision and n % 100 == 0:
            continue  # 1 % removed
        text = f"Leverandøren skal levere tjeneste {n} i henhold til avtalen, med dokumentert kvalitet."
        if revision and n % 10 == 1:
            text += " Revidert."
        rows.append([f"{n // 50 + 1}.{n % 50 + 1}", text, "Åpen", "eier@example.no", datetime.date(2027, 1, 31)])
    if revision:
        rows += [
            [f"900.{n}", "Nytt krav", "Åpen", "eier@example.no", datetime.date(2027, 1, 31)]
            for n in range(1, count // 100 + 1)
        ]
    return rows


def timed(label, results, function, *args, **kwargs):
    start = time.perf_counter()
    value = function(*args, **kwargs)
    results.append((label, time.perf_counter() - start))
    return value


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=5000)
    parser.add_argument("--bulk", action="store_true", help="apply with bulk_create (no per-row audit entries)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as var_dir:
        setup_django(var_dir)
        from django.db import connection

        from kompass.core.imports import apply_import, build_preview, read_sheet, reader
        from kompass.core.imports.export import columns_for, export_csv
        from kompass.core.imports.testing import make_xlsx
        from kompass.core.models import Service, User

        User.objects.get_or_create(email="eier@example.no", defaults={"full_name": "Eier"})
        spec = build_spec()
        results: list[tuple[str, float]] = []
        first = make_xlsx(make_rows(args.rows))
        timed("read .xlsx (openpyxl, merged-cell aware)", results, read_sheet, first, "krav.xlsx")
        reader._read_cache.clear()  # the preview reads cold, as after an upload
        preview = timed("preview: read + map + validate + diff", results, build_preview, first, "krav.xlsx", spec)
        assert preview.ok, preview.errors[:3]
        context = {"bulk": args.bulk}
        write = "bulk_create" if args.bulk else "save() each"
        summary = timed(f"apply: re-validate + write ({write})", results, apply_import, preview, spec, context)
        assert summary["added"] == args.rows and Service.objects.count() == args.rows

        revised = make_xlsx(make_rows(args.rows, revision=1))
        preview = timed("re-import preview with diff", results, build_preview, revised, "krav-v2.xlsx", spec)
        assert preview.ok, preview.errors[:3]
        counts = preview.diff.counts()
        timed("re-import apply", results, apply_import, preview, spec, context)

        rows = [{"ref": s.name, "text": s.description, "chapter": s.owning_team} for s in Service.objects.all()]
        csv_data = timed("export .csv", results, export_csv, columns_for(spec), rows)
        timed("preview .csv", results, build_preview, csv_data, "krav.csv", spec)

        total_first = sum(seconds for label, seconds in results[1:3])
        print(f"rows: {args.rows}; file {len(first) / 1e6:.2f} MB; database {connection.vendor}")
        print(f"re-import diff: {counts}")
        print(
            f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
            f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())}"
        )
        print()
        print("| phase | seconds |")
        print("|---|---:|")
        for label, seconds in results:
            print(f"| {label} | {seconds:.2f} |")
        print(f"| **upload to applied (preview + apply)** | **{total_first:.2f}** |")


if __name__ == "__main__":
    main()
