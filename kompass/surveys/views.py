"""The surveys pages. Thin: the matrix decides, services compute (and apply the small-group rule)."""

from __future__ import annotations

import datetime as dt
import json

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import Http404, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.utils.decorators import method_decorator
from django.utils.html import escape
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.generic import TemplateView

from kompass.core import access
from kompass.core.imports import export_xlsx
from kompass.core.imports.export import Column
from kompass.core.models import Agency
from kompass.core.roles import Role
from kompass.core.views.generic import MatrixRequired, ObjectDetailView, ObjectEditView, ObjectListView
from kompass.surveys import services
from kompass.surveys.forms import (
    AttendanceForm,
    CampaignForm,
    CloseActionForm,
    CommentTagForm,
    InviteForm,
    MeetingForm,
    QuestionFormSet,
    RuleForm,
    TemplateForm,
    question_initial,
)
from kompass.surveys.models import (
    Action,
    Campaign,
    CommentTag,
    CommentTagging,
    FollowUpRule,
    Meeting,
    MeetingParticipant,
    ResultCell,
    SurveyTemplate,
)
from kompass.surveys.services import DIMENSION_LABELS, DIMENSIONS, LinkState

ROLE_CHOICES = [
    (Role.AGENCY_IT_CONTACT.value, Role.AGENCY_IT_CONTACT.label),
    (Role.SYSTEM_OWNER.value, Role.SYSTEM_OWNER.label),
]


def _month_range(request, months: int = 12) -> tuple[dt.date, dt.date]:
    """The months shown: ``?end=YYYY-MM`` (default last month) and ``months`` back."""
    end = services.previous_month(timezone.localdate())
    try:
        year, month = (int(p) for p in request.GET.get("end", "").split("-"))
        end = dt.date(year, month, 1)
    except (ValueError, TypeError):
        pass
    start = end
    for _i in range(months - 1):
        start = services.previous_month(start)
    return start, end


def _dimension(request) -> str:
    value = request.GET.get("dimension")
    return value if value in DIMENSIONS else DIMENSIONS[0]


def _visible_agencies(user):
    """The agencies whose results the user may see (every agency for the agreement managers)."""
    return access.agencies_for(user, "view", ResultCell)


def _int(value) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


class _Numbers:
    """Figures formatted for the page in Python, once per request: the heat map has 600 cells, and the
    template engine's ``floatformat`` per cell was most of the page's time (bench/surveys_bench.py)."""

    def __init__(self):
        from django.utils import formats

        self.sep = formats.get_format("DECIMAL_SEPARATOR")

    def __call__(self, value, digits: int = 1) -> str:
        return "–" if value is None else f"{value:.{digits}f}".replace(".", self.sep)


def _heat_cells(cells, number) -> str:
    """One heat-map row's cells as HTML. Every part is ours: a colour band from a fixed set and a number
    (or a dash) formatted above, so nothing needs escaping."""
    return mark_safe(  # noqa: S308 - no user input in it
        "".join(f'<td class="kp-heat__cell--{level}">{number(f.mean if f else None)}</td>' for _m, f, level in cells)
    )


def _percent(value) -> str:
    return "–" if value is None else f"{round(value * 100)} %"


def _side_row(row, number) -> str:
    """One row of the side-by-side table as HTML (300 rows: the template engine took 200 ms for them). The
    agency's name is escaped; the rest are numbers formatted here."""
    service = row["service"]
    hours = service.get("median_resolution_hours")
    hours = None if hours is None else float(hours)
    cells = [f'<th scope="row">{escape(row["agency"].name)}</th>', f"<td>{row['period']:%m.%Y}</td>"]
    cells += [f"<td>{number(value, 2)}</td>" for value in row["scores"].values()]
    cells += [
        f"<td>{_percent(service.get('sla_attainment'))}</td>",
        f"<td>{number(hours, 1)}</td>",
        f"<td>{int(service.get('incidents') or 0)}</td>",
        f"<td>{_percent(service.get('requester_informed_rate'))}</td>",
    ]
    return mark_safe("<tr>" + "".join(cells) + "</tr>")  # noqa: S308 - escaped above


