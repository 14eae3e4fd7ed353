"""The portfolio's pages. Thin: the access matrix decides, the services act, the FilterSets filter."""

import datetime as dt

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Count, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy as _lazy
from django.views import View
from django.views.generic import TemplateView

from kompass.core import access
from kompass.core.audit import history_for
from kompass.core.imports import ImportRefused
from kompass.core.imports.forms import ApplyForm, MappingForm
from kompass.core.imports.models import ImportBatch
from kompass.core.models import Agency, System
from kompass.core.views.generic import MatrixRequired, ObjectDetailView, ObjectEditView, ObjectListView
from kompass.portfolio import services
from kompass.portfolio.filtersets import IntegrationFilterSet, PortfolioSystemFilterSet
from kompass.portfolio.forms import (
    DataSetForm,
    DecisionForm,
    ExternalPartyForm,
    ImportUploadForm,
    InfrastructureItemForm,
    IntegrationRequestForm,
    SystemProfileForm,
    TransformationForm,
    WaveForm,
)
from kompass.portfolio.imports import SPECS, SYSTEMS, import_scope, may_import
from kompass.portfolio.models import (
    INTEGRATION_REQUEST_FIELDS,
    DataSet,
    ExternalParty,
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
        context["may_import"] = may_import(SYSTEMS, self.request.user)
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
            case_figures=services.case_figures(system, self.request.user),
            may_change_profile=access.can(self.request.user, "change", profile or SystemProfile(system=system)),
            may_change_transformation=access.can(
                self.request.user, "change", transformation or Transformation(system=system)
            ),
            may_request=access.can(self.request.user, "request_integration", SystemProfile(system=system)),
            may_change_system=access.can(self.request.user, "change", system),
            may_change_infrastructure=access.can(self.request.user, "change", InfrastructureItem(system=system)),
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


class InfrastructureEditView(MatrixRequired, TemplateView):
    """Add an infrastructure item to a system (``pk`` is the system) or change one (``item_pk``)."""

    template_name = "portfolio/infrastructure_form.html"
    required_model = InfrastructureItem
    required_action = "change"

    def _instance(self, request, pk=None, item_pk=None):
        if item_pk is not None:
            item = get_object_or_404(InfrastructureItem.objects.restrict(request.user, "view"), pk=item_pk)
            system, action = _visible_system(request, item.system_id), "change"
        else:
            system = _visible_system(request, pk)
            item, action = InfrastructureItem(system=system), "create"
        if not access.can(request.user, action, item):
            raise PermissionDenied
        return system, item

    def get(self, request, pk=None, item_pk=None):
        system, item = self._instance(request, pk, item_pk)
        return self.render_to_response({"system": system, "item": item, "form": InfrastructureItemForm(instance=item)})

    def post(self, request, pk=None, item_pk=None):
        system, item = self._instance(request, pk, item_pk)
        form = InfrastructureItemForm(request.POST, instance=item)
        if not form.is_valid():
            return self.render_to_response({"system": system, "item": item, "form": form}, status=400)
        form.save()
        messages.success(request, _("Saved."))
        return redirect("portfolio:system_detail", pk=system.pk)


class InfrastructureDeleteView(MatrixRequired, View):
    """POST: remove an infrastructure item (a decommissioned one is better kept, with its date)."""

    required_model = InfrastructureItem
    required_action = "delete"

    def post(self, request, item_pk):
        item = get_object_or_404(InfrastructureItem.objects.restrict(request.user, "view"), pk=item_pk)
        if not access.can(request.user, "delete", item):
            raise PermissionDenied
        system_id = item.system_id
        item.delete()
        messages.success(request, _("Removed."))
        return redirect("portfolio:system_detail", pk=system_id)


class WaveListView(ObjectListView):
    """The programme's migration waves (shared by every agency); central editors add and change them."""

    template_name = "portfolio/wave_list.html"
    queryset = MigrationWave.objects.all()
    title = _lazy("Migration waves")
    create_url_name = "portfolio:wave_create"
    create_label = _lazy("New wave")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        systems = System.objects.restrict(self.request.user, "view").values("pk")
        counts = dict(
            Transformation.objects.filter(system__in=systems, wave__isnull=False)
            .values("wave")
            .annotate(n=Count("pk"))
            .values_list("wave", "n")
        )
        context["rows"] = [(wave, counts.get(wave.pk, 0)) for wave in context["object_list"]]
        context["may_change"] = access.can(self.request.user, "change", MigrationWave)
        return context


class WaveEditView(ObjectEditView):
    """New or changed wave; changed dates flag the dependency conflicts they create at once."""

    template_name = "core/object_form.html"
    queryset = MigrationWave.objects.all()
    form_class = WaveForm

    def post(self, request, *args, **kwargs):
        response = super().post(request, *args, **kwargs)
        if response.status_code == 302 and "pk" in self.kwargs:
            in_wave = set(Transformation.objects.filter(wave_id=self.kwargs["pk"]).values_list("system_id", flat=True))
            dependants = Integration.objects.filter(provider_system_id__in=in_wave).values_list(
                "consumer_system_id", flat=True
            )
            count, _first = services.conflict_summary(system_ids=in_wave | {d for d in dependants if d}, limit=0)
            if count:
                messages.warning(
                    request,
                    _("%(count)s dependency conflict(s) involve systems of this wave.") % {"count": count},
                )
        return response


# ---------------------------------------------------------------------------------------------
# External parties and data sets: shared by every agency, kept by the central editors
# ---------------------------------------------------------------------------------------------


def _visible_integration_counts(user, *fields: str) -> dict[int, int]:
    """Object id → number of the integrations ``user`` sees that name it in one of ``fields``."""
    visible = Integration.objects.restrict(user, "view")
    counts: dict[int, int] = {}
    for name in fields:
        rows = visible.filter(**{f"{name}__isnull": False}).values(name).annotate(n=Count("pk", distinct=True))
        for row in rows:
            counts[row[name]] = counts.get(row[name], 0) + row["n"]
    return counts


class ExternalPartyListView(ObjectListView):
    """National registers, other municipalities and the state: the parties integrations reach outside."""

    template_name = "portfolio/party_list.html"
    queryset = ExternalParty.objects.all()
    title = _lazy("External parties")
    create_url_name = "portfolio:party_create"
    create_label = _lazy("New external party")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        counts = _visible_integration_counts(self.request.user, "provider_party", "consumer_party")
        context["rows"] = [(party, counts.get(party.pk, 0)) for party in context["object_list"]]
        return context


class ExternalPartyDetailView(ObjectDetailView):
    template_name = "portfolio/party_detail.html"
    queryset = ExternalParty.objects.all()
    list_url_name = "portfolio:party_list"
    list_label = _lazy("External parties")
    edit_url_name = "portfolio:party_edit"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        party = context["object"]
        context.update(
            integrations=_integrations()
            .restrict(self.request.user, "view")
            .filter(Q(provider_party=party) | Q(consumer_party=party))
            .order_by("name"),
            data_sets=DataSet.objects.restrict(self.request.user, "view").filter(publisher_party=party),
        )
        return context


class ExternalPartyEditView(ObjectEditView):
    template_name = "core/object_form.html"
    queryset = ExternalParty.objects.all()
    form_class = ExternalPartyForm


class DataSetListView(ObjectListView):
    """The data sets integrations carry: what the DCAT-AP-NO catalogue publishes."""

    template_name = "portfolio/data_set_list.html"
    queryset = DataSet.objects.select_related("publisher_agency", "publisher_party")
    title = _lazy("Data sets")
    create_url_name = "portfolio:data_set_create"
    create_label = _lazy("New data set")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        counts = _visible_integration_counts(self.request.user, "data_sets")
        context["rows"] = [(data_set, counts.get(data_set.pk, 0)) for data_set in context["object_list"]]
        return context


class DataSetDetailView(ObjectDetailView):
    template_name = "portfolio/data_set_detail.html"
    queryset = DataSet.objects.select_related("publisher_agency", "publisher_party")
    list_url_name = "portfolio:data_set_list"
    list_label = _lazy("Data sets")
    edit_url_name = "portfolio:data_set_edit"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["integrations"] = (
            _integrations().restrict(self.request.user, "view").filter(data_sets=context["object"]).order_by("name")
        )
        return context


class DataSetEditView(ObjectEditView):
    template_name = "core/object_form.html"
    queryset = DataSet.objects.all()
    form_class = DataSetForm


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

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["may_import"] = may_import(SPECS["integrations"], self.request.user)
        return context


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
    """A system owner requests a new integration, or a change to an approved/active one (``?replaces=``).

    A change is a new request that replaces the old integration when it is activated; until then the
    old one keeps running, and the new one goes through the same review.
    """

    template_name = "portfolio/integration_form.html"
    queryset = Integration.objects.all()
    required_action = "create"

    def _replaces(self, request):
        pk = request.GET.get("replaces", "")
        if not pk.isdigit():
            return None
        return get_object_or_404(
            _integrations()
            .restrict(request.user, "view")
            .filter(status__in=(Integration.Status.APPROVED, Integration.Status.ACTIVE)),
            pk=pk,
        )

    def get(self, request):
        replaces = self._replaces(request)
        if replaces is not None:
            initial = {f: getattr(replaces, f) for f in INTEGRATION_REQUEST_FIELDS if f != "data_sets"}
            initial["data_sets"] = list(replaces.data_sets.all())
        else:
            initial = {}
            if request.GET.get("consumer", "").isdigit():
                initial["consumer_system"] = request.GET["consumer"]
        form = IntegrationRequestForm(initial=initial, user=request.user)
        return self.render_to_response({"form": form, "replaces": replaces})

    def post(self, request):
        replaces = self._replaces(request)
        form = IntegrationRequestForm(request.POST, user=request.user)
        if form.is_valid():
            fields = {k: v for k, v in form.cleaned_data.items() if k != "data_sets"}
            try:
                integration = services.request_integration(
                    request.user, data_sets=form.cleaned_data["data_sets"], supersedes=replaces, **fields
                )
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("The integration is requested; the providing side reviews it."))
                return redirect(integration)
        return self.render_to_response({"form": form, "replaces": replaces}, status=400)


