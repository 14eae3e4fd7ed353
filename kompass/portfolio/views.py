"""The portfolio's pages. Thin: the access matrix decides, the services act, the FilterSets filter."""

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views import View
from django.views.generic import TemplateView

from kompass.core import access
from kompass.core.audit import history_for
from kompass.core.models import System
from kompass.core.views.generic import MatrixRequired, ObjectListView
from kompass.portfolio import services
from kompass.portfolio.filtersets import IntegrationFilterSet, PortfolioSystemFilterSet
from kompass.portfolio.forms import DecisionForm, IntegrationRequestForm, SystemProfileForm, TransformationForm
from kompass.portfolio.models import (
    InfrastructureItem,
    Integration,
    MigrationWave,
    SystemProfile,
    Transformation,
)

# ---------------------------------------------------------------------------------------------
# Systems
# ---------------------------------------------------------------------------------------------


def _portfolio_systems():
    return System.objects.select_related(
        "agency", "system_owner", "portfolio_profile", "transformation", "transformation__wave"
    ).order_by("agency__name", "name")


class SystemListView(ObjectListView):
    """The system portfolio: every system the user sees, with hosting, path, wave and conflict flags."""

    template_name = "portfolio/system_list.html"
    partial_template_name = "portfolio/includes/system_table.html"
    queryset = _portfolio_systems()
    filterset_class = PortfolioSystemFilterSet
    required_model = SystemProfile

    def get_queryset(self):
        return _portfolio_systems().restrict(self.request.user, "view")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        ids = [s.pk for s in context["object_list"]]
        context["conflicted"] = {c.system_id for c in services.dependency_conflicts(system_ids=ids)}
        return context


def _visible_system(request, pk) -> System:
    return get_object_or_404(_portfolio_systems().restrict(request.user, "view"), pk=pk)


class SystemDetailView(MatrixRequired, TemplateView):
    template_name = "portfolio/system_detail.html"
    required_model = SystemProfile

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        system = _visible_system(self.request, self.kwargs["pk"])
        profile = getattr(system, "portfolio_profile", None)
        transformation = getattr(system, "transformation", None)
        integrations = IntegrationFilterSet(
            {"system": system.pk}, queryset=_integrations().restrict(self.request.user, "view")
        ).qs.order_by("name")
        context.update(
            object=system,
            profile=profile,
            transformation=transformation,
            infrastructure=InfrastructureItem.objects.filter(system=system),
            integrations=integrations,
            conflicts=services.dependency_conflicts(system_ids=[system.pk]),
            case_figures=services.case_figures(system),
            may_change_profile=access.can(self.request.user, "change", profile or SystemProfile(system=system)),
            may_change_transformation=access.can(
                self.request.user, "change", transformation or Transformation(system=system)
            ),
            may_request=access.can(self.request.user, "request_integration", SystemProfile(system=system)),
            history=history_for(profile) if profile else [],
        )
        return context


class _OneToOneEditView(MatrixRequired, TemplateView):
    """Edit a system's one-to-one row (profile or transformation), created on first save."""

    template_name = "portfolio/one_to_one_form.html"
    required_action = "change"
    model = None
    form_class = None
    make = None

    def _instance(self, request, pk):
        system = _visible_system(request, pk)
        instance = getattr(system, self.model._meta.get_field("system").related_query_name(), None)
        instance = instance or self.model(system=system)
        if not access.can(request.user, "change", instance):
            raise PermissionDenied
        return system, instance

    def get(self, request, pk):
        system, instance = self._instance(request, pk)
        return self.render_to_response({"object": system, "form": self.form_class(instance=instance)})

    def post(self, request, pk):
        system, instance = self._instance(request, pk)
        form = self.form_class(request.POST, instance=instance)
        if not form.is_valid():
            return self.render_to_response({"object": system, "form": form}, status=400)
        self.save(form, request)
        return redirect("portfolio:system_detail", pk=system.pk)

    def save(self, form, request):
        form.save()
        messages.success(request, _("Saved."))


