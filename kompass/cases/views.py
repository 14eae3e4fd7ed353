"""The cases pages: the agents' queue, the case page with its timeline and forms, the portal.

Thin views: reads through the restricted managers (an invisible case is a 404), every change through
``kompass.cases.services``, whose refusals become a message on the case page (never a 500).
"""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import F, Q
from django.shortcuts import get_object_or_404, redirect
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from kompass.cases import forms, notify, services
from kompass.cases.attachments import Upload
from kompass.cases.filtersets import CaseFilterSet
from kompass.cases.links import resolve_token
from kompass.cases.models import Attachment, Case, Note, Origin, Reply
from kompass.cases.services import CaseError, ChangeOrigin
from kompass.cases.timeline import timeline
from kompass.core import access
from kompass.core.views.generic import MatrixRequired, ObjectListView

QUEUE = Case.objects.select_related("agency", "service", "assignee", "requester")


class CaseListView(ObjectListView):
    """The agents' queue: filtered, soonest due first (cases without a due time last)."""

    template_name = "cases/case_list.html"
    partial_template_name = "cases/includes/case_table.html"
    queryset = QUEUE
    filterset_class = CaseFilterSet

    def get_queryset(self):
        return super().get_queryset().order_by(F("resolution_due").asc(nulls_last=True), "pk")


class PortalView(MatrixRequired, TemplateView):
    """The self-service portal: my cases (requested or watched) and the way to register a new one."""

    template_name = "cases/portal.html"
    queryset = Case.objects.all()

    def get_context_data(self, **kwargs):
        user = self.request.user
        mine = (
            Case.objects.restrict(user, "view")
            .filter(Q(requester=user) | Q(watchers=user))
            .distinct()
            .select_related("service")
            .order_by("-created")[:100]
        )
        return super().get_context_data(cases=mine, may_create=access.can(user, "create", Case), **kwargs)


class CaseCreateView(MatrixRequired, TemplateView):
    template_name = "cases/case_form.html"
    queryset = Case.objects.all()
    required_action = "create"

    def get(self, request):
        return self.render_to_response({"form": forms.CaseForm(user=request.user)})

    def post(self, request):
        form = forms.CaseForm(request.POST, request.FILES, user=request.user)
        if form.is_valid():
            data = form.cleaned_data
            try:
                case = services.create_case(
                    requester=request.user,
                    agency=data.get("agency"),
                    service=data["service"],
                    title=data["title"],
                    description=data["description"],
                    type=data["type"],
                    impact=data["impact"],
                    urgency=data["urgency"],
                    system=data.get("system"),
                    source=Case.Source.PORTAL,
                    attachments=[Upload(f.name, f.read()) for f in data["attachments"]],
                    origin=ChangeOrigin.by_user(request.user),
                )
            except CaseError as error:
                form.add_error(None, error.message)
            else:
                messages.success(request, _("Case %(number)s is registered.") % {"number": case.number})
                return redirect(case.get_absolute_url())
        return self.render_to_response({"form": form}, status=400)


class CaseDetailView(MatrixRequired, TemplateView):
    """The case page: facts, SLA, the one timeline, and the forms the user may use."""

    template_name = "cases/case_detail.html"
    queryset = Case.objects.all()

    def get_context_data(self, **kwargs):
        user = self.request.user
        case = get_object_or_404(QUEUE.restrict(user, "view"), pk=self.kwargs["pk"])
        may_reply = access.can(user, "create", Reply(case=case)) and case.state not in ("closed", "cancelled")
        may_work = access.can(user, "work", case)
        context = super().get_context_data(**kwargs)
        context.update(
            object=case,
            entries=timeline(case, user),
            attachments=Attachment.objects.restrict(user, "view").filter(case=case, reply__isnull=True),
            transitions=[(state, Case.State(state).label) for state in services.allowed_transitions(case, user)],
            reply_form=forms.ReplyForm() if may_reply else None,
            note_form=forms.NoteForm() if access.can(user, "create", Note(case=case)) else None,
            assign_form=forms.AssignForm(case=case, initial={"assignee": case.assignee_id, "team": case.team})
            if may_work and case.is_open
            else None,
            rating_form=forms.RatingForm()
            if case.state == Case.State.CLOSED and case.rating is None and access.can(user, "rate", case)
            else None,
            may_reopen=case.state == Case.State.CLOSED and (access.can(user, "respond", case) or may_work),
            # Who was told what, and when (the delivery ledger); for those who see the whole case.
            informed=notify.deliveries_for(case)[:20] if may_work or access.can(user, "change", case) else [],
        )
        return context


