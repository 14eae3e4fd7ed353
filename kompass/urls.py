from importlib.util import find_spec

from django.apps import apps
from django.conf import settings
from django.contrib import admin
from django.urls import include, path


def _has_module(name: str) -> bool:
    try:
        return find_spec(name) is not None
    except ModuleNotFoundError:  # a parent package (``<app>.api``) is missing
        return False


def _app_urls(module: str) -> list:
    """``include()``s of ``<app>.<module>`` for every installed Kompass app that has one, core first.

    A new app adds its pages (``urls.py``, under ``/<label>/``) and API routes (``api/urls.py``, under
    ``/api/``) without editing core or this file.
    """
    found = []
    for config in apps.get_app_configs():
        if config.name.startswith("kompass.") and _has_module(f"{config.name}.{module}"):
            found.append(f"{config.name}.{module}")
    return sorted(found, key=lambda name: name != f"kompass.core.{module}")


def _api_patterns() -> list:
    patterns = []
    for name in _app_urls("api.urls"):
        patterns.append(path("", include(name)))
    return patterns


urlpatterns = [
    path("", include("kompass.core.urls")),
    *[path(f"{name.split('.')[1]}/", include(name)) for name in _app_urls("urls") if name != "kompass.core.urls"],
    path("api/", include((_api_patterns(), "api"))),
    path("i18n/", include("django.conf.urls.i18n")),
    path("django-admin/", admin.site.urls),
]

if settings.OIDC_ENABLED:
    urlpatterns.append(path("oidc/", include("mozilla_django_oidc.urls")))

handler400 = "kompass.core.views.errors.bad_request"
handler403 = "kompass.core.views.errors.permission_denied"
handler404 = "kompass.core.views.errors.page_not_found"
handler500 = "kompass.core.views.errors.server_error"
