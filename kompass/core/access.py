"""The permission matrix: who may do what to which model, in one place.

Every app registers its models in its own ``access.py`` (autodiscovered by ``CoreConfig.ready()``;
core's own models are in ``core/policies.py`` because this module is the engine)::

    from kompass.core import access
    from kompass.core.access import AGENCY, ALL, own
    from kompass.core.roles import GLOBAL_ROLES, Role

    access.register(
        Case,  # its agency path comes from the model's ``agency_field`` ("agency")
        rules={
            "view": {Role.AGREEMENT_MANAGER: ALL, Role.AGENCY_IT_CONTACT: AGENCY, access.REQUESTER: own("requester")},
            "create": {Role.AGENCY_IT_CONTACT: AGENCY, access.REQUESTER: AGENCY},
            "comment_internal": {Role.SERVICE_DESK_AGENT: ALL},
        },
    )

Each cell maps a role to a *scope*:

``ALL``
    every row of the model.
``AGENCY``
    the rows of the agencies *that role* holds (per role: an IT contact for agency A who is system
    owner for agency B gets each role's actions on its own agency only). On a model without an agency
    (``agency_field = None``), it means "the role holds any agency".
``own("field", ...)``
    the rows whose ``field`` is the user (e.g. a case's ``requester``); several fields mean any of them,
    and a field may be a path through relations (``"case__requester"``,
    ``"contract__vendor_representatives"``) or many-valued (``"watchers"``).
``NONE`` (or leaving the role out)
    nothing.

Administrators (the role, or a superuser) may do everything, on every model, registered or not.
A model that is not registered is closed to everyone else; the system check ``kompass.E001`` fails
when a model of a ``kompass.*`` app has no policy.

**Requester.** Every active user with a home agency also holds the pseudo-role :data:`REQUESTER` for
that agency, beside any real roles: an agency employee with no roles is only a requester (and sees only
their own records), an IT contact is also a requester of their own cases.

**Integration accounts** (the vendor integration role) never use the web UI; in the API they reach only
endpoints that opt in (see ``kompass.core.api.permissions``).

The public API: :func:`register`, :func:`can`, :func:`restrict_q` (used by ``RestrictedQuerySet.restrict``),
:func:`agencies_for`, :func:`is_administrator`, :func:`is_integration_account`, :func:`policy_for`,
:func:`policies`. Results per user are cached on the user object for the request.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.core import checks
from django.db import models
from django.db.models import Q

from kompass.core.roles import GLOBAL_ROLES, Role

__all__ = [
    "AGENCY",
    "ALL",
    "NONE",
    "REQUESTER",
    "STANDARD_ACTIONS",
    "Policy",
    "Scope",
    "agencies_for",
    "can",
    "is_administrator",
    "is_integration_account",
    "remember_roles",
    "own",
    "policies",
    "policy_for",
    "register",
    "register_internal",
    "restrict_q",
    "roles_of",
]

#: The pseudo-role of every active user with a home agency (see the module docstring).
REQUESTER = "requester"
#: Actions every policy knows; apps add named ones (``actions=("work", "approve")``).
STANDARD_ACTIONS = ("view", "create", "change", "delete")


# ---------------------------------------------------------------------------------------------
# Scopes
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Scope:
    """What part of a model one role reaches: ``all``, ``agency``, ``own`` (through ``field``) or ``none``."""

    kind: str
    field: str | None = None

    def __str__(self) -> str:
        return f"own({self.field.replace(',', ', ')})" if self.kind == "own" else self.kind.upper()

    @property
    def fields(self) -> tuple[str, ...]:
        """The fields of an ``own`` scope (any of them being the user is enough)."""
        return tuple(self.field.split(",")) if self.field else ()


ALL = Scope("all")
AGENCY = Scope("agency")
NONE = Scope("none")


def own(*field_names: str) -> Scope:
    """The rows whose ``field_name`` (a foreign key or many-to-many to the user, or a path to one) is the user.

    With several names, any one of them being the user is enough (``own("requester", "watchers")``).
    """
    if not field_names or any(not name or "," in name for name in field_names):
        raise ValueError(f"own() needs field names, got {field_names!r}")
    return Scope("own", ",".join(field_names))


# ---------------------------------------------------------------------------------------------
# The registry
# ---------------------------------------------------------------------------------------------


@dataclass
class Policy:
    """The rules of one model: ``rules[action][role] -> Scope``."""

    model: type[models.Model]
    agency_field: str | None
    rules: dict[str, dict[str, Scope]] = field(default_factory=dict)
    actions: tuple[str, ...] = STANDARD_ACTIONS

    def scope(self, action: str, role: str) -> Scope:
        return self.rules.get(action, {}).get(role, NONE)


_policies: dict[type[models.Model], Policy] = {}


def register(
    model: type[models.Model],
    *,
    rules: dict[str, dict[str, Scope]],
    agency_field: str | None | type[Ellipsis] = ...,
    actions: tuple[str, ...] = (),
) -> Policy:
    """Register ``model``'s rules. ``agency_field`` defaults to the model's ``agency_field`` attribute.

    ``actions`` names the actions beyond view/create/change/delete; a rule for an action that is
    neither standard nor named is an error, so a typo cannot silently close (or open) anything.
    """
    if agency_field is ...:
        agency_field = getattr(model, "agency_field", None)
    all_actions = STANDARD_ACTIONS + tuple(a for a in actions if a not in STANDARD_ACTIONS)
    known_roles = {r.value for r in Role} | {REQUESTER}
    for action, by_role in rules.items():
        if action not in all_actions:
            raise ValueError(f"{model.__name__}: unknown action {action!r}; declare it in actions=")
        for role, scope in by_role.items():
            if role not in known_roles:
                raise ValueError(f"{model.__name__}: unknown role {role!r}")
            if not isinstance(scope, Scope):
                raise TypeError(f"{model.__name__}.{action}.{role}: {scope!r} is not a Scope")
            if scope.kind == "agency" and role in _GLOBAL_ROLE_VALUES:
                raise ValueError(f"{model.__name__}.{action}: {role} holds no agency, AGENCY would reach nothing")
    policy = Policy(
        model=model,
        agency_field=agency_field,
        rules={action: {str(role): scope for role, scope in by_role.items()} for action, by_role in rules.items()},
        actions=all_actions,
    )
    _policies[model] = policy
    return policy


def register_internal(model: type[models.Model]) -> Policy:
    """Register a model that only administrators reach (bookkeeping rows such as heartbeats)."""
    return register(model, rules={}, agency_field=None)


def policy_for(model: type[models.Model]) -> Policy | None:
    return _policies.get(model._meta.concrete_model) if model is not None else None


def policies() -> list[Policy]:
    """Every registered policy, by app label and model name."""
    return sorted(_policies.values(), key=lambda p: (p.model._meta.app_label, p.model._meta.model_name))


_GLOBAL_ROLE_VALUES = {str(r) for r in GLOBAL_ROLES}


# ---------------------------------------------------------------------------------------------
# The user's roles (cached per request on the user object)
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Roles:
    """A user's roles: ``agencies[role]`` is the frozenset of agency ids that role holds (empty: global)."""

    agencies: dict[str, frozenset[int]]
    is_admin: bool

    def __iter__(self):
        return iter(self.agencies.items())

    def __contains__(self, role) -> bool:
        return str(role) in self.agencies


