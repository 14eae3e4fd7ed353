"""The reports pages: scorecard, per-agency figures, drill-down, definitions, exclusions, statements, reports.

Thin: every figure comes from :mod:`kompass.reports.services`, every decision from the access matrix.
"""

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views import View
from django.views.generic import TemplateView

from kompass.cases import services as cases
from kompass.contract import services as contracts
from kompass.core import access
from kompass.core.views.generic import MatrixRequired, ObjectDetailView, ObjectEditView, ObjectListView
from kompass.reports import compute, services
from kompass.reports.forms import (
    AdjustmentForm,
    AvailabilityLevelForm,
    CaseLevelForm,
    ExclusionForm,
    OutageForm,
    TextForm,
    VersionCopyForm,
    VersionForm,
)
from kompass.reports.models import (
    AvailabilityLevel,
    CaseLevel,
    Dispute,
    Exclusion,
    LevelVersion,
    MonthlyReport,
    Outage,
    ReportJob,
    Statement,
    StatementLine,
)


def _month(request) -> dt.date:
    try:
        return services.parse_month(request.GET.get("month"))
    except services.ReportError as error:
        raise Http404(str(error)) from error


def _contract(request, queryset=None):
    """The contract of ``?contract=`` (default: the first one) among those the user may see."""
    contracts_seen = list(contracts.contracts().restrict(request.user, "view"))
    wanted = request.GET.get("contract")
    if wanted:
        chosen = next((c for c in contracts_seen if str(c.pk) == wanted), None)
        if chosen is None:
            raise Http404
        return chosen, contracts_seen
    return (contracts_seen[0] if contracts_seen else None), contracts_seen


def _rows(scorecard: services.Scorecard) -> list[dict]:
    """The scorecard's rows with their labels in the reader's language (the stored figures carry none)."""
    rows = []
    for row in scorecard.rows:
        if row["kind"] == "availability":
            label = _("Availability")
            detail = _("%(down)s h down of %(total)s h service time") % {
                "down": row["down_hours"],
                "total": row["total_hours"],
            }
        else:
            label = _("P%(p)s resolved within %(h)s h") % {"p": row["priority"], "h": row["target_hours"]}
            detail = None
        rows.append({**row, "label": label, "detail": detail})
    return rows


class ScorecardView(MatrixRequired, TemplateView):
    """The vendor scorecard of one contract and month (the agreement manager's page)."""

    template_name = "reports/scorecard.html"
    required_model = Statement
    required_action = "create"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        month = _month(self.request)
        contract, choices = _contract(self.request)
        context.update(title=_("Vendor scorecard"), month=month, contract=contract, contracts=choices)
        if contract is None:
            return context
        figures = services.scorecard(contract, month)
        trend = figures.trend
        context.update(
            figures=figures,
            rows=_rows(figures),
            trend=trend,
            chart={
                "labels": [f"{r['month']:%m.%Y}" for r in trend],
                "attainment": [float(r["attainment"]) if r["attainment"] is not None else None for r in trend],
                "availability": [float(r["availability"]) if r["availability"] is not None else None for r in trend],
            },
            statement=Statement.objects.filter(contract=contract, month=month).first(),
            reports=MonthlyReport.objects.filter(contract=contract, month=month),
            jobs=ReportJob.objects.filter(contract=contract, month=month, report__isnull=True).exclude(
                state=ReportJob.State.DONE
            ),
            previous=services.previous_month(month),
            next=services.next_month(month),
        )
        return context


class AgencyFiguresView(MatrixRequired, TemplateView):
    """Per agency: resolution attainment of the month and its trend, for the agencies the user serves."""

    template_name = "reports/agencies.html"
    required_model = CaseLevel

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        month = _month(self.request)
        contract = next(iter(contracts.contracts()), None)
        if self.request.GET.get("contract"):
            contract = (
                contracts.get_contract(int(self.request.GET["contract"]))
                if self.request.GET["contract"].isdigit()
                else None
            )
            if contract is None:
                raise Http404
        agencies = list(access.agencies_for(self.request.user, "view", CaseLevel).order_by("name"))
        rows = []
        figures = None
        if contract is not None:
            figures = services.scorecard(contract, month)  # the stored figures count every agency's cases
            for agency in agencies:
                met, resolved = figures.agencies.get(agency.pk, (0, 0))
                rows.append(
                    {
                        "agency": agency,
                        "resolved": resolved,
                        "met": met,
                        "attainment": compute.pct(compute.Decimal(met) * 100 / resolved, 1) if resolved else None,
                    }
                )
        context.update(
            title=_("Service levels per agency"),
            month=month,
            contract=contract,
            figures=figures,
            rows=rows,
            chart={
                "labels": [r["agency"].short_code for r in rows],
                "attainment": [float(r["attainment"]) if r["attainment"] is not None else None for r in rows],
            },
        )
        return context


