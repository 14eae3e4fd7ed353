"""The vendors app's API routes (gathered under /api/ by kompass/urls.py; core is not edited)."""

from rest_framework.routers import SimpleRouter

from kompass.vendors.api import views

router = SimpleRouter()
router.register("vendor-connections", views.VendorConnectionViewSet)

urlpatterns = router.urls
