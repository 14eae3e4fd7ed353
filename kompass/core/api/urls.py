"""Core's API routes; ``kompass/urls.py`` gathers every app's ``api/urls.py`` under ``/api/``."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import SimpleRouter

from kompass.core.api import views

router = SimpleRouter()
router.register("agencies", views.AgencyViewSet)
router.register("services", views.ServiceViewSet)
router.register("systems", views.SystemViewSet)
router.register("users", views.UserViewSet)

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("", include(router.urls)),
]