class CaseActionView(LoginRequiredMixin, View):
    """POST one change to a case; refusals become a message and the case page again (400 without JS)."""

    def post(self, request, pk):
        case = get_object_or_404(Case.objects.restrict(request.user, "view"), pk=pk)
        origin = ChangeOrigin.by_user(request.user)
        try:
            self.perform(case, origin, request)
        except CaseError as error:
            messages.error(request, error.message)
        except PermissionDenied:
            raise
        return redirect(case.get_absolute_url())

    def perform(self, case, origin, request):  # pragma: no cover - each subclass has its own
        raise NotImplementedError


def _valid(form):
    if not form.is_valid():
        errors = [str(e) for field_errors in form.errors.values() for e in field_errors]
        raise CaseError(" ".join(errors) or _("Check the form."), code="form")
    return form.cleaned_data


class ReplyView(CaseActionView):
    def perform(self, case, origin, request):
        data = _valid(forms.ReplyForm(request.POST, request.FILES))
        services.add_reply(
            case, data["text"], origin=origin, attachments=[Upload(f.name, f.read()) for f in data["attachments"]]
        )
        messages.success(request, _("Your reply is posted."))


class NoteView(CaseActionView):
    def perform(self, case, origin, request):
        services.add_note(case, _valid(forms.NoteForm(request.POST))["text"], origin=origin)
        messages.success(request, _("The note is saved."))


class TransitionView(CaseActionView):
    def perform(self, case, origin, request):
        data = _valid(forms.TransitionForm(request.POST))
        services.transition(case, data["state"], origin=origin, resolution=data["resolution"])
        messages.success(request, _("The case is now %(state)s.") % {"state": case.get_state_display().lower()})


class AssignView(CaseActionView):
    def perform(self, case, origin, request):
        origin.require("work", case)
        data = _valid(forms.AssignForm(request.POST, case=case))
        services.assign(case, assignee=data["assignee"], team=data["team"], origin=origin)
        messages.success(request, _("The assignment is saved."))


class ReopenView(CaseActionView):
    def perform(self, case, origin, request):
        services.reopen(case, origin=origin, reason=request.POST.get("reason", ""))
        messages.success(request, _("The case is reopened."))


class RateView(CaseActionView):
    def perform(self, case, origin, request):
        origin.require("rate", case)
        data = _valid(forms.RatingForm(request.POST))
        services.rate(case, data["rating"], data["comment"], origin=origin)
        messages.success(request, _("Thank you for your rating."))


class AttachmentView(LoginRequiredMixin, View):
    """Download an attachment the user may see (404 otherwise), as a download, never rendered inline."""

    def get(self, request, pk):
        from django.http import FileResponse

        attachment = get_object_or_404(Attachment.objects.restrict(request.user, "view"), pk=pk)
        return FileResponse(
            attachment.file.open("rb"),
            as_attachment=True,
            filename=attachment.name,
            content_type=attachment.content_type,
        )


class ResolutionAnswerView(TemplateView):
    """The resolved e-mail's link: no login; a page with one button, whose POST answers once."""

    template_name = "cases/resolution_answer.html"

    def get(self, request, token):
        found = resolve_token(token)
        if found is None:
            return self.render_to_response({"spent": True}, status=410)
        case, answer = found
        return self.render_to_response({"case": case, "answer": answer})

    def post(self, request, token):
        found = resolve_token(token)
        if found is None:
            return self.render_to_response({"spent": True}, status=410)
        case, answer = found
        origin = ChangeOrigin(Origin.EMAIL, user=case.requester, ref="resolution-link", checked=False)
        to = Case.State.CLOSED if answer == "solved" else Case.State.IN_PROGRESS
        services.transition(case, to, origin=origin, reason=f"resolution_link:{answer}")
        return self.render_to_response({"case": case, "answer": answer, "done": True})
