"""The API's default permission: the access matrix, token scopes and the integration-account opt-in.

Every view gets :class:`MatrixPermission` (``DEFAULT_PERMISSION_CLASSES``). It maps the request to an
action like ``DjangoModelPermissions`` does (GET → ``view``, POST → ``create``, PUT/PATCH → ``change``,
DELETE → ``delete``; a viewset action may name its own with ``@action(..., access_action="check")``)
and asks :func:`kompass.core.access.can`:

* on the model for a list or a create (a create is checked again on the new object, with its agency,
  in :class:`~kompass.core.api.viewsets.RestrictedModelViewSet`),
* on the object for a change or delete (the queryset is already restricted to what the user sees, so an
  invisible object is a 404 and a visible one the user may not change a 403).

A token must carry the view's scope for the request (``token_scopes``: ``{"read": "core:read",
"write": "core:write"}`` by default, from the model's app label). Integration accounts are refused
unless the view opts in with ``integration_scopes`` (``{"write": "vendors:webhook"}``): then their token
must carry that scope. Session users are never integration accounts (``IntegrationAccountSessionMiddleware``).
"""

from rest_framework import permissions

from kompass.core import access
from kompass.core.models import ApiToken

__all__ = ["METHOD_ACTIONS", "MatrixPermission", "required_scope"]

METHOD_ACTIONS = {
    "GET": "view",
    "HEAD": "view",
    "OPTIONS": "view",
    "POST": "create",
    "PUT": "change",
    "PATCH": "change",
    "DELETE": "delete",
}


def _model_of(view):
    queryset = getattr(view, "queryset", None)
    return getattr(view, "access_model", None) or (queryset.model if queryset is not None else None)


def _kind(request) -> str:
    return "read" if request.method in permissions.SAFE_METHODS else "write"


def required_scope(view, request) -> str | None:
    """The token scope this request needs from a person's token (``None``: the view names none)."""
    scopes = getattr(view, "token_scopes", None)
    if scopes is None:
        model = _model_of(view)
        if model is None:
            return None
        scopes = {"read": f"{model._meta.app_label}:read", "write": f"{model._meta.app_label}:write"}
    return scopes.get(_kind(request))


def access_action(view, request) -> str:
    action = getattr(view, "action", None)
    handler = getattr(view, action, None) if action else None
    named = getattr(handler, "kwargs", {}).get("access_action") if handler is not None else None
    return named or METHOD_ACTIONS.get(request.method, "change")


class MatrixPermission(permissions.BasePermission):
    """Authenticated, allowed by the matrix, with a token carrying the right scope."""

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        token = request.auth if isinstance(request.auth, ApiToken) else None
        if access.is_integration_account(user):
            wanted = (getattr(view, "integration_scopes", None) or {}).get(_kind(request))
            if not wanted or token is None or not token.allows(wanted):
                return False
        elif token is not None:
            wanted = required_scope(view, request)
            if wanted is not None and not token.allows(wanted):
                return False
        model = _model_of(view)
        if model is None:
            return bool(getattr(view, "open_to_signed_in_users", False))
        action = access_action(view, request)
        if getattr(view, "detail", False) and action != "view":
            # Decided on the object, once it is found among the visible ones (else 404); a user who
            # may not see this model at all is refused here, as on the pages.
            return access.can(user, "view", model)
        return access.can(user, action, model)

    def has_object_permission(self, request, view, obj) -> bool:
        action = access_action(view, request)
        if action == "view":
            return True  # the queryset holds only what the user may view
        return access.can(request.user, action, obj)
