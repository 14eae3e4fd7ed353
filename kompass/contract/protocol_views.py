"""The approval protocol's pages: start a version, see it, approve it with the password, download the PDF."""

from django import forms
from django.conf import settings
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View

from kompass.contract import protocol as protocols
from kompass.contract import reauth
from kompass.contract.models import ApprovalProtocol, Contract, Milestone
from kompass.core import access
from kompass.core.forms import PunktFormMixin, style_fields
from kompass.core.views.generic import MatrixRequired, ObjectDetailView


class NewProtocolForm(PunktFormMixin, forms.Form):
    milestone = forms.ModelChoiceField(
        label=gettext_lazy("Milestone"),
        queryset=Milestone.objects.none(),
        required=False,
        empty_label=gettext_lazy("The whole contract"),
    )

    def __init__(self, *args, contract, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["milestone"].queryset = contract.milestones.all()
        style_fields(self)


class ApproveForm(PunktFormMixin, forms.Form):
    """The password again for a local account; nothing for an SSO user (they have signed in again instead)."""

    password = forms.CharField(
        label=gettext_lazy("Your password"),
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text=gettext_lazy("Enter your password again to approve."),
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        if user is not None and reauth.needs_sso(user):
            del self.fields["password"]
        style_fields(self)


class ProtocolCreateView(MatrixRequired, View):
    queryset = ApprovalProtocol.objects.all()
    required_action = "create"

    def post(self, request, pk):
        contract = get_object_or_404(Contract.objects.restrict(request.user, "view"), pk=pk)
        form = NewProtocolForm(request.POST, contract=contract)
        if form.is_valid():
            try:
                protocol = protocols.start_protocol(contract, form.cleaned_data["milestone"], user=request.user)
            except ValidationError as error:
                messages.error(request, " ".join(error.messages))
            else:
                return redirect(protocol.get_absolute_url())
        return redirect(contract.get_absolute_url())


class ProtocolDetailView(ObjectDetailView):
    template_name = "contract/protocol_detail.html"
    queryset = ApprovalProtocol.objects.select_related("contract", "milestone")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        protocol = context["object"]
        entries = protocols.live_entries(protocol)
        previous, changes = protocols.changes_since_previous(protocol, entries)
        party = protocols.party_for(self.request.user, protocol)
        approvals = list(protocol.approvals.select_related("user"))
        context.update(
            contract=protocol.contract,
            summary=protocols.summary(entries),
            deviations=[e for e in entries if e.status == "deviation"],
            approvals=approvals,
            previous=previous,
            changes=changes,
            party=party,
            may_approve=party is not None and not protocol.is_signed and party not in {a.party for a in approvals},
            approve_form=kwargs.get("approve_form") or ApproveForm(user=self.request.user),
            needs_sso=reauth.needs_sso(self.request.user),
            sso_fresh=reauth.sso_reauthenticated(self.request),
            sso_enabled=getattr(settings, "OIDC_ENABLED", False),
        )
        return context

    def post(self, request, pk):
        protocol = self.get_object()
        if not access.can(request.user, "approve", protocol):
            raise PermissionDenied
        form = ApproveForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                protocols.approve(
                    protocol,
                    user=request.user,
                    password=form.cleaned_data.get("password", ""),
                    sso_reauthenticated=reauth.sso_reauthenticated(request),
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                protocol.refresh_from_db()
                messages.success(request, _("Signed.") if protocol.is_signed else _("Approved."))
                return redirect(protocol.get_absolute_url())
        return self.render_to_response(self.get_context_data(approve_form=form), status=400)


class ProtocolPdfView(MatrixRequired, View):
    """The signed PDF as stored, or a draft rendered from the register as it stands."""

    queryset = ApprovalProtocol.objects.all()

    def get(self, request, pk):
        protocol = get_object_or_404(ApprovalProtocol.objects.restrict(request.user, "view"), pk=pk)
        data = protocol.pdf.read() if protocol.is_signed else protocols.protocol_pdf(protocol)
        response = HttpResponse(data, content_type="application/pdf")
        name = (
            f"godkjenningsprotokoll-{protocol.contract_id}-v{protocol.version}{'' if protocol.is_signed else '-utkast'}"
        )
        response["Content-Disposition"] = f'inline; filename="{name}.pdf"'
        return response
