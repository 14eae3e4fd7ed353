"""One FilterSet per model, shared by the portfolio pages, the map's data and the API."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kompass.core.models import Agency, System
from kompass.portfolio.models import Integration, Level, MigrationWave, SystemProfile, Transformation


class _AgencyChoices:
    """Offer only the agencies the user may see."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = kwargs.get("request")
        user = getattr(request, "user", None)
        if user is not None and "agency" in self.filters:
            self.filters["agency"].queryset = Agency.objects.restrict(user)


class PortfolioSystemFilterSet(_AgencyChoices, django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    agency = django_filters.ModelChoiceFilter(queryset=Agency.objects.all(), label=_("Agency"))
    criticality = django_filters.ChoiceFilter(choices=System.Criticality.choices, label=_("Criticality"))
    hosting = django_filters.ChoiceFilter(
        field_name="portfolio_profile__hosting", choices=SystemProfile.Hosting.choices, label=_("Hosting")
    )
    confidentiality = django_filters.ChoiceFilter(
        field_name="portfolio_profile__confidentiality", choices=Level.choices, label=_("Confidentiality")
    )
    personal_data = django_filters.BooleanFilter(
        field_name="portfolio_profile__personal_data", label=_("Personal data")
    )
    path = django_filters.ChoiceFilter(
        field_name="transformation__path", choices=Transformation.Path.choices, label=_("Target path")
    )
    status = django_filters.ChoiceFilter(
        field_name="transformation__status", choices=Transformation.Status.choices, label=_("Transformation status")
    )
    wave = django_filters.ModelChoiceFilter(
        field_name="transformation__wave", queryset=MigrationWave.objects.all(), label=_("Migration wave")
    )

    class Meta:
        model = System
        fields = ["q", "agency", "criticality", "hosting", "confidentiality", "personal_data", "path", "status", "wave"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value)
            | Q(portfolio_profile__product__icontains=value)
            | Q(portfolio_profile__vendor_name__icontains=value)
        )


class IntegrationFilterSet(_AgencyChoices, django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    agency = django_filters.ModelChoiceFilter(
        field_name="agencies", queryset=Agency.objects.all(), label=_("Agency"), distinct=True
    )
    status = django_filters.ChoiceFilter(choices=Integration.Status.choices, label=_("Status"))
    technology = django_filters.ChoiceFilter(choices=Integration.Technology.choices, label=_("Technology"))
    personal_data = django_filters.BooleanFilter(label=_("Personal data"))
    confidentiality = django_filters.ChoiceFilter(
        method="filter_confidentiality", choices=Level.choices, label=_("Confidentiality (either side)")
    )
    system = django_filters.NumberFilter(method="filter_system", label=_("System"))

    class Meta:
        model = Integration
        fields = ["q", "agency", "status", "technology", "personal_data", "confidentiality", "system"]

    def search(self, queryset, name, value):
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(
            Q(name__icontains=value)
            | Q(provider_system__name__icontains=value)
            | Q(consumer_system__name__icontains=value)
            | Q(provider_party__name__icontains=value)
            | Q(consumer_party__name__icontains=value)
        )

    def filter_confidentiality(self, queryset, name, value):
        return queryset.filter(
            Q(provider_system__portfolio_profile__confidentiality=value)
            | Q(consumer_system__portfolio_profile__confidentiality=value)
        )

    def filter_system(self, queryset, name, value):
        return queryset.filter(Q(provider_system_id=value) | Q(consumer_system_id=value))