class IntegrationEditView(MatrixRequired, TemplateView):
    """Change a request before it is reviewed (afterwards a change is a replacement request)."""

    template_name = "portfolio/integration_form.html"
    queryset = Integration.objects.all()
    required_action = "change"

    def _integration(self, request, pk):
        integration = get_object_or_404(_integrations().restrict(request.user, "view"), pk=pk)
        if integration.status != Integration.Status.REQUESTED or not access.can(request.user, "change", integration):
            raise PermissionDenied
        return integration

    def get(self, request, pk):
        integration = self._integration(request, pk)
        form = IntegrationRequestForm(instance=integration, user=request.user)
        return self.render_to_response({"form": form, "object": integration})

    def post(self, request, pk):
        integration = self._integration(request, pk)
        original = Integration.objects.get(pk=integration.pk)
        form = IntegrationRequestForm(request.POST, instance=original, user=request.user)
        if form.is_valid():
            fields = {k: v for k, v in form.cleaned_data.items() if k != "data_sets"}
            try:
                services.change_request(integration, request.user, data_sets=form.cleaned_data["data_sets"], **fields)
            except ValidationError as error:
                form.add_error(None, error)
            else:
                messages.success(request, _("Saved."))
                return redirect(integration)
        return self.render_to_response({"form": form, "object": integration}, status=400)


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
    # Both directions between two ends are one edge (half the edges to draw); ``both`` says it runs both ways.
    nodes, pairs = {}, {}
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
        key = tuple(sorted(ends))
        edge = pairs.get(key)
        if edge is None:
            pairs[key] = {
                "id": f"{ends[0]}-{ends[1]}",
                "source": ends[0],
                "target": ends[1],
                "status": "",
                "technology": "",
                "personal_data": bool(row["personal"]),
                "count": row["n"],
                "both": False,
                "url": "",
            }
        else:
            edge["count"] += row["n"]
            edge["personal_data"] = edge["personal_data"] or bool(row["personal"])
            edge["both"] = edge["both"] or edge["source"] != ends[0]
    edges = list(pairs.values())
    for edge in edges:
        edge["label"] = str(edge["count"])
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
        # Only the conflicts shown leave the database, and their number (a COUNT).
        conflict_count, conflicts = services.conflict_summary(system_ids=systems.values("pk"), limit=CONFLICTS_SHOWN)
        involved = {c.depends_on_id for c in conflicts} | {c.system_id for c in conflicts}
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
            conflicts=[(c, names.get(c.system_id), names.get(c.depends_on_id)) for c in conflicts],
            conflict_count=conflict_count,
            blocked=Transformation.objects.restrict(self.request.user, "view")
            .filter(blocked=True)
            .select_related("system", "system__agency"),
        )
        return context


