"""The restricted queryset: the only way views and API endpoints read domain data."""

from django.db import models

from kompass.core import access


class RestrictedQuerySet(models.QuerySet):
    """A queryset that narrows itself to the rows a user may ``action`` (the access matrix decides).

    A model declares ``agency_field``, the lookup from the model to its agency (``"pk"`` on Agency
    itself, ``"agency"`` on a System), or ``None`` for data shared by every agency.
    """

    def restrict(self, user, action: str = "view") -> "RestrictedQuerySet":
        condition = access.restrict_q(user, action, self.model)
        if condition is None:
            return self.all()
        policy = access.policy_for(self.model)
        if policy is not None and _any_path_crosses_many(self.model, policy, action):
            # A many-valued path (a user's role assignments, a case's watchers) would repeat rows: filter
            # by a subquery.
            return self.filter(pk__in=self.model._default_manager.filter(condition).values("pk"))
        return self.filter(condition)


def _any_path_crosses_many(model, policy, action: str) -> bool:
    paths = [policy.agency_field] if policy.agency_field else []
    for scope in policy.rules.get(action, {}).values():
        paths.extend(scope.fields if scope.kind == "own" else ())
    return any(_crosses_many(model, path) for path in paths)


def _crosses_many(model, path: str) -> bool:
    if path == "pk":
        return False
    for name in path.split("__"):
        field = model._meta.get_field(name)
        if field.many_to_many or field.one_to_many:
            return True
        model = field.related_model
        if model is None:
            return False
    return False
