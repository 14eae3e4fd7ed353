"""The routing table a new case is checked against: cached per process, invalidated by a version token that
every route or connection change replaces (so another process's change counts from its commit on)."""

import pytest
from django.db import connection as db
from django.test.utils import CaptureQueriesContext

from kompass.cases import services
from kompass.cases.services import ChangeOrigin
from kompass.core.models import Service
from kompass.vendors import routing
from kompass.vendors.models import RoutingVersion, ServiceRoute, VendorConnection, VendorLink

pytestmark = pytest.mark.django_db


@pytest.fixture
def fresh_cache():
    routing.forget()
    yield
    routing.forget()


@pytest.fixture
def conn(db):
    return VendorConnection.objects.create(name="Rute", base_url="https://vendor.example", username="k", secret_env="X")


@pytest.fixture
def plain_service(agencies):
    return Service.objects.create(name="Egen drift", delivery=Service.Delivery.INTERNAL)


def create(cast, service):
    requester = cast["requester"]
    return services.create_case(
        requester=requester, service=service, title="Hjelp", origin=ChangeOrigin.by_user(requester)
    )


def receiver_queries(cast, service):
    """The SQL the vendors receiver runs for one case creation (the creation's own queries left out)."""
    from kompass.vendors import receivers

    case = create(cast, service)
    change = case.changes.get(kind="created")
    with CaptureQueriesContext(db) as seen:
        receivers.write_outbox(sender=None, case=case, change=change, origin=ChangeOrigin.by_user(cast["requester"]))
    return [q["sql"] for q in seen.captured_queries]


def test_a_case_that_goes_to_no_vendor_costs_one_primary_key_read(cast, plain_service, conn, fresh_cache):
    routing.route_for(None)  # the table is loaded once per process and token
    queries = receiver_queries(cast, plain_service)
    assert len(queries) == 1 and "vendors_routingversion" in queries[0]


def test_a_route_made_after_the_table_was_cached_is_seen_by_the_next_case(cast, plain_service, conn, fresh_cache):
    assert routing.route_for(plain_service.pk) is None
    before = RoutingVersion.objects.get().token
    ServiceRoute.objects.create(service=plain_service, connection=conn)
    assert RoutingVersion.objects.get().token != before  # what tells every other process too
    case = create(cast, plain_service)
    assert VendorLink.objects.get(case=case).connection == conn


def test_another_process_change_is_seen_by_its_token_alone(cast, plain_service, conn, fresh_cache):
    route = ServiceRoute.objects.create(service=plain_service, connection=conn)
    assert routing.route_for(plain_service.pk) == (conn.pk, "incident")
    # Another process deactivated the route: its row and its new token are all this process sees.
    ServiceRoute.objects.filter(pk=route.pk).update(active=False)
    assert routing.route_for(plain_service.pk) is not None  # (a bare update() changes no token: see bump())
    RoutingVersion.objects.update(token="fra-en-annen-prosess")
    assert routing.route_for(plain_service.pk) is None


def test_deactivating_a_connection_or_deleting_a_route_stops_the_routing(cast, plain_service, conn, fresh_cache):
    route = ServiceRoute.objects.create(service=plain_service, connection=conn)
    assert routing.route_for(plain_service.pk) is not None
    conn.active = False
    conn.save()
    assert routing.route_for(plain_service.pk) is None
    conn.active = True
    conn.save()
    assert routing.route_for(plain_service.pk) is not None
    route.delete()
    assert routing.route_for(plain_service.pk) is None
    assert not VendorLink.objects.filter(case=create(cast, plain_service)).exists()


def test_without_its_row_the_version_is_made_again(plain_service, conn, fresh_cache):
    RoutingVersion.objects.all().delete()  # a flushed database
    assert routing.route_for(plain_service.pk) is None
    ServiceRoute.objects.create(service=plain_service, connection=conn)
    assert RoutingVersion.objects.count() == 1
    assert routing.route_for(plain_service.pk) == (conn.pk, "incident")
