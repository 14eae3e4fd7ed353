"""REST API for the core domain: thin viewsets on the restricted base (``core/api/viewsets.py``)."""

from django_filters import rest_framework as filters
from rest_framework import permissions

from kompass.core import access
from kompass.core.api.permissions import MatrixPermission
from kompass.core.api.serializers import AgencySerializer, ServiceSerializer, SystemSerializer, UserSerializer
from kompass.core.api.viewsets import RestrictedModelViewSet, RestrictedReadOnlyModelViewSet
from kompass.core.filtersets import AgencyFilterSet, SystemFilterSet
from kompass.core.models import Agency, Service, System, User


class AgencyViewSet(RestrictedModelViewSet):
    queryset = Agency.objects.prefetch_related("services")
    serializer_class = AgencySerializer
    filterset_class = AgencyFilterSet
    ordering_fields = ["name", "short_code", "kind"]


class ServiceViewSet(RestrictedModelViewSet):
    queryset = Service.objects.all()
    serializer_class = ServiceSerializer
    filterset_fields = ["delivery", "active"]
    ordering_fields = ["name"]


class SystemViewSet(RestrictedModelViewSet):
    queryset = System.objects.select_related("agency").prefetch_related("services")
    serializer_class = SystemSerializer
    filterset_class = SystemFilterSet
    ordering_fields = ["name", "criticality"]


class ManagesUsers(permissions.BasePermission):
    """The user administration's ``manage`` action (administrators)."""

    def has_permission(self, request, view):
        return access.can(request.user, "manage", User)


class UserViewSet(RestrictedReadOnlyModelViewSet):
    """Users and their roles; for the user administration (administrators)."""

    queryset = User.objects.prefetch_related("role_assignments")
    serializer_class = UserSerializer
    permission_classes = [MatrixPermission, ManagesUsers]
    filter_backends = [filters.DjangoFilterBackend]
    filterset_fields = ["is_active"]
