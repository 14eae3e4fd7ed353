"""What the vendors app shows in other apps' page slots (``kompass.core.panels``; autodiscovered).

The case page's ``case_detail`` slot: the case's vendor link (remote number, sync state, last sync both ways),
when and how the requester was informed, refused writes and dead letters with the retry button — for those
who may see links (service desk agents, agreement managers); nothing for anyone else or an unlinked case.
"""

from django.db.models import Q
from django.template.loader import render_to_string

from kompass.core import access, panels
from kompass.notifications import services as notifications
from kompass.vendors.models import VendorLink


@panels.panel("case_detail", order=10)
def case_link(request, case):
    user = getattr(request, "user", None)
    link = VendorLink.objects.restrict(user, "view").select_related("connection").filter(case_id=case.pk).first()
    if link is None:
        return None
    requester_side = {case.requester_id, *case.watchers.values_list("pk", flat=True)}
    informed = [d for d in notifications.deliveries_for(case)[:50] if d.recipient_id in requester_side and d.sent_at][
        :10
    ]
    problems = list(link.outbox.filter(Q(state="dead") | Q(refused=True)).order_by("pk")[:20])
    return render_to_string(
        "vendors/includes/case_panel.html",
        {
            "link": link,
            "informed": informed,
            "refused": [m for m in problems if m.refused],
            "dead": [m for m in problems if not m.refused],
            "may_retry": access.can(user, "retry", link),
        },
        request=request,
    )
