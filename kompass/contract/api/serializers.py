from rest_framework import serializers

from kompass.contract.models import ApprovalProtocol, Contract, Milestone, ProtocolApproval, Requirement


class MilestoneSerializer(serializers.ModelSerializer):
    class Meta:
        model = Milestone
        fields = ["id", "name", "kind", "due_on"]


class ContractSerializer(serializers.ModelSerializer):
    milestones = MilestoneSerializer(many=True, read_only=True)

    class Meta:
        model = Contract
        fields = [
            "id",
            "name",
            "vendor_name",
            "agreement_type",
            "signed_on",
            "takeover_on",
            "establishment_ends_on",
            "vendor_contact_name",
            "monthly_fee",
            "milestones",
        ]


class RequirementSerializer(serializers.ModelSerializer):
    evidence = serializers.SerializerMethodField()

    class Meta:
        model = Requirement
        fields = [
            "id",
            "contract",
            "requirement_id",
            "chapter",
            "section",
            "text",
            "category",
            "kind",
            "vendor_response",
            "verification_method",
            "milestone",
            "status",
            "remediation",
            "remediation_due_on",
            "not_applicable_reason",
            "withdrawn",
            "evidence",
            "updated",
        ]

    def get_evidence(self, obj) -> list[str]:
        return [e.reference for e in obj.evidence.all()]


class StatusChangeSerializer(serializers.Serializer):
    status = serializers.ChoiceField(choices=Requirement.Status.choices)
    comment = serializers.CharField(required=False, allow_blank=True, default="")
    remediation = serializers.CharField(required=False, allow_blank=True, default="")
    due_on = serializers.DateField(required=False, allow_null=True, default=None)
    reason = serializers.CharField(required=False, allow_blank=True, default="")


class ApprovalSerializer(serializers.ModelSerializer):
    user = serializers.StringRelatedField()

    class Meta:
        model = ProtocolApproval
        fields = ["party", "user", "approved_at"]


class ProtocolSerializer(serializers.ModelSerializer):
    approvals = ApprovalSerializer(many=True, read_only=True)

    class Meta:
        model = ApprovalProtocol
        fields = ["id", "contract", "milestone", "version", "status", "signed_at", "sha256", "approvals"]


class ApproveSerializer(serializers.Serializer):
    # Required for local accounts (checked by protocol.approve); an SSO user signs in again in the browser instead.
    password = serializers.CharField(write_only=True, required=False, allow_blank=True)
