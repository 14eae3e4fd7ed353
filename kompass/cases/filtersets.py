"""One FilterSet for the agent queue page and the API's case list."""

import django_filters
from django import forms
from django.utils.translation import gettext_lazy as _

from kompass.cases import search
from kompass.cases.forms import FastSelect, FastSelectMultiple, ListedChoiceIterator
from kompass.cases.models import Case
from kompass.core.models import Agency, Service, System, User

_BIGGEST_ID = 2**63 - 1


class _IdsInRange:
    """Refuse ids no database column can hold (SQLite raises OverflowError on them): a 400, not a 500."""

    def _ids_ok(self, values) -> bool:
        try:
            return all(abs(int(v)) <= _BIGGEST_ID for v in values if v not in self.empty_values)
        except (TypeError, ValueError):
            return True  # the field's own validation reports it

    def clean(self, value):
        values = value if isinstance(value, list | tuple) else [value]
        if not self._ids_ok(values):
            raise forms.ValidationError(
                self.error_messages["invalid_choice"], code="invalid_choice", params={"value": values[0]}
            )
        return super().clean(value)


class _ModelChoiceField(_IdsInRange, forms.ModelChoiceField):
    iterator = ListedChoiceIterator


class _ModelMultipleChoiceField(_IdsInRange, forms.ModelMultipleChoiceField):
    iterator = ListedChoiceIterator


class ModelChoiceFilter(django_filters.ModelChoiceFilter):
    field_class = _ModelChoiceField


class ModelMultipleChoiceFilter(django_filters.ModelMultipleChoiceFilter):
    field_class = _ModelMultipleChoiceField


def _agencies(request):
    return Agency.objects.restrict(request.user, "view") if request else Agency.objects.none()


def _systems(request):
    return System.objects.restrict(request.user, "view") if request else System.objects.none()


def _people(request):
    """The assignees one may filter on: the visible people who can work cases (not every agency contact)."""
    if not request:
        return User.objects.none()
    from kompass.cases.forms import assignee_candidates

    workers = assignee_candidates().values("pk")
    return User.objects.restrict(request.user, "view").filter(pk__in=workers)


def _services(request):
    return Service.objects.all()


class CaseFilterSet(django_filters.FilterSet):
    """Queue filters: agency, state, priority, SLA state, team, assignee, service, system (and type, open, ``q``)."""

    # distinct=False: these are columns of the case itself, so no join can repeat a row, and SELECT DISTINCT over
    # every column of 50,000 matching cases costs seconds on PostgreSQL (the queue and the API's count).
    agency = ModelMultipleChoiceFilter(queryset=_agencies, label=_("Agency"), distinct=False, widget=FastSelectMultiple)
    state = django_filters.MultipleChoiceFilter(
        choices=Case.State.choices, label=_("State"), distinct=False, widget=FastSelectMultiple
    )
    priority = django_filters.MultipleChoiceFilter(
        choices=Case.PRIORITIES, label=_("Priority"), distinct=False, widget=FastSelectMultiple
    )
    sla_state = django_filters.MultipleChoiceFilter(
        choices=Case.SlaState.choices, label=_("SLA state"), distinct=False, widget=FastSelectMultiple
    )
    team = django_filters.CharFilter(lookup_expr="iexact", label=_("Team"))
    assignee = ModelChoiceFilter(queryset=_people, label=_("Assignee"), widget=FastSelect)
    service = ModelChoiceFilter(queryset=_services, label=_("Service"), widget=FastSelect)
    system = ModelChoiceFilter(queryset=_systems, label=_("System"), widget=FastSelect)
    type = django_filters.MultipleChoiceFilter(
        choices=Case.Type.choices, label=_("Type"), distinct=False, widget=FastSelectMultiple
    )
    open = django_filters.BooleanFilter(method="filter_open", label=_("Open cases only"))
    q = django_filters.CharFilter(
        method="filter_q",
        label=_("Search"),
        max_length=200,
        widget=forms.TextInput(attrs={"type": "search", "class": "pkt-input", "autocomplete": "off"}),
    )

    class Meta:
        model = Case
        fields = ["agency", "state", "priority", "sla_state", "team", "assignee", "service", "system", "type"]

    #: Set to a dict by the queue page (``search.search``'s ``hint``: it pages in due order and caps its count).
    search_hint = None

    def filter_q(self, queryset, name, value):
        """Full-text search over title, description and conversation (internal notes only for those who see them)."""
        return search.search(queryset, value, getattr(self.request, "user", None), hint=self.search_hint)

    def filter_open(self, queryset, name, value):
        if value is None:
            return queryset
        return queryset.filter(state__in=Case.OPEN_STATES) if value else queryset.exclude(state__in=Case.OPEN_STATES)


__all__ = ["CaseFilterSet"]