class DrillView(MatrixRequired, TemplateView):
    """The cases behind one level's figure (those that missed it), as far as the user may see them."""

    template_name = "reports/drill.html"
    required_model = Statement
    required_action = "create"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        month = _month(self.request)
        contract, _choices = _contract(self.request)
        try:
            service_id, priority = int(self.request.GET["service"]), int(self.request.GET["priority"])
        except (KeyError, ValueError) as error:
            raise Http404 from error
        if contract is None:
            raise Http404
        ids = services.missed_case_ids(contract, month, service_id, priority)
        context.update(
            title=_("Cases that missed P%(p)s in %(month)s") % {"p": priority, "month": f"{month:%m.%Y}"},
            cases=cases.cases_by_ids(ids, self.request.user),
            contract=contract,
            month=month,
        )
        return context


class VersionListView(ObjectListView):
    """The versions of every contract the user may see, per contract (``?contract=`` narrows to one)."""

    queryset = LevelVersion.objects.select_related("contract")
    template_name = "reports/version_list.html"
    title = gettext_lazy("Service levels")
    create_url_name = "reports:version_create"
    create_label = gettext_lazy("New version")

    def get_queryset(self):
        queryset = super().get_queryset()
        wanted = self.request.GET.get("contract", "")
        return queryset.filter(contract_id=int(wanted)) if wanted.isdigit() else queryset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context.update(
            contracts=contracts.contracts().restrict(self.request.user, "view"),
            chosen=self.request.GET.get("contract", ""),
        )
        return context


class VersionDetailView(ObjectDetailView):
    queryset = LevelVersion.objects.select_related("contract")
    template_name = "reports/version_detail.html"
    list_url_name = "reports:version_list"
    list_label = gettext_lazy("Service levels")
    edit_url_name = "reports:version_edit"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        version, user = context["object"], self.request.user
        context.update(
            may_edit_levels=access.can(user, "create", CaseLevel) and access.can(user, "change", version),
            may_copy=access.can(user, "create", LevelVersion),
            case_levels=version.case_levels.select_related("service"),
            availability_levels=version.availability_levels.select_related("service"),
        )
        return context


class VersionEditView(ObjectEditView):
    queryset = LevelVersion.objects.all()
    form_class = VersionForm
    template_name = "core/object_form.html"


class VersionCopyView(MatrixRequired, TemplateView):
    """A new version of the same contract from this one, its levels copied, valid from a new date."""

    template_name = "reports/version_copy.html"
    required_model = LevelVersion
    required_action = "create"

    def version(self) -> LevelVersion:
        return get_object_or_404(LevelVersion.objects.restrict(self.request.user, "view"), pk=self.kwargs["pk"])

    def get(self, request, *args, **kwargs):
        version = self.version()
        start = version.valid_to + dt.timedelta(days=1) if version.valid_to else None
        form = VersionCopyForm(initial={"name": version.name, "valid_from": start})
        return self.render_to_response(self.get_context_data(object=version, form=form))

    def post(self, request, *args, **kwargs):
        version = self.version()
        form = VersionCopyForm(request.POST)
        if form.is_valid():
            try:
                new = services.copy_version(version, **form.cleaned_data)
            except ValidationError as error:
                for name, errors in error.message_dict.items() if hasattr(error, "error_dict") else []:
                    form.add_error(name if name in form.fields else None, errors)
                if not hasattr(error, "error_dict"):
                    form.add_error(None, error.messages)
            else:
                messages.success(request, _("The new version is stored with a copy of every level."))
                return redirect(new.get_absolute_url())
        return self.render_to_response(self.get_context_data(object=version, form=form), status=400)


