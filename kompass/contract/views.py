"""The register's pages: contracts with progress, requirements (list, bulk status, detail), import and export.

Thin views: access through the generic layer and ``access.can``, the work in :mod:`.services` and the core
import machinery.
"""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.translation import gettext as _
from django.views import View

from kompass.contract import services
from kompass.contract.filtersets import RequirementFilterSet
from kompass.contract.forms import (
    BulkStatusForm,
    CommentForm,
    ContractForm,
    EvidenceForm,
    MilestoneForm,
    StatusForm,
)
from kompass.contract.imports import REQUIREMENTS, export_columns, export_rows, import_context
from kompass.contract.models import ApprovalProtocol, Contract, Milestone, Requirement
from kompass.contract.protocol_views import NewProtocolForm
from kompass.core import access
from kompass.core.audit import history_for
from kompass.core.imports import ImportRefused, export_xlsx
from kompass.core.imports.forms import ApplyForm, MappingForm, UploadForm
from kompass.core.imports.models import ImportBatch
from kompass.core.views.generic import MatrixRequired, ObjectDetailView, ObjectEditView, ObjectListView


def _contract(request, pk, action="view") -> Contract:
    """The contract if the user sees it (else 404) and may ``action`` it (else 403)."""
    contract = get_object_or_404(Contract.objects.restrict(request.user, "view"), pk=pk)
    if action != "view" and not access.can(request.user, action, contract):
        raise PermissionDenied
    return contract


# --- Contracts ----------------------------------------------------------------------------------------------------


class ContractListView(ObjectListView):
    template_name = "contract/contract_list.html"
    queryset = Contract.objects.all()


class ContractDetailView(ObjectDetailView):
    template_name = "contract/contract_detail.html"
    queryset = Contract.objects.prefetch_related("milestones", "vendor_representatives")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        contract = context["object"]
        result = services.progress(contract)
        burnup = services.burnup(contract)
        context.update(
            progress=result,
            statuses=Requirement.Status.choices,
            chart=services.chart_data(result),
            burnup=burnup,
            burnup_chart=services.burnup_chart(burnup, result.total),
            overdue_count=services.overdue(contract).count(),
            protocols=ApprovalProtocol.objects.restrict(self.request.user, "view")
            .filter(contract=contract)
            .select_related("milestone"),
            protocol_form=NewProtocolForm(contract=contract)
            if access.can(self.request.user, "create", ApprovalProtocol)
            else None,
        )
        return context


class ContractEditView(ObjectEditView):
    template_name = "core/object_form.html"
    queryset = Contract.objects.all()
    form_class = ContractForm


class MilestoneEditView(ObjectEditView):
    """Add a milestone to a contract (``contract_pk``) or change one (``pk``): name, kind and due date."""

    template_name = "core/object_form.html"
    queryset = Milestone.objects.select_related("contract")
    form_class = MilestoneForm

    def get_form(self, obj):
        form = super().get_form(obj)
        if obj is None:
            form.instance.contract = _contract(self.request, self.kwargs["contract_pk"])
        return form


class OverdueView(MatrixRequired, View):
    queryset = Requirement.objects.all()

    def get(self, request, pk):
        contract = _contract(request, pk)
        return render(
            request, "contract/overdue.html", {"contract": contract, "object_list": services.overdue(contract)}
        )


# --- Requirements -------------------------------------------------------------------------------------------------


class RequirementListView(ObjectListView):
    template_name = "contract/requirement_list.html"
    partial_template_name = "contract/includes/requirement_table.html"
    queryset = Requirement.objects.select_related("milestone")
    filterset_class = RequirementFilterSet
    paginate_by = 100

    @cached_property
    def contract(self) -> Contract:
        return _contract(self.request, self.kwargs["pk"])  # after the matrix check of dispatch()

    def get_queryset(self):
        queryset = super().get_queryset().filter(contract=self.contract)
        if "withdrawn" not in self.request.GET:
            queryset = queryset.filter(withdrawn=False)
        return queryset

    def get_context_data(self, **kwargs):
        # The FilterSet needs the contract to offer only its milestones.
        self.filterset_class = _bind(RequirementFilterSet, contract=self.contract)
        context = super().get_context_data(**kwargs)
        context.update(contract=self.contract, bulk_form=kwargs.get("bulk_form") or BulkStatusForm())
        context["may_bulk"] = access.can(self.request.user, "progress", Requirement)
        return context


