"""``kompass create_api_token``: issue an API token and print its key once (only a hash is stored).

    kompass create_api_token --user integrasjon@kommune.example --name "vendor webhook" \\
        --scope vendors:webhook --scope core:read --expires 90d
    kompass create_api_token admin@kommune.example "reporting script" --days 30   # the older form
"""

import re
from datetime import timedelta

from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from kompass.core import access
from kompass.core.models import ApiToken, User

SCOPE = re.compile(r"^[a-z][a-z0-9_]*:[a-z][a-z0-9_]*$")
DURATION = re.compile(r"^(\d+)([dhw]?)$")
UNITS = {"": "days", "d": "days", "h": "hours", "w": "weeks"}


def parse_expiry(value: str) -> timedelta | None:
    """``90d``, ``12h``, ``2w`` or a plain number of days; ``0`` or ``never``: no expiry."""
    if value in {"0", "never"}:
        return None
    match = DURATION.match(value.strip())
    if not match:
        raise CommandError(f"Cannot read the expiry {value!r}: use e.g. 90d, 12h, 2w or never.")
    return timedelta(**{UNITS[match.group(2)]: int(match.group(1))})


class Command(BaseCommand):
    help = "Create an API token for a user and print its key once (only a hash is stored)."

    def add_arguments(self, parser):
        parser.add_argument("email", nargs="?", help="The token's user (or --user).")
        parser.add_argument("name", nargs="?", help="What the token is for, e.g. 'reporting script' (or --name).")
        parser.add_argument("--user", dest="user_email", help="The token's user, by e-mail.")
        parser.add_argument("--name", dest="token_name", help="What the token is for.")
        parser.add_argument(
            "--scope",
            action="append",
            default=[],
            help="A scope such as core:read, core:write or vendors:webhook; repeat for more. "
            "Default for people: read and write on every app. Integration accounts must name theirs.",
        )
        parser.add_argument("--expires", default=None, help="When it expires: 90d, 12h, 2w or never.")
        parser.add_argument("--days", type=int, default=365, help="Days until the token expires (0: never).")

    def handle(self, email, name, user_email, token_name, scope, expires, days, **options):
        email = user_email or email
        name = token_name or name
        if not email or not name:
            raise CommandError("Name the user (--user or first argument) and the token (--name or second argument).")
        user = User.objects.filter(email__iexact=email, is_active=True).first()
        if user is None:
            raise CommandError(f"No active user with e-mail {email}.")
        for value in scope:
            if not SCOPE.match(value):
                raise CommandError(f"{value!r} is not a scope; write app:name, such as core:read.")
        if access.is_integration_account(user) and not scope:
            raise CommandError("An integration account's token must name its scopes (--scope vendors:webhook).")
        lifetime = parse_expiry(expires) if expires is not None else (timedelta(days=days) if days > 0 else None)
        _token, key = ApiToken.issue(
            user, name, expires=timezone.now() + lifetime if lifetime else None, scopes=scope or None
        )
        self.stdout.write(key)
