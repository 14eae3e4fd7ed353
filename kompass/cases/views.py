"""The cases pages: the agents' queue, the case page with its timeline and forms, the portal.

Thin views: reads through the restricted managers (an invisible case is a 404), every change through
``kompass.cases.services``, whose refusals become a message on the case page (never a 500).
"""

from types import SimpleNamespace

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import PermissionDenied
from django.db.models import Q
from django.http import HttpResponseBadRequest, QueryDict
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.timezone import localtime
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from kompass.cases import exports, forms, keyset, notify, services
from kompass.cases.attachments import Upload
from kompass.cases.filtersets import CaseFilterSet
from kompass.cases.keyset import CursorError
from kompass.cases.links import resolve_token
from kompass.cases.models import Attachment, Case, Note, Origin, Reply, SavedFilter
from kompass.cases.services import CaseError, ChangeOrigin
from kompass.cases.timeline import timeline
from kompass.core import access
from kompass.core.views.generic import MatrixRequired, ObjectListView

QUEUE = Case.objects.select_related("agency", "service", "assignee", "requester")
#: What the queue page shows of a case (``queue_rows`` and the keyset cursor): the other 40-odd columns (the
#: description, three JSON columns parsed per row) and the service and requester joins are not read.
QUEUE_PAGE = Case.objects.select_related("agency", "assignee").only(
    "number", "title", "state", "priority", "resolution_due", "sla_state", "agency__name",
    "assignee__full_name", "assignee__email",
)  # fmt: skip


class CaseListView(ObjectListView):
    """The agents' queue: filtered and searched, soonest due first (cases without a due time last).

    Pages by keyset (``?cursor=``, see ``keyset.py``), so page 500 is as quick as page 1; the count is capped.
    Beside it: the user's saved filters and the bulk form; ``queue.js`` adds the keyboard shortcuts.
    """

    template_name = "cases/case_list.html"
    partial_template_name = "cases/includes/case_table.html"
    queryset = QUEUE_PAGE
    filterset_class = CaseFilterSet
    #: Beyond this many matches the page says "more than …" instead of counting them all (counting 10,000 of a
    #: million cases took 200 ms on PostgreSQL; 1,000 take a tenth of that).
    count_limit = 1_000

    def get(self, request, *args, **kwargs):
        try:
            return super().get(request, *args, **kwargs)
        except CursorError:
            messages.error(request, _("The link to this page is broken; here is the first page."))
            query = request.GET.copy()
            query.pop("cursor", None)
            query.pop("before", None)
            return redirect(f"{request.path}?{query.urlencode()}")

    def get_queryset(self):
        return super().get_queryset().order_by(*keyset.ORDER)

    #: A search for a common word (``search.search``'s "dense" case) counts only this far: its matches are
    #: tested row by row, and "more than 100 cases — refine the search" is what the agent needs to know.
    dense_count_limit = 100

    def filtered(self):
        queryset = self.get_queryset()
        filterset = self.filterset_class(self.request.GET or None, queryset=queryset, request=self.request)
        filterset.search_hint = {}
        return filterset, (filterset.qs if filterset.is_bound and filterset.is_valid() else queryset)

    def get_context_data(self, **kwargs):
        context = TemplateView.get_context_data(self, **kwargs)
        filterset, queryset = self.filtered()
        token = self.request.GET.get("cursor") or None
        before = self.request.GET.get("before") or None
        if before and not token:
            # "Previous": the page ending just before ``before``; its own "previous" leads further back.
            rows, previous_token = keyset.page_before(queryset, before, self.paginate_by)
            next_token = keyset.encode(rows[-1].resolution_due, rows[-1].pk) if rows else None
            is_first_page = previous_token is None
        else:
            rows, next_token = keyset.page(queryset, token, self.paginate_by)
            is_first_page = token is None
            previous_token = None
        limit = self.dense_count_limit if filterset.search_hint.get("dense") else self.count_limit
        counted = queryset.order_by()[: limit + 1].count()
        query = self.request.GET.copy()
        query.pop("cursor", None)
        query.pop("before", None)
        user = self.request.user
        context.update(
            filterset=filterset,
            object_list=rows,
            rows=queue_rows(rows, may_work=access.can(user, "work", Case)),
            count=min(counted, limit),
            count_capped=counted > limit,
            next_cursor=next_token,
            previous_cursor=keyset.encode(rows[0].resolution_due, rows[0].pk) if rows and not is_first_page else None,
            is_first_page=is_first_page,
            querystring=query.urlencode(),
            model=Case,
            may_work=access.can(user, "work", Case),
            saved_filters=saved_filters_for(user),
            may_save_filter=access.can(user, "create", SavedFilter),
            bulk_form=forms.BulkForm(auto_id="bulk_%s") if access.can(user, "work", Case) else None,
            **self.header_context(),
        )
        return context


#: One row of the queue's table (``case_table.html`` writes ``row.html``); every value is escaped by format_html.
ROW_HTML = (
    '<tr data-case="{pk}">{select}<td><a class="pkt-link" href="{url}">{number}</a></td><td>{title}</td>'
    "<td>{agency}</td><td>{state}</td><td>{priority}</td>\n      <td>{due}</td><td>{sla}</td><td>{assignee}</td></tr>"
)
SELECT_HTML = (
    '<td><input type="checkbox" name="case" value="{pk}" form="bulk" id="select-{pk}" aria-label="{label}"></td>'
)


