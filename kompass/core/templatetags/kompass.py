from django import template
from django.core.exceptions import FieldDoesNotExist
from django.utils.translation import gettext_lazy as _

register = template.Library()


def _display_value(value):
    if value in (None, "None", ""):
        return "–"
    if value == "True":
        return _("Yes")
    if value == "False":
        return _("No")
    return value


@register.filter
def changes_of(entry):
    """(field label, change) pairs of an audit entry, readable: display values, labels, m2m changes.

    Each change is ``{"m2m": False, "old": ..., "new": ...}`` or
    ``{"m2m": True, "operation": "add"|"delete"|"clear", "objects": [...]}``.
    """
    model = entry.content_type.model_class()
    try:
        display = entry.changes_display_dict
    except Exception:  # noqa: BLE001 - a removed model or field must not break a history page
        display = {}
    rows = []
    for name, values in entry.changes_dict.items():
        if name == "id":
            continue
        try:
            field = model._meta.get_field(name) if model else None
        except FieldDoesNotExist:
            field = None
        if field is not None and field.auto_created and not field.concrete:
            continue  # a reverse relation another app added (reports' statements on a contract): audited there
        label = getattr(field, "verbose_name", name) if field is not None else name
        if isinstance(values, dict) and values.get("type") == "m2m":
            change = {"m2m": True, "operation": values.get("operation"), "objects": values.get("objects", [])}
        else:
            shown = display.get(label, values)
            if not isinstance(shown, list | tuple) or len(shown) != 2:
                shown = values
            change = {"m2m": False, "old": _display_value(shown[0]), "new": _display_value(shown[1])}
            if change["old"] == change["new"]:
                continue  # e.g. an empty field on creation
        rows.append((str(label), change))
    return sorted(rows)


ACTION_LABELS = {0: _("Created"), 1: _("Changed"), 2: _("Deleted"), 3: _("Viewed")}
M2M_LABELS = {"add": _("added"), "delete": _("removed"), "clear": _("cleared")}


@register.filter
def action_label(entry):
    return ACTION_LABELS.get(entry.action, entry.get_action_display())


@register.filter
def m2m_label(operation):
    return M2M_LABELS.get(operation, operation)


@register.simple_tag(takes_context=True)
def query_with(context, **kwargs):
    """The current query string with some parameters replaced (for sort and page links)."""
    query = context["request"].GET.copy()
    for key, value in kwargs.items():
        query[key] = value
    return query.urlencode()


@register.filter
def model_verbose_name(instance):
    return instance._meta.verbose_name


@register.simple_tag(takes_context=True)
def can(context, action, obj_or_model):
    """``{% can "change" object as may_change %}``: the access matrix's answer for the current user."""
    from kompass.core import access

    request = context.get("request")
    return access.can(getattr(request, "user", None), action, obj_or_model)


@register.simple_tag(takes_context=True)
def panels(context, slot, obj):
    """``{% panels "case_detail" object %}``: what other apps registered for this slot (``core/panels.py``)."""
    from kompass.core import panels as registry

    return registry.render(slot, context.get("request"), obj)
