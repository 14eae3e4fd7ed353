from django.conf import settings

from kompass import __version__
from kompass.core import navigation
from kompass.core.models import Organisation


def kompass(request):
    """Organisation branding and the menu items the current user may open, for the base layout."""
    return {
        "organisation": Organisation.current(),
        "kompass_version": __version__,
        "oidc_enabled": settings.OIDC_ENABLED,
        "navigation": navigation.items_for(request),
    }
