"""The portfolio API. Reads are restricted by the matrix; integration writes go through the governance services."""

import datetime as dt

from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import renderers, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import APIException, ValidationError
from rest_framework.response import Response
from rest_framework.views import APIView

from kompass.core.api.viewsets import RestrictedModelViewSet, RestrictedReadOnlyModelViewSet
from kompass.core.models import System
from kompass.portfolio import services
from kompass.portfolio.api.serializers import (
    DataSetSerializer,
    DecisionInputSerializer,
    ExternalPartySerializer,
    GovernanceDecisionSerializer,
    InfrastructureItemSerializer,
    IntegrationSerializer,
    MigrationWaveSerializer,
    SystemProfileSerializer,
    TransformationSerializer,
)
from kompass.portfolio.dcat import catalogue_turtle
from kompass.portfolio.filtersets import IntegrationFilterSet
from kompass.portfolio.models import (
    DataSet,
    ExternalParty,
    GovernanceDecision,
    InfrastructureItem,
    Integration,
    MigrationWave,
    SystemProfile,
    Transformation,
)
from kompass.portfolio.views import map_data


def _as_api_error(error: DjangoValidationError) -> ValidationError:
    return ValidationError(error.message_dict if hasattr(error, "error_dict") else {"non_field_errors": error.messages})


class _RefuseProtectedDelete:
    """Deleting a row others still point to (a wave with systems, a party with integrations) is a 409."""

    def perform_destroy(self, instance):
        try:
            with transaction.atomic():
                super().perform_destroy(instance)
        except ProtectedError as error:
            raise Conflict() from error


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "Still in use: move or remove what refers to it first."
    default_code = "protected"


class SystemProfileViewSet(RestrictedModelViewSet):
    queryset = SystemProfile.objects.select_related("system").order_by("pk")
    serializer_class = SystemProfileSerializer
    filterset_fields = ["system", "hosting", "lifecycle", "personal_data", "confidentiality"]


class InfrastructureItemViewSet(RestrictedModelViewSet):
    queryset = InfrastructureItem.objects.order_by("pk")
    serializer_class = InfrastructureItemSerializer
    filterset_fields = ["system", "kind", "legacy_platform"]


class ExternalPartyViewSet(_RefuseProtectedDelete, RestrictedModelViewSet):
    queryset = ExternalParty.objects.order_by("pk")
    serializer_class = ExternalPartySerializer
    filterset_fields = ["kind"]


class DataSetViewSet(RestrictedModelViewSet):
    queryset = DataSet.objects.order_by("pk")
    serializer_class = DataSetSerializer
    filterset_fields = ["personal_data", "publisher_agency", "publisher_party"]


class MigrationWaveViewSet(_RefuseProtectedDelete, RestrictedModelViewSet):
    queryset = MigrationWave.objects.order_by("starts_on", "pk")
    serializer_class = MigrationWaveSerializer


class TransformationViewSet(RestrictedModelViewSet):
    """Each system's path, wave and status; every answer carries the dependency conflicts of its system."""

    queryset = Transformation.objects.select_related("wave").order_by("pk")
    serializer_class = TransformationSerializer
    filterset_fields = ["system", "path", "status", "wave", "blocked"]

    def get_serializer_context(self):
        context = super().get_serializer_context()
        if self.action == "list":
            context["conflicts"] = services.dependency_conflicts()
        return context


class GovernanceDecisionViewSet(RestrictedReadOnlyModelViewSet):
    queryset = GovernanceDecision.objects.order_by("pk")
    serializer_class = GovernanceDecisionSerializer
    filterset_fields = ["integration", "kind"]


_STEP = {
    "approve": lambda i, user, reason: services.approve_integration(i, user, reason=reason),
    "reject": lambda i, user, reason: services.reject_integration(i, user, reason=reason),
    "activate": lambda i, user, reason: services.activate_integration(i, user),
    "retire": lambda i, user, reason: services.retire_integration(i, user, reason=reason),
}


class IntegrationViewSet(RestrictedModelViewSet):
    """Integrations. POST requests one; ``approve``/``reject`` (the providing side), ``activate``/``retire``."""

    queryset = Integration.objects.prefetch_related("data_sets").order_by("pk")
    serializer_class = IntegrationSerializer
    filterset_class = IntegrationFilterSet
    http_method_names = ["get", "post", "head", "options"]
    # DRF's as_view() accepts only initkwargs the class has; @action(access_action=...) (core's documented
    # way to name an action's matrix action) passes one, so the attribute must exist.
    access_action = None

    def perform_create(self, serializer):
        data = dict(serializer.validated_data)
        data_sets = data.pop("data_sets", [])
        try:
            serializer.instance = services.request_integration(self.request.user, data_sets=data_sets, **data)
        except DjangoValidationError as error:
            raise _as_api_error(error) from error

    def _step(self, request, step):
        integration = self.get_object()
        payload = DecisionInputSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        try:
            integration = _STEP[step](integration, request.user, payload.validated_data["reason"])
        except DjangoValidationError as error:
            raise _as_api_error(error) from error
        return Response(IntegrationSerializer(integration).data, status=status.HTTP_200_OK)

    _step_schema = extend_schema(
        request=DecisionInputSerializer,
        responses={200: IntegrationSerializer, 400: OpenApiResponse(description="Not allowed in this state")},
    )

    @_step_schema
    @action(detail=True, methods=["post"], access_action="view")
    def approve(self, request, pk=None):
        return self._step(request, "approve")

    @_step_schema
    @action(detail=True, methods=["post"], access_action="view")
    def reject(self, request, pk=None):
        return self._step(request, "reject")

    @_step_schema
    @action(detail=True, methods=["post"], access_action="change")
    def activate(self, request, pk=None):
        return self._step(request, "activate")

    @_step_schema
    @action(detail=True, methods=["post"], access_action="change")
    def retire(self, request, pk=None):
        return self._step(request, "retire")