class _LevelEditView(ObjectEditView):
    """One level row of a version: created under the version's page (``version`` in the URL) or changed."""

    template_name = "reports/level_form.html"

    def version_of(self, obj) -> LevelVersion:
        if obj is not None:
            return obj.version
        version = get_object_or_404(LevelVersion.objects.restrict(self.request.user, "view"), pk=self.kwargs["version"])
        if not access.can(self.request.user, "change", version):
            raise PermissionDenied
        return version

    def get_form(self, obj):
        data = self.request.POST if self.request.method == "POST" else None
        return self.form_class(data, instance=obj, user=self.request.user, version=self.version_of(obj))

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["version"] = context["form"].instance.version
        return context


class CaseLevelEditView(_LevelEditView):
    queryset = CaseLevel.objects.select_related("version", "service")
    form_class = CaseLevelForm
    success_message = gettext_lazy("The case service level is saved.")


class AvailabilityLevelEditView(_LevelEditView):
    queryset = AvailabilityLevel.objects.select_related("version", "service")
    form_class = AvailabilityLevelForm
    success_message = gettext_lazy("The availability level is saved.")


class _LevelDeleteView(MatrixRequired, View):
    """Remove one level row from its version (POST)."""

    required_action = "delete"

    def post(self, request, *args, **kwargs):
        level = get_object_or_404(self.queryset.restrict(request.user, "view"), pk=kwargs["pk"])
        if not access.can(request.user, "delete", level):
            raise PermissionDenied
        version = level.version
        level.delete()
        messages.success(request, _("The level is removed."))
        return redirect(version.get_absolute_url())


class CaseLevelDeleteView(_LevelDeleteView):
    queryset = CaseLevel.objects.select_related("version")


class AvailabilityLevelDeleteView(_LevelDeleteView):
    queryset = AvailabilityLevel.objects.select_related("version")


class ExclusionListView(ObjectListView):
    queryset = Exclusion.objects.select_related("contract", "service", "decided_by")
    template_name = "reports/exclusion_list.html"
    title = gettext_lazy("Exclusions and outages")
    create_url_name = "reports:exclusion_create"
    create_label = gettext_lazy("Record an exclusion")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["outages"] = Outage.objects.restrict(self.request.user, "view").select_related("service")[:100]
        context["may_record_outage"] = access.can(self.request.user, "create", Outage)
        return context


class ExclusionEditView(ObjectEditView):
    queryset = Exclusion.objects.all()
    form_class = ExclusionForm
    template_name = "core/object_form.html"
    success_message = gettext_lazy("The exclusion is recorded.")

    def get_form(self, obj):
        form = super().get_form(obj)
        if self.request.method == "GET":
            for name in ("contract", "case_number", "service"):
                if self.request.GET.get(name):
                    form.initial[name] = self.request.GET[name]
        return form


class OutageEditView(ObjectEditView):
    queryset = Outage.objects.all()
    form_class = OutageForm
    template_name = "core/object_form.html"
    success_message = gettext_lazy("The outage is recorded.")


class StatementListView(ObjectListView):
    queryset = Statement.objects.select_related("contract")
    template_name = "reports/statement_list.html"
    title = gettext_lazy("Statements")


class StatementDetailView(ObjectDetailView):
    queryset = Statement.objects.select_related("contract")
    template_name = "reports/statement_detail.html"
    list_url_name = "reports:statement_list"
    list_label = gettext_lazy("Statements")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        statement = context["object"]
        user = self.request.user
        context.update(
            lines=statement.lines.prefetch_related("disputes__raised_by", "disputes__answered_by"),
            party=services.party_of(user, statement.contract),
            may_adjust=access.can(user, "adjust", statement),
            may_resolve=access.can(user, "resolve", Dispute),
            adjustments=statement.adjustment_rows.select_related("approved_by"),
            text_form=TextForm(),
            adjustment_form=AdjustmentForm(),
        )
        return context


class _StatementAction(MatrixRequired, View):
    """A POST on a statement, a line or a dispute; errors come back as a message on the statement page."""

    required_model = StatementLine
    required_action = "view"

    def post(self, request, *args, **kwargs):
        target, statement = self.target()
        try:
            self.act(target)
        except services.ReportError as error:
            return HttpResponse(str(error), status=400, content_type="text/plain; charset=utf-8")
        messages.success(request, self.done)
        return redirect(statement.get_absolute_url())

    def text(self) -> str:
        form = TextForm(self.request.POST)
        if not form.is_valid():
            raise services.ReportError(_("Write a text."))
        return form.cleaned_data["text"]


