"""One FilterSet per model, shared by the list views and the API."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kompass.core.models import Agency, Service, System


class AgencyFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    kind = django_filters.ChoiceFilter(choices=Agency.Kind.choices, label=_("Kind"), empty_label=_("All kinds"))
    active = django_filters.BooleanFilter(label=_("Active"))
    service = django_filters.ModelChoiceFilter(
        field_name="services", queryset=Service.objects.all(), label=_("Service"), empty_label=_("All services")
    )

    class Meta:
        model = Agency
        fields = ["q", "kind", "active", "service"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value) | Q(short_code__icontains=value) | Q(organisation_number__startswith=value)
        )


class SystemFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    agency = django_filters.ModelChoiceFilter(queryset=Agency.objects.all(), label=_("Agency"))
    criticality = django_filters.ChoiceFilter(choices=System.Criticality.choices, label=_("Criticality"))
    active = django_filters.BooleanFilter(label=_("Active"))

    class Meta:
        model = System
        fields = ["q", "agency", "criticality", "active"]

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        request = kwargs.get("request")
        user = user or getattr(request, "user", None)
        if user is not None:
            # Only offer agencies the user may see.
            self.filters["agency"].queryset = Agency.objects.restrict(user)

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(name__icontains=value) | Q(description__icontains=value))
