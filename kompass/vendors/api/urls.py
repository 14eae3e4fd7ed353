"""The vendors app's API routes (gathered under /api/ by kompass/urls.py; core is not edited)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from kompass.vendors.api import views

router = SimpleRouter()
router.register("vendor-connections", views.VendorConnectionViewSet)

urlpatterns = [
    path("vendors/webhooks/<int:pk>/", views.WebhookView.as_view(), name="vendors-webhook"),
    path("vendors/health/", views.HealthView.as_view(), name="vendors-health"),
    *router.urls,
]
