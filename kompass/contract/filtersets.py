"""The requirement FilterSet, shared by the requirement list and the API."""

import django_filters
from django.db.models import Q
from django.utils.translation import gettext_lazy as _

from kompass.contract.models import Milestone, Requirement


class RequirementFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(method="search", label=_("Search"))
    contract = django_filters.NumberFilter(label=_("Contract"), min_value=1, max_value=2**31 - 1)
    status = django_filters.MultipleChoiceFilter(choices=Requirement.Status.choices, label=_("Status"))
    milestone = django_filters.ModelChoiceFilter(queryset=Milestone.objects.none(), label=_("Milestone"))
    chapter = django_filters.CharFilter(label=_("Chapter"))
    kind = django_filters.ChoiceFilter(choices=Requirement.Kind.choices, label=_("Kind"))
    verification_method = django_filters.ChoiceFilter(
        choices=Requirement.VerificationMethod.choices, label=_("Verification method")
    )
    withdrawn = django_filters.BooleanFilter(label=_("Withdrawn"))

    class Meta:
        model = Requirement
        fields = ["q", "contract", "status", "milestone", "chapter", "kind", "verification_method", "withdrawn"]

    def __init__(self, *args, contract=None, **kwargs):
        super().__init__(*args, **kwargs)
        request = kwargs.get("request")
        milestones = Milestone.objects.restrict(request.user, "view") if request else Milestone.objects.none()
        if contract is not None:
            milestones = milestones.filter(contract=contract)
        self.filters["milestone"].queryset = milestones

    def search(self, queryset, name, value):
        """Full-text search over ID, text, chapter, section, category and the vendor's response."""
        words = value.split()
        for word in words[:10]:
            queryset = queryset.filter(
                Q(requirement_id__istartswith=word)
                | Q(text__icontains=word)
                | Q(chapter__icontains=word)
                | Q(section__icontains=word)
                | Q(category__icontains=word)
                | Q(vendor_response__icontains=word)
            )
        return queryset
