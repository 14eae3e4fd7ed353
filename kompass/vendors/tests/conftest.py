"""E-bonding fixtures: a connection to the real ``snowsim serve`` process (reset before each test), a routed
service, cases, and a synchronous worker that drains the outbox and inbox the way the vendors queue does."""

import ssl

import httpx
import pytest

from kompass.core import durable


def _admin(snowsim_instance):
    url, ca = snowsim_instance
    return httpx.Client(
        base_url=url, auth=("admin", "admin"), verify=ssl.create_default_context(cafile=ca), trust_env=False, timeout=30
    )


@pytest.fixture
def snow(snowsim_instance):
    """An admin client of the simulator, reset to its seeded demo data and no faults."""
    client = _admin(snowsim_instance)
    client.post("/snowsim/admin/reset").raise_for_status()
    client.put("/snowsim/admin/faults", json={"replace": True}).raise_for_status()
    yield client
    client.put("/snowsim/admin/faults", json={"replace": True})
    client.close()


@pytest.fixture
def connection(snowsim_instance, snow, monkeypatch, db):
    from kompass.vendors import sync
    from kompass.vendors.models import VendorConnection

    url, ca = snowsim_instance
    monkeypatch.setenv("TEST_SNOW_SECRET", "kompass")
    monkeypatch.setenv("TEST_SNOW_WEBHOOK", "hook-secret")
    sync.reset_transports()
    yield VendorConnection.objects.create(
        name="Simulert leverandør",
        base_url=url,
        ca_bundle=ca,
        username="kompass.integration",
        secret_env="TEST_SNOW_SECRET",
        webhook_secret_env="TEST_SNOW_WEBHOOK",
        timeout_seconds=10,
    )
    sync.reset_transports()


@pytest.fixture
def vendor_service(agencies):
    from kompass.core.models import Service

    return Service.objects.create(name="Leverandørdrift", delivery=Service.Delivery.VENDOR, vendor_name="Sim")


@pytest.fixture
def route(connection, vendor_service):
    from kompass.vendors.models import ServiceRoute

    return ServiceRoute.objects.create(service=vendor_service, connection=connection)


@pytest.fixture
def make_case(cast, vendor_service):
    from kompass.cases import services
    from kompass.cases.services import ChangeOrigin

    def make(requester="requester", **kwargs):
        user = cast[requester] if isinstance(requester, str) else requester
        kwargs.setdefault("title", "Skriveren virker ikke")
        kwargs.setdefault("service", vendor_service)
        return services.create_case(requester=user, origin=ChangeOrigin.by_user(user), **kwargs)

    return make


def drain(*, rounds: int = 50) -> durable.ProcessResult:
    """Process due outbox and inbox rows until none is left (what the vendors worker does)."""
    from kompass.vendors import sync
    from kompass.vendors.models import InboxEvent, OutboxMessage

    total = durable.ProcessResult()
    for _ in range(rounds):
        batch = durable.process(OutboxMessage, sync.deliver, "test", limit=20)
        batch += durable.process(InboxEvent, sync.process_event, "test", limit=50)
        total += batch
        if not batch.claimed:
            break
    return total


@pytest.fixture
def worker():
    return drain


@pytest.fixture
def remote(snow):
    """Read and write the simulator's incidents as a vendor engineer (``itil.engineer1``) or as admin."""

    class Remote:
        def get(self, sys_id):
            return snow.get(f"/api/now/table/incident/{sys_id}").json()["result"]

        def find(self, correlation_id):
            response = snow.get("/api/now/table/incident", params={"sysparm_query": f"correlation_id={correlation_id}"})
            return response.json()["result"]

        def patch(self, sys_id, user="itil.engineer1", **fields):
            response = snow.patch(f"/api/now/table/incident/{sys_id}", json=fields, auth=(user, user))
            response.raise_for_status()
            return response.json()["result"]

        def journal(self, sys_id):
            response = snow.get(
                "/api/now/table/sys_journal_field",
                params={"sysparm_query": f"element_id={sys_id}^ORDERBYsys_created_on"},
            )
            return response.json()["result"]

        def faults(self, **config):
            snow.put("/snowsim/admin/faults", json={"replace": True, **config}).raise_for_status()

    return Remote()
