"""The cases API's serializers. Writes are validated here and performed by ``kompass.cases.services``."""

from rest_framework import serializers

from kompass.cases.models import Attachment, Case, CaseChange, Note, Reply
from kompass.core import access
from kompass.core.models import Agency, Service, System, User


class CaseSerializer(serializers.ModelSerializer):
    """A case with its SLA fields (read) — and the fields a PATCH may change (title, description, category)."""

    impact = serializers.IntegerField(read_only=True, help_text="1 (high) to 3 (low).")
    urgency = serializers.IntegerField(read_only=True, help_text="1 (high) to 3 (low).")
    priority = serializers.IntegerField(read_only=True, help_text="1 (critical) to 4 (low), from impact × urgency.")

    class Meta:
        model = Case
        fields = [
            "id",
            "number",
            "type",
            "agency",
            "requester",
            "watchers",
            "service",
            "system",
            "title",
            "description",
            "impact",
            "urgency",
            "priority",
            "category",
            "team",
            "assignee",
            "source",
            "state",
            "parent",
            "duplicate_of",
            "created",
            "updated",
            "responded_at",
            "resolved_at",
            "closed_at",
            "resolution",
            "response_due",
            "response_breached",
            "resolution_due",
            "resolution_warning",
            "resolution_breached",
            "resolution_breached_at",
            "sla_state",
            "rating",
            "rating_comment",
        ]
        read_only_fields = [f for f in fields if f not in ("title", "description", "category")]
        extra_kwargs = {"title": {"allow_blank": False, "min_length": 1}}


def _restricted(queryset, request, action="view"):
    user = getattr(request, "user", None)
    return queryset.restrict(user, action) if user is not None else queryset.none()


class CaseCreateSerializer(serializers.Serializer):
    """A new case. Requester and agency default to the user and their home agency."""

    type = serializers.ChoiceField(choices=Case.Type.choices, default=Case.Type.INCIDENT)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    service = serializers.PrimaryKeyRelatedField(queryset=Service.objects.filter(active=True))
    system = serializers.PrimaryKeyRelatedField(queryset=System.objects.none(), required=False, allow_null=True)
    agency = serializers.PrimaryKeyRelatedField(queryset=Agency.objects.none(), required=False, allow_null=True)
    requester = serializers.PrimaryKeyRelatedField(queryset=User.objects.none(), required=False, allow_null=True)
    impact = serializers.IntegerField(min_value=1, max_value=3, default=3)
    urgency = serializers.IntegerField(min_value=1, max_value=3, default=3)
    category = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        request = self.context.get("request")
        user = getattr(request, "user", None)
        self.fields["system"].queryset = _restricted(System.objects.all(), request)
        self.fields["requester"].queryset = _restricted(User.objects.select_related("home_agency"), request)
        self.fields["agency"].queryset = access.agencies_for(user, "create", Case) if user else Agency.objects.none()

    def validate_title(self, value):
        if not value.strip():
            raise serializers.ValidationError("This field may not be blank.")
        return value


class TransitionSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=Case.State.choices)
    resolution = serializers.CharField(required=False, allow_blank=True, default="")
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class AssignSerializer(serializers.Serializer):
    assignee = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True), allow_null=True)
    team = serializers.CharField(required=False, allow_blank=True, max_length=100)


class PrioritySerializer(serializers.Serializer):
    impact = serializers.IntegerField(min_value=1, max_value=3)
    urgency = serializers.IntegerField(min_value=1, max_value=3)


class ReopenSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class RatingSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class LinkSerializer(serializers.Serializer):
    """``case``: the major incident (for ``parent``; null detaches) or the original (for ``duplicate``)."""

    case = serializers.PrimaryKeyRelatedField(queryset=Case.objects.none(), allow_null=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case"].queryset = _restricted(Case.objects.all(), self.context.get("request"))


class _EntrySerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()

    def get_author(self, entry) -> str:
        return entry.author_label


class ReplySerializer(_EntrySerializer):
    text = serializers.CharField(allow_blank=False, trim_whitespace=True)

    class Meta:
        model = Reply
        fields = ["id", "case", "author", "text", "origin", "created"]
        read_only_fields = ["id", "case", "author", "origin", "created"]


class NoteSerializer(_EntrySerializer):
    text = serializers.CharField(allow_blank=False, trim_whitespace=True)

    class Meta:
        model = Note
        fields = ["id", "case", "author", "text", "share_with_vendor", "origin", "created"]
        read_only_fields = ["id", "case", "author", "origin", "created"]


class AttachmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Attachment
        fields = ["id", "case", "reply", "name", "content_type", "size", "sha256", "scan", "created"]
        read_only_fields = fields


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField()


class CaseChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = CaseChange
        fields = ["id", "case", "kind", "origin", "actor", "detail", "created"]
        read_only_fields = fields
