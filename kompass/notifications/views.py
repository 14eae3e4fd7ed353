"""The inbox (a person's own notifications) and the delivery ledger (administrators)."""

import uuid

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views import View

from kompass.core import access
from kompass.core.views.generic import MatrixRequired, ObjectDetailView, ObjectListView
from kompass.notifications import services
from kompass.notifications.apps import TEST_EVENT, TEST_TEMPLATE
from kompass.notifications.filtersets import DeliveryFilterSet, NotificationFilterSet
from kompass.notifications.models import Delivery, Notification


# ---------------------------------------------------------------------------------------------
# The inbox
# ---------------------------------------------------------------------------------------------
class InboxView(ObjectListView):
    """My notifications, newest first. Always one's own: an administrator's inbox is theirs too."""

    template_name = "notifications/inbox.html"
    partial_template_name = "notifications/includes/inbox_list.html"
    queryset = Notification.objects.all()
    filterset_class = NotificationFilterSet
    paginate_by = 25

    def get_queryset(self):
        return super().get_queryset().filter(recipient=self.request.user)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["unread"] = services.unread_count(self.request.user)
        return context


class _InboxAction(MatrixRequired, View):
    queryset = Notification.objects.all()
    required_action = "change"

    def answer(self, request):
        if request.htmx:
            view = InboxView()
            view.setup(request)
            return render(request, InboxView.partial_template_name, view.get_context_data())
        return redirect("notifications:inbox")


class MarkReadView(_InboxAction):
    def post(self, request, pk):
        mine = Notification.objects.restrict(request.user, "view").filter(recipient=request.user)
        notification = get_object_or_404(mine, pk=pk)
        if not access.can(request.user, "change", notification):
            raise PermissionDenied
        services.mark_read(notification, user=request.user)
        return self.answer(request)


class MarkAllReadView(_InboxAction):
    def get(self, request):
        return redirect("notifications:inbox")  # a POST-only action: a visited link lands on the inbox

    def post(self, request):
        services.mark_all_read(request.user)
        return self.answer(request)


# ---------------------------------------------------------------------------------------------
# The ledger
# ---------------------------------------------------------------------------------------------
class DeliveryListView(ObjectListView):
    template_name = "notifications/delivery_list.html"
    partial_template_name = "notifications/includes/delivery_table.html"
    queryset = Delivery.objects.select_related("recipient")
    filterset_class = DeliveryFilterSet


class DeliveryDetailView(ObjectDetailView):
    template_name = "notifications/delivery_detail.html"
    queryset = Delivery.objects.select_related("recipient", "content_type", "agency")


class DeliveryRetryView(MatrixRequired, View):
    """POST: give a dead delivery a new set of attempts."""

    queryset = Delivery.objects.all()
    required_action = "retry"

    def post(self, request, pk):
        delivery = get_object_or_404(Delivery.objects.restrict(request.user, "view"), pk=pk)
        if not access.can(request.user, "retry", delivery):
            raise PermissionDenied
        if delivery.state != Delivery.State.DEAD:
            messages.error(request, _("Only a failed delivery can be retried."))
            return render(request, DeliveryDetailView.template_name, {"object": delivery}, status=409)
        services.retry([delivery])
        messages.success(request, _("The delivery will be tried again shortly."))
        return redirect(delivery.get_absolute_url())


class TestMessageView(MatrixRequired, View):
    """POST: send a test message to myself by every channel (checks the mail setup end to end)."""

    queryset = Delivery.objects.all()
    required_action = "create"

    def get(self, request):
        return redirect("notifications:delivery_list")  # a POST-only action: a visited link lands on the ledger

    def post(self, request):
        services.send(
            event=TEST_EVENT,
            recipients=[request.user],
            template=TEST_TEMPLATE,
            key=f"test:{request.user.pk}:{uuid.uuid4().hex}",
            context={"url": "/notifications/"},
        )
        messages.success(request, _("A test message is on its way to %(email)s.") % {"email": request.user.email})
        return redirect("notifications:delivery_list")
