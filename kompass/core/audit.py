"""Audit trail: every create, change and delete of a domain model, through django-auditlog.

Register a model here (or in its own app's ``audit.py``) and auditlog records who changed
which fields from what to what. The actor comes from ``AuditlogMiddleware`` in web requests and
from ``auditlog.context.set_actor`` in commands and tasks.
"""

from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.contrib.contenttypes.models import ContentType

from kompass.core.models import Agency, Organisation, RoleAssignment, Service, System, User


def reverse_relations(model) -> list[str]:
    """The names of every reverse relation onto ``model``, including those other apps add (a case's agency)."""
    return [f.name for f in model._meta.get_fields() if f.auto_created and not f.concrete]


# Only the models' own fields are recorded: reverse relations (an agency's systems, its cases) are audited on
# their own objects, and automatic timestamps would only repeat the entry's time.
auditlog.register(Organisation)
auditlog.register(Agency, m2m_fields={"services"}, exclude_fields=[*reverse_relations(Agency), "created", "updated"])
auditlog.register(Service, exclude_fields=reverse_relations(Service))
auditlog.register(System, m2m_fields={"services"}, exclude_fields=[*reverse_relations(System), "created", "updated"])
auditlog.register(RoleAssignment, exclude_fields=["created"])
auditlog.register(
    User,
    exclude_fields=[
        *reverse_relations(User),
        "password",
        "last_login",
        "logentry",
        "groups",
        "user_permissions",
        "date_joined",
    ],
)


def history_for(obj, limit: int = 50):
    """The newest audit entries for one object."""
    ct = ContentType.objects.get_for_model(type(obj))
    return (
        LogEntry.objects.filter(content_type=ct, object_pk=str(obj.pk))
        .select_related("actor")
        .order_by("-timestamp")[:limit]
    )