_NOBODY = Roles(agencies={}, is_admin=False)


def _signed_in(user) -> bool:
    return user is not None and getattr(user, "is_authenticated", False) and user.is_active


def roles_of(user) -> Roles:
    """The user's roles, each with the agencies it holds, plus the :data:`REQUESTER` pseudo-role."""
    if not _signed_in(user):
        return _NOBODY
    cached = getattr(user, "_kompass_roles", None)
    if cached is not None:
        return cached
    return remember_roles(user, user.role_assignments.all().values_list("role", "agency_id"))


def remember_roles(user, assignments) -> Roles:
    """Cache on ``user`` the roles of its ``(role, agency_id)`` assignment pairs, read by the caller with the user
    in the same query (the API's token lookup), so :func:`roles_of` needs no query of its own this request.
    A pair ``(None, None)`` (an outer join that found no assignment) is no role."""
    by_role: dict[str, set[int]] = {}
    for role, agency_id in assignments:
        if role is None:
            continue
        by_role.setdefault(role, set())
        if agency_id is not None:
            by_role[role].add(agency_id)
    if getattr(user, "home_agency_id", None):
        by_role.setdefault(REQUESTER, set()).add(user.home_agency_id)
    roles = Roles(
        agencies={role: frozenset(ids) for role, ids in by_role.items()},
        is_admin=bool(user.is_superuser) or Role.ADMINISTRATOR in by_role,
    )
    user._kompass_roles = roles
    return roles


def is_administrator(user) -> bool:
    return roles_of(user).is_admin


def is_integration_account(user) -> bool:
    """Integration accounts never use the web UI; the API lets them in only where a view opts in."""
    return _signed_in(user) and Role.VENDOR_INTEGRATION in roles_of(user)


# ---------------------------------------------------------------------------------------------
# Questions: restrict, can, agencies_for
# ---------------------------------------------------------------------------------------------


def _agency_lookup(agency_field: str) -> str:
    return "pk__in" if agency_field == "pk" else f"{agency_field}__in"


