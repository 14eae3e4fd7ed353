"""REST API for the core domain. Every queryset goes through ``restrict()``."""

from django.utils.translation import gettext as _
from django_filters import rest_framework as filters
from rest_framework import exceptions, permissions, viewsets

from kompass.core import access
from kompass.core.api.serializers import AgencySerializer, ServiceSerializer, SystemSerializer, UserSerializer
from kompass.core.filtersets import AgencyFilterSet, SystemFilterSet
from kompass.core.models import Agency, Service, System, User


class RestrictedModelViewSet(viewsets.ModelViewSet):
    """A model viewset whose queryset is narrowed to the user's reach for the request's action.

    Reads use the ``view`` reach; writes use ``change``. An object outside the reach answers 404.
    """

    def get_queryset(self):
        action = "view" if self.request.method in permissions.SAFE_METHODS else "change"
        return super().get_queryset().restrict(self.request.user, action)

    def perform_create(self, serializer):
        self.check_agency_change(serializer.validated_data.get("agency"))
        serializer.save()

    def perform_update(self, serializer):
        if "agency" in serializer.validated_data:
            self.check_agency_change(serializer.validated_data["agency"])
        serializer.save()

    def check_agency_change(self, agency):
        if agency is not None and not access.can_change_agency(self.request.user, agency.pk):
            raise exceptions.PermissionDenied(_("You may not change this agency's data."))


class AgencyViewSet(RestrictedModelViewSet):
    queryset = Agency.objects.prefetch_related("services")
    serializer_class = AgencySerializer
    filterset_class = AgencyFilterSet
    ordering_fields = ["name", "short_code", "kind"]

    def perform_create(self, serializer):
        if not access.can_create_agency(self.request.user):
            raise exceptions.PermissionDenied(_("You may not create agencies."))
        serializer.save()

    def perform_destroy(self, instance):
        if not access.can_create_agency(self.request.user):
            raise exceptions.PermissionDenied(_("You may not delete agencies."))
        instance.delete()


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


class IsUserAdministrator(permissions.BasePermission):
    def has_permission(self, request, view):
        return access.can_manage_users(request.user)


class UserViewSet(viewsets.ReadOnlyModelViewSet):
    """Users and their roles; administrators only."""

    queryset = User.objects.prefetch_related("role_assignments")
    serializer_class = UserSerializer
    permission_classes = [permissions.IsAuthenticated, IsUserAdministrator]
    filter_backends = [filters.DjangoFilterBackend]
    filterset_fields = ["is_active"]
