"""List and detail pages use a fixed number of queries, however many rows they show."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from kompass.core.models import Agency, RoleAssignment, System
from kompass.core.roles import Role

pytestmark = pytest.mark.django_db


def count_queries(client, url):
    client.get(url)  # warm up: the first request creates the organisation row and session
    with CaptureQueriesContext(connection) as ctx:
        response = client.get(url)
    assert response.status_code == 200
    return len(ctx.captured_queries)


def grow(agencies, cast, n):
    for i in range(n):
        agency = Agency.objects.create(name=f"Ekstra {i}", short_code=f"EX{i}", kind="department")
        user = cast["owner"].__class__.objects.create_user(f"extra{i}@test.example", None, full_name=f"Extra {i}")
        RoleAssignment.objects.create(user=user, role=Role.SYSTEM_OWNER, agency=agency)
        for j in range(3):
            System.objects.create(name=f"S{i}-{j}", agency=agency, system_owner=user)


@pytest.mark.parametrize(
    "name", ["core:home", "core:agency_list", "core:system_list", "core:service_list", "core:user_list"]
)
def test_list_pages_do_not_grow_queries_with_rows(client, cast, agencies, systems, name):
    client.force_login(cast["admin"])
    url = reverse(name)
    before = count_queries(client, url)
    grow(agencies, cast, 5)
    assert count_queries(client, url) == before


def test_agency_page_does_not_grow_queries_with_contacts(client, cast, agencies, systems):
    client.force_login(cast["admin"])
    url = reverse("core:agency_detail", args=[agencies["alfa"].pk])
    before = count_queries(client, url)
    for i in range(5):
        user = cast["owner"].__class__.objects.create_user(f"c{i}@test.example", None, full_name=f"C {i}")
        RoleAssignment.objects.create(user=user, role=Role.AGENCY_IT_CONTACT, agency=agencies["alfa"])
        System.objects.create(name=f"Alfa {i}", agency=agencies["alfa"], system_owner=user)
    assert count_queries(client, url) == before


def test_api_lists_do_not_grow_queries_with_rows(client, cast, agencies, systems):
    client.force_login(cast["admin"])
    before = {url: count_queries(client, url) for url in ["/api/agencies/", "/api/systems/", "/api/users/"]}
    grow(agencies, cast, 5)
    after = {url: count_queries(client, url) for url in before}
    assert after == before
