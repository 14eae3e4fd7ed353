from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView
from rest_framework.routers import DefaultRouter

from kompass.core.api import views

app_name = "api"

router = DefaultRouter()
router.register("agencies", views.AgencyViewSet)
router.register("services", views.ServiceViewSet)
router.register("systems", views.SystemViewSet)
router.register("users", views.UserViewSet)

urlpatterns = [
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("", include(router.urls)),
]
