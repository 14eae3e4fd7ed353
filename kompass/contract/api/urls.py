"""The contract app's API routes (gathered under /api/ by kompass/urls.py)."""

from rest_framework.routers import SimpleRouter

from kompass.contract.api import views

router = SimpleRouter()
router.register("contracts", views.ContractViewSet)
router.register("requirements", views.RequirementViewSet)
router.register("approval-protocols", views.ProtocolViewSet)

urlpatterns = router.urls
