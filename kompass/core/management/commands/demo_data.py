"""``kompass demo-data``: load a realistic demo municipality (idempotent and deterministic).

Creates 50 agencies (15 districts, departments and municipal companies), about ten services, about
600 systems and about 300 contacts with every role, plus one demo login per role. Running it again with
the same seed changes nothing, and edits made in Kompass survive it (``--restore`` undoes them).
See ``kompass.core.demo`` for the data and how it is loaded.
"""

import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from kompass.core import demo
from kompass.core.models import Agency
from kompass.core.signals import demo_data_loaded


class Command(BaseCommand):
    help = "Load demo data: 50 agencies, services, ~600 systems, contacts for every role and demo logins."

    def add_arguments(self, parser):
        parser.add_argument("--seed", type=int, default=demo.DEFAULT_SEED, help="Random seed (default %(default)s).")
        parser.add_argument(
            "--password",
            default=None,
            help="Password of the demo logins (default: $KOMPASS_DEMO_PASSWORD or 'kompass-demo').",
        )
        parser.add_argument(
            "--organisation", default=None, help="Organisation name (default: the KOMPASS_ORGANISATION_NAME setting)."
        )
        parser.add_argument(
            "--restore",
            action="store_true",
            help="Also put existing demo rows back to their demo values (undoing edits made in Kompass).",
        )
        parser.add_argument("--quiet", action="store_true", help="Print only the demo logins.")
        parser.add_argument(
            "--allow-production",
            action="store_true",
            help="Load demo logins with a known password even when KOMPASS_ENV=production.",
        )

    def handle(self, *args, seed, password, organisation, restore, quiet, allow_production, **options):
        if getattr(settings, "PRODUCTION", False) and not allow_production:
            raise CommandError(
                "Refusing to load demo data (logins with a known password) in production; "
                "pass --allow-production if you really mean it."
            )
        password = password or os.environ.get("KOMPASS_DEMO_PASSWORD") or demo.DEFAULT_PASSWORD
        plan = demo.build_plan(seed)
        result = demo.load(plan, password=password, organisation_name=organisation, restore=restore)
        for _receiver, summary in demo_data_loaded.send(sender=self.__class__, seed=seed):
            if summary and not quiet:
                self.stdout.write(str(summary))

        if not quiet:
            self.stdout.write(f"Demo data (seed {seed}) loaded in {result.seconds:.1f} s.")
            width = max(len(k) for k in result.totals)
            for label, total in result.totals.items():
                created = result.created.get(label, 0)
                updated = result.updated.get(label, 0)
                self.stdout.write(f"  {label:<{width}}  {total:>5}   (+{created} new, {updated} updated)")
            links = ", ".join(f"+{result.created.get(k, 0)} {k}" for k in ("agency services", "system services"))
            self.stdout.write(f"  links: {links}")
            if not result.changed:
                self.stdout.write("  Nothing changed: the demo data was already in place.")
            self.stdout.write("")
        self.print_logins(password)

    def print_logins(self, password: str) -> None:
        names = dict(Agency.objects.values_list("short_code", "name"))
        rows = [("Role", "E-mail", "Password", "Agency")]
        for login in demo.DEMO_LOGINS:
            agencies = ", ".join(names.get(code, code) for code in login.agency_codes) or "(all)"
            if login.role == "vendor_integration":
                agencies = "(none: API only; cannot log in to the web UI)"
            if login.role is None:
                label = "Requester (agency employee, no role)"
                agencies = f"{names.get(login.home_agency, login.home_agency)} (own cases only)"
            else:
                label = str(login.role.label)
            rows.append((label, login.email, password, agencies))
        widths = [max(len(row[i]) for row in rows) for i in range(3)]
        self.stdout.write("Demo logins:")
        for i, row in enumerate(rows):
            line = "  " + "  ".join(cell.ljust(w) for cell, w in zip(row[:3], widths, strict=True)) + "  " + row[3]
            self.stdout.write(self.style.MIGRATE_HEADING(line) if i == 0 else line)
