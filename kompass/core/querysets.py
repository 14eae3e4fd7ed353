"""The restricted queryset: the only way views and API endpoints read agency-owned data."""

from django.db import models

from kompass.core import access as access_rules


class RestrictedQuerySet(models.QuerySet):
    """A queryset that narrows itself to what a user may reach.

    A model declares ``agency_field``: the lookup from the model to its agency (``"pk"`` on
    Agency itself, ``"agency"`` on a System), or ``None`` for data shared by every agency
    (the service catalogue), which every signed-in user may view and only organisation-wide
    editors may change.
    """

    def restrict(self, user, action: str = "view") -> "RestrictedQuerySet":
        if action not in {"view", "change", "delete"}:
            raise ValueError(f"Unknown action {action!r}")
        rules = access_rules.access_for(user)
        field = self.model.agency_field
        reach = rules.view if action == "view" else rules.change
        if field is None:
            if not getattr(user, "is_authenticated", False) or not user.is_active:
                return self.none()
            if action == "view" or rules.changes_all:
                return self.all()
            return self.none()
        if reach is access_rules.ALL:
            return self.all()
        if not reach:
            return self.none()
        lookup = "pk__in" if field == "pk" else f"{field}__in"
        return self.filter(**{lookup: reach})
