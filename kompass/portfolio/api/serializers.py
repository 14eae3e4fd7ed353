"""The portfolio API's serializers: plain model fields; systems and parties by id."""

from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from kompass.portfolio.models import (
    INTEGRATION_REQUEST_FIELDS,
    DataSet,
    ExternalParty,
    GovernanceDecision,
    InfrastructureItem,
    Integration,
    MigrationWave,
    SystemProfile,
    Transformation,
)


class SystemProfileSerializer(serializers.ModelSerializer):
    class Meta:
        model = SystemProfile
        fields = [
            "id",
            "system",
            "technical_contact",
            "vendor_name",
            "product",
            "version",
            "hosting",
            "confidentiality",
            "integrity",
            "availability",
            "personal_data",
            "special_categories",
            "user_count",
            "lifecycle",
            "end_of_support",
            "updated",
        ]
        read_only_fields = ["updated"]

    def validate(self, attrs):
        personal = attrs.get("personal_data", getattr(self.instance, "personal_data", False))
        special = attrs.get("special_categories", getattr(self.instance, "special_categories", False))
        if special and not personal:
            raise serializers.ValidationError({"special_categories": "Special categories are personal data."})
        return attrs


class InfrastructureItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = InfrastructureItem
        fields = ["id", "system", "kind", "name", "legacy_platform", "decommissioned_on"]


class ExternalPartySerializer(serializers.ModelSerializer):
    class Meta:
        model = ExternalParty
        fields = ["id", "name", "kind", "organisation_number", "contact"]


class DataSetSerializer(serializers.ModelSerializer):
    class Meta:
        model = DataSet
        fields = [
            "id",
            "name",
            "description",
            "fields",
            "publisher_agency",
            "publisher_party",
            "personal_data",
            "keywords",
        ]


class IntegrationSerializer(serializers.ModelSerializer):
    """Reading shows everything; creating is a *request* (status and approval are never written here)."""

    class Meta:
        model = Integration
        fields = [
            "id",
            *INTEGRATION_REQUEST_FIELDS,
            "supersedes",
            "status",
            "requested_by",
            "approved_at",
            "created",
            "updated",
        ]
        read_only_fields = ["status", "requested_by", "approved_at", "created", "updated"]
        extra_kwargs = {"data_sets": {"required": False}}


class DecisionInputSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class GovernanceDecisionSerializer(serializers.ModelSerializer):
    class Meta:
        model = GovernanceDecision
        fields = ["id", "integration", "kind", "decided_by", "reason", "created"]


class MigrationWaveSerializer(serializers.ModelSerializer):
    class Meta:
        model = MigrationWave
        fields = ["id", "name", "starts_on", "ends_on", "description"]

    def validate(self, attrs):
        starts = attrs.get("starts_on", getattr(self.instance, "starts_on", None))
        ends = attrs.get("ends_on", getattr(self.instance, "ends_on", None))
        if starts and ends and ends < starts:
            raise serializers.ValidationError({"ends_on": "A wave cannot end before it starts."})
        return attrs


class TransformationSerializer(serializers.ModelSerializer):
    conflicts = serializers.SerializerMethodField()

    class Meta:
        model = Transformation
        fields = [
            "id",
            "system",
            "path",
            "target_platform",
            "wave",
            "status",
            "risk",
            "blocked",
            "blockers",
            "effort_days",
            "completed_on",
            "updated",
            "conflicts",
        ]
        read_only_fields = ["updated"]

    def get_conflicts(self, obj) -> list[dict]:
        conflicts = self.context.get("conflicts")
        if conflicts is None:
            from kompass.portfolio.services import dependency_conflicts

            conflicts = dependency_conflicts(system_ids=[obj.system_id])
        return [
            {"depends_on": c.depends_on_id, "integration": c.integration_id, "reason": str(c.reason)}
            for c in conflicts
            if c.system_id == obj.system_id
        ]

    def validate(self, attrs):
        instance = Transformation(**{**({} if self.instance is None else _fields(self.instance)), **attrs})
        try:
            instance.clean()
        except DjangoValidationError as error:  # the model's rules → the API's 400
            raise serializers.ValidationError(error.message_dict) from error
        return attrs


def _fields(instance):
    return {
        f.name: getattr(instance, f.name) for f in instance._meta.concrete_fields if f.name not in ("id", "updated")
    }