def _level(mean) -> str:
    """A colour band for the heat map (the number is always shown too)."""
    if mean is None:
        return "none"
    return "low" if mean < 3 else "mid" if mean < 4 else "high"


# ---------------------------------------------------------------------------------------------
# Results
# ---------------------------------------------------------------------------------------------
class HeatmapView(MatrixRequired, TemplateView):
    """Agency × month per dimension; the municipality average and the expected level below."""

    template_name = "surveys/heatmap.html"
    required_model = ResultCell

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        start, end = _month_range(self.request)
        dimension = _dimension(self.request)
        role = self.request.GET.get("role") if self.request.GET.get("role") in dict(ROLE_CHOICES) else ""
        agencies = list(_visible_agencies(self.request.user).order_by("name"))
        figures = services.grid(dimension, start, end, role=role or None, agency_ids=[a.pk for a in agencies])
        rows = [(agency, [(m, figures.cells.get((agency.pk, m))) for m in figures.months]) for agency in agencies]
        rates = services.response_rates(start, end)
        number = _Numbers()
        link = reverse("surveys:agency_results", args=[0])  # one reverse, not one per agency
        context.update(
            title=_("Temperature"),
            dimension=dimension,
            dimensions=[(d, DIMENSION_LABELS[d]) for d in DIMENSIONS],
            role=role,
            roles=ROLE_CHOICES,
            months=figures.months,
            rows=[
                (
                    a,
                    link.replace("/0/", f"/{a.pk}/", 1),
                    _heat_cells([(m, f, _level(f.mean if f else None)) for m, f in cells], number),
                )
                for a, cells in rows
            ],
            average=[
                (m, number(figures.average[m].mean if m in figures.average else None, 2), rates.get(m, (0, 0)))
                for m in figures.months
            ],
            expected=services.expected_level(dimension),
            minimum=figures.minimum,
            end=end,
            may_run=access.can(self.request.user, "view", Campaign),
            chart={
                "labels": [f"{m:%m.%Y}" for m in figures.months],
                "average": [figures.average[m].mean if m in figures.average else None for m in figures.months],
                "expected": float(services.expected_level(dimension) or 0) or None,
            },
        )
        return context


def _agency_for_results(request, pk) -> Agency:
    agency = get_object_or_404(Agency, pk=pk)
    if not access.can(request.user, "view", ResultCell(agency=agency)):
        raise Http404
    return agency


class AgencyResultsView(MatrixRequired, TemplateView):
    """One agency: its trend per dimension against the average and the expected level; distributions and
    comments of the chosen month."""

    template_name = "surveys/agency_results.html"
    required_model = ResultCell

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        agency = _agency_for_results(self.request, self.kwargs["pk"])
        start, end = _month_range(self.request)
        trends = []
        for dimension in DIMENSIONS:
            figures = services.grid(dimension, start, end)
            trends.append(
                {
                    "dimension": dimension,
                    "label": DIMENSION_LABELS[dimension],
                    "expected": services.expected_level(dimension),
                    "months": [(m, figures.cells.get((agency.pk, m)), figures.average.get(m)) for m in figures.months],
                    "distribution": services.distribution(agency.pk, end, dimension),
                }
            )
        chart = {
            "labels": [f"{m:%m.%Y}" for m, _a, _b in trends[0]["months"]],
            "series": [
                {"label": t["label"], "data": [a.mean if a else None for _m, a, _b in t["months"]]} for t in trends
            ],
            "average": [b.mean if b else None for _m, _a, b in trends[0]["months"]],
        }
        context.update(
            title=agency.name,
            agency=agency,
            trends=trends,
            end=end,
            chart=chart,
            comments=services.tagged_comments(agency.pk, end, tag=_int(self.request.GET.get("tag"))),
            tags=list(CommentTag.objects.order_by("name")),
            chosen_tag=_int(self.request.GET.get("tag")),
            may_tag=access.can(self.request.user, "create", CommentTagging(agency=agency)),
            parent_url=reverse("surveys:heatmap"),
            parent_label=_("Temperature"),
            may_cockpit=access.can(self.request.user, "view", Action(agency=agency)),
        )
        return context


