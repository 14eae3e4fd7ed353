"""Template helpers of the contract register."""

from django import template

register = template.Library()


@register.filter
def get_item(mapping, key):
    """``counts|get_item:status``: a dict's value by a variable key (0 when absent)."""
    return mapping.get(key, 0) if hasattr(mapping, "get") else 0


@register.filter
def status_tag(status: str) -> str:
    """The Punkt tag colour of a requirement status."""
    return {
        "verified": "green",
        "approved": "green",
        "deviation": "red",
        "ready": "yellow",
        "in_progress": "blue",
        "not_applicable": "grey",
    }.get(status, "grey")
