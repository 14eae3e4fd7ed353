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
