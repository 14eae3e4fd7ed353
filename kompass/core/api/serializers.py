from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers

from kompass.core.models import Agency, RoleAssignment, Service, System, User


class AgencySerializer(serializers.ModelSerializer):
    url = serializers.HyperlinkedIdentityField(view_name="api:agency-detail")

    class Meta:
        model = Agency
        fields = [
            "id",
            "url",
            "name",
            "short_code",
            "kind",
            "organisation_number",
            "description",
            "active",
            "services",
            "created",
            "updated",
        ]
        read_only_fields = ["created", "updated"]

    def validate(self, attrs):
        instance = Agency(**{k: v for k, v in attrs.items() if k != "services"})
        if self.instance is not None:
            for field in ["name", "short_code", "kind", "organisation_number"]:
                if field not in attrs:
                    setattr(instance, field, getattr(self.instance, field))
        try:
            instance.clean()
        except DjangoValidationError as exc:
            raise serializers.ValidationError(exc.message_dict) from exc
        return attrs


class ServiceSerializer(serializers.ModelSerializer):
    class Meta:
        model = Service
        fields = ["id", "name", "description", "owning_team", "delivery", "vendor_name", "active"]


class SystemSerializer(serializers.ModelSerializer):
    def get_fields(self):
        fields = super().get_fields()
        request = self.context.get("request")
        if request is not None and "system_owner" in fields:
            # Only people the user may see can be named system owner (as in the page's picker).
            fields["system_owner"].queryset = User.objects.restrict(request.user, "view")
        return fields

    class Meta:
        model = System
        fields = [
            "id",
            "name",
            "agency",
            "system_owner",
            "criticality",
            "description",
            "services",
            "active",
            "created",
            "updated",
        ]
        read_only_fields = ["created", "updated"]


class RoleAssignmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = RoleAssignment
        fields = ["id", "role", "agency"]


class UserSerializer(serializers.ModelSerializer):
    roles = RoleAssignmentSerializer(source="role_assignments", many=True, read_only=True)

    class Meta:
        model = User
        fields = ["id", "email", "full_name", "title", "phone", "is_active", "roles"]
