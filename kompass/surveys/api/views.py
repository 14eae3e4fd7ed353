"""The surveys API: templates, campaigns, results (under the small-group rule), actions, meetings."""

import datetime as dt

from django.db import transaction
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import exceptions, serializers
from rest_framework.decorators import action
from rest_framework.generics import ListAPIView
from rest_framework.response import Response

from kompass.core import access
from kompass.core.api.viewsets import RestrictedModelViewSet, RestrictedReadOnlyModelViewSet
from kompass.surveys import services
from kompass.surveys.api.serializers import (
    ActionSerializer,
    AttendanceSerializer,
    CampaignCreateSerializer,
    CampaignSerializer,
    CloseActionSerializer,
    InvitedSerializer,
    InviteSerializer,
    MeetingSerializer,
    ResultFigureSerializer,
    TemplateSerializer,
    TemplateWriteSerializer,
)
from kompass.surveys.models import Action, Campaign, Meeting, MeetingParticipant, ResultCell, SurveyTemplate


class Refused(exceptions.APIException):
    """A refused operation (400) with ``detail`` as one string, as the schema's error documents it."""

    status_code = 400
    default_code = "refused"


def _refused(error: services.SurveyError):
    return Refused(str(error))


class TemplateViewSet(RestrictedReadOnlyModelViewSet):
    """Templates with their questions. ``POST`` makes a new one; ``POST …/revise/`` edits one: in place while
    no campaign has used it, else as a new version (201), so the answers given keep the questions as asked."""

    queryset = SurveyTemplate.objects.prefetch_related("questions").order_by("name", "-version")
    serializer_class = TemplateSerializer

    @extend_schema(request=TemplateWriteSerializer, responses={201: TemplateSerializer})
    def create(self, request, *args, **kwargs):
        serializer = TemplateWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        questions, name = data.pop("questions"), data.pop("name", "")
        if not name:
            raise serializers.ValidationError({"name": ["This field is required."]})
        if SurveyTemplate.objects.filter(name=name).exists():
            raise serializers.ValidationError({"name": ["A template with this name exists; revise it instead."]})
        try:
            with transaction.atomic():
                blank = SurveyTemplate.objects.create(name=name, **data)
                made = services.revise_template(blank, data, questions)
        except services.SurveyError as error:
            raise _refused(error) from error
        return Response(TemplateSerializer(made).data, status=201)

    @extend_schema(request=TemplateWriteSerializer, responses={200: TemplateSerializer, 201: TemplateSerializer})
    @action(detail=True, methods=["post"], access_action="change")
    def revise(self, request, pk=None):
        template = self.get_object()
        serializer = TemplateWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        questions = data.pop("questions")
        data.pop("name", None)  # versions share the name
        try:
            saved = services.revise_template(template, data, questions)
        except services.SurveyError as error:
            raise _refused(error) from error
        return Response(TemplateSerializer(saved).data, status=201 if saved.pk != template.pk else 200)


class CampaignViewSet(RestrictedReadOnlyModelViewSet):
    """Campaigns. ``POST`` makes a draft; ``POST …/open/`` sends the invitations, ``…/close/`` closes it."""

    queryset = Campaign.objects.order_by("-period", "-pk")
    serializer_class = CampaignSerializer

    @extend_schema(request=CampaignCreateSerializer, responses={201: CampaignSerializer})
    def create(self, request, *args, **kwargs):
        serializer = CampaignCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        if not access.can(request.user, "view", data["template"]):
            raise serializers.ValidationError({"template": ["Unknown template."]})
        try:
            campaign = services.create_campaign(
                data["template"],
                period=data["period"],
                opens_on=data.get("opens_on"),
                closes_on=data.get("closes_on"),
                title=data["title"],
            )
        except services.SurveyError as error:
            raise _refused(error) from error
        return Response(CampaignSerializer(campaign).data, status=201)

    def _step(self, request, step):
        campaign = self.get_object()
        try:
            if step == "open":
                services.open_campaign(campaign)
            else:
                if campaign.status != Campaign.Status.OPEN:
                    raise services.SurveyError("Only an open campaign can be closed.")
                services.close_campaign(campaign)
        except services.SurveyError as error:
            raise _refused(error) from error
        campaign.refresh_from_db()
        return Response(CampaignSerializer(campaign).data)

    @extend_schema(request=None, responses=CampaignSerializer)
    @action(detail=True, methods=["post"], access_action="run")
    def open(self, request, pk=None):
        return self._step(request, "open")

    @extend_schema(request=None, responses=CampaignSerializer)
    @action(detail=True, methods=["post"], access_action="run")
    def close(self, request, pk=None):
        return self._step(request, "close")