def _bind(filterset_class, **extra):
    def build(*args, **kwargs):
        return filterset_class(*args, **kwargs, **extra)

    return build


class BulkStatusView(MatrixRequired, View):
    """POST: change the status of the ticked requirements, all or none, with one mandatory comment."""

    queryset = Requirement.objects.all()
    required_action = "progress"

    def post(self, request, pk):
        contract = _contract(request, pk)
        visible = Requirement.objects.restrict(request.user, "view").filter(contract=contract)
        form = BulkStatusForm(request.POST, requirements=visible)
        if form.is_valid():
            data = form.cleaned_data
            try:
                count = services.bulk_set_status(
                    data["ids"],
                    data["status"],
                    user=request.user,
                    comment=data["comment"],
                    remediation=data["remediation"],
                    due_on=data["due_on"],
                    reason=data["reason"],
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("%(count)s requirements changed.") % {"count": count})
                return redirect(reverse("contract:requirement_list", args=[contract.pk]))
        for error in form.non_field_errors() + [e for field in form for e in field.errors]:
            messages.error(request, error)
        return redirect(reverse("contract:requirement_list", args=[contract.pk]))


class RequirementDetailView(ObjectDetailView):
    template_name = "contract/requirement_detail.html"
    queryset = Requirement.objects.select_related("contract", "milestone", "customer_owner", "vendor_owner")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        requirement = context["object"]
        user = self.request.user
        context.update(
            contract=requirement.contract,
            evidence=requirement.evidence.select_related("added_by"),
            timeline=services.timeline(requirement, history_for(requirement)),
            status_form=kwargs.get("status_form") or StatusForm(initial={"status": requirement.status}),
            evidence_form=kwargs.get("evidence_form") or EvidenceForm(),
            comment_form=kwargs.get("comment_form") or CommentForm(),
            may_progress=access.can(user, "progress", requirement),
            may_add_evidence=access.can(user, "create", requirement.evidence.model(requirement=requirement)),
        )
        return context


class RequirementActionView(RequirementDetailView):
    """POST one of the requirement page's forms; a refusal shows the page again with the error (status 400)."""

    http_method_names = ["post"]
    form_name = ""

    def post(self, request, pk):
        requirement = self.get_object()
        form = self.build_form(request)
        if form.is_valid():
            try:
                self.act(requirement, form.cleaned_data, request.user)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("Saved."))
                return redirect(requirement.get_absolute_url())
        self.kwargs["pk"] = pk
        context = self.get_context_data(**{self.form_name: form})
        return self.render_to_response(context, status=400)


class StatusView(RequirementActionView):
    form_name = "status_form"

    def build_form(self, request):
        return StatusForm(request.POST)

    def act(self, requirement, data, user):
        services.set_status(
            requirement,
            data["status"],
            user=user,
            comment=data["comment"],
            remediation=data["remediation"],
            due_on=data["due_on"],
            reason=data["reason"],
        )


class EvidenceView(RequirementActionView):
    form_name = "evidence_form"

    def build_form(self, request):
        return EvidenceForm(request.POST, request.FILES)

    def act(self, requirement, data, user):
        services.add_evidence(
            requirement,
            user=user,
            kind=data["kind"],
            title=data["title"],
            file=data["file"],
            url=data["url"],
            case_reference=data["case_reference"],
        )


class CommentView(RequirementActionView):
    form_name = "comment_form"

    def build_form(self, request):
        return CommentForm(request.POST)

    def act(self, requirement, data, user):
        services.add_comment(requirement, data["text"], user=user)


# --- Import and export --------------------------------------------------------------------------------------------


