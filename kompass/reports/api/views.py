"""The reports API: definitions (versions, levels), outages, exclusions, measurements, statements, disputes and
stored reports. Writes run under the access matrix; a refused or invalid one changes nothing."""

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import transaction
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.decorators import action
from rest_framework.generics import ListAPIView
from rest_framework.response import Response

from kompass.contract import services as contracts
from kompass.core import access
from kompass.core.api.viewsets import RestrictedModelViewSet, RestrictedReadOnlyModelViewSet
from kompass.reports import compute, services
from kompass.reports.api import serializers as s
from kompass.reports.models import (
    AvailabilityLevel,
    CaseLevel,
    Dispute,
    Exclusion,
    LevelVersion,
    MonthlyReport,
    Outage,
    Statement,
    StatementLine,
)

WRITE = ["get", "post", "patch", "delete", "head", "options"]
NO_CONTRACT = OpenApiResponse(description="No such contract, or one the user may not see.")


def _refused(error):
    if isinstance(error, DjangoPermissionDenied):
        return exceptions.PermissionDenied(str(error) or None)
    return serializers.ValidationError({"detail": [str(error)]})


class LevelVersionViewSet(RestrictedModelViewSet):
    queryset = LevelVersion.objects.order_by("contract", "-valid_from", "pk")
    serializer_class = s.LevelVersionSerializer
    http_method_names = WRITE


class CaseLevelViewSet(RestrictedModelViewSet):
    queryset = CaseLevel.objects.order_by("version", "service", "priority")
    serializer_class = s.CaseLevelSerializer
    http_method_names = WRITE


class AvailabilityLevelViewSet(RestrictedModelViewSet):
    queryset = AvailabilityLevel.objects.order_by("version", "service")
    serializer_class = s.AvailabilityLevelSerializer
    http_method_names = WRITE


class OutageViewSet(RestrictedModelViewSet):
    queryset = Outage.objects.order_by("-starts", "pk")
    serializer_class = s.OutageSerializer
    http_method_names = WRITE

    def perform_create(self, serializer):
        serializer.validated_data["recorded_by"] = self.request.user
        super().perform_create(serializer)


class ExclusionViewSet(RestrictedModelViewSet):
    queryset = Exclusion.objects.order_by("-created", "pk")
    serializer_class = s.ExclusionSerializer
    http_method_names = WRITE

    def perform_create(self, serializer):
        serializer.validated_data["decided_by"] = self.request.user
        super().perform_create(serializer)


class StatementViewSet(RestrictedReadOnlyModelViewSet):
    """Statements; ``POST …/build/`` computes one (agreement manager), ``POST {id}/adjust/`` adjusts it."""

    queryset = Statement.objects.prefetch_related("lines", "adjustment_rows").order_by("-month", "pk")
    serializer_class = s.StatementSerializer

    @extend_schema(request=s.BuildStatementSerializer, responses={200: s.StatementSerializer, 404: NO_CONTRACT})
    @action(detail=False, methods=["post"], access_action="create")
    def build(self, request):
        if not access.can(request.user, "create", Statement):
            raise exceptions.PermissionDenied
        data = s.BuildStatementSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        contract = contracts.get_contract(data.validated_data["contract"])
        if contract is None:
            raise exceptions.NotFound
        try:
            statement = services.build_statement(contract, services.parse_month(data.validated_data["month"]))
        except services.ReportError as error:
            raise _refused(error) from error
        return Response(s.StatementSerializer(statement).data)

    @extend_schema(request=s.AdjustSerializer, responses=s.StatementSerializer)
    @action(detail=True, methods=["post"], access_action="adjust")
    def adjust(self, request, pk=None):
        statement = self.get_object()
        if not access.can(request.user, "adjust", statement):
            raise exceptions.PermissionDenied
        data = s.AdjustSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            services.add_adjustment(statement, user=request.user, **data.validated_data)
        except (services.ReportError, DjangoPermissionDenied) as error:
            raise _refused(error) from error
        statement.refresh_from_db()
        return Response(s.StatementSerializer(statement).data)


