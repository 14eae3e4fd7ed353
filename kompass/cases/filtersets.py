"""One FilterSet for the agent queue page and the API's case list."""

import django_filters
from django.utils.translation import gettext_lazy as _

from kompass.cases.models import Case
from kompass.core.models import Agency, Service, System, User


def _agencies(request):
    return Agency.objects.restrict(request.user, "view") if request else Agency.objects.none()


def _systems(request):
    return System.objects.restrict(request.user, "view") if request else System.objects.none()


def _people(request):
    return User.objects.restrict(request.user, "view") if request else User.objects.none()


def _services(request):
    return Service.objects.all()


class CaseFilterSet(django_filters.FilterSet):
    """Queue filters: agency, state, priority, SLA state, team, assignee, service, system (and type, open)."""

    agency = django_filters.ModelMultipleChoiceFilter(queryset=_agencies, label=_("Agency"))
    state = django_filters.MultipleChoiceFilter(choices=Case.State.choices, label=_("State"))
    priority = django_filters.MultipleChoiceFilter(choices=Case.PRIORITIES, label=_("Priority"))
    sla_state = django_filters.MultipleChoiceFilter(choices=Case.SlaState.choices, label=_("SLA state"))
    team = django_filters.CharFilter(lookup_expr="iexact", label=_("Team"))
    assignee = django_filters.ModelChoiceFilter(queryset=_people, label=_("Assignee"))
    service = django_filters.ModelChoiceFilter(queryset=_services, label=_("Service"))
    system = django_filters.ModelChoiceFilter(queryset=_systems, label=_("System"))
    type = django_filters.MultipleChoiceFilter(choices=Case.Type.choices, label=_("Type"))
    open = django_filters.BooleanFilter(method="filter_open", label=_("Open cases only"))

    class Meta:
        model = Case
        fields = ["agency", "state", "priority", "sla_state", "team", "assignee", "service", "system", "type"]

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(state__in=Case.OPEN_STATES) if value else queryset.exclude(state__in=Case.OPEN_STATES)


__all__ = ["CaseFilterSet"]
