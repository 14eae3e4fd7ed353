"""Kompass's URLs with the OIDC routes, which kompass/urls.py adds only when SSO is configured at start-up."""

from django.urls import include, path

from kompass.urls import urlpatterns as kompass_urlpatterns

urlpatterns = [*kompass_urlpatterns, path("oidc/", include("mozilla_django_oidc.urls"))]
