from django.conf import settings

from kompass import __version__
from kompass.core import access
from kompass.core.models import Organisation


def kompass(request):
    """Organisation branding and the current user's reach, for the base layout."""
    user = getattr(request, "user", None)
    rules = access.access_for(user)
    return {
        "organisation": Organisation.current(),
        "kompass_version": __version__,
        "oidc_enabled": settings.OIDC_ENABLED,
        "user_access": rules,
        "can_manage_users": rules.is_admin,
        "can_view_audit_log": access.can_view_audit_log(user),
    }
