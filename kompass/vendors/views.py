from django.apps import apps
from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import Http404, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from kompass.core import access
from kompass.core.views.generic import MatrixRequired, ObjectDetailView, ObjectEditView, ObjectListView
from kompass.notifications import services as notifications
from kompass.vendors import health, reconcile, sync
from kompass.vendors.forms import SendToVendorForm, ServiceRouteForm, VendorConnectionForm
from kompass.vendors.models import ServiceRoute, VendorConnection, VendorLink
from kompass.vendors.services import check_connection


class ConnectionListView(ObjectListView):
    template_name = "vendors/connection_list.html"
    queryset = VendorConnection.objects.all()


class ConnectionDetailView(ObjectDetailView):
    template_name = "vendors/connection_detail.html"
    queryset = VendorConnection.objects.all()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["secret_is_set"] = bool(context["object"].secret())
        return context


class ConnectionEditView(ObjectEditView):
    template_name = "vendors/connection_form.html"
    queryset = VendorConnection.objects.all()
    form_class = VendorConnectionForm


class ConnectionCheckView(MatrixRequired, View):
    """POST: test the connection now; answers the result fragment (htmx) or the whole page."""

    queryset = VendorConnection.objects.all()

    def post(self, request, pk):
        connection = get_object_or_404(VendorConnection.objects.restrict(request.user, "view"), pk=pk)
        if not access.can(request.user, "check", connection):
            raise PermissionDenied
        result = check_connection(connection)
        template = "vendors/includes/check_result.html" if request.htmx else "vendors/connection_detail.html"
        return render(
            request,
            template,
            {"object": connection, "result": result, "secret_is_set": bool(connection.secret())},
        )


# ---------------------------------------------------------------------------------------------
# E-bonding pages
# ---------------------------------------------------------------------------------------------
class LinkListView(ObjectListView):
    template_name = "vendors/link_list.html"
    queryset = VendorLink.objects.select_related("case", "connection")
    title = ""

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.request.GET.get("problems"):
            queryset = queryset.filter(
                Q(sync_state__in=["refused", "failed"]) | Q(outbox__state="dead") | Q(outbox__refused=True)
            ).distinct()
        return queryset


class LinkDetailView(ObjectDetailView):
    template_name = "vendors/link_detail.html"
    queryset = VendorLink.objects.select_related("case", "connection")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        link = context["object"]
        context["outbox"] = link.outbox.order_by("-pk")[:100]
        context["inbox"] = link.connection.inbox.filter(sys_id=link.sys_id).order_by("-pk")[:50] if link.sys_id else []
        requester_side = {link.case.requester_id, *link.case.watchers.values_list("pk", flat=True)}
        context["informed"] = [
            d for d in notifications.deliveries_for(link.case)[:100] if d.recipient_id in requester_side
        ]
        context["may_retry"] = access.can(self.request.user, "retry", link)
        context["has_dead"] = link.outbox.filter(Q(state="dead") | Q(refused=True)).exists()
        return context


class LinkRetryView(MatrixRequired, View):
    """POST: an agent gives the link's dead letters (and refused writes) a new set of attempts."""

    queryset = VendorLink.objects.all()
    required_action = "retry"

    def post(self, request, pk):
        link = get_object_or_404(VendorLink.objects.restrict(request.user, "view"), pk=pk)
        if not access.can(request.user, "retry", link):
            raise PermissionDenied
        dead = list(link.outbox.filter(Q(state="dead") | Q(refused=True)))
        count = sync.retry_dead(dead)
        if count:
            VendorLink.objects.filter(pk=link.pk).update(sync_state=VendorLink.SyncState.LINKED, last_error="")
        messages.success(request, _("%(count)s messages will be sent again.") % {"count": count})
        return redirect(link.get_absolute_url())


class DeadLetterListView(ObjectListView):
    template_name = "vendors/dead_letters.html"
    queryset = VendorLink.objects.all()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        visible = VendorLink.objects.restrict(self.request.user, "view")
        context["letters"] = (
            sync.dead_letters().filter(link__in=visible).select_related("link__case", "link__connection")[:200]
        )
        return context


class SendToVendorView(MatrixRequired, TemplateView):
    """The agent action "send to vendor": bond a case to a new record at a vendor (GET: the form)."""

    template_name = "vendors/send_to_vendor.html"
    queryset = VendorLink.objects.all()
    required_action = "send"

    def get_case(self):
        case_model = apps.get_model("cases", "Case")
        case = case_model.objects.restrict(self.request.user, "view").filter(pk=self.kwargs["case_pk"]).first()
        if case is None:
            raise Http404
        if not (access.can(self.request.user, "work", case) and access.can(self.request.user, "send", VendorLink)):
            raise PermissionDenied
        return case

    def get(self, request, case_pk):
        case = self.get_case()
        return self.render_to_response(
            {"case": case, "form": SendToVendorForm(), "link": getattr(case, "vendor_link", None)}
        )

    def post(self, request, case_pk):
        case = self.get_case()
        form = SendToVendorForm(request.POST)
        if not form.is_valid():
            return self.render_to_response({"case": case, "form": form}, status=400)
        if not case.is_open:
            form.add_error(None, _("Only an open case can be sent to a vendor."))
            return self.render_to_response({"case": case, "form": form}, status=409)
        link, created = sync.open_link(case, form.cleaned_data["connection"], table=form.cleaned_data["table"])
        if created:
            messages.success(request, _("The case is being registered at the vendor."))
        else:
            messages.info(request, _("The case is already linked to a vendor record."))
        return redirect(link.get_absolute_url())


class RouteListView(ObjectListView):
    template_name = "vendors/route_list.html"
    queryset = ServiceRoute.objects.select_related("service", "connection")


class RouteEditView(ObjectEditView):
    template_name = "core/object_form.html"
    queryset = ServiceRoute.objects.all()
    form_class = ServiceRouteForm


class HealthView(MatrixRequired, TemplateView):
    """Integration health: backlog, failures, dead letters, last poll and webhook, drift, requesters informed."""

    template_name = "vendors/health.html"
    queryset = VendorLink.objects.all()

    def get(self, request, *args, **kwargs):
        return self.render_to_response({"health": health.snapshot()})


class HealthJsonView(MatrixRequired, View):
    queryset = VendorLink.objects.all()

    def get(self, request):
        return JsonResponse(health.snapshot())


class ReconcileView(MatrixRequired, View):
    """POST: reconcile every open link now (on demand) and show the result."""

    queryset = VendorConnection.objects.all()
    required_action = "reconcile"

    def post(self, request, pk):
        connection = get_object_or_404(VendorConnection.objects.restrict(request.user, "view"), pk=pk)
        if not access.can(request.user, "reconcile", connection):
            raise PermissionDenied
        run = reconcile.reconcile(trigger="on demand")
        messages.info(request, run.summary)
        return redirect(connection.get_absolute_url())
