"""Audit trail: every create, change and delete of a domain model, through django-auditlog.

Register a model here (or in its own app's ``audit.py``) and auditlog records who changed
which fields from what to what. The actor comes from ``AuditlogMiddleware`` in web requests and
from ``auditlog.context.set_actor`` in commands and tasks.
"""

from auditlog.models import LogEntry
from auditlog.registry import auditlog
from django.contrib.contenttypes.models import ContentType

from kompass.core.models import Agency, Organisation, RoleAssignment, Service, System, User

auditlog.register(Organisation)
auditlog.register(Agency, m2m_fields={"services"})
auditlog.register(Service)
auditlog.register(System, m2m_fields={"services"})
auditlog.register(RoleAssignment)
auditlog.register(User, exclude_fields=["password", "last_login"])


def history_for(obj, limit: int = 50):
    """The newest audit entries for one object."""
    ct = ContentType.objects.get_for_model(type(obj))
    return (
        LogEntry.objects.filter(content_type=ct, object_pk=str(obj.pk))
        .select_related("actor")
        .order_by("-timestamp")[:limit]
    )
