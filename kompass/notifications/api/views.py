from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.response import Response

from kompass.core.api.viewsets import RestrictedReadOnlyModelViewSet
from kompass.notifications import services
from kompass.notifications.api.serializers import DeliverySerializer, MarkedSerializer, NotificationSerializer
from kompass.notifications.filtersets import DeliveryFilterSet, NotificationFilterSet
from kompass.notifications.models import Delivery, Notification


class NotificationViewSet(RestrictedReadOnlyModelViewSet):
    """My in-app notifications, newest first (always one's own, administrators' too)."""

    queryset = Notification.objects.all()
    serializer_class = NotificationSerializer
    filterset_class = NotificationFilterSet

    def get_queryset(self):
        return super().get_queryset().filter(recipient=self.request.user)

    @extend_schema(request=None, responses=NotificationSerializer)
    @action(detail=True, methods=["post"], access_action="change")
    def read(self, request, pk=None):
        """Mark this notification read."""
        notification = services.mark_read(self.get_object(), user=request.user)
        return Response(NotificationSerializer(notification).data)

    @extend_schema(request=None, responses=MarkedSerializer)
    @action(detail=False, methods=["post"], url_path="read-all", access_action="change")
    def read_all(self, request):
        """Mark all my notifications read; answers how many were unread."""
        return Response({"marked": services.mark_all_read(request.user)})


class DeliveryViewSet(RestrictedReadOnlyModelViewSet):
    """The delivery ledger (administrators), read-only, with a retry for dead rows."""

    queryset = Delivery.objects.select_related("content_type")
    serializer_class = DeliverySerializer
    filterset_class = DeliveryFilterSet

    @extend_schema(request=None, responses={200: DeliverySerializer, 409: None})
    @action(detail=True, methods=["post"], access_action="retry")
    def retry(self, request, pk=None):
        """Give a dead delivery a new set of attempts (409 if it is not dead)."""
        delivery = self.get_object()
        if delivery.state != Delivery.State.DEAD:
            return Response({"detail": _("Only a failed delivery can be retried.")}, status=status.HTTP_409_CONFLICT)
        services.retry([delivery])
        delivery.refresh_from_db()
        return Response(DeliverySerializer(delivery).data)
