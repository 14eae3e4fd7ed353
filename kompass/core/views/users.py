"""User administration (administrators only), the audit log and API tokens."""

from auditlog.models import LogEntry
from django.contrib import messages
from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Paginator
from django.db.models import Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views.generic import TemplateView

from kompass.core.audit import history_for
from kompass.core.forms import OrganisationForm, RoleAssignmentForm, UserForm
from kompass.core.models import Organisation, RoleAssignment, User
from kompass.core.roles import Role
from kompass.core.views.generic import MatrixRequired, ObjectEditView


class AdministratorRequired(MatrixRequired):
    """User administration: the ``manage`` action on users (administrators in the matrix)."""

    required_action = "manage"
    required_model = User


class UserListView(AdministratorRequired, TemplateView):
    template_name = "core/user_list.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        users = User.objects.prefetch_related("role_assignments__agency").order_by("full_name")
        q = self.request.GET.get("q", "").strip()
        if q:
            users = users.filter(Q(full_name__icontains=q) | Q(email__icontains=q))
        role = self.request.GET.get("role", "")
        if role:
            users = users.filter(role_assignments__role=role).distinct()
        page = Paginator(users, 50).get_page(self.request.GET.get("page"))
        context.update(page_obj=page, object_list=page.object_list, q=q, role=role, roles=Role.choices)
        return context


class UserDetailView(AdministratorRequired, TemplateView):
    template_name = "core/user_detail.html"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        obj = get_object_or_404(User, pk=self.kwargs["pk"])
        context.update(
            object=obj,
            assignments=obj.role_assignments.select_related("agency"),
            role_form=kwargs.get("role_form") or RoleAssignmentForm(user_obj=obj),
            history=history_for(obj),
        )
        return context

    def post(self, request, *args, **kwargs):
        obj = get_object_or_404(User, pk=self.kwargs["pk"])
        if "remove" in request.POST:
            RoleAssignment.objects.filter(user=obj, pk=request.POST.get("remove")).delete()
            messages.success(request, _("Role removed."))
            return redirect(obj.get_absolute_url())
        form = RoleAssignmentForm(request.POST, user_obj=obj)
        if form.is_valid():
            form.save()
            messages.success(request, _("Role added."))
            return redirect(obj.get_absolute_url())
        return self.render_to_response(self.get_context_data(role_form=form), status=400)


class UserEditView(AdministratorRequired, ObjectEditView):
    template_name = "core/object_form.html"
    queryset = User.objects.all()
    form_class = UserForm

    def get_object(self):
        if "pk" not in self.kwargs:
            return None
        return get_object_or_404(User, pk=self.kwargs["pk"])


class AuditLogView(MatrixRequired, TemplateView):
    """Every change in the organisation, filterable by object type, action, actor and text."""

    template_name = "core/audit_log.html"
    required_action = "audit"
    required_model = Organisation

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        entries = LogEntry.objects.select_related("actor", "content_type").order_by("-timestamp")
        params = self.request.GET
        if params.get("type"):
            entries = entries.filter(content_type_id=params["type"]) if params["type"].isdigit() else entries.none()
        if params.get("action") in {"0", "1", "2"}:
            entries = entries.filter(action=int(params["action"]))
        if params.get("actor"):
            entries = entries.filter(actor__email__icontains=params["actor"].strip())
        if params.get("q"):
            entries = entries.filter(object_repr__icontains=params["q"].strip())
        page = Paginator(entries, 50).get_page(params.get("page"))
        query = params.copy()
        query.pop("page", None)
        types = ContentType.objects.filter(
            pk__in=LogEntry.objects.values_list("content_type_id", flat=True).distinct()
        ).order_by("model")
        context.update(
            page_obj=page, object_list=page.object_list, types=types, params=params, querystring=query.urlencode()
        )
        return context


class OrganisationEditView(ObjectEditView):
    """The organisation's name and branding (``change`` on the organisation: administrators)."""

    template_name = "core/object_form.html"
    queryset = Organisation.objects.all()
    form_class = OrganisationForm
    required_action = "change"

    def get_object(self):
        return Organisation.current()


def branding_css(request):
    """The organisation's colour as a stylesheet, so the strict CSP needs no inline styles."""
    colour = Organisation.current().primary_colour
    response = HttpResponse(f":root {{ --kp-blue: {colour}; }}\n", content_type="text/css")
    response["Cache-Control"] = "max-age=300"
    return response
