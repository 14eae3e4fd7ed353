"""One FilterSet per model, shared by the list views and the API."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kompass.core.durable import DurableWork
from kompass.notifications.models import Channel, Delivery, Notification

STATE_LABELS = [
    (DurableWork.State.PENDING, _("Waiting")),
    (DurableWork.State.CLAIMED, _("Sending")),
    (DurableWork.State.DONE, _("Delivered")),
    (DurableWork.State.DEAD, _("Failed")),
]


class DeliveryFilterSet(django_filters.FilterSet):
    event = django_filters.CharFilter(lookup_expr="startswith", label=_("Event"))
    state = django_filters.ChoiceFilter(choices=STATE_LABELS, label=_("Status"), empty_label=_("All statuses"))
    channel = django_filters.ChoiceFilter(choices=Channel.choices, label=_("Channel"), empty_label=_("All channels"))
    recipient = django_filters.CharFilter(method="by_recipient", label=_("Recipient"))
    created_after = django_filters.DateFilter(field_name="created", lookup_expr="date__gte", label=_("From date"))
    created_before = django_filters.DateFilter(field_name="created", lookup_expr="date__lte", label=_("To date"))

    class Meta:
        model = Delivery
        fields = ["event", "state", "channel", "recipient", "created_after", "created_before"]

    def by_recipient(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(recipient__email__icontains=value)
            | Q(recipient__full_name__icontains=value)
            | Q(address__icontains=value)
        )


class NotificationFilterSet(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(field_name="read_at", lookup_expr="isnull", label=_("Unread only"))

    class Meta:
        model = Notification
        fields = ["unread"]
