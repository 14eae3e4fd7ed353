"""The cases API under ``/api/cases/``: thin viewsets; every write is a call to ``kompass.cases.services``.

Reads are restricted by the matrix (an invisible case is a 404). The actions (``transition``, ``assign``, …) ask
only for ``view`` here and let the service decide with the matrix, so the API and the pages can never differ;
a refused change is a 403, bad input a 400, a state that does not allow it a 409, and nothing is changed.
"""

from django.core.exceptions import PermissionDenied
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import exceptions, status
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, JSONParser, MultiPartParser
from rest_framework.response import Response

from kompass.cases import services
from kompass.cases.api import serializers as s
from kompass.cases.attachments import Upload
from kompass.cases.filtersets import CaseFilterSet
from kompass.cases.models import Attachment, Case, CaseChange, Note, Reply
from kompass.cases.services import CaseError, ChangeOrigin
from kompass.cases.timeline import visible_changes
from kompass.core import access
from kompass.core.api.viewsets import RestrictedModelViewSet

CONFLICT = OpenApiResponse(description="The case's state does not allow this; nothing was changed.")


def _conflict(serializer_class):
    return {200: serializer_class, 409: CONFLICT}


class CaseViewSet(RestrictedModelViewSet):
    """Cases: list, create, read, change details, and the actions of the case's life."""

    queryset = Case.objects.select_related("agency", "service", "system", "requester", "assignee").prefetch_related(
        "watchers"
    )
    serializer_class = s.CaseSerializer
    filterset_class = CaseFilterSet
    ordering_fields = ["resolution_due", "response_due", "created", "updated", "priority", "number"]
    ordering = ["resolution_due", "pk"]
    http_method_names = ["get", "post", "patch", "head", "options"]
    lookup_value_regex = r"\d+"
    access_action = None  # set per action: the services decide with the matrix
    parser_classes = [JSONParser, FormParser, MultiPartParser]

    def handle_exception(self, exc):
        if isinstance(exc, CaseError):
            return Response({"detail": exc.message, "code": exc.code}, status=exc.status)
        if isinstance(exc, PermissionDenied):
            exc = exceptions.PermissionDenied(str(exc) or None)
        return super().handle_exception(exc)

    def origin(self) -> ChangeOrigin:
        return ChangeOrigin.by_user(self.request.user)

    def _input(self, serializer_class):
        serializer = serializer_class(data=self.request.data, context=self.get_serializer_context())
        serializer.is_valid(raise_exception=True)
        return serializer.validated_data

    def _case_response(self, case, code=status.HTTP_200_OK, *, fresh=False):
        # Fresh from the database, unrestricted: the user has just changed (or created) this very case. A case
        # ``create_case`` has just written is already complete in memory (no database defaults), so it is not
        # read back.
        if not fresh:
            case = self.queryset.get(pk=case.pk)
        else:
            # Created through the API, which takes no watchers: the (empty) list costs no query. Set on this
            # response's object only, never in the service, so no long-lived instance keeps a stale list. Filled
            # as Django's prefetch fills it (a result cache): an empty ``none()`` queryset is still compiled.
            watchers = case.watchers.model.objects.none()
            watchers._result_cache, watchers._prefetch_done = [], True
            case._prefetched_objects_cache = {"watchers": watchers}
        return Response(s.CaseSerializer(case, context=self.get_serializer_context()).data, status=code)

    # ---- create and change ------------------------------------------------------------------

    @extend_schema(request=s.CaseCreateSerializer, responses={201: s.CaseSerializer})
    def create(self, request, *args, **kwargs):
        data = self._input(s.CaseCreateSerializer)
        case = services.create_case(
            requester=data.get("requester") or request.user,
            source=Case.Source.API,
            origin=self.origin(),
            **{k: v for k, v in data.items() if k != "requester"},
        )
        return self._case_response(case, status.HTTP_201_CREATED, fresh=True)

    def perform_update(self, serializer):
        services.update_details(serializer.instance, origin=self.origin(), **serializer.validated_data)

    # ---- the case's life ------------------------------------------------------------------------

    @extend_schema(request=s.TransitionSerializer, responses=_conflict(s.CaseSerializer))
    @action(detail=True, methods=["post"], access_action="view")
    def transition(self, request, pk=None):
        """Move the case to another state (resolving needs ``resolution``)."""
        data = self._input(s.TransitionSerializer)
        case = services.transition(
            self.get_object(), data["state"], origin=self.origin(), resolution=data["resolution"], reason=data["reason"]
        )
        return self._case_response(case)

    @extend_schema(request=s.AssignSerializer, responses=_conflict(s.CaseSerializer))
    @action(detail=True, methods=["post"], access_action="view")
    def assign(self, request, pk=None):
        data = self._input(s.AssignSerializer)
        case = services.assign(
            self.get_object(), assignee=data["assignee"], team=data.get("team"), origin=self.origin()
        )
        return self._case_response(case)

    @extend_schema(request=s.PrioritySerializer, responses=_conflict(s.CaseSerializer))
    @action(detail=True, methods=["post"], access_action="view")
    def priority(self, request, pk=None):
        """New impact and urgency; the SLA clocks are recomputed."""
        data = self._input(s.PrioritySerializer)
        case = services.change_priority(
            self.get_object(), impact=data["impact"], urgency=data["urgency"], origin=self.origin()
        )
        return self._case_response(case)

    @extend_schema(request=s.ReopenSerializer, responses=_conflict(s.CaseSerializer))
    @action(detail=True, methods=["post"], access_action="view")
    def reopen(self, request, pk=None):
        data = self._input(s.ReopenSerializer)
        return self._case_response(services.reopen(self.get_object(), origin=self.origin(), reason=data["reason"]))

    @extend_schema(request=s.RatingSerializer, responses=_conflict(s.CaseSerializer))
    @action(detail=True, methods=["post"], access_action="view")
    def rate(self, request, pk=None):
        data = self._input(s.RatingSerializer)
        case = services.rate(self.get_object(), data["rating"], data["comment"], origin=self.origin())
        return self._case_response(case)

    @extend_schema(request=s.LinkSerializer, responses=_conflict(s.CaseSerializer))
    @action(detail=True, methods=["post"], access_action="view")
    def parent(self, request, pk=None):
        """Attach the case to a major incident (``case``), or detach it (``null``)."""
        case = self.get_object()
        self.origin().require("work", case)  # before reading the body, so a refusal says nothing about other cases
        data = self._input(s.LinkSerializer)
        return self._case_response(services.link_parent(case, data["case"], origin=self.origin()))

    @extend_schema(request=s.LinkSerializer, responses=_conflict(s.CaseSerializer))
    @action(detail=True, methods=["post"], access_action="view")
    def duplicate(self, request, pk=None):
        """Mark the case a duplicate of ``case`` and cancel it."""
        case = self.get_object()
        self.origin().require("work", case)
        data = self._input(s.LinkSerializer)
        if data["case"] is None:
            raise exceptions.ValidationError({"case": ["Name the original case."]})
        return self._case_response(services.mark_duplicate(case, data["case"], origin=self.origin()))

    # ---- conversation ---------------------------------------------------------------------------

    def _require_view(self, entry):
        """The case's entries of one kind are a 403 to those the matrix does not let see them."""
        if not access.can(self.request.user, "view", entry):
            raise exceptions.PermissionDenied()

    def _page(self, queryset, serializer_class):
        page = self.paginate_queryset(queryset)
        data = serializer_class(page, many=True, context=self.get_serializer_context()).data
        return self.get_paginated_response(data)

    @extend_schema(methods=["get"], responses=s.ReplySerializer(many=True))
    @extend_schema(methods=["post"], request=s.ReplySerializer, responses={201: s.ReplySerializer, 409: CONFLICT})
    @action(detail=True, methods=["get", "post"], access_action="view", filterset_class=None, ordering=None)
    def replies(self, request, pk=None):
        """Public replies: read by everyone who sees the case; written by those who may comment."""
        case = self.get_object()
        if request.method == "GET":
            self._require_view(Reply(case=case))
        if request.method == "POST":
            data = self._input(s.ReplySerializer)
            reply = services.add_reply(case, data["text"], origin=self.origin())
            return Response(s.ReplySerializer(reply).data, status=status.HTTP_201_CREATED)
        return self._page(
            Reply.objects.restrict(request.user, "view").filter(case=case).select_related("author"), s.ReplySerializer
        )

    @extend_schema(methods=["get"], responses=s.NoteSerializer(many=True))
    @extend_schema(methods=["post"], request=s.NoteSerializer, responses={201: s.NoteSerializer})
    @action(detail=True, methods=["get", "post"], access_action="view", filterset_class=None, ordering=None)
    def notes(self, request, pk=None):
        """Internal notes: service desk and agreement managers only; everyone else gets a 403."""
        case = self.get_object()
        self._require_view(Note(case=case))
        if request.method == "POST":
            data = self._input(s.NoteSerializer)
            note = services.add_note(
                case, data["text"], origin=self.origin(), share_with_vendor=data.get("share_with_vendor", False)
            )
            return Response(s.NoteSerializer(note).data, status=status.HTTP_201_CREATED)
        return self._page(
            Note.objects.restrict(request.user, "view").filter(case=case).select_related("author"), s.NoteSerializer
        )

    @extend_schema(methods=["get"], responses=s.AttachmentSerializer(many=True))
    @extend_schema(
        methods=["post"],
        request={"multipart/form-data": s.AttachmentUploadSerializer},
        responses={201: s.AttachmentSerializer, 409: CONFLICT},
    )
    @action(detail=True, methods=["get", "post"], access_action="view", filterset_class=None, ordering=None)
    def attachments(self, request, pk=None):
        """Files on the case; a POST attaches one (with a short public reply naming it)."""
        case = self.get_object()
        if request.method == "GET":
            self._require_view(Attachment(case=case))
        if request.method == "POST":
            data = self._input(s.AttachmentUploadSerializer)
            upload = data["file"]
            reply = services.add_reply(
                case, upload.name, origin=self.origin(), attachments=[Upload(upload.name, upload.read())]
            )
            stored = Attachment.objects.get(reply=reply)
            return Response(s.AttachmentSerializer(stored).data, status=status.HTTP_201_CREATED)
        return self._page(Attachment.objects.restrict(request.user, "view").filter(case=case), s.AttachmentSerializer)

    @extend_schema(responses=s.CaseChangeSerializer(many=True))
    @action(detail=True, methods=["get"], access_action="view", filterset_class=None, ordering=None)
    def history(self, request, pk=None):
        """The case's changes (those about internal notes only for those who see notes)."""
        case = self.get_object()
        self._require_view(CaseChange(case=case))
        return self._page(visible_changes(case, request.user), s.CaseChangeSerializer)


__all__ = ["CaseViewSet"]