def queue_rows(cases, *, may_work: bool = False) -> list[SimpleNamespace]:
    """The queue's rows as plain strings and their finished HTML, made once per request: the labels, the link
    pattern and the date format are looked up once, and each row is one ``format_html`` rather than eleven
    variables through the template engine (50 rows × 11 cells were the largest share of the page's time)."""
    link = reverse("cases:case_detail", args=[0])
    prefix = link[: link.rindex("0")]
    states = {value: str(label) for value, label in Case.State.choices}
    slas = {value: str(label) for value, label in Case.SlaState.choices}
    select = _("Select %(number)s")
    made = []
    for case in cases:
        due = case.resolution_due
        row = SimpleNamespace(
            pk=case.pk,
            number=case.number,
            url=f"{prefix}{case.pk}/",
            select_label=select % {"number": case.number},
            title=case.title,
            agency=case.agency.name,
            state=states.get(case.state, case.state),
            priority=case.priority,
            due=date_format(localtime(due), "SHORT_DATETIME_FORMAT") if due else "–",
            sla=slas.get(case.sla_state, case.sla_state),
            assignee=str(case.assignee) if case.assignee_id else "–",
        )
        checkbox = format_html(SELECT_HTML, pk=row.pk, label=row.select_label) if may_work else ""
        fields = {k: v for k, v in vars(row).items() if k != "select_label"}
        row.html = format_html(ROW_HTML, select=checkbox, **fields)
        made.append(row)
    return made


def saved_filters_for(user):
    """The user's own saved filters and, for those who see more of them (the service desk), the shared ones."""
    return SavedFilter.objects.restrict(user, "view").filter(Q(owner=user) | ~Q(team="")).select_related("owner")


class SavedFilterCreateView(MatrixRequired, View):
    """Save the queue's current query string under a name (replacing one's own filter of that name)."""

    queryset = SavedFilter.objects.all()
    required_action = "create"

    def get(self, request):  # the form lives on the queue page
        return redirect("cases:case_list")

    def post(self, request):
        form = forms.SavedFilterForm(request.POST)
        if not form.is_valid():
            errors = " ".join(str(e) for errs in form.errors.values() for e in errs)
            messages.error(request, errors)
            back = QueryDict(request.POST.get("query", "")[:2000]).urlencode()  # re-encoded: nothing raw in the URL
            return redirect(f"{reverse('cases:case_list')}?{back}")
        data = form.cleaned_data
        SavedFilter.objects.update_or_create(
            owner=request.user, name=data["name"], defaults={"query": data["query"], "team": data["team"]}
        )
        messages.success(request, _("The filter “%(name)s” is saved.") % {"name": data["name"]})
        return redirect(f"{reverse('cases:case_list')}?{data['query']}")


class SavedFilterDeleteView(LoginRequiredMixin, View):
    """Delete one of one's own saved filters (someone else's shared one: 403; an unseen one: 404)."""

    def post(self, request, pk):
        saved = get_object_or_404(saved_filters_for(request.user), pk=pk)
        if not access.can(request.user, "delete", saved):
            raise PermissionDenied
        saved.delete()
        messages.success(request, _("The filter “%(name)s” is deleted.") % {"name": saved.name})
        return redirect("cases:case_list")


class BulkView(MatrixRequired, TemplateView):
    """Assign or move many cases at once: each one through ``services``, so the matrix, the audit trail and the
    signal apply per case; the page reports what was done and what was refused, and why."""

    template_name = "cases/bulk_report.html"
    queryset = Case.objects.all()
    required_action = "work"

    def get(self, request):  # the form lives on the queue page
        return redirect("cases:case_list")

    def post(self, request):
        form = forms.BulkForm(request.POST)
        if not form.is_valid():
            return self.render_to_response({"form": form, "done": [], "refused": []}, status=400)
        data = form.cleaned_data
        origin = ChangeOrigin.by_user(request.user)
        visible = {c.pk: c for c in Case.objects.restrict(request.user, "view").filter(pk__in=data["cases"])}
        done, refused = [], []
        for pk in data["cases"]:
            case = visible.get(pk)
            if case is None:
                refused.append((pk, None, _("No such case, or not one you can see.")))
                continue
            try:
                if data["action"] == "assign":
                    services.assign(case, assignee=data["assignee"], team=data["team"] or None, origin=origin)
                else:
                    services.transition(case, data["state"], origin=origin, resolution=data["resolution"])
            except CaseError as error:
                refused.append((pk, case, error.message))
            except PermissionDenied:
                refused.append((pk, case, _("You may not do this.")))
            else:
                done.append(case)
        status = 200 if done or not refused else 409
        return self.render_to_response({"form": form, "done": done, "refused": refused}, status=status)


class ExportView(MatrixRequired, View):
    """The queue's current list (same filters and search, through the matrix) as .csv or .xlsx, streamed."""

    queryset = QUEUE

    def get(self, request, fmt):
        filterset = CaseFilterSet(
            request.GET or None, queryset=QUEUE.restrict(request.user, "view").order_by(*keyset.ORDER), request=request
        )
        if filterset.is_bound and not filterset.is_valid():
            return HttpResponseBadRequest(" ".join(str(e) for errs in filterset.errors.values() for e in errs))
        return exports.response(filterset.qs, fmt)


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
        data = _valid(forms.NoteForm(request.POST))
        services.add_note(case, data["text"], origin=origin, share_with_vendor=data["share_with_vendor"])
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
