"""A scheduled job for the scheduler process tests: records which process ran it, every second."""

import os
from datetime import timedelta

from django.utils import timezone

from kompass.core.scheduling import Every, scheduled


@scheduled(Every(timedelta(seconds=1)), name="durable_test.tick")
def tick() -> None:
    from kompass.core.tests.durable_app.models import Tick

    Tick.objects.create(pid=os.getpid(), at=timezone.now())
