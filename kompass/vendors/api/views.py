import json

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import AuthenticationFailed, NotFound, PermissionDenied
from rest_framework.response import Response
from rest_framework.views import APIView

from kompass.core.api.viewsets import RestrictedReadOnlyModelViewSet
from kompass.vendors import conf, health, sync
from kompass.vendors.api.serializers import VendorConnectionSerializer
from kompass.vendors.models import InboxEvent, VendorConnection, VendorLink
from kompass.vendors.webhooks import verify_signature


class VendorConnectionViewSet(RestrictedReadOnlyModelViewSet):
    """Vendor connections, read-only (administrators and agreement managers, by the matrix)."""

    queryset = VendorConnection.objects.all()
    serializer_class = VendorConnectionSerializer
    filterset_fields = ["kind", "active"]
    ordering_fields = ["name"]


class WebhookView(APIView):
    """``POST /api/vendors/webhooks/<connection>/``: the vendor's business rule pushes a change here.

    Authenticated twice: the integration account's token (scope ``vendors:webhook``) and an HMAC-SHA256 over
    ``<timestamp>.<raw body>`` with the connection's webhook secret, the timestamp within the replay window.
    The raw event is stored in the inbox and answered at once (202); a worker applies it later.
    """

    access_model = InboxEvent
    integration_scopes = {"write": "vendors:webhook"}
    token_scopes = {"write": "vendors:webhook"}
    http_method_names = ["post"]

    @extend_schema(
        request=OpenApiTypes.OBJECT,
        responses={
            202: inline_serializer("WebhookStored", {"stored": serializers.BooleanField()}),
            400: OpenApiResponse(description="Not JSON, or no sys_id."),
            401: OpenApiResponse(description="No token, or a bad or stale signature."),
            403: OpenApiResponse(description="The token lacks the vendors:webhook scope, or no secret is set."),
            404: OpenApiResponse(description="No such active connection."),
        },
        summary="A vendor's push (HMAC-signed); stored in the inbox, applied later",
    )
    def post(self, request, pk):
        connection = VendorConnection.objects.filter(pk=pk, active=True).first()
        if connection is None:
            raise NotFound()
        secret = connection.webhook_secret()
        if not secret:
            raise PermissionDenied("This connection has no webhook secret configured.")
        body = request.body
        if not verify_signature(
            secret,
            request.headers.get("X-Snowsim-Timestamp"),
            body,
            request.headers.get("X-Snowsim-Signature"),
            tolerance_s=conf.webhook_window_seconds(),
        ):
            raise AuthenticationFailed("Bad or stale signature.")
        try:
            payload = json.loads(body)
        except ValueError:
            return Response({"detail": "The body is not JSON."}, status=status.HTTP_400_BAD_REQUEST)
        if not isinstance(payload, dict) or not payload.get("sys_id"):
            return Response({"detail": "No sys_id."}, status=status.HTTP_400_BAD_REQUEST)
        event_id = request.headers.get("X-Snowsim-Event-Id") or str(payload.get("event_id", ""))
        stored = sync.record_event(connection, payload, source=InboxEvent.Source.WEBHOOK, event_id=event_id)
        VendorConnection.objects.filter(pk=connection.pk).update(last_webhook_at=timezone.now())
        return Response({"stored": stored}, status=status.HTTP_202_ACCEPTED)


class HealthView(APIView):
    """``GET /api/vendors/health/``: the integration health numbers (agents, agreement managers, admins)."""

    access_model = VendorLink
    token_scopes = {"read": "vendors:read"}

    @extend_schema(responses={200: OpenApiTypes.OBJECT}, summary="Integration health numbers")
    def get(self, request):
        return Response(health.snapshot())
