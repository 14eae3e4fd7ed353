"""The cases app's API routes (gathered under /api/ by kompass/urls.py)."""

from rest_framework.routers import SimpleRouter

from kompass.cases.api import views

router = SimpleRouter()
router.register("cases", views.CaseViewSet)

urlpatterns = router.urls