_NODE_FIELDS = (
    {
        "id": serializers.CharField(),
        "label": serializers.CharField(),
        "agency": serializers.CharField(),
        "external": serializers.BooleanField(),
        "url": serializers.CharField(),
    },
)
_EDGE_FIELDS = (
    {
        "id": serializers.CharField(),
        "source": serializers.CharField(),
        "target": serializers.CharField(),
        "label": serializers.CharField(),
        "status": serializers.CharField(),
        "technology": serializers.CharField(),
        "personal_data": serializers.BooleanField(),
        "count": serializers.IntegerField(help_text="Integrations the edge stands for (1 at system level)."),
        "both": serializers.BooleanField(required=False, help_text="Agency level: integrations run both ways."),
        "url": serializers.CharField(),
    },
)


class PortfolioMapView(APIView):
    """The integration map's nodes and edges (what the user sees, filtered like the integration list).

    One object, not a list: a plain view, so the schema does not describe it as an array.
    """

    queryset = Integration.objects.none()  # for the matrix: viewing integrations
    filterset_class = IntegrationFilterSet

    @extend_schema(
        responses=inline_serializer(
            "PortfolioMap",
            {
                "nodes": inline_serializer("PortfolioMapNode", _NODE_FIELDS[0], many=True),
                "edges": inline_serializer("PortfolioMapEdge", _EDGE_FIELDS[0], many=True),
            },
        )
    )
    def get(self, request):
        return Response(map_data(request.user, request.query_params))


class BurnDownViewSet(viewsets.ViewSet):
    """The burn-down of the systems the user sees, monthly between ``start`` and ``end`` (ISO dates)."""

    queryset = Transformation.objects.none()

    @extend_schema(
        parameters=[
            inline_serializer("BurnDownQuery", {"start": serializers.DateField(), "end": serializers.DateField()})
        ],
        responses=inline_serializer(
            "BurnDownPoint",
            {
                "day": serializers.DateField(),
                "systems_planned": serializers.IntegerField(),
                "systems_actual": serializers.IntegerField(allow_null=True),
                "items_planned": serializers.IntegerField(),
                "items_actual": serializers.IntegerField(allow_null=True),
            },
            many=True,
        ),
    )
    def list(self, request):
        today = timezone.localdate()
        query = _BurnDownQuery(
            data={
                "start": request.query_params.get("start", (today - dt.timedelta(days=365)).isoformat()),
                "end": request.query_params.get("end", (today + dt.timedelta(days=730)).isoformat()),
            }
        )
        query.is_valid(raise_exception=True)
        points = services.burn_down(System.objects.restrict(request.user, "view"), today=today, **query.validated_data)
        return Response([p.__dict__ for p in points])


class TurtleRenderer(renderers.BaseRenderer):
    media_type = "text/turtle"
    format = "ttl"
    charset = "utf-8"

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if isinstance(data, str):
            return data.encode()
        # An error (401, 403, 429, …) is a dict like every other endpoint's: send it as JSON, not as an empty
        # Turtle body with no Content-Type.
        response = (renderer_context or {}).get("response")
        if response is not None:
            response["Content-Type"] = "application/json"
        return renderers.JSONRenderer().render(data)


class CatalogueViewSet(viewsets.ViewSet):
    """The data sets integrations carry, as a DCAT-AP-NO catalogue in Turtle."""

    queryset = DataSet.objects.none()
    renderer_classes = [TurtleRenderer]

    @extend_schema(responses={(200, "text/turtle"): OpenApiTypes.STR})
    def list(self, request):
        return Response(catalogue_turtle(request.build_absolute_uri("/")))


class _BurnDownQuery(serializers.Serializer):
    start = serializers.DateField()
    end = serializers.DateField()

    def validate(self, attrs):
        if attrs["end"] < attrs["start"]:
            raise serializers.ValidationError({"end": "The end is before the start."})
        if (attrs["end"] - attrs["start"]).days > 366 * 10:
            raise serializers.ValidationError({"end": "At most ten years."})
        return attrs
