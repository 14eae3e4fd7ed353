"""Case numbers stay unique when many cases are created at once (threads, real transactions, both databases)."""

import threading

import pytest
from django.db import close_old_connections, connection

from kompass.cases import services
from kompass.cases.models import Case, CaseCounter
from kompass.cases.services import ChangeOrigin

THREADS, EACH = 8, 5


@pytest.mark.django_db(transaction=True)
def test_concurrent_creations_never_share_a_number(cast, service):
    requester = cast["requester"]
    errors, barrier = [], threading.Barrier(THREADS)

    def worker():
        try:
            barrier.wait()
            for _ in range(EACH):
                services.create_case(
                    requester=requester, service=service, title="Samtidig", origin=ChangeOrigin.by_user(requester)
                )
        except Exception as exc:  # noqa: BLE001  (reported below)
            errors.append(repr(exc))
        finally:
            close_old_connections()
            connection.close()

    threads = [threading.Thread(target=worker) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    numbers = sorted(Case.objects.values_list("number", flat=True))
    year = numbers[0][4:8]
    assert numbers == [f"KOM-{year}-{n:06d}" for n in range(1, THREADS * EACH + 1)]
    assert CaseCounter.objects.get().last == THREADS * EACH
