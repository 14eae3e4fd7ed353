"""The test processor: records a side effect per row, fails on request, or blocks on a gate file.

``block`` chores touch ``<DURABLE_TEST_GATE>.started`` and then wait until the file ``<DURABLE_TEST_GATE>``
exists, which lets a test kill the worker while it holds the claim.
"""

import os
import time
from pathlib import Path

from kompass.core.durable import processor, worker_id
from kompass.core.tests.durable_app.models import Chore, ChoreEffect


@processor(Chore, queue="default", batch_size=10)
def handle_chore(chore: Chore) -> None:
    if chore.payload == "fail":
        raise RuntimeError(f"chore {chore.pk} failed on purpose")
    if chore.payload == "block":
        gate = Path(os.environ["DURABLE_TEST_GATE"])
        Path(f"{gate}.started").touch()
        deadline = time.monotonic() + 60
        while not gate.exists():
            if time.monotonic() > deadline:
                raise TimeoutError("gate never opened")
            time.sleep(0.05)
    ChoreEffect.objects.create(chore=chore, worker=worker_id())