class ProfileEditView(_OneToOneEditView):
    model = SystemProfile
    form_class = SystemProfileForm
    required_model = SystemProfile


class TransformationEditView(_OneToOneEditView):
    """Saving a wave flags the dependency conflicts it creates, at once."""

    model = Transformation
    form_class = TransformationForm
    required_model = Transformation

    def save(self, form, request):
        transformation = form.save()
        conflicts = services.dependency_conflicts(system_ids=[transformation.system_id])
        if conflicts:
            messages.warning(
                request,
                _("Saved, with %(count)s dependency conflict(s): the system would move before a system it depends on.")
                % {"count": len(conflicts)},
            )
        else:
            messages.success(request, _("Saved."))


# ---------------------------------------------------------------------------------------------
# Integrations and governance
# ---------------------------------------------------------------------------------------------


def _integrations():
    return Integration.objects.select_related(
        "provider_system__agency", "consumer_system__agency", "provider_party", "consumer_party"
    )


class IntegrationListView(ObjectListView):
    template_name = "portfolio/integration_list.html"
    partial_template_name = "portfolio/includes/integration_table.html"
    queryset = _integrations()
    filterset_class = IntegrationFilterSet

    def get_queryset(self):
        return _integrations().restrict(self.request.user, "view")


class IntegrationDetailView(MatrixRequired, TemplateView):
    template_name = "portfolio/integration_detail.html"
    queryset = Integration.objects.all()

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        integration = kwargs.get("object") or get_object_or_404(
            _integrations().restrict(self.request.user, "view"), pk=self.kwargs["pk"]
        )
        user = self.request.user
        context.update(
            object=integration,
            decisions=integration.decisions.select_related("decided_by"),
            data_sets=integration.data_sets.all(),
            may_review=integration.status == Integration.Status.REQUESTED and services.may_review(user, integration),
            may_change=access.can(user, "change", integration),
            decision_form=kwargs.get("decision_form") or DecisionForm(),
            history=history_for(integration),
        )
        return context


class IntegrationRequestView(MatrixRequired, TemplateView):
    """A system owner requests a new integration (or a replacement of an active one, ``?replaces=``)."""

    template_name = "portfolio/integration_form.html"
    queryset = Integration.objects.all()
    required_action = "create"

    def get(self, request):
        initial = {}
        if request.GET.get("consumer", "").isdigit():
            initial["consumer_system"] = request.GET["consumer"]
        return self.render_to_response({"form": IntegrationRequestForm(initial=initial, user=request.user)})

    def post(self, request):
        form = IntegrationRequestForm(request.POST, user=request.user)
        if form.is_valid():
            fields = {k: v for k, v in form.cleaned_data.items() if k != "data_sets"}
            try:
                integration = services.request_integration(
                    request.user, data_sets=form.cleaned_data["data_sets"], **fields
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("The integration is requested; the providing side reviews it."))
                return redirect(integration)
        return self.render_to_response({"form": form}, status=400)


class IntegrationDecideView(IntegrationDetailView):
    """POST: the providing side approves or rejects (a reason is required to reject)."""

    def post(self, request, pk):
        integration = get_object_or_404(_integrations().restrict(request.user, "view"), pk=pk)
        if not services.may_review(request.user, integration):
            raise PermissionDenied
        form = DecisionForm(request.POST)
        if form.is_valid():
            try:
                if form.cleaned_data["decision"] == "approve":
                    services.approve_integration(integration, request.user, reason=form.cleaned_data["reason"])
                    messages.success(request, _("Approved."))
                else:
                    services.reject_integration(integration, request.user, reason=form.cleaned_data["reason"])
                    messages.success(request, _("Rejected."))
                return redirect(integration)
            except ValidationError as error:
                form.add_error(None, error)
        return self.render_to_response(self.get_context_data(object=integration, decision_form=form), status=400)


