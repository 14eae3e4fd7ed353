"""Security headers Django 5.2 does not set itself."""

from django.conf import settings

DEFAULT_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; font-src 'self'; "
    "connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'; object-src 'none'"
)


class ContentSecurityPolicyMiddleware:
    """Send a strict Content-Security-Policy: no inline scripts or styles, nothing from other hosts."""

    def __init__(self, get_response):
        self.get_response = get_response
        self.policy = getattr(settings, "KOMPASS_CSP", DEFAULT_CSP)

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy and "Content-Security-Policy" not in response:
            response["Content-Security-Policy"] = self.policy
        response.setdefault("Permissions-Policy", "camera=(), microphone=(), geolocation=()")
        return response


class IntegrationAccountSessionMiddleware:
    """Integration accounts never hold a web session: one that somehow has one is logged out.

    Their login is refused by the login form and by single sign-on; this also covers a session made
    before the account got the integration role, and closes the session API to them.
    """

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.contrib.auth import logout

        from kompass.core import access

        if access.is_integration_account(getattr(request, "user", None)):
            logout(request)
        return self.get_response(request)
