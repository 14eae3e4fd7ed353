from django import template

register = template.Library()


@register.filter
def changes_of(entry):
    """(field label, change) pairs of an auditlog entry, with display values where auditlog has them."""
    try:
        changes = entry.changes_display_dict
    except Exception:  # noqa: BLE001 - a removed model or field must not break a history page
        changes = entry.changes_dict
    return sorted(changes.items(), key=lambda item: str(item[0]))


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
