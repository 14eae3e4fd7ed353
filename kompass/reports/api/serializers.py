from decimal import Decimal

from django.core.exceptions import ValidationError
from rest_framework import serializers

from kompass.reports.models import (
    Adjustment,
    AvailabilityLevel,
    CaseLevel,
    Dispute,
    Exclusion,
    LevelVersion,
    MonthlyReport,
    Outage,
    Statement,
    StatementLine,
)

PERCENT = {"min_value": Decimal(0), "max_value": Decimal(100)}


class LevelVersionSerializer(serializers.ModelSerializer):
    monthly_cap_pct = serializers.DecimalField(
        max_digits=5, decimal_places=2, allow_null=True, required=False, **PERCENT
    )
    yearly_cap_pct = serializers.DecimalField(
        max_digits=5, decimal_places=2, allow_null=True, required=False, **PERCENT
    )

    class Meta:
        model = LevelVersion
        fields = [
            "id",
            "contract",
            "name",
            "valid_from",
            "valid_to",
            "monthly_cap_pct",
            "yearly_cap_pct",
            "accumulation",
            "counts",
            "created",
        ]
        extra_kwargs = {"name": {"allow_blank": False}}

    def validate(self, attrs):
        fields = ("contract", "name", "valid_from", "valid_to")
        probe = LevelVersion(**{f: attrs.get(f, getattr(self.instance, f, None)) for f in fields})
        probe.pk = getattr(self.instance, "pk", None)
        try:
            probe.clean()
        except ValidationError as error:
            raise serializers.ValidationError(error.messages) from error
        return attrs


class CaseLevelSerializer(serializers.ModelSerializer):
    required_pct = serializers.DecimalField(max_digits=5, decimal_places=2, **PERCENT)
    credit_pct = serializers.DecimalField(max_digits=5, decimal_places=2, required=False, **PERCENT)
    priority = serializers.IntegerField(min_value=1, max_value=4)
    response_hours = serializers.DecimalField(
        max_digits=7, decimal_places=2, min_value=Decimal("0.01"), allow_null=True, required=False
    )
    resolution_hours = serializers.DecimalField(max_digits=7, decimal_places=2, min_value=Decimal("0.01"))

    class Meta:
        model = CaseLevel
        fields = [
            "id",
            "version",
            "service",
            "priority",
            "response_hours",
            "resolution_hours",
            "service_hours",
            "required_pct",
            "credit_pct",
        ]


class TierSerializer(serializers.Serializer):
    below = serializers.DecimalField(max_digits=6, decimal_places=3, **PERCENT)
    credit = serializers.DecimalField(max_digits=5, decimal_places=2, **PERCENT)


class AvailabilityLevelSerializer(serializers.ModelSerializer):
    target_pct = serializers.DecimalField(max_digits=6, decimal_places=3, **PERCENT)
    tiers = TierSerializer(many=True, required=False)

    class Meta:
        model = AvailabilityLevel
        fields = ["id", "version", "service", "target_pct", "window", "service_hours", "tiers"]

    def validate_tiers(self, value):
        return [{"below": str(t["below"]), "credit": str(t["credit"])} for t in value]


class OutageSerializer(serializers.ModelSerializer):
    class Meta:
        model = Outage
        fields = [
            "id",
            "contract",
            "service",
            "starts",
            "ends",
            "cause",
            "source",
            "case_number",
            "recorded_by",
            "created",
        ]
        read_only_fields = ["source", "case_number", "recorded_by", "created"]
        extra_kwargs = {"cause": {"allow_blank": False}}

    def validate(self, attrs):
        starts = attrs.get("starts", getattr(self.instance, "starts", None))
        ends = attrs.get("ends", getattr(self.instance, "ends", None))
        if ends and starts and ends <= starts:
            raise serializers.ValidationError({"ends": ["An outage must end after it starts."]})
        return attrs


class ExclusionSerializer(serializers.ModelSerializer):
    class Meta:
        model = Exclusion
        fields = [
            "id",
            "contract",
            "service",
            "kind",
            "starts",
            "ends",
            "case_number",
            "reason",
            "decided_by",
            "created",
        ]
        read_only_fields = ["decided_by", "created"]
        extra_kwargs = {"reason": {"allow_blank": False}}

    def validate(self, attrs):
        merged = {f: attrs.get(f, getattr(self.instance, f, None)) for f in ("starts", "ends", "case_number", "reason")}
        probe = Exclusion(**{k: v for k, v in merged.items() if v is not None})
        try:
            probe.clean()
        except ValidationError as error:
            raise serializers.ValidationError(error.messages) from error
        return attrs


class StatementLineSerializer(serializers.ModelSerializer):
    class Meta:
        model = StatementLine
        fields = [
            "id",
            "key",
            "label",
            "measured",
            "target",
            "missed",
            "percent",
            "amount",
            "customer_accepted",
            "vendor_accepted",
        ]
        read_only_fields = fields


class AdjustmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Adjustment
        fields = ["id", "amount", "reason", "approved_by", "created"]
        read_only_fields = fields


class StatementSerializer(serializers.ModelSerializer):
    lines = StatementLineSerializer(many=True, read_only=True)
    adjustment_rows = AdjustmentSerializer(many=True, read_only=True)
    state = serializers.CharField(read_only=True)

    class Meta:
        model = Statement
        fields = [
            "id",
            "contract",
            "month",
            "monthly_fee",
            "uncapped",
            "capped",
            "adjustments",
            "total",
            "state",
            "inputs",
            "computed",
            "lines",
            "adjustment_rows",
        ]
        read_only_fields = fields


class BuildStatementSerializer(serializers.Serializer):
    contract = serializers.IntegerField(min_value=1)
    month = serializers.RegexField(r"^\d{4}-(0[1-9]|1[0-2])$", help_text="YYYY-MM")


class AdjustSerializer(serializers.Serializer):
    amount = serializers.DecimalField(
        max_digits=12, decimal_places=2, min_value=Decimal("-1e9"), max_value=Decimal("1e9")
    )
    reason = serializers.CharField(max_length=4000)


class TextSerializer(serializers.Serializer):
    text = serializers.CharField(max_length=4000)


class DisputeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Dispute
        fields = [
            "id",
            "line",
            "party",
            "raised_by",
            "reason",
            "raised_at",
            "answer",
            "answered_by",
            "answered_at",
            "resolution",
            "resolved_by",
            "resolved_at",
        ]
        read_only_fields = fields


class MonthlyReportSerializer(serializers.ModelSerializer):
    class Meta:
        model = MonthlyReport
        fields = [
            "id",
            "contract",
            "month",
            "version",
            "pdf_sha256",
            "xlsx_sha256",
            "figures",
            "changes",
            "trigger",
            "created_by",
            "created",
        ]
        read_only_fields = fields


class MeasurementSerializer(serializers.Serializer):
    """One level's figure of a month (the API's ``measurements``)."""

    key = serializers.CharField()
    label = serializers.CharField()
    measured = serializers.DecimalField(max_digits=9, decimal_places=4, allow_null=True)
    target = serializers.DecimalField(max_digits=9, decimal_places=4)
    missed = serializers.BooleanField()
    percent = serializers.DecimalField(max_digits=5, decimal_places=2)
    amount = serializers.DecimalField(max_digits=12, decimal_places=2)