# ---------------------------------------------------------------------------------------------
# Import of systems and integrations: core's machinery (upload → mapping → preview → atomic apply)
# ---------------------------------------------------------------------------------------------


class _ImportMixin(MatrixRequired):
    """The spec from the URL (``systems`` or ``integrations``); the page needs the right for some agency."""

    required_model = SystemProfile

    def dispatch(self, request, *args, **kwargs):
        self.spec = SPECS.get(kwargs.pop("kind"))
        if self.spec is None:
            raise Http404
        if request.user.is_authenticated and not may_import(self.spec, request.user):
            raise PermissionDenied
        return super().dispatch(request, *args, **kwargs)

    @property
    def kind(self) -> str:
        return next(slug for slug, spec in SPECS.items() if spec is self.spec)

    def title(self) -> str:
        return _("Import systems") if self.spec is SYSTEMS else _("Import integrations")

    def agencies(self) -> list[Agency]:
        return [a for a in Agency.objects.order_by("name") if may_import(self.spec, self.request.user, a)]

    def _batch(self, request, batch_pk):
        """The batch and its agency, if the user may import for that agency (else 404)."""
        batch = get_object_or_404(ImportBatch, pk=batch_pk, kind=self.spec.name, scope__startswith="portfolio:")
        agency = Agency.objects.filter(pk=batch.scope.removeprefix("portfolio:")).first()
        if agency is None or not may_import(self.spec, request.user, agency):
            raise Http404
        return batch, agency, {"agency": agency, "user": request.user}


