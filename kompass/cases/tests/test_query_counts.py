"""A case creation's queries, pinned: the service and ``POST /api/cases/`` may not creep back up.

Measured (SQLite; PostgreSQL has one fewer, no FTS5 row): ``create_case`` 13 (counter, case, audit entry, change
row, search document, the vendors' outbox receiver's 2 lookups, 1 preference lookup and 1 bulk insert of the
ledger rows, without a savepoint: the key is fresh), ``POST /api/cases/`` 13: the token with the user's roles, the
requester with the service, the savepoint pair, counter, case, audit entry, change row, search document and its FTS5
row, the routing version, the preferences, the ledger rows. It was 28 and 34, then 15 and 18, then 13 and 16.
"""

import pytest

from kompass.cases import notify, services
from kompass.cases.models import Case, CaseChange, CaseSearch
from kompass.cases.services import ChangeOrigin

pytestmark = pytest.mark.django_db

CREATE_CASE_QUERIES = 13
API_CREATE_QUERIES = 13


def test_create_case_queries(cast, service, django_assert_max_num_queries):
    services.create_case(requester=cast["requester"], service=service, title="Først", origin=ChangeOrigin.by_system())
    with django_assert_max_num_queries(CREATE_CASE_QUERIES):
        case = services.create_case(
            requester=cast["requester"], service=service, title="Skriveren", origin=ChangeOrigin.by_user(cast["desk"])
        )
    # and every row a creation owes is there: change, search document, the requester's ledger rows
    assert CaseChange.objects.filter(case=case, kind="created").count() == 1
    assert CaseSearch.objects.get(case=case).heading.startswith("Skriveren KOM-")
    rows = notify.deliveries_for(case)
    assert sorted(row.channel for row in rows) == ["email", "portal"] and {row.event for row in rows} == {
        "cases.received"
    }


def test_api_create_queries(clients, cast, service, django_assert_max_num_queries):
    client = clients("desk", "token")
    payload = {"title": "Skriver", "service": service.pk, "requester": cast["requester"].pk}
    assert client.post("/api/cases/", payload, content_type="application/json").status_code == 201
    with django_assert_max_num_queries(API_CREATE_QUERIES):
        response = client.post("/api/cases/", payload, content_type="application/json")
    assert response.status_code == 201
    case = Case.objects.get(pk=response.json()["id"])
    # the answer, built from the case in memory, is what a fresh read gives
    fresh = clients("desk", "token").get(f"/api/cases/{case.pk}/").json()
    assert response.json() == fresh


def test_case_answer_fields_built_once_and_as_drf_builds_them(cast, service, make_case, monkeypatch):
    """The API's case answer reuses fields built once per class (``ModelSerializer`` rebuilt its 35 fields for
    every case), and says exactly what DRF's own per-instance fields say, watchers and dates included."""
    from rest_framework import serializers as drf

    from kompass.cases.api.serializers import CaseSerializer

    case = make_case(title="Skriveren er tom")
    case.watchers.set([cast["desk"]])
    case.assignee = cast["desk"]
    case.save()
    CaseSerializer(case).data  # noqa: B018  (warms the class's fields)
    built = []
    monkeypatch.setattr(drf.ModelSerializer, "get_fields", lambda self: built.append(self) or {})
    answers = [CaseSerializer(c).data for c in (case, make_case(title="Andre"))]
    assert built == [] and answers[0]["watchers"] == [cast["desk"].pk]
    monkeypatch.undo()
    plain = drf.ModelSerializer.to_representation(CaseSerializer(case), case)  # DRF's loop over fresh fields
    assert answers[0] == plain and plain["assignee"] == cast["desk"].pk and plain["created"].endswith(("Z", ":00"))


def test_api_create_compiles_no_empty_query(clients, cast, service, monkeypatch):
    """The creation's answer lists the (no) watchers from a filled result cache: an empty ``none()`` queryset sends
    nothing but is still compiled, which cost as much Python as a whole statement."""
    from django.core.exceptions import EmptyResultSet
    from django.db.models.sql.compiler import SQLCompiler

    client = clients("desk", "token")
    payload = {"title": "Skriver", "service": service.pk, "requester": cast["requester"].pk}
    assert client.post("/api/cases/", payload, content_type="application/json").status_code == 201
    empty, as_sql = [], SQLCompiler.as_sql

    def recording(self, *args, **kwargs):
        try:
            return as_sql(self, *args, **kwargs)
        except EmptyResultSet:
            empty.append(self.query.model)
            raise

    monkeypatch.setattr(SQLCompiler, "as_sql", recording)
    response = client.post("/api/cases/", payload, content_type="application/json")
    assert response.status_code == 201 and response.json()["watchers"] == []
    assert empty == []