class IntegrationStepView(MatrixRequired, View):
    """POST: activate an approved integration, or retire an active one."""

    queryset = Integration.objects.all()

    def post(self, request, pk, step):
        integration = get_object_or_404(_integrations().restrict(request.user, "view"), pk=pk)
        action = {"activate": services.activate_integration, "retire": services.retire_integration}[step]
        try:
            action(integration, request.user)
        except ValidationError as error:
            messages.error(request, " ".join(error.messages))
            return render(request, "portfolio/step_refused.html", {"object": integration}, status=400)
        messages.success(request, _("Saved."))
        return redirect(integration)


# ---------------------------------------------------------------------------------------------
# The integration map: a graph (Cytoscape.js) and the same facts as a table
# ---------------------------------------------------------------------------------------------


#: Above this many integrations the map shows agencies and external parties instead of systems: 20,000
#: edges are neither readable nor drawable in a browser in reasonable time. Filtering (by agency,
#: technology, status...) brings the map down to systems; an agency's node links to its own map.
MAP_DETAIL_LIMIT = 1500


def map_data(user, params) -> dict:
    """Nodes and edges of the integrations the user sees, filtered like the list (one FilterSet).

    ``level`` is "system" (each node a system or external party, each edge an integration) or, above
    :data:`MAP_DETAIL_LIMIT` integrations, "agency" (each edge the number of integrations between two
    agencies, or an agency and an external party). The table beside the map lists the integrations.
    """
    filterset = IntegrationFilterSet(params or None, queryset=_integrations().restrict(user, "view"))
    integrations = filterset.qs if filterset.is_bound and filterset.is_valid() else filterset.queryset
    total = integrations.count()
    if total > MAP_DETAIL_LIMIT:
        return _agency_map(integrations, total)
    rows = integrations.values_list(
        "pk",
        "name",
        "status",
        "technology",
        "personal_data",
        "provider_system_id",
        "provider_system__name",
        "provider_system__agency__short_code",
        "provider_party_id",
        "provider_party__name",
        "consumer_system_id",
        "consumer_system__name",
        "consumer_system__agency__short_code",
        "consumer_party_id",
        "consumer_party__name",
    )
    nodes, edges = {}, []
    for pk, name, status, tech, personal, ps, psn, psa, pp, ppn, cs, csn, csa, cp, cpn in rows:
        source = f"s{ps}" if ps else f"x{pp}"
        target = f"s{cs}" if cs else f"x{cp}"
        for node_id, label, agency, system_id in ((source, psn or ppn, psa, ps), (target, csn or cpn, csa, cs)):
            if node_id not in nodes:
                nodes[node_id] = {
                    "id": node_id,
                    "label": f"{label} ({agency})" if agency else label,
                    "external": system_id is None,
                    "url": f"/portfolio/systems/{system_id}/" if system_id else "",
                }
        edges.append(
            {
                "id": f"i{pk}",
                "source": source,
                "target": target,
                "label": name,
                "status": status,
                "technology": tech,
                "personal_data": personal,
                "count": 1,
                "url": f"/portfolio/integrations/{pk}/",
            }
        )
    return {"level": "system", "total": total, "nodes": list(nodes.values()), "edges": edges}


