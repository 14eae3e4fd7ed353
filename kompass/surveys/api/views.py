"""The surveys API: templates, campaigns, results (under the small-group rule), actions, meetings."""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.decorators import action
from rest_framework.generics import ListAPIView
from rest_framework.response import Response

from kompass.core import access
from kompass.core.api.viewsets import RestrictedModelViewSet, RestrictedReadOnlyModelViewSet
from kompass.surveys import services
from kompass.surveys.api.serializers import (
    ActionSerializer,
    CampaignSerializer,
    CloseActionSerializer,
    MeetingSerializer,
    ResultFigureSerializer,
    TemplateSerializer,
)
from kompass.surveys.models import Action, Campaign, Meeting, ResultCell, SurveyTemplate


class TemplateViewSet(RestrictedReadOnlyModelViewSet):
    queryset = SurveyTemplate.objects.prefetch_related("questions").order_by("name", "-version")
    serializer_class = TemplateSerializer


class CampaignViewSet(RestrictedReadOnlyModelViewSet):
    queryset = Campaign.objects.order_by("-period", "-pk")
    serializer_class = CampaignSerializer


class ActionViewSet(RestrictedModelViewSet):
    """Follow-up actions; ``POST …/close/`` closes one with a note."""

    queryset = Action.objects.order_by("due_on", "pk")
    serializer_class = ActionSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    @extend_schema(request=CloseActionSerializer, responses=ActionSerializer)
    @action(detail=True, methods=["post"], access_action="close")
    def close(self, request, pk=None):
        item = self.get_object()
        serializer = CloseActionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.close_action(item, note=serializer.validated_data["note"])
        except services.SurveyError as error:
            raise serializers.ValidationError({"detail": [str(error)]}) from error
        return Response(ActionSerializer(item).data)


class MeetingViewSet(RestrictedModelViewSet):
    queryset = Meeting.objects.prefetch_related("agencies", "participants").order_by("-starts_at", "pk")
    serializer_class = MeetingSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    def _save_if_allowed(self, serializer, action_name):
        with transaction.atomic():
            obj = serializer.save()
            if not access.can(self.request.user, action_name, obj):
                raise exceptions.PermissionDenied("You may not change this agency's data.")


def _month(value: str | None, default: dt.date) -> dt.date:
    if not value:
        return default
    try:
        year, month = (int(p) for p in value.split("-")[:2])
        return dt.date(year, month, 1)
    except (ValueError, TypeError) as error:
        raise exceptions.ParseError("Use YYYY-MM.") from error


class ResultListView(ListAPIView):
    """Agency × month means per dimension, with the small-group rule (``mean`` and ``n`` null when hidden)."""

    queryset = ResultCell.objects.none()
    serializer_class = ResultFigureSerializer
    pagination_class = None
    filter_backends = []

    @extend_schema(
        responses=ResultFigureSerializer(many=True),
        parameters=[
            OpenApiParameter("dimension", OpenApiTypes.STR, enum=services.DIMENSIONS),
            OpenApiParameter("start", OpenApiTypes.STR, description="YYYY-MM"),
            OpenApiParameter("end", OpenApiTypes.STR, description="YYYY-MM"),
        ],
    )
    def get(self, request, *args, **kwargs):
        end = _month(request.query_params.get("end"), services.previous_month(timezone.localdate()))
        start = _month(request.query_params.get("start"), end.replace(year=end.year - 1))
        if start > end or (end.year - start.year) * 12 + end.month - start.month > 120:
            raise exceptions.ParseError("At most ten years, start before end.")
        dimensions = [d for d in services.DIMENSIONS if d == request.query_params.get("dimension")]
        visible = set(access.agencies_for(request.user, "view", ResultCell).values_list("pk", flat=True))
        rows = []
        for dimension in dimensions or services.DIMENSIONS:
            figures = services.grid(dimension, start, end, agency_ids=visible)
            for (agency_id, month), figure in sorted(figures.cells.items()):
                rows.append(
                    {
                        "agency": agency_id,
                        "month": month.isoformat(),
                        "dimension": dimension,
                        "mean": figure.mean,
                        "n": None if figure.hidden else figure.n,
                        "hidden": figure.hidden,
                    }
                )
        # Plain rows, shaped as ResultFigureSerializer documents them (serialising 18,000 of them through it
        # cost 300 ms in bench/surveys_bench.py).
        return Response(rows)
