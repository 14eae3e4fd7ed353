"""The connection form asks for what the chosen transport needs (issue 10): an e-mail connection for the vendor's
service desk address, a ServiceNow one for the instance URL, the user and the secret's variable name."""

import pytest
from django.test import Client

from kompass.vendors.forms import VendorConnectionForm
from kompass.vendors.models import VendorConnection

pytestmark = pytest.mark.django_db

SERVICENOW = {
    "name": "Snow",
    "kind": "servicenow",
    "base_url": "https://vendor.service-now.com",
    "auth_method": "basic",
    "username": "kompass",
    "secret_env": "KOMPASS_SNOW_SECRET",
    "timeout_seconds": 20,
    "active": "on",
}
EMAIL = {"name": "Epost", "kind": "email", "service_desk_email": "servicedesk@vendor.example", "active": "on"}


@pytest.fixture
def manager(cast):
    client = Client()
    client.force_login(cast["agreement"])
    return client


def snapshot():
    return list(VendorConnection.objects.order_by("pk").values())


def test_an_email_connection_needs_only_the_vendor_address(manager):
    response = manager.post("/vendors/new/", EMAIL)
    assert response.status_code == 302
    connection = VendorConnection.objects.get(name="Epost")
    assert connection.kind == "email" and connection.service_desk_email == "servicedesk@vendor.example"
    assert connection.base_url == "" and connection.username == "" and connection.secret_env == ""


def test_an_email_connection_ignores_the_servicenow_fields_the_browser_sent(manager):
    """Without the script both fieldsets are on the page: the other kind's fields (even invalid) are not used."""
    response = manager.post("/vendors/new/", {**EMAIL, "base_url": "http://not-https.example", "secret_env": "x y"})
    assert response.status_code == 302
    connection = VendorConnection.objects.get(name="Epost")
    assert connection.base_url == "" and connection.secret_env == ""


def test_an_email_connection_without_an_address_is_refused_in_bokmal_and_nothing_changes(manager):
    before = snapshot()
    response = manager.post("/vendors/new/", {**EMAIL, "service_desk_email": ""}, HTTP_ACCEPT_LANGUAGE="nb")
    assert response.status_code == 400
    assert "E-postkobling trenger leverandørens adresse." in response.content.decode()
    assert snapshot() == before


def test_a_servicenow_connection_needs_url_user_and_secret_variable(manager):
    before = snapshot()
    data = {**SERVICENOW, "base_url": "", "username": "", "secret_env": "", "service_desk_email": "a@b.example"}
    response = manager.post("/vendors/new/", data, HTTP_ACCEPT_LANGUAGE="nb")
    assert response.status_code == 400
    page = response.content.decode()
    assert "En ServiceNow-tilkobling trenger instansens URL." in page
    assert "En ServiceNow-tilkobling trenger brukernavnet eller klient-id-en." in page
    assert "En ServiceNow-tilkobling trenger navnet på miljøvariabelen med hemmeligheten." in page
    assert snapshot() == before
    form = VendorConnectionForm(data=data)
    assert not form.is_valid() and set(form.errors) == {"base_url", "username", "secret_env"}


def test_a_servicenow_connection_saves_its_fields_and_not_the_email_address(manager):
    response = manager.post("/vendors/new/", {**SERVICENOW, "service_desk_email": "a@b.example"})
    assert response.status_code == 302
    connection = VendorConnection.objects.get(name="Snow")
    assert connection.base_url == "https://vendor.service-now.com" and connection.secret_env == "KOMPASS_SNOW_SECRET"
    assert connection.service_desk_email == ""


def test_editing_an_email_connection_leaves_the_stored_servicenow_fields_alone(manager):
    connection = VendorConnection.objects.create(
        name="Byttet", kind="email", service_desk_email="old@vendor.example", base_url="https://old.example"
    )
    response = manager.post(f"/vendors/{connection.pk}/edit/", {**EMAIL, "name": "Byttet", "base_url": ""})
    assert response.status_code == 302
    connection.refresh_from_db()
    assert (
        connection.service_desk_email == "servicedesk@vendor.example" and connection.base_url == "https://old.example"
    )


def test_the_page_has_a_fieldset_per_transport_and_the_script_that_hides_the_other(manager):
    page = manager.get("/vendors/new/", HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    assert 'data-transport="servicenow"' in page and 'data-transport="email"' in page
    assert "vendors/connection-form.js" in page
    servicenow, email = page.split('data-transport="servicenow"')[1].split('data-transport="email"')
    assert 'name="base_url"' in servicenow and 'name="secret_env"' in servicenow
    assert 'name="service_desk_email"' not in servicenow
    assert 'name="service_desk_email"' in email and 'name="base_url"' not in email


def test_the_detail_page_of_an_email_connection_shows_its_address_not_an_instance_url(manager):
    connection = VendorConnection.objects.create(name="Epost", kind="email", service_desk_email="desk@vendor.example")
    page = manager.get(f"/vendors/{connection.pk}/", HTTP_ACCEPT_LANGUAGE="nb").content.decode()
    assert "desk@vendor.example" in page and "Instans-URL" not in page