class StatementLineViewSet(RestrictedReadOnlyModelViewSet):
    """Statement lines; either party accepts (``…/accept/``) or disputes (``…/dispute/``) one."""

    queryset = StatementLine.objects.order_by("statement", "pk")
    serializer_class = s.StatementLineSerializer

    @extend_schema(request=None, responses=s.StatementLineSerializer)
    @action(detail=True, methods=["post"], access_action="accept")
    def accept(self, request, pk=None):
        line = self.get_object()
        if not access.can(request.user, "accept", line):
            raise exceptions.PermissionDenied
        try:
            services.accept_line(line, user=request.user)
        except (services.ReportError, DjangoPermissionDenied) as error:
            raise _refused(error) from error
        return Response(s.StatementLineSerializer(line).data)

    @extend_schema(request=s.TextSerializer, responses={201: s.DisputeSerializer})
    @action(detail=True, methods=["post"], access_action="accept")
    def dispute(self, request, pk=None):
        line = self.get_object()
        if not access.can(request.user, "accept", line):
            raise exceptions.PermissionDenied
        data = s.TextSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            dispute = services.dispute_line(line, user=request.user, reason=data.validated_data["text"])
        except (services.ReportError, DjangoPermissionDenied) as error:
            raise _refused(error) from error
        return Response(s.DisputeSerializer(dispute).data, status=201)


class DisputeViewSet(RestrictedReadOnlyModelViewSet):
    """Disputes; the other party answers (``…/answer/``), the agreement manager resolves (``…/resolve/``)."""

    queryset = Dispute.objects.order_by("-raised_at", "pk")
    serializer_class = s.DisputeSerializer

    def _act(self, request, action_name, function, keyword):
        dispute = self.get_object()
        if not access.can(request.user, action_name, dispute):
            raise exceptions.PermissionDenied
        data = s.TextSerializer(data=request.data)
        data.is_valid(raise_exception=True)
        try:
            with transaction.atomic():
                function(dispute, user=request.user, **{keyword: data.validated_data["text"]})
        except (services.ReportError, DjangoPermissionDenied) as error:
            raise _refused(error) from error
        return Response(s.DisputeSerializer(dispute).data)

    @extend_schema(request=s.TextSerializer, responses=s.DisputeSerializer)
    @action(detail=True, methods=["post"], access_action="answer")
    def answer(self, request, pk=None):
        return self._act(request, "answer", services.answer_dispute, "answer")

    @extend_schema(request=s.TextSerializer, responses=s.DisputeSerializer)
    @action(detail=True, methods=["post"], access_action="resolve")
    def resolve(self, request, pk=None):
        return self._act(request, "resolve", services.resolve_dispute, "resolution")


class MonthlyReportViewSet(RestrictedReadOnlyModelViewSet):
    queryset = MonthlyReport.objects.order_by("-month", "-version", "pk")
    serializer_class = s.MonthlyReportSerializer


class MeasurementListView(ListAPIView):
    """One contract's levels in one month, measured (computed now from the cases, outages and exclusions)."""

    queryset = Statement.objects.none()
    serializer_class = s.MeasurementSerializer
    pagination_class = None
    filter_backends = []

    @extend_schema(
        responses={200: s.MeasurementSerializer(many=True), 404: NO_CONTRACT},
        parameters=[
            OpenApiParameter("contract", OpenApiTypes.INT, required=True),
            OpenApiParameter("month", OpenApiTypes.STR, description="YYYY-MM (default: last month)"),
        ],
    )
    def get(self, request, *args, **kwargs):
        if not access.can(request.user, "view", Statement):
            raise exceptions.PermissionDenied
        raw = request.query_params.get("contract", "")
        if not raw.isdigit():
            raise exceptions.ParseError("contract: an id is required.")
        contract = contracts.get_contract(int(raw))
        if contract is None or not access.can(request.user, "view", contract):
            raise exceptions.NotFound
        try:
            month = services.parse_month(request.query_params.get("month"))
        except services.ReportError as error:
            raise exceptions.ParseError(str(error)) from error
        figures = services.month_figures(contract, month)
        lines = figures.compensation.lines if figures.compensation else ()
        rows = [
            {
                "key": line.key,
                "label": line.label,
                "measured": compute.pct(line.measured, 4),
                "target": line.target,
                "missed": line.missed,
                "percent": line.percent,
                "amount": line.amount,
            }
            for line in lines
        ]
        return Response(s.MeasurementSerializer(rows, many=True).data)
