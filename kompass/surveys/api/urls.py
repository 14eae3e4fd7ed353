"""The surveys app's API routes (gathered under /api/ by kompass/urls.py)."""

from django.urls import path
from rest_framework.routers import SimpleRouter

from kompass.surveys.api import views

router = SimpleRouter()
router.register("survey-templates", views.TemplateViewSet)
router.register("survey-campaigns", views.CampaignViewSet)
router.register("survey-actions", views.ActionViewSet)
router.register("survey-meetings", views.MeetingViewSet)

urlpatterns = [path("survey-results/", views.ResultListView.as_view(), name="survey_results"), *router.urls]
