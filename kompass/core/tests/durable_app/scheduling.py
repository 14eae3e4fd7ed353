"""A scheduled job for the scheduler process tests: records which process ran it, every second."""

import os
from datetime import timedelta

from django.utils import timezone

from kompass.core.scheduling import Every, scheduled


@scheduled(Every(timedelta(seconds=1)), name="durable_test.tick")
def tick() -> None:
    from kompass.core.models import ScheduledJob
    from kompass.core.tests.durable_app.models import Tick

    # The slot this run claimed (``last_started_at`` is set by the claim, committed before the job runs), not
    # the moment the job got round to writing: on a loaded machine the two differ by a scheduling delay.
    slot = ScheduledJob.objects.filter(name="durable_test.tick").values_list("last_started_at", flat=True).first()
    Tick.objects.create(pid=os.getpid(), at=slot or timezone.now())
