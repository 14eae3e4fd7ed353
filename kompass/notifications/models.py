"""The delivery ledger (one row per event × recipient × channel) and the in-app notifications it creates."""

from django.conf import settings
from django.contrib.contenttypes.fields import GenericForeignKey
from django.contrib.contenttypes.models import ContentType
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kompass.core.durable import DurableWork
from kompass.core.models import RestrictedModel

__all__ = ["Channel", "Delivery", "Notification"]


class Channel(models.TextChoices):
    EMAIL = "email", _("E-mail")
    PORTAL = "portal", _("In Kompass")


class Delivery(DurableWork, RestrictedModel):
    """One notification to one recipient by one channel: written by ``services.send`` in the caller's
    transaction, delivered by the worker (queue ``notifications``).

    ``(key, recipient, channel)`` is unique: sending the same key again returns the existing row, so a
    retried request or job never notifies twice. The state is the durable-work state (pending, claimed,
    done, dead); ``sent_at`` is set the moment the channel accepted the message.
    """

    # A few e-mail attempts over about an hour, then dead (an operator retries from the ledger).
    retry_base_seconds = 30
    retry_cap_seconds = 1800
    #: Every delivery renders for its recipient: read with the claimed batch, not one query per row.
    claim_related = ("recipient",)

    event = models.CharField(_("event"), max_length=100, db_index=True)
    recipient = models.ForeignKey(
        # Deleting a person (erasure) deletes what was sent to them; people are normally deactivated instead.
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="+",
    )
    address = models.CharField(_("address"), max_length=254, blank=True, help_text=_("The e-mail address used."))
    channel = models.CharField(_("channel"), max_length=10, choices=Channel.choices)
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, null=True, blank=True)
    object_id = models.CharField(max_length=64, blank=True)
    obj = GenericForeignKey("content_type", "object_id")
    agency = models.ForeignKey(
        "core.Agency", verbose_name=_("agency"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    template = models.CharField(_("template"), max_length=200)
    context = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    headers = models.JSONField(default=dict, blank=True)
    language = models.CharField(_("language"), max_length=5)
    key = models.CharField(_("idempotency key"), max_length=200)
    subject = models.CharField(_("subject"), max_length=300, blank=True)
    message_id = models.CharField(_("message ID"), max_length=250, blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    #: A delivery status notification came back for this e-mail (``services.record_bounce``): when, and why.
    bounced_at = models.DateTimeField(_("bounced"), null=True, blank=True)
    bounce_reason = models.CharField(_("bounce reason"), max_length=300, blank=True)

    agency_field = "agency"

    class Meta:
        verbose_name = _("delivery")
        verbose_name_plural = _("deliveries")
        ordering = ["-created", "-pk"]
        constraints = [
            models.UniqueConstraint(fields=["key", "recipient", "channel"], name="notifications_delivery_once")
        ]
        indexes = [models.Index(fields=["content_type", "object_id"], name="notifications_delivery_obj")]

    def __str__(self) -> str:
        return f"{self.event} → {self.recipient_id} ({self.channel})"

    def get_absolute_url(self) -> str:
        return reverse("notifications:delivery_detail", args=[self.pk])


class Notification(RestrictedModel):
    """An in-app notification: what a portal delivery shows its recipient (one per portal delivery)."""

    delivery = models.OneToOneField(Delivery, on_delete=models.CASCADE, related_name="notification")
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("recipient"),
        on_delete=models.CASCADE,
        related_name="+",  # no reverse accessor: it would land in the User audit entries
    )
    event = models.CharField(_("event"), max_length=100)
    subject = models.CharField(_("subject"), max_length=300)
    body = models.TextField(_("text"), blank=True)
    url = models.CharField(_("link"), max_length=500, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    read_at = models.DateTimeField(_("read"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created", "-pk"]
        indexes = [models.Index(fields=["recipient", "read_at"], name="notifications_unread")]

    def __str__(self) -> str:
        return self.subject

    @property
    def is_read(self) -> bool:
        return self.read_at is not None
