"""The base viewset every app's API builds on: restricted reads, matrix-checked writes.

::

    class CaseViewSet(RestrictedModelViewSet):
        queryset = Case.objects.select_related("agency")
        serializer_class = CaseSerializer
        filterset_class = CaseFilterSet

Reads are ``queryset.restrict(user, "view")`` (an invisible object is a 404). Writes are checked by
:class:`~kompass.core.api.permissions.MatrixPermission` and, here, on the object as it will be saved
(a create or move into an agency outside the user's reach is a 403 and changes nothing).
"""

from django.db import transaction
from django.utils.translation import gettext as _
from rest_framework import exceptions, viewsets

from kompass.core import access

__all__ = ["RestrictedModelViewSet", "RestrictedReadOnlyModelViewSet"]


class _Restricted:
    #: ``{"read": "app:read", "write": "app:write"}``; default from the model's app label.
    token_scopes: dict[str, str] | None = None
    #: Set to let integration accounts in, e.g. ``{"write": "vendors:webhook"}``; default: refused.
    integration_scopes: dict[str, str] | None = None
    #: Set per action by ``@action(..., access_action="approve")``; DRF accepts only initkwargs the class has.
    access_action: str | None = None

    def get_queryset(self):
        return super().get_queryset().restrict(self.request.user, "view")


class RestrictedReadOnlyModelViewSet(_Restricted, viewsets.ReadOnlyModelViewSet):
    """List and retrieve, restricted to what the user may view."""


class RestrictedModelViewSet(_Restricted, viewsets.ModelViewSet):
    """Full CRUD under the access matrix."""

    def perform_create(self, serializer):
        self._save_if_allowed(serializer, "create")

    def perform_update(self, serializer):
        self._save_if_allowed(serializer, "change")

    def perform_destroy(self, instance):
        if not access.can(self.request.user, "delete", instance):
            raise exceptions.PermissionDenied(_("You may not delete this."))
        instance.delete()

    def _save_if_allowed(self, serializer, action):
        # Save inside a transaction and check the saved object (with its agency as given): a refused
        # write is rolled back, so it changes nothing.
        with transaction.atomic():
            obj = serializer.save()
            if not access.can(self.request.user, action, obj):
                raise exceptions.PermissionDenied(_("You may not change this agency's data."))