class LineAcceptView(_StatementAction):
    done = gettext_lazy("Accepted.")

    def target(self):
        line = get_object_or_404(StatementLine.objects.restrict(self.request.user, "view"), pk=self.kwargs["pk"])
        if not access.can(self.request.user, "accept", line):
            raise PermissionDenied
        return line, line.statement

    def act(self, line):
        services.accept_line(line, user=self.request.user)


class LineDisputeView(LineAcceptView):
    done = gettext_lazy("The dispute is recorded.")

    def act(self, line):
        services.dispute_line(line, user=self.request.user, reason=self.text())


class DisputeAnswerView(_StatementAction):
    done = gettext_lazy("The answer is recorded.")
    action = "answer"

    def target(self):
        dispute = get_object_or_404(Dispute.objects.restrict(self.request.user, "view"), pk=self.kwargs["pk"])
        if not access.can(self.request.user, self.action, dispute):
            raise PermissionDenied
        return dispute, dispute.line.statement

    def act(self, dispute):
        services.answer_dispute(dispute, user=self.request.user, answer=self.text())


class DisputeResolveView(DisputeAnswerView):
    done = gettext_lazy("The dispute is resolved.")
    action = "resolve"

    def act(self, dispute):
        services.resolve_dispute(dispute, user=self.request.user, resolution=self.text())


class AdjustView(_StatementAction):
    done = gettext_lazy("The adjustment is recorded.")
    required_model = Statement

    def target(self):
        statement = get_object_or_404(Statement.objects.restrict(self.request.user, "view"), pk=self.kwargs["pk"])
        if not access.can(self.request.user, "adjust", statement):
            raise PermissionDenied
        return statement, statement

    def act(self, statement):
        form = AdjustmentForm(self.request.POST)
        if not form.is_valid():
            raise services.ReportError(_("Give an amount and a reason."))
        services.add_adjustment(
            statement, user=self.request.user, amount=form.cleaned_data["amount"], reason=form.cleaned_data["reason"]
        )


class BuildView(MatrixRequired, View):
    """Ask the worker for a new version of the month's statement and report (by hand)."""

    required_model = MonthlyReport
    required_action = "create"

    def post(self, request, *args, **kwargs):
        from kompass.reports import report

        contract = contracts.get_contract(kwargs["contract"])
        if contract is None or not access.can(request.user, "view", contract):
            raise Http404
        try:
            month = services.parse_month(request.POST.get("month"))
            report.request(contract, month, user=request.user)
        except services.ReportError as error:
            return HttpResponse(str(error), status=400, content_type="text/plain; charset=utf-8")
        messages.success(
            request, _("The report is being generated; the new version appears below when the worker has stored it.")
        )
        return redirect(f"{reverse('reports:scorecard')}?contract={contract.pk}&month={month:%Y-%m}")


class ReportListView(ObjectListView):
    queryset = MonthlyReport.objects.select_related("contract")
    template_name = "reports/report_list.html"
    title = gettext_lazy("Monthly service reports")


class ReportDetailView(ObjectDetailView):
    queryset = MonthlyReport.objects.select_related("contract", "created_by")
    template_name = "reports/report_detail.html"
    list_url_name = "reports:report_list"
    list_label = gettext_lazy("Monthly service reports")


class ReportFileView(MatrixRequired, View):
    """The stored PDF or Excel file of one report version, exactly as stored."""

    required_model = MonthlyReport

    def get(self, request, *args, **kwargs):
        stored = get_object_or_404(MonthlyReport.objects.restrict(request.user, "view"), pk=kwargs["pk"])
        kind = kwargs["kind"]
        if kind not in ("pdf", "xlsx"):
            raise Http404
        field = stored.pdf if kind == "pdf" else stored.xlsx
        content_type = (
            "application/pdf" if kind == "pdf" else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
        )
        with field.open("rb") as handle:
            response = HttpResponse(handle.read(), content_type=content_type)
        response["Content-Disposition"] = (
            f'attachment; filename="tjenesterapport-{stored.month:%Y-%m}-v{stored.version}.{kind}"'
        )
        return response