class ImportUploadView(MatrixRequired, View):
    """Upload a specification; the mapping remembered for the contract is used for the first preview."""

    queryset = Contract.objects.all()
    required_action = "import"

    def get(self, request, pk):
        contract = _contract(request, pk, "import")
        return render(request, "contract/import_upload.html", {"contract": contract, "upload_form": UploadForm()})

    def post(self, request, pk):
        contract = _contract(request, pk, "import")
        form = UploadForm(request.POST, request.FILES)
        if form.is_valid():
            try:
                batch = ImportBatch.upload(
                    form.cleaned_data["file"], kind=REQUIREMENTS.name, scope=contract.import_scope, user=request.user
                )
            except ImportRefused as error:
                form.add_error("file", str(error))
            else:
                return redirect(reverse("contract:import_preview", args=[contract.pk, batch.pk]))
        return render(request, "contract/import_upload.html", {"contract": contract, "upload_form": form}, status=400)


class ImportPreviewView(MatrixRequired, View):
    """GET: the preview with the mapping form. POST: a changed mapping (or sheet), previewed again."""

    queryset = Contract.objects.all()
    required_action = "import"

    def _batch(self, request, pk, batch_pk):
        contract = _contract(request, pk, "import")
        batch = get_object_or_404(ImportBatch, pk=batch_pk, kind=REQUIREMENTS.name, scope=contract.import_scope)
        return contract, batch

    def get(self, request, pk, batch_pk):
        contract, batch = self._batch(request, pk, batch_pk)
        return self.show(request, contract, batch, batch.preview(REQUIREMENTS, import_context(contract, request.user)))

    def post(self, request, pk, batch_pk):
        contract, batch = self._batch(request, pk, batch_pk)
        context = import_context(contract, request.user)
        preview = batch.preview(REQUIREMENTS, context)
        form = MappingForm(request.POST, preview=preview, spec=REQUIREMENTS, sheets=batch.sheets())
        if not form.is_valid():
            return self.show(request, contract, batch, preview, mapping_form=form, status=400)
        preview = batch.preview(REQUIREMENTS, context, form.mapping())
        return self.show(request, contract, batch, preview)

    def show(self, request, contract, batch, preview, mapping_form=None, apply_form=None, status=200):
        mapping_form = mapping_form or MappingForm(preview=preview, spec=REQUIREMENTS, sheets=batch.sheets())
        return render(
            request,
            "contract/import_preview.html",
            {
                "contract": contract,
                "batch": batch,
                "preview": preview,
                "mapping_form": mapping_form,
                "apply_form": apply_form or ApplyForm(initial={"fingerprint": preview.fingerprint}),
            },
            status=status,
        )


class ImportApplyView(ImportPreviewView):
    """POST: apply the previewed batch, all rows or none."""

    def get(self, request, pk, batch_pk):
        return redirect(reverse("contract:import_preview", args=[pk, batch_pk]))

    def post(self, request, pk, batch_pk):
        contract, batch = self._batch(request, pk, batch_pk)
        context = import_context(contract, request.user)
        form = ApplyForm(request.POST)
        if form.is_valid():
            try:
                result = batch.apply(
                    REQUIREMENTS,
                    context,
                    fingerprint=form.cleaned_data["fingerprint"],
                    accept_warnings=form.cleaned_data["accept_warnings"],
                )
            except ImportRefused as error:
                messages.error(request, str(error))
            else:
                messages.success(
                    request,
                    _("Imported: %(added)s added, %(changed)s changed, %(withdrawn)s withdrawn.") % result,
                )
                return redirect(reverse("contract:requirement_list", args=[contract.pk]))
        if batch.status == ImportBatch.Status.APPLIED:
            return redirect(reverse("contract:requirement_list", args=[contract.pk]))
        preview = batch.preview(REQUIREMENTS, context)
        return self.show(request, contract, batch, preview, status=400)


class ExportView(MatrixRequired, View):
    """The register as .xlsx: the import's columns plus status and evidence, in specification order."""

    queryset = Contract.objects.all()

    def get(self, request, pk):
        contract = _contract(request, pk)
        data = export_xlsx(export_columns(), export_rows(contract), title=_("Requirements"))
        response = HttpResponse(data, content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response["Content-Disposition"] = f'attachment; filename="krav-{contract.pk}.xlsx"'
        return response