class SideBySideView(MatrixRequired, TemplateView):
    """Scores beside the cases figures, per agency and month, with the correlations."""

    template_name = "surveys/side_by_side.html"
    required_model = ResultCell

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        start, end = _month_range(self.request, months=6)
        agencies = {a.pk: a for a in _visible_agencies(self.request.user)}
        data = services.side_by_side(start, end, agency_ids=list(agencies))
        for row in data["rows"]:
            row["agency"] = agencies[row["agency_id"]]
        data["rows"].sort(key=lambda r: (r["agency"].name, r["period"]))
        dimension = _dimension(self.request)
        number = _Numbers()
        points = [
            {
                "x": round(r["service"]["sla_attainment"] * 100, 1),
                "y": r["scores"][dimension],
                "label": f"{r['agency'].name} {r['period']:%m.%Y}",
            }
            for r in data["rows"]
            if r["service"].get("sla_attainment") is not None and r["scores"][dimension] is not None
        ]
        chart = {
            "points": points,
            "x_label": str(_("SLA attainment (%)")),
            "y_label": str(DIMENSION_LABELS[dimension]),
            "r": data["correlation"][dimension]["sla_attainment"],
        }
        context.update(
            title=_("Survey scores and measured service"),
            parent_url=reverse("surveys:heatmap"),
            parent_label=_("Temperature"),
            dimensions=[(d, DIMENSION_LABELS[d]) for d in DIMENSIONS],
            correlation=[
                (DIMENSION_LABELS[d], [data["correlation"][d][m] for m in data["measures"]]) for d in DIMENSIONS
            ],
            dimension=dimension,
            dimension_label=DIMENSION_LABELS[dimension],
            scatter_r=data["correlation"][dimension]["sla_attainment"],
            chart=chart,
            rows=[_side_row(row, number) for row in data["rows"]],
            measures=data["measures"],
        )
        return context