def _agency_map(integrations, total: int) -> dict:
    """One node per agency and external party, one edge per pair with the number of integrations (one query)."""
    rows = (
        integrations.order_by()
        .values(
            "provider_system__agency_id",
            "provider_system__agency__short_code",
            "provider_party_id",
            "provider_party__name",
            "consumer_system__agency_id",
            "consumer_system__agency__short_code",
            "consumer_party_id",
            "consumer_party__name",
        )
        .annotate(n=Count("pk"), personal=Count("pk", filter=Q(personal_data=True)))  # MAX(boolean): not on PostgreSQL
    )
    nodes, edges = {}, []
    for row in rows:
        ends = []
        for side in ("provider", "consumer"):
            agency_id = row[f"{side}_system__agency_id"]
            if agency_id:
                node_id, label, url = f"a{agency_id}", row[f"{side}_system__agency__short_code"], f"?agency={agency_id}"
            else:
                node_id, label, url = f"x{row[f'{side}_party_id']}", row[f"{side}_party__name"], ""
            nodes.setdefault(node_id, {"id": node_id, "label": label, "external": not agency_id, "url": url})
            ends.append(node_id)
        edges.append(
            {
                "id": f"{ends[0]}-{ends[1]}",
                "source": ends[0],
                "target": ends[1],
                "label": str(row["n"]),
                "status": "",
                "technology": "",
                "personal_data": bool(row["personal"]),
                "count": row["n"],
                "url": "",
            }
        )
    return {"level": "agency", "total": total, "nodes": list(nodes.values()), "edges": edges}


class MapView(ObjectListView):
    """The map page: the graph (drawn by static/portfolio/map.js from the JSON endpoint) and its table."""

    template_name = "portfolio/map.html"
    queryset = Integration.objects.all()
    filterset_class = IntegrationFilterSet
    paginate_by = 100

    def get_queryset(self):
        return _integrations().restrict(self.request.user, "view")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["data_url"] = "?" + context["querystring"] if context["querystring"] else ""
        return context


# ---------------------------------------------------------------------------------------------
# Transformation: waves on a timeline, burn-down, progress per agency, conflicts
# ---------------------------------------------------------------------------------------------


#: The overview lists this many dependency conflicts; the API's transformations carry all of them.
CONFLICTS_SHOWN = 100


class TransformationView(MatrixRequired, TemplateView):
    template_name = "portfolio/transformation.html"
    required_model = Transformation

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        systems = System.objects.restrict(self.request.user, "view")
        waves = list(MigrationWave.objects.all())
        today = timezone.localdate()
        start = min([w.starts_on for w in waves] + [today])
        end = max([w.ends_on for w in waves] + [today + dt.timedelta(days=365)])
        points = services.burn_down(systems, start=start, end=end, today=today)
        span = max((end - start).days, 1)
        per_wave = dict(
            Transformation.objects.filter(system__in=systems.values("pk"), wave__isnull=False)
            .values("wave")
            .annotate(n=Count("pk"))
            .values_list("wave", "n")
        )
        timeline = [
            {
                "wave": w,
                "offset": round(100 * (w.starts_on - start).days / span, 1),
                "width": max(round(100 * (w.ends_on - w.starts_on).days / span, 1), 1),
                "count": per_wave.get(w.pk, 0),
            }
            for w in waves
        ]
        conflicts = services.dependency_conflicts(system_ids=systems.values("pk"))
        involved = {c.depends_on_id for c in conflicts[:CONFLICTS_SHOWN]} | {
            c.system_id for c in conflicts[:CONFLICTS_SHOWN]
        }
        # Each conflict's integration touches the user's agency, so both of its systems' names are visible.
        names = dict(System.objects.filter(pk__in=involved).values_list("pk", "name"))
        context.update(
            timeline=timeline,
            points=points,
            chart={
                "labels": [p.day.isoformat() for p in points],
                "systems_planned": [p.systems_planned for p in points],
                "systems_actual": [p.systems_actual for p in points],
                "items_planned": [p.items_planned for p in points],
                "items_actual": [p.items_actual for p in points],
            },
            progress=services.progress_by_agency(systems),
            conflicts=[(c, names.get(c.system_id), names.get(c.depends_on_id)) for c in conflicts[:CONFLICTS_SHOWN]],
            conflict_count=len(conflicts),
            blocked=Transformation.objects.restrict(self.request.user, "view")
            .filter(blocked=True)
            .select_related("system", "system__agency"),
        )
        return context