class ActionViewSet(RestrictedModelViewSet):
    """Follow-up actions; ``POST …/close/`` closes one with a note."""

    queryset = Action.objects.order_by("due_on", "pk")
    serializer_class = ActionSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    @extend_schema(request=CloseActionSerializer, responses=ActionSerializer)
    @action(detail=True, methods=["post"], access_action="close")
    def close(self, request, pk=None):
        item = self.get_object()
        serializer = CloseActionSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        try:
            services.close_action(item, note=serializer.validated_data["note"])
        except services.SurveyError as error:
            raise _refused(error) from error
        return Response(ActionSerializer(item).data)


class MeetingViewSet(RestrictedModelViewSet):
    queryset = Meeting.objects.prefetch_related("agencies", "participants").order_by("-starts_at", "pk")
    serializer_class = MeetingSerializer
    http_method_names = ["get", "post", "patch", "head", "options"]

    @extend_schema(request=InviteSerializer, responses=InvitedSerializer)
    @action(detail=True, methods=["post"], access_action="change")
    def invite(self, request, pk=None):
        """Invite people (users among the meeting's agencies' people) or every contact of its agencies; the
        invitations go through the notification ledger."""
        meeting = self.get_object()
        serializer = InviteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        wanted = set(serializer.validated_data["users"])
        candidates = list(services.meeting_candidates(meeting).filter(pk__in=wanted))
        if len(candidates) != len(wanted):
            raise serializers.ValidationError({"users": ["Only people of the meeting's agencies can be invited."]})
        if not wanted and not serializer.validated_data["all_contacts"]:
            raise serializers.ValidationError({"users": ["Choose whom to invite."]})
        with transaction.atomic():
            count = services.invite(meeting, candidates)
            if serializer.validated_data["all_contacts"]:
                count += services.invite_contacts(meeting)
        return Response({"invited": count})

    @extend_schema(request=AttendanceSerializer, responses=MeetingSerializer)
    @action(detail=True, methods=["post"], access_action="change")
    def attendance(self, request, pk=None):
        meeting = self.get_object()
        serializer = AttendanceSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        participant = MeetingParticipant.objects.filter(meeting=meeting, user_id=serializer.validated_data["user"])
        participant = participant.first()
        if participant is None:
            raise serializers.ValidationError({"user": ["Not invited to this meeting."]})
        services.set_attendance(participant, serializer.validated_data["attendance"])
        return Response(MeetingSerializer(Meeting.objects.get(pk=meeting.pk)).data)


def _month(value: str | None, default: dt.date) -> dt.date:
    if not value:
        return default
    try:
        year, month = (int(p) for p in value.split("-")[:2])
        return dt.date(year, month, 1)
    except (ValueError, TypeError) as error:
        raise exceptions.ParseError("Use YYYY-MM.") from error


class ResultListView(ListAPIView):
    """Agency × month means per dimension, with the small-group rule (``mean`` and ``n`` null when hidden)."""

    queryset = ResultCell.objects.none()
    serializer_class = ResultFigureSerializer
    pagination_class = None
    filter_backends = []

    @extend_schema(
        responses=ResultFigureSerializer(many=True),
        parameters=[
            OpenApiParameter("dimension", OpenApiTypes.STR, enum=services.DIMENSIONS),
            OpenApiParameter("start", OpenApiTypes.STR, description="YYYY-MM"),
            OpenApiParameter("end", OpenApiTypes.STR, description="YYYY-MM"),
            OpenApiParameter(
                "role",
                OpenApiTypes.STR,
                enum=["agency_it_contact", "system_owner"],
                description="One role's groups (hidden where small, or where all roles minus it would be).",
            ),
        ],
    )
    def get(self, request, *args, **kwargs):
        end = _month(request.query_params.get("end"), services.previous_month(timezone.localdate()))
        start = _month(request.query_params.get("start"), end.replace(year=end.year - 1))
        if start > end or (end.year - start.year) * 12 + end.month - start.month > 120:
            raise exceptions.ParseError("At most ten years, start before end.")
        dimensions = [d for d in services.DIMENSIONS if d == request.query_params.get("dimension")]
        role = request.query_params.get("role") or None
        if role not in (None, "agency_it_contact", "system_owner"):
            raise exceptions.ParseError("Unknown role.")
        visible = set(access.agencies_for(request.user, "view", ResultCell).values_list("pk", flat=True))
        rows = []
        for dimension in dimensions or services.DIMENSIONS:
            figures = services.grid(dimension, start, end, role=role, agency_ids=visible)
            for (agency_id, month), figure in sorted(figures.cells.items()):
                rows.append(
                    {
                        "agency": agency_id,
                        "month": month.isoformat(),
                        "dimension": dimension,
                        "mean": figure.mean,
                        "n": None if figure.hidden else figure.n,
                        "hidden": figure.hidden,
                    }
                )
        # Plain rows, shaped as ResultFigureSerializer documents them (serialising 18,000 of them through it
        # cost 300 ms in bench/surveys_bench.py).
        return Response(rows)
