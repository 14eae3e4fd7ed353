"""Single sign-on through OpenID Connect (e.g. Entra ID), mapping a role claim to Kompass roles.

The identity provider sends the user's app roles (or groups) in a claim, ``roles`` by default.
Each value names a Kompass role, optionally with an agency short code after a colon:

    ``administrator``, ``agreement_manager``, ``service_desk_agent``, ``vendor_integration``,
    ``agency_it_contact:BYD-GRU``, ``system_owner:UKE``, ``agency_admin:UKE``,
    ``key_account_manager:BYD-FRO``

Values Kompass doesn't know are ignored. On every login the SSO-managed assignments are
replaced by those in the claim; assignments made by hand in Kompass are kept.
"""

import logging

from django.conf import settings
from django.contrib import messages
from django.db import transaction
from mozilla_django_oidc.auth import OIDCAuthenticationBackend

from kompass.core import access
from kompass.core.models import Agency, RoleAssignment
from kompass.core.roles import AGENCY_SCOPED_ROLES, GLOBAL_ROLES, Role

logger = logging.getLogger(__name__)


def parse_role_claim(values) -> set[tuple[str, str | None]]:
    """Turn claim values into (role, agency short code or None) pairs; drop what is not a role."""
    if isinstance(values, str):
        values = [values]
    result: set[tuple[str, str | None]] = set()
    valid = {r.value for r in Role}
    for raw in values or []:
        if not isinstance(raw, str):
            continue
        role, _sep, code = raw.strip().partition(":")
        role = role.strip().lower()
        code = code.strip().upper() or None
        if role not in valid:
            continue
        if role in AGENCY_SCOPED_ROLES and not code:
            continue
        if role in GLOBAL_ROLES:
            code = None
        result.add((role, code))
    return result


def sync_roles_from_claims(user, claims: dict) -> None:
    """Replace the user's roles by those named in the configured claim."""
    wanted = parse_role_claim(claims.get(settings.OIDC_ROLES_CLAIM, []))
    codes = {code for _role, code in wanted if code}
    agencies = {a.short_code: a for a in Agency.objects.filter(short_code__in=codes)}
    with transaction.atomic():
        RoleAssignment.objects.filter(user=user).delete()
        for role, code in sorted(wanted, key=lambda pair: (pair[0], pair[1] or "")):
            if code and code not in agencies:
                logger.warning("SSO role claim names unknown agency code; ignored")
                continue
            RoleAssignment.objects.create(user=user, role=role, agency=agencies.get(code) if code else None)


class KompassOIDCBackend(OIDCAuthenticationBackend):
    """Find users by e-mail (case-insensitive), keep their name fresh and map roles from claims.

    Integration accounts are refused, as on the local login form: they use API tokens only.
    """

    def get_or_create_user(self, access_token, id_token, payload):
        user = super().get_or_create_user(access_token, id_token, payload)
        if user is not None and access.is_integration_account(user):
            from kompass.core.views.auth import INTEGRATION_LOGIN_REFUSED

            if getattr(self, "request", None) is not None:
                messages.error(self.request, INTEGRATION_LOGIN_REFUSED)
            return None
        return user

    def filter_users_by_claims(self, claims):
        email = (claims.get("email") or claims.get("preferred_username") or "").lower()
        if not email:
            return self.UserModel.objects.none()
        return self.UserModel.objects.filter(email__iexact=email)

    def create_user(self, claims):
        email = (claims.get("email") or claims.get("preferred_username") or "").lower()
        user = self.UserModel.objects.create_user(
            email=email, full_name=claims.get("name", ""), external_id=claims.get("sub", "")
        )
        user.set_unusable_password()
        user.save(update_fields=["password"])
        sync_roles_from_claims(user, claims)
        return user

    def update_user(self, user, claims):
        user.full_name = claims.get("name", user.full_name)
        user.external_id = claims.get("sub", user.external_id)
        user.save(update_fields=["full_name", "external_id"])
        sync_roles_from_claims(user, claims)
        return user