class ExportView(MatrixRequired, TemplateView):
    """The heat map's numbers (all three dimensions) as .xlsx, under the same rule."""

    required_model = ResultCell

    def get(self, request, *args, **kwargs):
        start, end = _month_range(request)
        agencies = list(_visible_agencies(request.user).order_by("name"))
        rows = []
        for dimension in DIMENSIONS:
            figures = services.grid(dimension, start, end, agency_ids=[a.pk for a in agencies])
            for agency in agencies:
                for month in figures.months:
                    figure = figures.cells.get((agency.pk, month))
                    if figure is None:
                        continue
                    rows.append(
                        {
                            "agency": agency.name,
                            "month": f"{month:%Y-%m}",
                            "dimension": DIMENSION_LABELS[dimension],
                            "mean": figure.mean,
                            "n": None if figure.hidden else figure.n,
                            "note": _("Hidden: fewer than %(n)s answers") % {"n": figures.minimum}
                            if figure.hidden
                            else "",
                        }
                    )
        columns = [
            Column(_("Agency"), "agency", width=40),
            Column(_("Month"), "month", width=10),
            Column(_("Dimension"), "dimension"),
            Column(_("Mean (1–5)"), "mean", width=12),
            Column(_("Answers"), "n", width=10),
            Column(_("Note"), "note", width=36),
        ]
        response = HttpResponse(
            export_xlsx(columns, rows, title=_("Temperature")),
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
        response["Content-Disposition"] = f'attachment; filename="temperatur-{end:%Y-%m}.xlsx"'
        return response


class AgencyPdfView(MatrixRequired, TemplateView):
    """One page per agency for the dialogue meeting."""

    required_model = ResultCell

    def get(self, request, *args, **kwargs):
        from kompass.core.pdf import render_pdf

        agency = _agency_for_results(request, kwargs["pk"])
        start, end = _month_range(request, months=6)
        trends = []
        for dimension in DIMENSIONS:
            figures = services.grid(dimension, start, end)
            trends.append(
                (
                    DIMENSION_LABELS[dimension],
                    services.expected_level(dimension),
                    [(m, figures.cells.get((agency.pk, m)), figures.average.get(m)) for m in figures.months],
                )
            )
        service = services.side_by_side(start, end, agency_ids=[agency.pk])["rows"]
        pdf = render_pdf(
            "surveys/pdf/agency.html",
            {
                "title": _("Temperature: %(agency)s") % {"agency": agency.name},
                "agency": agency,
                "trends": trends,
                "months": trends[0][2],
                "service": service,
                "actions": Action.objects.filter(agency=agency)
                .exclude(status=Action.Status.DONE)
                .restrict(request.user, "view"),
            },
            request=request,
        )
        response = HttpResponse(pdf, content_type="application/pdf")
        response["Content-Disposition"] = f'attachment; filename="temperatur-{agency.short_code}-{end:%Y-%m}.pdf"'
        return response


class CockpitView(MatrixRequired, TemplateView):
    """The agency cockpit: what a key account manager reads before a visit."""

    template_name = "surveys/cockpit.html"
    required_model = Action

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        agency = get_object_or_404(Agency.objects.restrict(self.request.user, "view"), pk=self.kwargs["pk"])
        if not access.can(self.request.user, "view", Action(agency=agency)):
            raise Http404
        data = services.cockpit(agency, user=self.request.user)
        context.update(
            title=_("Cockpit: %(agency)s") % {"agency": agency.name},
            agency=agency,
            parent_url=reverse("surveys:agency_results", args=[agency.pk]),
            parent_label=agency.name,
            dimension_labels=DIMENSION_LABELS,
            **data,
        )
        return context


# ---------------------------------------------------------------------------------------------
# Campaigns
# ---------------------------------------------------------------------------------------------
class CampaignListView(ObjectListView):
    template_name = "surveys/campaign_list.html"
    queryset = Campaign.objects.select_related("template")
    title = _("Survey campaigns")
    create_url_name = "surveys:campaign_create"
    create_label = _("New campaign")


class CampaignCreateView(MatrixRequired, TemplateView):
    template_name = "surveys/campaign_form.html"
    required_model = Campaign
    required_action = "create"

    def get(self, request, *args, **kwargs):
        return self.render_to_response({"form": CampaignForm(user=request.user)})

    def post(self, request, *args, **kwargs):
        form = CampaignForm(request.POST, user=request.user)
        if form.is_valid():
            try:
                campaign = services.create_campaign(
                    form.cleaned_data["template"],
                    period=form.cleaned_data["period"],
                    closes_on=form.cleaned_data["closes_on"],
                    title=form.cleaned_data["title"],
                )
            except services.SurveyError as error:
                form.add_error("closes_on", str(error))
            else:
                return redirect(campaign.get_absolute_url())
        return self.render_to_response({"form": form}, status=400)


class CampaignDetailView(ObjectDetailView):
    template_name = "surveys/campaign_detail.html"
    queryset = Campaign.objects.select_related("template")
    list_url_name = "surveys:campaign_list"
    list_label = _("Survey campaigns")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        campaign = context["object"]
        context.update(
            may_run=access.can(self.request.user, "run", campaign),
            questions=campaign.template.questions.all(),
        )
        return context


class CampaignStepView(MatrixRequired, TemplateView):
    """POST …/open/, …/remind/, …/close/."""

    required_model = Campaign
    required_action = "run"
    http_method_names = ["post"]

    def post(self, request, pk, step):
        campaign = get_object_or_404(Campaign.objects.restrict(request.user, "view"), pk=pk)
        if not access.can(request.user, "run", campaign):
            raise PermissionDenied
        try:
            if step == "open":
                count = services.open_campaign(campaign)
                messages.success(request, _("Opened; %(n)s invitations sent.") % {"n": count})
            elif step == "remind":
                count = services.send_reminders()
                messages.success(request, _("%(n)s reminders sent.") % {"n": count})
            elif step == "close":
                services.close_campaign(campaign)
                messages.success(request, _("Closed."))
            else:
                raise Http404
        except services.SurveyError as error:
            messages.error(request, str(error))
        return redirect(campaign.get_absolute_url())


# ---------------------------------------------------------------------------------------------
# The answer page (no login: the personal link is the key)
# ---------------------------------------------------------------------------------------------
@method_decorator(never_cache, name="dispatch")
class AnswerView(TemplateView):
    template_name = "surveys/answer.html"
    STATUS = {LinkState.UNKNOWN: 404, LinkState.USED: 410, LinkState.EXPIRED: 410}

    def _state(self, token):
        return services.resolve_link(token)

    def _refused(self, state):
        return self.render_to_response({"state": state}, status=self.STATUS[state])

    def _context(self, invitation, values, errors=None, **extra):
        template = invitation.campaign.template
        questions = []
        for question in template.questions.all():
            saved = values.get(str(question.pk), {})
            chosen = "dont_know" if saved.get("dont_know") else str(saved.get("value", saved.get("choice", "")))
            questions.append(
                {
                    "q": question,
                    "chosen": chosen,
                    "text": saved.get("text", ""),
                    "comment": saved.get("comment", ""),
                    "error": (errors or {}).get(f"q{question.pk}"),
                }
            )
        answered, total = services.progress(template, values)
        return {
            "state": LinkState.VALID,
            "campaign": invitation.campaign,
            "template": template,
            "questions": questions,
            "errors": errors or {},
            "answered": answered,
            "total": total,
            "receipt": services.receipt(template, values) if answered else [],
            **extra,
        }

    def get(self, request, token):
        state, invitation = self._state(token)
        if state != LinkState.VALID:
            return self._refused(state)
        return self.render_to_response(self._context(invitation, invitation.draft))

    def post(self, request, token):
        state, invitation = self._state(token)
        if state != LinkState.VALID:
            return self._refused(state)
        partial = "save" in request.POST
        answers, errors = services.clean_answers(invitation.campaign.template, request.POST, partial=partial)
        if errors:
            return self.render_to_response(self._context(invitation, answers, errors), status=400)
        if partial:
            services.save_progress(invitation, answers)
            return self.render_to_response(self._context(invitation, answers, saved=True))
        try:
            services.submit(invitation, answers)
        except services.SurveyError:
            return self._refused(LinkState.USED)
        template = invitation.campaign.template
        return self.render_to_response(
            {
                "state": "done",
                "campaign": invitation.campaign,
                "template": template,
                "receipt": services.receipt(template, answers),
            }
        )


# ---------------------------------------------------------------------------------------------
# Follow-up
# ---------------------------------------------------------------------------------------------
class ActionListView(ObjectListView):
    template_name = "surveys/action_list.html"
    queryset = Action.objects.select_related("agency", "owner")
    title = _("Follow-up actions")

    def get_queryset(self):
        queryset = super().get_queryset()
        if self.request.GET.get("status") == "open":
            queryset = queryset.exclude(status=Action.Status.DONE)
        return queryset

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["today"] = timezone.localdate()
        return context


class ActionDetailView(ObjectDetailView):
    template_name = "surveys/action_detail.html"
    queryset = Action.objects.select_related("agency", "owner", "meeting", "rule")
    list_url_name = "surveys:action_list"
    list_label = _("Follow-up actions")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        action = context["object"]
        context.update(
            today=timezone.localdate(),
            may_close=action.is_open and access.can(self.request.user, "close", action),
            form=kwargs.get("form") or CloseActionForm(),
        )
        return context


class ActionCloseView(ActionDetailView):
    http_method_names = ["post"]

    def post(self, request, pk):
        action = self.get_object()
        if not access.can(request.user, "close", action):
            raise PermissionDenied
        form = CloseActionForm(request.POST)
        if form.is_valid():
            try:
                services.close_action(action, note=form.cleaned_data["note"])
            except services.SurveyError as error:
                form.add_error("note", str(error))
            else:
                messages.success(request, _("The action is closed."))
                return redirect(action.get_absolute_url())
        return self.render_to_response(self.get_context_data(form=form), status=400)


# ---------------------------------------------------------------------------------------------
# Dialogue
# ---------------------------------------------------------------------------------------------
class MeetingListView(ObjectListView):
    template_name = "surveys/meeting_list.html"
    queryset = Meeting.objects.prefetch_related("agencies")
    title = _("Agency dialogue")
    create_url_name = "surveys:meeting_create"
    create_label = _("New meeting")


class MeetingDetailView(ObjectDetailView):
    template_name = "surveys/meeting_detail.html"
    queryset = Meeting.objects.prefetch_related("agencies")
    list_url_name = "surveys:meeting_list"
    list_label = _("Agency dialogue")
    edit_url_name = "surveys:meeting_edit"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        meeting = context["object"]
        participants = list(MeetingParticipant.objects.filter(meeting=meeting).select_related("user"))
        may_change = access.can(self.request.user, "change", meeting)
        invited = {p.user_id for p in participants}
        context.update(
            participants=participants,
            may_change=may_change,
            attendance_choices=MeetingParticipant.Attendance.choices,
            attendance_counts=[
                (label, n)
                for value, label in MeetingParticipant.Attendance.choices
                if (n := sum(1 for p in participants if p.attendance == value))
            ],
            candidates=[u for u in services.meeting_candidates(meeting) if u.pk not in invited] if may_change else [],
            actions=meeting.actions.restrict(self.request.user, "view").select_related("owner", "agency"),
            case_numbers=[n.strip() for n in meeting.case_numbers.splitlines() if n.strip()],
        )
        return context


class MeetingEditView(MatrixRequired, TemplateView):
    """Create or change a meeting. Its agencies are a many-to-many field, so the check is on the saved meeting
    inside a transaction that a refusal rolls back."""

    template_name = "core/object_form.html"
    required_model = Meeting
    required_action = "create"

    def _object(self):
        if "pk" not in self.kwargs:
            return None
        meeting = get_object_or_404(Meeting.objects.restrict(self.request.user, "view"), pk=self.kwargs["pk"])
        if not access.can(self.request.user, "change", meeting):
            raise PermissionDenied
        return meeting

    def get(self, request, *args, **kwargs):
        meeting = self._object()
        return self.render_to_response({"object": meeting, "form": MeetingForm(instance=meeting, user=request.user)})

    def post(self, request, *args, **kwargs):
        meeting = self._object()
        form = MeetingForm(request.POST, instance=meeting, user=request.user)
        if form.is_valid():
            with transaction.atomic():
                if meeting is None:
                    form.instance.organiser = request.user
                saved = form.save()
                if not access.can(request.user, "create" if meeting is None else "change", saved):
                    transaction.set_rollback(True)
                    raise PermissionDenied
            messages.success(request, _("Saved."))
            return redirect(saved.get_absolute_url())
        return self.render_to_response({"object": meeting, "form": form}, status=400)


def chart_json(data) -> str:
    return json.dumps(data)


# ---------------------------------------------------------------------------------------------
# Templates (an edit of a frozen one is a new version) and follow-up rules
# ---------------------------------------------------------------------------------------------
class TemplateListView(ObjectListView):
    template_name = "surveys/template_list.html"
    queryset = SurveyTemplate.objects.order_by("name", "-version")
    title = _("Survey templates")
    create_url_name = "surveys:template_create"
    create_label = _("New template")


class TemplateDetailView(ObjectDetailView):
    template_name = "surveys/template_detail.html"
    queryset = SurveyTemplate.objects.all()
    list_url_name = "surveys:template_list"
    list_label = _("Survey templates")
    edit_url_name = "surveys:template_edit"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        template = context["object"]
        context.update(
            questions=template.questions.all(),
            versions=SurveyTemplate.objects.filter(name=template.name).restrict(self.request.user, "view"),
        )
        return context


class TemplateEditView(MatrixRequired, TemplateView):
    """Create a template, or edit one: a frozen template (a campaign opened with it) is never changed; the
    edit is saved as a new version, so results keep referring to the questions as they were asked."""

    template_name = "surveys/template_form.html"
    required_model = SurveyTemplate
    required_action = "create"

    def _object(self):
        if "pk" not in self.kwargs:
            return None
        template = get_object_or_404(SurveyTemplate.objects.restrict(self.request.user, "view"), pk=self.kwargs["pk"])
        if not access.can(self.request.user, "change", template):
            raise PermissionDenied
        return template

    def _render(self, template, form, questions, status=200):
        return self.render_to_response({"object": template, "form": form, "questions": questions}, status=status)

    def get(self, request, *args, **kwargs):
        template = self._object()
        initial = question_initial(template) if template else [{"kind": "rating", "expected_level": 4}]
        return self._render(
            template,
            TemplateForm(instance=template, user=request.user),
            QuestionFormSet(initial=initial, prefix="questions"),
        )

    def post(self, request, *args, **kwargs):
        template = self._object()
        form = TemplateForm(request.POST, instance=template or SurveyTemplate(), user=request.user)
        questions = QuestionFormSet(request.POST, prefix="questions")
        if form.is_valid() and questions.is_valid():
            kept = [
                {k: v for k, v in q.cleaned_data.items() if k != "DELETE"}
                for q in questions.forms
                if q.cleaned_data and not q.cleaned_data.get("DELETE")
            ]
            fields = {k: v for k, v in form.cleaned_data.items() if k != "name"}
            try:
                if template is None:
                    if SurveyTemplate.objects.filter(name=form.cleaned_data["name"]).exists():
                        raise services.SurveyError(_("A template with this name exists; edit it instead."))
                    with transaction.atomic():
                        blank = SurveyTemplate.objects.create(name=form.cleaned_data["name"], **fields)
                        saved = services.revise_template(blank, fields, kept)
                else:
                    saved = services.revise_template(template, fields, kept)
            except services.SurveyError as error:
                form.add_error(None, str(error))
            else:
                if template is not None and saved.pk != template.pk:
                    messages.success(
                        request,
                        _("Saved as version %(v)s; earlier answers keep the questions as asked.")
                        % {"v": saved.version},
                    )
                else:
                    messages.success(request, _("Saved."))
                return redirect(saved.get_absolute_url())
        return self._render(template, form, questions, status=400)


class RuleListView(ObjectListView):
    template_name = "surveys/rule_list.html"
    queryset = FollowUpRule.objects.order_by("name")
    title = _("Follow-up rules")
    create_url_name = "surveys:rule_create"
    create_label = _("New rule")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        for rule in context["object_list"]:
            rule.dimension_label = DIMENSION_LABELS.get(rule.dimension, rule.dimension)
        context["may_change"] = access.can(self.request.user, "change", FollowUpRule)
        return context


class RuleEditView(ObjectEditView):
    template_name = "core/object_form.html"
    queryset = FollowUpRule.objects.all()
    form_class = RuleForm


class RuleDeleteView(MatrixRequired, TemplateView):
    required_model = FollowUpRule
    required_action = "delete"
    http_method_names = ["post"]

    def post(self, request, pk):
        rule = get_object_or_404(FollowUpRule.objects.restrict(request.user, "view"), pk=pk)
        if not access.can(request.user, "delete", rule):
            raise PermissionDenied
        rule.delete()  # its actions stay (rule set to null)
        messages.success(request, _("The rule is deleted."))
        return redirect("surveys:rule_list")


# ---------------------------------------------------------------------------------------------
# Comment tags
# ---------------------------------------------------------------------------------------------
class TagListView(ObjectListView):
    """The tags, with how many shown comments carry each in the months chosen."""

    template_name = "surveys/tag_list.html"
    queryset = CommentTag.objects.order_by("name")
    title = _("Comment tags")
    create_url_name = "surveys:tag_create"
    create_label = _("New tag")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        start, end = _month_range(self.request)
        agencies = dict(_visible_agencies(self.request.user).values_list("pk", "name"))
        agency_ids = list(agencies)
        counts = services.tag_counts(start, end, agency_ids=agency_ids)
        chosen = None
        try:
            chosen = next((t for t, _n, _a in counts if t.pk == int(self.request.GET.get("tag", ""))), None)
        except ValueError:
            pass
        listed = services.tagged_comment_list(chosen, start, end, agency_ids=agency_ids) if chosen else []
        for item in listed:
            item["agency"] = agencies.get(item["agency_id"])
        context.update(
            counts=counts,
            chosen=chosen,
            listed=listed,
            start=start,
            end=end,
            parent_url=reverse("surveys:heatmap"),
            parent_label=_("Temperature"),
        )
        return context


class TagCreateView(ObjectEditView):
    template_name = "core/object_form.html"
    queryset = CommentTag.objects.all()
    form_class = CommentTagForm


class TagCommentView(MatrixRequired, TemplateView):
    """POST …/agencies/<id>/comments/tag/: set the tags of one comment (named by its digest)."""

    required_model = CommentTagging
    required_action = "create"
    http_method_names = ["post"]

    def post(self, request, pk):
        agency = _agency_for_results(request, pk)
        if not access.can(request.user, "create", CommentTagging(agency=agency)):
            raise PermissionDenied
        try:
            year, month = (int(p) for p in request.POST.get("period", "").split("-")[:2])
            period = dt.date(year, month, 1)
            tag_ids = [int(t) for t in request.POST.getlist("tags")]
            services.tag_comment(agency.pk, period, request.POST.get("digest", ""), tag_ids)
        except (ValueError, TypeError, services.SurveyError):
            return HttpResponse(_("Unknown comment or tag."), status=400, content_type="text/plain; charset=utf-8")
        messages.success(request, _("Tags saved."))
        return redirect(reverse("surveys:agency_results", args=[agency.pk]) + f"?end={period:%Y-%m}#comments-heading")


# ---------------------------------------------------------------------------------------------
# Meeting invitations and attendance
# ---------------------------------------------------------------------------------------------
class MeetingInviteView(MatrixRequired, TemplateView):
    """POST …/meetings/<id>/invite/: invite chosen people, or every contact of the meeting's agencies; the
    invitations go through the notification ledger."""

    required_model = MeetingParticipant
    required_action = "create"
    http_method_names = ["post"]

    def post(self, request, pk):
        meeting = get_object_or_404(Meeting.objects.restrict(request.user, "view"), pk=pk)
        if not access.can(request.user, "change", meeting):
            raise PermissionDenied
        form = InviteForm(request.POST, candidates=services.meeting_candidates(meeting))
        if not form.is_valid():
            return HttpResponse(
                " ".join(e for errors in form.errors.values() for e in errors),
                status=400,
                content_type="text/plain; charset=utf-8",
            )
        with transaction.atomic():
            count = services.invite(meeting, list(form.cleaned_data["users"]))
            if form.cleaned_data["all_contacts"]:
                count += services.invite_contacts(meeting)
        messages.success(request, _("%(n)s invited.") % {"n": count})
        return redirect(meeting.get_absolute_url())


class MeetingAttendanceView(MatrixRequired, TemplateView):
    """POST …/meetings/<id>/attendance/: record one participant's answer or attendance."""

    required_model = MeetingParticipant
    required_action = "change"
    http_method_names = ["post"]

    def post(self, request, pk):
        meeting = get_object_or_404(Meeting.objects.restrict(request.user, "view"), pk=pk)
        if not access.can(request.user, "change", meeting):
            raise PermissionDenied
        form = AttendanceForm(request.POST)
        participant = None
        if form.is_valid():
            participant = MeetingParticipant.objects.filter(
                meeting=meeting, pk=form.cleaned_data["participant"]
            ).first()
        if participant is None:
            return HttpResponse(
                _("Unknown participant or attendance."), status=400, content_type="text/plain; charset=utf-8"
            )
        services.set_attendance(participant, form.cleaned_data["attendance"])
        messages.success(request, _("Saved."))
        return redirect(meeting.get_absolute_url())