class ImportUploadView(_ImportMixin, View):
    """Choose the agency and upload a sheet; the mapping remembered for the agency is used for the first preview."""

    def get(self, request):
        form = ImportUploadForm(agencies=self.agencies())
        return self.show(request, form)

    def show(self, request, form, status=200):
        return render(
            request,
            "portfolio/import_upload.html",
            {"upload_form": form, "title": self.title(), "kind": self.kind},
            status=status,
        )

    def post(self, request):
        form = ImportUploadForm(request.POST, request.FILES, agencies=self.agencies())
        if form.is_valid():
            agency = form.cleaned_data["agency"]
            try:
                batch = ImportBatch.upload(
                    form.cleaned_data["file"], kind=self.spec.name, scope=import_scope(agency), user=request.user
                )
            except ImportRefused as error:
                form.add_error("file", str(error))
            else:
                return redirect("portfolio:import_preview", kind=self.kind, batch_pk=batch.pk)
        return self.show(request, form, status=400)


class ImportPreviewView(_ImportMixin, View):
    """GET: the preview with the mapping form. POST: a changed mapping (or sheet), previewed again."""

    def get(self, request, batch_pk):
        batch, agency, context = self._batch(request, batch_pk)
        return self.show(request, batch, agency, self._preview(batch, context))

    def post(self, request, batch_pk):
        batch, agency, context = self._batch(request, batch_pk)
        preview = self._preview(batch, context)
        form = MappingForm(request.POST, preview=preview, spec=self.spec, sheets=batch.sheets())
        if not form.is_valid():
            return self.show(request, batch, agency, preview, mapping_form=form, status=400)
        return self.show(request, batch, agency, self._preview(batch, context, form.mapping()))

    def _preview(self, batch, context, mapping=None):
        return batch.preview(self.spec, context, mapping)

    def show(self, request, batch, agency, preview, mapping_form=None, status=200):
        mapping_form = mapping_form or MappingForm(preview=preview, spec=self.spec, sheets=batch.sheets())
        return render(
            request,
            "portfolio/import_preview.html",
            {
                "title": self.title(),
                "kind": self.kind,
                "agency": agency,
                "batch": batch,
                "preview": preview,
                "mapping_form": mapping_form,
                "apply_form": ApplyForm(initial={"fingerprint": preview.fingerprint}),
            },
            status=status,
        )


class ImportApplyView(ImportPreviewView):
    """POST: apply the previewed batch, all rows or none (integrations arrive as requests)."""

    def get(self, request, batch_pk):
        return redirect("portfolio:import_preview", kind=self.kind, batch_pk=batch_pk)

    def post(self, request, batch_pk):
        batch, agency, context = self._batch(request, batch_pk)
        done_url = reverse("portfolio:system_list" if self.spec is SYSTEMS else "portfolio:integration_list")
        form = ApplyForm(request.POST)
        if form.is_valid():
            try:
                result = batch.apply(
                    self.spec,
                    context,
                    fingerprint=form.cleaned_data["fingerprint"],
                    accept_warnings=form.cleaned_data["accept_warnings"],
                )
            except ImportRefused as error:
                messages.error(request, str(error))
            except (ValidationError, PermissionDenied) as error:  # a row the services refuse: nothing was written
                text = " ".join(error.messages) if isinstance(error, ValidationError) else ""
                messages.error(request, _("Nothing was imported. %(reason)s") % {"reason": text or _("Not allowed.")})
            else:
                messages.success(request, _("Imported: %(added)s new, %(changed)s changed.") % result)
                return redirect(f"{done_url}?agency={agency.pk}")
        if batch.status == ImportBatch.Status.APPLIED:
            return redirect(f"{done_url}?agency={agency.pk}")
        return self.show(request, batch, agency, self._preview(batch, context), status=400)
