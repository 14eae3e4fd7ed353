"""API throttling per token (or per session user, or per address for the anonymous)."""

from rest_framework.throttling import SimpleRateThrottle

from kompass.core.models import ApiToken


class TokenRateThrottle(SimpleRateThrottle):
    """One bucket per API token, else per signed-in user, else per client address (``anon`` rate).

    Rates are ``DEFAULT_THROTTLE_RATES["user"]`` and ``["anon"]``; counts live in Django's cache (per
    process with the default local-memory cache, shared with a shared cache backend).
    """

    scope = "user"

    def allow_request(self, request, view):
        self.scope = "user" if request.user and request.user.is_authenticated else "anon"
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view):
        if isinstance(request.auth, ApiToken):
            ident = f"token-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = f"anon-{self.get_ident(request)}"
        return self.cache_format % {"scope": self.scope, "ident": ident}