def restrict_q(user, action: str, model: type[models.Model]) -> Q | None:
    """The filter of the rows of ``model`` that ``user`` may ``action``: ``None`` means every row.

    One ``Q``: the OR over the user's roles of each role's scope, each with that role's own agencies.
    An empty ``Q(pk__in=[])`` means no row.
    """
    roles = roles_of(user)
    if roles.is_admin:
        return None
    policy = policy_for(model)
    nothing = Q(pk__in=[])
    if policy is None or action not in policy.actions:
        return nothing
    combined = None
    for role, agency_ids in roles:
        scope = policy.scope(action, role)
        if scope.kind == "all":
            return None
        if scope.kind == "agency":
            if not agency_ids:
                continue
            if policy.agency_field is None:
                return None  # a model without agencies: holding any agency is enough
            part = Q(**{_agency_lookup(policy.agency_field): agency_ids})
        elif scope.kind == "own":
            part = Q()
            for name in scope.fields:
                part |= Q(**{name: user.pk})
        else:
            continue
        combined = part if combined is None else combined | part
    return nothing if combined is None else combined


def _agency_of(obj, path: str):
    """The agency id of ``obj`` through ``path`` ("pk", "agency", "system__agency"); ``None`` if unset."""
    if path == "pk":
        return obj.pk
    *parents, last = path.split("__")
    target = obj
    for name in parents:
        target = getattr(target, name, None)
        if target is None:
            return None
    try:
        return getattr(target, f"{last}_id")
    except AttributeError:  # a reverse or many-valued path: ask the database
        return _MANY


_MANY = object()


def can(user, action: str, obj_or_model) -> bool:
    """May ``user`` do ``action`` to this object (an instance, saved or not) or to this model anywhere?

    On a model class it answers "anywhere at all" (for a "New" button). On an instance it answers for
    that object, from its fields (an unsaved object with its agency set works, for create checks).
    """
    if not _signed_in(user):
        return False
    roles = roles_of(user)
    if roles.is_admin:
        return True
    is_model = isinstance(obj_or_model, type)
    model = obj_or_model if is_model else type(obj_or_model)
    policy = policy_for(model)
    if policy is None or action not in policy.actions:
        return False
    for role, agency_ids in roles:
        scope = policy.scope(action, role)
        if scope.kind == "all":
            return True
        if scope.kind == "agency" and agency_ids:
            if is_model or policy.agency_field is None:
                return True
            agency_id = _agency_of(obj_or_model, policy.agency_field)
            if agency_id is _MANY:
                if (
                    obj_or_model.pk is not None
                    and model._default_manager.filter(
                        Q(pk=obj_or_model.pk) & Q(**{_agency_lookup(policy.agency_field): agency_ids})
                    ).exists()
                ):
                    return True
            elif agency_id in agency_ids:
                return True
        if scope.kind == "own":
            if is_model or any(_is_owner(obj_or_model, name, user) for name in scope.fields):
                return True
    return False


def _is_owner(obj, path: str, user) -> bool:
    """Is ``user`` the object's ``path`` ("requester", "case__requester", "watchers", "case__watchers")?

    Foreign keys are followed on the object (so an unsaved object works); a many-valued last step asks the
    database about the object it belongs to.
    """
    *parents, last = path.split("__")
    target = obj
    for name in parents:
        target = getattr(target, name, None)
        if target is None:
            return False
    field = target._meta.get_field(last)
    if field.many_to_many or field.one_to_many:
        return target.pk is not None and getattr(target, last).filter(pk=user.pk).exists()
    return getattr(target, f"{last}_id", None) == user.pk


def agencies_for(user, action: str, model: type[models.Model]):
    """The agencies in which ``user`` may ``action`` a ``model`` (for a form's agency choices)."""
    Agency = apps.get_model("core", "Agency")
    roles = roles_of(user)
    if roles.is_admin:
        return Agency.objects.all()
    policy = policy_for(model)
    if policy is None or action not in policy.actions:
        return Agency.objects.none()
    ids: set[int] = set()
    for role, agency_ids in roles:
        scope = policy.scope(action, role)
        if scope.kind == "all":
            return Agency.objects.all()
        if scope.kind == "agency":
            ids |= agency_ids
    return Agency.objects.filter(pk__in=ids)


def describe(policy: Policy, action: str, role: str) -> str:
    """A cell of the documented matrix: ``ALL``, ``AGENCY``, ``own(field)`` or ``–``."""
    scope = policy.scope(action, role)
    return "–" if scope.kind == "none" else str(scope)


# ---------------------------------------------------------------------------------------------
# System check: every domain model has a policy
# ---------------------------------------------------------------------------------------------


@checks.register(checks.Tags.security)
def check_every_domain_model_has_a_policy(app_configs: Any = None, **kwargs) -> list[checks.CheckMessage]:
    errors = []
    for model in apps.get_models():
        if not model.__module__.startswith("kompass.") or model._meta.abstract or model._meta.auto_created:
            continue
        if model._meta.proxy:
            continue
        if policy_for(model) is None:
            errors.append(
                checks.Error(
                    f"{model._meta.label} has no access policy.",
                    hint="Register it in its app's access.py with kompass.core.access.register().",
                    obj=model,
                    id="kompass.E001",
                )
            )
    return errors
