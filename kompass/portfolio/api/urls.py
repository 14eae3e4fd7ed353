"""The portfolio's API routes (gathered under /api/ by kompass/urls.py)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from kompass.portfolio.api import views

router = SimpleRouter()
router.register("portfolio/profiles", views.SystemProfileViewSet)
router.register("portfolio/infrastructure", views.InfrastructureItemViewSet)
router.register("portfolio/external-parties", views.ExternalPartyViewSet)
router.register("portfolio/data-sets", views.DataSetViewSet)
router.register("portfolio/integrations", views.IntegrationViewSet)
router.register("portfolio/decisions", views.GovernanceDecisionViewSet)
router.register("portfolio/waves", views.MigrationWaveViewSet)
router.register("portfolio/transformations", views.TransformationViewSet)
router.register("portfolio/burn-down", views.BurnDownViewSet, basename="portfolio-burn-down")

router.register("portfolio/catalogue", views.CatalogueViewSet, basename="portfolio-catalogue")

urlpatterns = [
    *router.urls,
    path("portfolio/map/", views.PortfolioMapView.as_view(), name="portfolio-map-list"),
]
