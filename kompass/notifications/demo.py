"""Demo data of the notifications app: one in-app test message for every demo login (delivered by the
``notifications`` worker that ``make run`` starts), so the inbox and the ledger have something to show."""

from django.dispatch import receiver

from kompass.core.demo import DEMO_LOGINS
from kompass.core.models import User
from kompass.core.roles import Role
from kompass.core.signals import demo_data_loaded
from kompass.notifications import services
from kompass.notifications.apps import TEST_EVENT, TEST_TEMPLATE


@receiver(demo_data_loaded)
def add_demo_notifications(sender, **kwargs):
    emails = [login.email for login in DEMO_LOGINS if login.role != Role.VENDOR_INTEGRATION]
    users = User.objects.filter(email__in=emails, is_active=True).order_by("email")
    rows = [
        row
        for user in users
        for row in services.send(
            event=TEST_EVENT,
            recipients=[user],
            template=TEST_TEMPLATE,
            key=f"demo:welcome:{user.email}",  # the same key at every start: written once
            context={"url": "/notifications/"},
            channels=["portal"],
        )
    ]
    return f"Notifications: {len(rows)} demo in-app messages"
