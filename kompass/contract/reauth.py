"""Re-authentication before a party approves a protocol.

* **Local accounts** re-enter their password in the approval form itself (checked by
  :func:`kompass.contract.protocol.approve`).
* **Single sign-on** users have no usable password: they sign in again at the identity provider. The
  "sign in again" button starts an OpenID Connect request with ``prompt=login`` and ``max_age=0`` (the
  provider must ask for the credentials again rather than reuse its session) and marks the session as
  waiting for it; when that sign-in completes (Django's ``user_logged_in`` through the OIDC backend) the
  moment is stored in the session. For :data:`REAUTH_MAX_AGE` after it, the user may approve.

Kompass trusts the provider to honour ``prompt=login`` (Entra ID, Keycloak and ID-porten do); it does not
re-check the ID token's ``auth_time`` claim, which the OIDC backend in core does not keep.
"""

import time
from datetime import timedelta

from django.conf import settings
from django.contrib.auth import BACKEND_SESSION_KEY, user_logged_in
from django.dispatch import receiver
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.views import View

from kompass.contract.models import ApprovalProtocol
from kompass.core.views.generic import MatrixRequired

__all__ = ["REAUTH_MAX_AGE", "ProtocolReauthView", "needs_sso", "sso_reauthenticated"]

#: How long a fresh SSO sign-in allows approving.
REAUTH_MAX_AGE = timedelta(minutes=5)
SESSION_PENDING = "contract_reauth_pending"
SESSION_AT = "contract_reauth_at"


def needs_sso(user) -> bool:
    """The user has no password Kompass could check: they re-authenticate at the identity provider."""
    return not user.has_usable_password()


def sso_reauthenticated(request) -> bool:
    """Did this session complete an SSO sign-in with ``prompt=login`` less than :data:`REAUTH_MAX_AGE` ago?"""
    at = request.session.get(SESSION_AT) if hasattr(request, "session") else None
    return isinstance(at, int | float) and 0 <= time.time() - at <= REAUTH_MAX_AGE.total_seconds()


@receiver(user_logged_in, dispatch_uid="contract-reauth")
def _record_reauthentication(sender, request, user, **kwargs):
    session = getattr(request, "session", None)
    started = session.pop(SESSION_PENDING, None) if session is not None else None
    # Only a sign-in that completes soon after "sign in again" was pressed counts: an abandoned attempt must
    # not turn a later ordinary (silent) SSO sign-in into a re-authentication.
    if not isinstance(started, int | float) or not 0 <= time.time() - started <= REAUTH_MAX_AGE.total_seconds():
        return
    if "oidc" in (session.get(BACKEND_SESSION_KEY) or "").lower():
        session[SESSION_AT] = time.time()


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
        request.session.pop(SESSION_AT, None)
        request.GET = request.GET.copy()
        request.GET["next"] = protocol.get_absolute_url()
        return FreshSignIn.as_view()(request)
