"""Pages of the core app: home, agencies, services, systems."""

from django.contrib.auth.mixins import LoginRequiredMixin
from django.db.models import Count, Prefetch, Q
from django.utils.translation import gettext_lazy as _
from django.views.generic import TemplateView

from kompass.core import access
from kompass.core.filtersets import AgencyFilterSet, SystemFilterSet
from kompass.core.forms import AgencyForm, ServiceForm, SystemForm
from kompass.core.models import Agency, RoleAssignment, Service, System
from kompass.core.roles import Role
from kompass.core.views.generic import ObjectDetailView, ObjectEditView, ObjectListView


class HomeView(LoginRequiredMixin, TemplateView):
    template_name = "core/home.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        user = self.request.user
        agencies = Agency.objects.restrict(user).filter(active=True)
        systems = System.objects.restrict(user).filter(active=True)
        context.update(
            agency_count=agencies.count(),
            system_count=systems.count(),
            critical_system_count=systems.filter(criticality=System.Criticality.CRITICAL).count(),
            service_count=Service.objects.restrict(user).filter(active=True).count(),
            my_assignments=user.role_assignments.select_related("agency"),
            my_agencies=agencies[:12] if access.restrict_q(user, "view", Agency) is not None else [],
        )
        return context


class AgencyListView(ObjectListView):
    template_name = "core/agency_list.html"
    partial_template_name = "core/includes/agency_table.html"
    title, create_url_name, create_label = _("Agencies"), "core:agency_create", _("New agency")
    queryset = Agency.objects.annotate(
        system_count=Count("systems", filter=Q(systems__active=True), distinct=True)
    ).order_by("name")
    filterset_class = AgencyFilterSet


class AgencyDetailView(ObjectDetailView):
    template_name = "core/agency_detail.html"
    list_url_name, list_label, edit_url_name = "core:agency_list", _("Agencies"), "core:agency_edit"
    queryset = Agency.objects.prefetch_related(
        "services",
        Prefetch(
            "role_assignments", queryset=RoleAssignment.objects.select_related("user").order_by("user__full_name")
        ),
    )

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        agency = context["object"]
        by_role = {}
        for assignment in agency.role_assignments.all():
            by_role.setdefault(assignment.role, []).append(assignment.user)
        order = [Role.AGENCY_IT_CONTACT, Role.SYSTEM_OWNER, Role.AGENCY_ADMIN, Role.KEY_ACCOUNT_MANAGER]
        context["contacts"] = [(Role(role).label, by_role.get(role, [])) for role in order]
        context["systems"] = agency.systems.select_related("system_owner").order_by("name")
        return context


class AgencyEditView(ObjectEditView):
    template_name = "core/object_form.html"
    queryset = Agency.objects.all()
    form_class = AgencyForm


class ServiceListView(ObjectListView):
    template_name = "core/service_list.html"
    title, create_url_name, create_label = _("Service catalogue"), "core:service_create", _("New service")
    queryset = Service.objects.annotate(agency_count=Count("agencies", distinct=True)).order_by("name")


class ServiceDetailView(ObjectDetailView):
    template_name = "core/service_detail.html"
    list_url_name, list_label, edit_url_name = "core:service_list", _("Services"), "core:service_edit"
    queryset = Service.objects.all()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["agencies"] = Agency.objects.restrict(self.request.user).filter(services=context["object"])
        return context


class ServiceEditView(ObjectEditView):
    template_name = "core/object_form.html"
    queryset = Service.objects.all()
    form_class = ServiceForm


class SystemListView(ObjectListView):
    template_name = "core/system_list.html"
    partial_template_name = "core/includes/system_table.html"
    title, create_url_name, create_label = _("Systems"), "core:system_create", _("New system")
    queryset = System.objects.select_related("agency", "system_owner")
    filterset_class = SystemFilterSet


class SystemDetailView(ObjectDetailView):
    template_name = "core/system_detail.html"
    list_url_name, list_label, edit_url_name = "core:system_list", _("Systems"), "core:system_edit"
    queryset = System.objects.select_related("agency", "system_owner").prefetch_related("services")


class SystemEditView(ObjectEditView):
    template_name = "core/object_form.html"
    queryset = System.objects.all()
    form_class = SystemForm
