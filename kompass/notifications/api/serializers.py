from rest_framework import serializers

from kompass.notifications.models import Delivery, Notification


class NotificationSerializer(serializers.ModelSerializer):
    class Meta:
        model = Notification
        fields = ["id", "event", "subject", "body", "url", "created", "read_at"]
        read_only_fields = fields


class DeliverySerializer(serializers.ModelSerializer):
    """A ledger row. The context and extra headers (reply tokens) are not shown: they are the sender's."""

    object_type = serializers.SerializerMethodField()

    class Meta:
        model = Delivery
        fields = [
            "id",
            "event",
            "recipient",
            "address",
            "channel",
            "state",
            "attempts",
            "max_attempts",
            "next_attempt_at",
            "last_error",
            "object_type",
            "object_id",
            "agency",
            "template",
            "language",
            "key",
            "subject",
            "message_id",
            "sent_at",
            "bounced_at",
            "bounce_reason",
            "created",
            "updated",
        ]
        read_only_fields = fields

    def get_object_type(self, delivery) -> str | None:
        return delivery.content_type.model_class()._meta.label_lower if delivery.content_type_id else None


class MarkedSerializer(serializers.Serializer):
    marked = serializers.IntegerField()
