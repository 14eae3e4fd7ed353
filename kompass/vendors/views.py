from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, render
from django.views import View

from kompass.core import access
from kompass.core.views.generic import MatrixRequired, ObjectDetailView, ObjectEditView, ObjectListView
from kompass.vendors.forms import VendorConnectionForm
from kompass.vendors.models import VendorConnection
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
    template_name = "core/object_form.html"
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
