"""The register's API: contracts, requirements (with the status change) and approval protocols (with approve)."""

from django.core.exceptions import ValidationError as DjangoValidationError
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.decorators import action
from rest_framework.response import Response

from kompass.contract import protocol as protocols
from kompass.contract import reauth, services
from kompass.contract.api.serializers import (
    ApproveSerializer,
    ContractSerializer,
    ProtocolSerializer,
    RequirementSerializer,
    StatusChangeSerializer,
)
from kompass.contract.filtersets import RequirementFilterSet
from kompass.contract.models import ApprovalProtocol, Contract, Requirement
from kompass.core.api.viewsets import RestrictedReadOnlyModelViewSet


def _refused(error: DjangoValidationError) -> serializers.ValidationError:
    return serializers.ValidationError({"detail": error.messages})


class ContractViewSet(RestrictedReadOnlyModelViewSet):
    queryset = Contract.objects.prefetch_related("milestones")
    serializer_class = ContractSerializer
    ordering_fields = ["name"]


class RequirementViewSet(RestrictedReadOnlyModelViewSet):
    """Requirements (filter ``?contract=``, ``?status=``, ``?q=``); ``POST …/status/`` moves one along."""

    queryset = Requirement.objects.select_related("milestone").prefetch_related("evidence")
    serializer_class = RequirementSerializer
    filterset_class = RequirementFilterSet
    ordering_fields = ["position", "requirement_id", "updated"]

    @extend_schema(request=StatusChangeSerializer, responses=RequirementSerializer)
    @action(detail=True, methods=["post"], access_action="progress")
    def status(self, request, pk=None):
        requirement = self.get_object()
        serializer = StatusChangeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.set_status(
                requirement, user=request.user, new=serializer.validated_data.pop("status"), **serializer.validated_data
            )
        except DjangoValidationError as error:
            raise _refused(error) from error
        return Response(RequirementSerializer(requirement).data)


class ProtocolViewSet(RestrictedReadOnlyModelViewSet):
    """Approval protocols, read-only (a signed one never changes); ``POST …/approve/`` with the password."""

    queryset = ApprovalProtocol.objects.prefetch_related("approvals__user")
    serializer_class = ProtocolSerializer
    filterset_fields = ["contract", "milestone", "status"]

    @extend_schema(request=ApproveSerializer, responses=ProtocolSerializer)
    @action(detail=True, methods=["post"], access_action="approve")
    def approve(self, request, pk=None):
        protocol = self.get_object()
        serializer = ApproveSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            protocol = protocols.approve(
                protocol,
                user=request.user,
                password=serializer.validated_data.get("password", ""),
                sso_reauthenticated=reauth.sso_reauthenticated(request),
            )
        except DjangoValidationError as error:
            raise _refused(error) from error
        protocol.refresh_from_db()
        return Response(ProtocolSerializer(protocol).data)
