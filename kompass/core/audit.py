"""Audit trail: every create, change and delete of a domain model, through django-auditlog.

Register a model here (or in its own app's ``audit.py``) and auditlog records who changed
which fields from what to what. The actor comes from ``AuditlogMiddleware`` in web requests and
from ``auditlog.context.set_actor`` in commands and tasks.
"""

from auditlog.context import auditlog_disabled, disable_auditlog
from auditlog.diff import get_field_value, get_mask_function, is_primitive, track_field
from auditlog.models import LogEntry
from auditlog.registry import auditlog
from auditlog.signals import post_log, pre_log
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.utils.encoding import smart_str

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


# ---------------------------------------------------------------------------------------------
# A new row's entry, built from the row in memory
# ---------------------------------------------------------------------------------------------

#: Per model: the fields auditlog diffs, each with the value it gives the missing old row (both fixed).
_CREATE_FIELDS: dict[type, list] = {}


def _create_fields(model) -> list:
    fields = _CREATE_FIELDS.get(model)
    if fields is None:
        # auditlog's own choice (``model_instance_diff`` with no old row), made once instead of at every save
        registered = auditlog.get_model_fields(model)
        include, exclude = registered["include_fields"], registered["exclude_fields"]
        chosen = [
            f
            for f in model._meta.get_fields()
            if track_field(f) and (not include or f.name in include) and f.name not in exclude
        ]
        json = settings.AUDITLOG_STORE_JSON_CHANGES
        fields = [(f, get_field_value(None, f, json)) for f in chosen]
        _CREATE_FIELDS[model] = fields
    return fields


def _created_changes(instance) -> dict | None:
    """What ``auditlog.diff.model_instance_diff(None, instance)`` gives, from the fields chosen once per model."""
    model = type(instance)
    json = settings.AUDITLOG_STORE_JSON_CHANGES
    registered = auditlog.get_model_fields(model)
    masked, mask = registered["mask_fields"], None
    diff = {}
    for field, old in _create_fields(model):
        new = get_field_value(instance, field, json)
        if old == new:
            continue
        if field.name in masked:
            mask = mask or get_mask_function(registered.get("mask_callable"))
            diff[field.name] = (mask(smart_str(old)), mask(smart_str(new)))
        elif not json:
            diff[field.name] = (smart_str(old), smart_str(new))
        else:
            diff[field.name] = (
                old if is_primitive(old) else smart_str(old),
                new if is_primitive(new) else smart_str(new),
            )
    return diff or None


def save_created(instance, **save_kwargs) -> None:
    """Insert ``instance`` (a new row of a registered model) and write the audit entry auditlog's ``post_save``
    receiver writes, with its ``pre_log``/``post_log`` signals and the actor of the request, built from the
    instance in memory: auditlog's receiver diffs every field of the model against a missing row each time
    (an exception per field) to find the ones it has chosen once already. Nothing is written with auditing
    turned off, as with auditlog's receiver."""
    with disable_auditlog():
        instance.save(**save_kwargs)
    if auditlog_disabled.get(False) or not auditlog.contains(type(instance)):
        return
    sender, action = type(instance), LogEntry.Action.CREATE
    pre_log_results = pre_log.send(sender, instance=instance, action=action)
    if any(item[1] is False for item in pre_log_results):
        return
    error = entry = changes = None
    try:
        changes = _created_changes(instance)
        if changes:
            entry = LogEntry.objects.log_create(instance, action=action, changes=changes, force_log=False)
    except BaseException as exc:  # as auditlog's receiver: post_log hears of the failure, then it is raised
        error = exc
    finally:
        if entry or error:
            post_log.send(
                sender,
                instance=instance,
                instance_old=None,
                action=action,
                error=error,
                pre_log_results=pre_log_results,
                changes=changes,
                log_entry=entry,
                log_created=entry is not None,
                use_json_for_changes=settings.AUDITLOG_STORE_JSON_CHANGES,
            )
    if error:
        raise error
