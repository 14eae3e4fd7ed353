"""Re-authentication before a party approves a protocol.

* **Local accounts** re-enter their password in the approval form itself (checked by
  :func:`kompass.contract.protocol.approve`).
* **Single sign-on** users have no usable password: they sign in again at the identity provider. The
  "sign in again" button starts an OpenID Connect request with ``prompt=login`` and ``max_age=0`` (the
  provider must ask for the credentials again rather than reuse its session) and notes in the session when
  it was pressed. The provider's callback (mozilla-django-oidc) verifies the new ID token (signature, nonce)
  and keeps it in the session (``OIDC_STORE_ID_TOKEN``). The user may approve only while that token says
  so itself: it belongs to the user, and its ``auth_time`` (when the person last typed their credentials at
  the provider; required when ``max_age`` is asked for, OpenID Connect Core §3.1.2.1) is no earlier than the
  button press and less than :data:`REAUTH_MAX_AGE` ago. A provider that ignores ``prompt=login`` and
  answers from its own session sends an old ``auth_time``, and the approval is refused.

The redirect back alone proves nothing: an already signed-in user is not even logged in again by the callback
(mozilla-django-oidc skips ``login()`` for the same user), so only the ID token tells.
"""

import time
from datetime import timedelta

import jwt
from django.conf import settings
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.views import View

from kompass.contract.models import ApprovalProtocol
from kompass.core.views.generic import MatrixRequired

__all__ = ["CLOCK_SKEW", "REAUTH_MAX_AGE", "ProtocolReauthView", "id_token_claims", "needs_sso", "sso_reauthenticated"]

#: How long a fresh SSO sign-in allows approving.
REAUTH_MAX_AGE = timedelta(minutes=5)
#: How far the provider's clock may be behind ours.
CLOCK_SKEW = timedelta(seconds=30)
SESSION_PENDING = "contract_reauth_pending"
#: Where mozilla-django-oidc keeps the last verified ID token (with ``OIDC_STORE_ID_TOKEN = True``).
SESSION_ID_TOKEN = "oidc_id_token"


def needs_sso(user) -> bool:
    """The user has no password Kompass could check: they re-authenticate at the identity provider."""
    return not user.has_usable_password()


def id_token_claims(request) -> dict:
    """The claims of the ID token the OIDC callback verified and stored in this session ({} if none).

    Its signature and nonce were checked by the OIDC backend when it was stored; the session lives on the
    server, so only that callback writes it.
    """
    token = request.session.get(SESSION_ID_TOKEN) if hasattr(request, "session") else None
    if not isinstance(token, str) or not token:
        return {}
    try:
        claims = jwt.decode(token, options={"verify_signature": False})
    except jwt.PyJWTError:
        return {}
    return claims if isinstance(claims, dict) else {}


def _is_users_token(claims: dict, user) -> bool:
    email = str(claims.get("email") or claims.get("preferred_username") or "").lower()
    subject = str(claims.get("sub") or "")
    return bool(email and email == (user.email or "").lower()) or bool(
        subject and subject == (getattr(user, "external_id", "") or "")
    )


def sso_reauthenticated(request) -> bool:
    """Did the user type their credentials at the provider after pressing "sign in again", less than
    :data:`REAUTH_MAX_AGE` ago, by the ``auth_time`` of the ID token the callback verified?"""
    session = getattr(request, "session", None)
    started = session.get(SESSION_PENDING) if session is not None else None
    user = getattr(request, "user", None)
    if not isinstance(started, int | float) or user is None or not user.is_authenticated:
        return False
    claims = id_token_claims(request)
    auth_time = claims.get("auth_time")
    if isinstance(auth_time, bool) or not isinstance(auth_time, int | float) or not _is_users_token(claims, user):
        return False
    now = time.time()
    return (
        auth_time >= started - CLOCK_SKEW.total_seconds()
        and -CLOCK_SKEW.total_seconds() <= now - auth_time <= REAUTH_MAX_AGE.total_seconds()
    )


class ProtocolReauthView(MatrixRequired, View):
    """Start the SSO re-authentication for approving ``pk``; the provider sends the user back to the protocol."""

    queryset = ApprovalProtocol.objects.all()
    required_action = "approve"

    def get(self, request, pk):
        if not getattr(settings, "OIDC_ENABLED", False):
            raise Http404
        protocol = get_object_or_404(ApprovalProtocol.objects.restrict(request.user, "approve"), pk=pk)
        from mozilla_django_oidc.views import OIDCAuthenticationRequestView  # needs the OIDC settings

        class FreshSignIn(OIDCAuthenticationRequestView):
            def get_extra_params(self, request):
                return {**super().get_extra_params(request), "prompt": "login", "max_age": "0"}

        request.session[SESSION_PENDING] = time.time()
        request.GET = request.GET.copy()
        request.GET["next"] = protocol.get_absolute_url()
        return FreshSignIn.as_view()(request)
