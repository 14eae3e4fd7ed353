from rest_framework import serializers

from kompass.surveys.models import Action, Campaign, Meeting, MeetingParticipant, Question, SurveyTemplate


class QuestionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Question
        fields = [
            "id",
            "position",
            "kind",
            "dimension",
            "text",
            "help_text",
            "choices",
            "allow_comment",
            "required",
            "expected_level",
        ]


class TemplateSerializer(serializers.ModelSerializer):
    questions = QuestionSerializer(many=True, read_only=True)

    class Meta:
        model = SurveyTemplate
        fields = [
            "id",
            "name",
            "version",
            "previous",
            "anonymous",
            "min_group_size",
            "scale_min",
            "scale_max",
            "scale_labels",
            "dont_know",
            "roles",
            "days_open",
            "remind_after_days",
            "monthly",
            "frozen",
            "questions",
        ]


class CampaignSerializer(serializers.ModelSerializer):
    class Meta:
        model = Campaign
        fields = [
            "id",
            "template",
            "title",
            "period",
            "opens_on",
            "closes_on",
            "status",
            "scheduled",
            "invited",
            "answered",
        ]


class ActionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Action
        fields = [
            "id",
            "agency",
            "title",
            "description",
            "owner",
            "due_on",
            "status",
            "closing_note",
            "closed_at",
            "rule",
            "period",
            "meeting",
            "created",
        ]
        read_only_fields = ["status", "closing_note", "closed_at", "rule", "created"]


class CloseActionSerializer(serializers.Serializer):
    note = serializers.CharField()


class ParticipantSerializer(serializers.ModelSerializer):
    class Meta:
        model = MeetingParticipant
        fields = ["user", "attendance"]


class MeetingSerializer(serializers.ModelSerializer):
    participants = ParticipantSerializer(many=True, read_only=True)

    def validate(self, attrs):
        kind = attrs.get("kind", self.instance.kind if self.instance else Meeting.Kind.ONE_TO_ONE)
        agencies = attrs["agencies"] if "agencies" in attrs else (self.instance.agencies.all() if self.instance else [])
        if not agencies:
            raise serializers.ValidationError({"agencies": ["Name at least one agency."]})
        if kind == Meeting.Kind.ONE_TO_ONE and len(agencies) != 1:
            raise serializers.ValidationError({"agencies": ["A one-to-one meeting is with exactly one agency."]})
        return attrs

    class Meta:
        model = Meeting
        fields = [
            "id",
            "kind",
            "title",
            "starts_at",
            "location",
            "agencies",
            "agenda",
            "notes",
            "decisions",
            "period",
            "case_numbers",
            "participants",
        ]


class ResultFigureSerializer(serializers.Serializer):
    agency = serializers.IntegerField()
    month = serializers.DateField()
    dimension = serializers.CharField()
    mean = serializers.FloatField(allow_null=True, help_text="Null when the group is hidden (small-group rule).")
    n = serializers.IntegerField(allow_null=True)
    hidden = serializers.BooleanField()


class QuestionWriteSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(choices=Question.Kind.choices)
    text = serializers.CharField(max_length=300)
    dimension = serializers.SlugField(max_length=40, required=False, allow_blank=True, default="")
    help_text = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    choices = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, default=list, max_length=30
    )
    allow_comment = serializers.BooleanField(required=False, default=False)
    required = serializers.BooleanField(required=False, default=False)
    expected_level = serializers.DecimalField(
        max_digits=4, decimal_places=2, required=False, allow_null=True, default=None, min_value=0
    )

    def validate(self, attrs):
        if attrs["kind"] == Question.Kind.CHOICE and len(attrs.get("choices") or []) < 2:
            raise serializers.ValidationError({"choices": ["A choice question needs at least two choices."]})
        if attrs["kind"] != Question.Kind.CHOICE:
            attrs["choices"] = []
        return attrs


class TemplateWriteSerializer(serializers.Serializer):
    """A new template (``POST /api/survey-templates/``) or a revision of one (``…/<id>/revise/``: in place
    while unused, else a new version; the answers given keep the questions as asked)."""

    name = serializers.CharField(max_length=200, required=False)
    anonymous = serializers.BooleanField(required=False)
    min_group_size = serializers.IntegerField(min_value=1, max_value=1000, required=False)
    scale_min = serializers.IntegerField(min_value=0, max_value=9, required=False)
    scale_max = serializers.IntegerField(min_value=1, max_value=10, required=False)
    dont_know = serializers.BooleanField(required=False)
    roles = serializers.ListField(
        child=serializers.ChoiceField(choices=["agency_it_contact", "system_owner", "agency_admin"]),
        required=False,
        min_length=1,
    )
    days_open = serializers.IntegerField(min_value=1, max_value=365, required=False)
    remind_after_days = serializers.IntegerField(min_value=0, max_value=365, required=False)
    monthly = serializers.BooleanField(required=False)
    questions = QuestionWriteSerializer(many=True, min_length=1, max_length=30)

    def validate(self, attrs):
        low, high = attrs.get("scale_min", 1), attrs.get("scale_max", 5)
        if high <= low:
            raise serializers.ValidationError({"scale_max": ["The scale must go from a lower to a higher number."]})
        return attrs


class CampaignCreateSerializer(serializers.Serializer):
    template = serializers.PrimaryKeyRelatedField(queryset=SurveyTemplate.objects.all())
    period = serializers.DateField(help_text="Any day of the month measured.")
    opens_on = serializers.DateField(required=False)
    closes_on = serializers.DateField(required=False)
    title = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class InviteSerializer(serializers.Serializer):
    users = serializers.ListField(child=serializers.IntegerField(min_value=1), required=False, default=list)
    all_contacts = serializers.BooleanField(required=False, default=False)


class InvitedSerializer(serializers.Serializer):
    invited = serializers.IntegerField()


class AttendanceSerializer(serializers.Serializer):
    user = serializers.IntegerField(min_value=1)
    attendance = serializers.ChoiceField(choices=MeetingParticipant.Attendance.choices)
