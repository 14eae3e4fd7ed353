from django.core.management.base import BaseCommand, CommandError

from kompass.core.pdf.certificates import SigningNotConfigured, certificate_summary, get_signing_identity


class Command(BaseCommand):
    help = (
        "Show the certificate Kompass signs PDFs with (subject, fingerprint, validity). Without "
        "KOMPASS_SIGNING_* settings (and outside production), create the demo certificate in var/signing/ first."
    )

    def handle(self, **options):
        try:
            identity = get_signing_identity()
        except SigningNotConfigured as exc:
            raise CommandError(str(exc)) from exc
        summary = certificate_summary(identity.certificate)
        self.stdout.write(f"Kind:        {'demo (self-signed, not for production)' if identity.demo else 'configured'}")
        self.stdout.write(f"Subject:     {summary['subject']}")
        self.stdout.write(f"Issuer:      {summary['issuer']}")
        self.stdout.write(f"SHA-256:     {summary['fingerprint_sha256']}")
        self.stdout.write(f"Valid from:  {summary['not_before']}")
        self.stdout.write(f"Valid until: {summary['not_after']}")
