"""API token authentication: ``Authorization: Token <key>``; only the key's hash is stored.

A revoked or expired token, or one of an inactive user, is refused (401). What the token may reach
is decided by its scopes in ``kompass.core.api.permissions``.
"""

from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from kompass.core import access
from kompass.core.models import ApiToken


class TokenAuthentication(authentication.BaseAuthentication):
    keyword = "Token"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).split()
        if not header or header[0].lower() != self.keyword.lower().encode():
            return None
        if len(header) != 2:
            raise exceptions.AuthenticationFailed(_("Invalid token header."))
        try:
            key = header[1].decode()
        except UnicodeError as exc:
            raise exceptions.AuthenticationFailed(_("Invalid token header.")) from exc
        # One query: the token, its user and the user's role assignments (an outer join: one row per assignment,
        # one row with no role for a user without any), so the permission check asks no roles query of its own.
        rows = list(
            ApiToken.objects.select_related("user")
            .filter(key_hash=ApiToken.hash_key(key))
            .annotate(_role=F("user__role_assignments__role"), _role_agency=F("user__role_assignments__agency_id"))
            .order_by()  # one token (the hash is unique): no ordering to compile
        )
        token = rows[0] if rows else None
        if token is None or not token.usable or not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("Invalid or expired token."))
        access.remember_roles(token.user, [(row._role, row._role_agency) for row in rows])
        now = timezone.now()
        if token.last_used is None or (now - token.last_used).total_seconds() > 60:
            ApiToken.objects.filter(pk=token.pk).update(last_used=now)
        return token.user, token

    def authenticate_header(self, request):
        return self.keyword


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "kompass.core.api.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "header", "name": "Authorization", "description": "`Token <key>`"}
