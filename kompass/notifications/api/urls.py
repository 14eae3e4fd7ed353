"""The notifications app's API routes (gathered under /api/ by kompass/urls.py)."""

from rest_framework.routers import SimpleRouter

from kompass.notifications.api import views

router = SimpleRouter()
router.register("notifications", views.NotificationViewSet)
router.register("notification-deliveries", views.DeliveryViewSet)

urlpatterns = router.urls
