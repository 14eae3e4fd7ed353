"""The ServiceNow transport over real HTTPS to the simulator process, with a per-vendor CA bundle."""

import pytest
from django.core.exceptions import ValidationError
from django.urls import reverse

from kompass.vendors.models import VendorConnection
from kompass.vendors.services import check_connection
from kompass.vendors.transports import ServiceNowTransport, TransportError

pytestmark = pytest.mark.django_db


@pytest.fixture
def connection(snowsim_instance, monkeypatch):
    url, ca = snowsim_instance
    monkeypatch.setenv("TEST_SNOW_SECRET", "kompass")
    return VendorConnection.objects.create(
        name="Simulert leverandør",
        base_url=url,
        ca_bundle=ca,
        username="kompass.integration",
        secret_env="TEST_SNOW_SECRET",
    )


def test_check_succeeds_over_https_with_the_vendor_ca(connection):
    result = check_connection(connection)
    assert result.ok, result.detail
    connection.refresh_from_db()
    assert connection.last_check_ok is True and connection.last_checked is not None


def test_without_the_ca_bundle_the_certificate_is_refused(connection):
    connection.ca_bundle = ""
    result = check_connection(connection)
    assert not result.ok
    assert "CA bundle" in result.detail


def test_wrong_secret_is_reported(connection, monkeypatch):
    monkeypatch.setenv("TEST_SNOW_SECRET", "wrong")
    result = check_connection(connection)
    assert not result.ok
    assert "401" in result.detail


def test_oauth_client_credentials(connection, monkeypatch):
    monkeypatch.setenv("TEST_SNOW_SECRET", "kompass-secret")
    connection.auth_method = VendorConnection.AuthMethod.OAUTH_CLIENT_CREDENTIALS
    connection.username = "kompass"
    transport = ServiceNowTransport(connection)
    rows, total = transport.query("sys_user", {"user_name": "kompass.integration"}, fields=["sys_id", "user_name"])
    assert total == 1 and rows[0]["user_name"] == "kompass.integration"
    assert transport.get("sys_user", rows[0]["sys_id"])["user_name"] == "kompass.integration"
    assert transport.get("sys_user", "0" * 32) is None
    transport.close()


def test_field_names_are_validated_before_any_request(connection):
    transport = ServiceNowTransport(connection)
    with pytest.raises(ValueError):
        transport.query("incident", {"state^ORactive": "true"})
    with pytest.raises(ValueError):
        transport.get("incident", "../sys_user")


def test_unreachable_vendor_is_retryable(connection):
    connection.base_url = "https://127.0.0.1:9"
    with pytest.raises(TransportError) as caught:
        ServiceNowTransport(connection).query("sys_user", {"user_name": "x"})
    assert caught.value.retryable


def test_plain_http_is_refused():
    connection = VendorConnection(name="x", base_url="http://vendor.example", username="u", secret_env="X_SECRET")
    with pytest.raises(ValidationError):
        connection.full_clean()


def test_secret_variable_name_is_validated():
    connection = VendorConnection(name="x", base_url="https://v.example", username="u", secret_env="bad name")
    with pytest.raises(ValidationError):
        connection.full_clean()


@pytest.mark.parametrize(
    "key", ["admin", "agreement", "desk", "kam", "it_contact", "owner", "agency_admin", "vendor", "noroles"]
)
def test_only_central_editors_reach_vendor_connections(client, cast, connection, key):
    client.force_login(cast[key])
    allowed = key in {"admin", "agreement"}
    refused = 302 if key == "vendor" else 403  # an integration account has no web session
    for url in [
        reverse("vendors:connection_list"),
        reverse("vendors:connection_detail", args=[connection.pk]),
        reverse("vendors:connection_edit", args=[connection.pk]),
        reverse("vendors:connection_create"),
    ]:
        assert client.get(url).status_code == (200 if allowed else refused), url
    response = client.post(reverse("vendors:connection_check", args=[connection.pk]))
    assert response.status_code == (200 if allowed else refused)


def test_check_button_shows_the_result(client, cast, connection):
    client.force_login(cast["admin"])
    response = client.post(reverse("vendors:connection_check", args=[connection.pk]), HTTP_HX_REQUEST="true")
    body = response.content.decode()
    assert 'data-testid="check-result"' in body
    assert "<html" not in body  # htmx gets the fragment only
    page = client.get(reverse("vendors:connection_detail", args=[connection.pk])).content.decode()
    assert "TEST_SNOW_SECRET" in page and "kompass-secret" not in page


def test_demo_data_adds_the_simulator_connection(db):
    import io

    from django.core.management import call_command

    call_command("demo_data", stdout=io.StringIO())
    call_command("demo_data", stdout=io.StringIO())
    connection = VendorConnection.objects.get()
    assert connection.base_url.startswith("https://127.0.0.1:")
    assert connection.ca_bundle.endswith("snowsim/tls/ca.pem")
    from kompass.core.models import Service
    from kompass.vendors.models import ServiceRoute

    vendor_delivered = Service.objects.filter(delivery=Service.Delivery.VENDOR)
    assert vendor_delivered.exists()
    assert ServiceRoute.objects.filter(connection=connection).count() == vendor_delivered.count()


def test_the_journal_and_attachments_of_several_records_come_in_one_query_each(connection):
    transport = ServiceNowTransport(connection)
    try:
        made = [
            transport.create("incident", {"short_description": f"Batch {n}", "correlation_id": f"B-{n}"})
            for n in range(3)
        ]
        ids = [record["sys_id"] for record in made]
        for n, sys_id in enumerate(ids):
            transport.add_journal("incident", sys_id, "comments", f"Kommentar {n}")
            transport.add_journal("incident", sys_id, "work_notes", f"Notat {n}")
        transport.add_attachment("incident", ids[0], "logg.txt", "text/plain", b"hei")
        sent = []
        send = transport.client.send
        transport.client.send = lambda request, **kw: sent.append(request.url) or send(request, **kw)
        journal = transport.fetch_journal_many("incident", ids, page=4)  # 6 rows in pages of 4: two requests
        files = transport.list_attachments_many("incident", ids)
    finally:
        transport.close()
    assert len(sent) == 3
    assert sorted((row["element_id"], row["value"]) for row in journal) == sorted(
        [(sys_id, f"Kommentar {n}") for n, sys_id in enumerate(ids)]
        + [(sys_id, f"Notat {n}") for n, sys_id in enumerate(ids)]
    )
    assert len({row["sys_id"] for row in journal}) == 6
    assert [(row["table_sys_id"], row["file_name"]) for row in files] == [(ids[0], "logg.txt")]
