from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from kompass.core.models import ApiToken, User


class Command(BaseCommand):
    help = "Create an API token for a user and print its key once (only a hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("email")
        parser.add_argument("name", help="What the token is for, e.g. 'reporting script'.")
        parser.add_argument("--days", type=int, default=365, help="Days until the token expires (0: never).")

    def handle(self, email, name, days, **options):
        user = User.objects.filter(email__iexact=email, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user with e-mail {email}.")
        expires = timezone.now() + timedelta(days=days) if days > 0 else None
        _token, key = ApiToken.issue(user, name, expires=expires)
        self.stdout.write(key)
