"""The reports app's API routes (gathered under /api/ by kompass/urls.py)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from kompass.reports.api import views

router = SimpleRouter()
router.register("sla-versions", views.LevelVersionViewSet)
router.register("sla-case-levels", views.CaseLevelViewSet)
router.register("sla-availability-levels", views.AvailabilityLevelViewSet)
router.register("sla-outages", views.OutageViewSet)
router.register("sla-exclusions", views.ExclusionViewSet)
router.register("sla-statements", views.StatementViewSet)
router.register("sla-statement-lines", views.StatementLineViewSet)
router.register("sla-disputes", views.DisputeViewSet)
router.register("sla-reports", views.MonthlyReportViewSet)

urlpatterns = [path("sla-measurements/", views.MeasurementListView.as_view(), name="sla_measurements"), *router.urls]
