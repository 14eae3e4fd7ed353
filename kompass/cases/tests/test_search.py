"""Full-text search (PostgreSQL full-text search or SQLite FTS5, whichever the suite runs on): what it finds, that
internal notes find nothing for requesters and agency roles, that the index follows changes and rollbacks."""

import pytest
from django.db import connection, transaction

from kompass.cases import search, services
from kompass.cases.models import Case, CaseSearch, Reply
from kompass.cases.services import ChangeOrigin

pytestmark = pytest.mark.django_db

AGENCY_SIDE = ("requester", "it_contact", "owner", "agency_admin", "kam")


@pytest.fixture
def world(cast, service, systems):
    desk = ChangeOrigin.by_user(cast["desk"])
    printer = services.create_case(
        requester=cast["requester"],
        service=service,
        system=systems["alfa"],
        title="Skrivere på Tromsø-kontoret",
        description="Papirstopp hver morgen.",
        origin=desk,
    )
    services.add_reply(printer, "Teknikeren kommer med nye tonerkassetter.", origin=desk)
    services.add_note(printer, "Leverandøren fakturerer hemmelighetsfullt.", origin=desk)
    other = services.create_case(
        requester=cast["requester"], service=service, title="Bøkene i biblioteket", origin=desk
    )
    return {"printer": printer, "other": other}


def found(user, query):
    return list(search.search(Case.objects.all(), query, user).values_list("title", flat=True))


def test_words_of_the_title_description_and_public_replies_are_found_by_everyone_who_sees_the_case(cast, world):
    for key in ("desk", "agreement", *AGENCY_SIDE):
        for query in ("tromsø", "papirstopp", "tonerkassetter", "SKRIVERE morgen"):
            assert found(cast[key], query) == ["Skrivere på Tromsø-kontoret"], (key, query)


def test_every_word_must_match_and_a_word_matches_as_a_prefix(cast, world):
    desk = cast["desk"]
    assert found(desk, "skriv") == ["Skrivere på Tromsø-kontoret"]  # prefix: the unstemmed word
    assert found(desk, "skriver") == ["Skrivere på Tromsø-kontoret"]
    assert found(desk, "papirstopp biblioteket") == []
    assert found(desk, "bibliotek") == ["Bøkene i biblioteket"]


def test_the_case_number_is_found(cast, world):
    number = world["other"].number
    assert found(cast["desk"], number) == ["Bøkene i biblioteket"]


def test_postgresql_stems_norwegian_words(cast, world):
    if connection.vendor != "postgresql":
        pytest.skip("Norwegian stemming is PostgreSQL's; FTS5 has prefixes only")
    # "bøker" and "bøkene" share the stem "bøk": the norwegian vector finds what no prefix would.
    assert found(cast["desk"], "bøker") == ["Bøkene i biblioteket"]


def test_words_only_in_an_internal_note_find_the_case_only_for_those_who_see_notes(cast, world):
    for key in ("desk", "agreement", "admin"):
        assert found(cast[key], "hemmelighetsfullt") == ["Skrivere på Tromsø-kontoret"], key
        assert found(cast[key], "leverandøren tromsø") == ["Skrivere på Tromsø-kontoret"], key  # across texts
    for key in AGENCY_SIDE:
        assert found(cast[key], "hemmelighetsfullt") == [], key
        assert found(cast[key], "leverandøren tromsø") == [], key


def test_the_queue_page_and_the_api_search_the_same_way(clients, world):
    for key in AGENCY_SIDE:
        page = clients(key).get("/cases/?q=hemmelighetsfullt")
        assert page.status_code == 200 and list(page.context["object_list"]) == [], key
        api = clients(key, "token").get("/api/cases/?q=hemmelighetsfullt")
        assert api.status_code == 200 and api.json()["results"] == [], key
        assert [c["title"] for c in clients(key, "token").get("/api/cases/?q=tonerkassetter").json()["results"]] == [
            "Skrivere på Tromsø-kontoret"
        ], key
    page = clients("desk").get("/cases/?q=hemmelighetsfullt", HTTP_HX_REQUEST="true")
    assert [c.title for c in page.context["object_list"]] == ["Skrivere på Tromsø-kontoret"]
    assert "<html" not in page.content.decode()  # the search box answers the table only
    api = clients("desk", "token").get("/api/cases/?q=hemmelighetsfullt&state=new")
    assert [c["title"] for c in api.json()["results"]] == ["Skrivere på Tromsø-kontoret"]


@pytest.mark.parametrize(
    "query",
    ['"', "C++", "Tromsø-kontoret", "AND OR NOT", "*", "{heading}: x", "NEAR(a b)", "a:*|b", "'", "\\", "ø" * 300],
)
def test_any_input_is_safe(clients, world, query):
    api = clients("desk", "token").get("/api/cases/", {"q": query})
    if len(query) > 200:
        assert api.status_code == 400 and "q" in api.json()
    else:
        assert api.status_code == 200, api.content
    assert clients("desk").get("/cases/", {"q": query}).status_code == 200


def test_a_query_without_words_does_not_filter(cast, world):
    assert len(found(cast["desk"], "-- !! ++")) == 2


def test_the_index_follows_replies_notes_and_edits(cast, world):
    desk = ChangeOrigin.by_user(cast["desk"])
    other = world["other"]
    assert found(cast["requester"], "lånekort") == []
    services.add_reply(other, "Lånekortet er sperret.", origin=desk)
    assert found(cast["requester"], "lånekort") == ["Bøkene i biblioteket"]
    services.add_note(other, "Sjekk purreregisteret.", origin=desk)
    assert found(cast["desk"], "purreregisteret") == ["Bøkene i biblioteket"]
    assert found(cast["requester"], "purreregisteret") == []
    services.update_details(other, title="Sperret lånekort", origin=desk)
    assert found(cast["desk"], "sperret lånekort") == ["Sperret lånekort"]
    assert found(cast["desk"], "bøkene") == []


def test_a_rolled_back_change_leaves_no_words_behind(cast, world):
    desk = ChangeOrigin.by_user(cast["desk"])
    with pytest.raises(RuntimeError), transaction.atomic():
        services.add_reply(world["other"], "Utlånsautomaten piper.", origin=desk)
        assert found(cast["desk"], "utlånsautomaten") == ["Bøkene i biblioteket"]
        raise RuntimeError
    assert found(cast["desk"], "utlånsautomaten") == []
    assert not Reply.objects.filter(text__contains="Utlånsautomaten").exists()


def _document(case_id):
    row = CaseSearch.objects.values("heading", "body", "internal").get(case_id=case_id)
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("SELECT heading, body, internal FROM cases_casesearch_fts WHERE rowid = %s", [case_id])
            assert cursor.fetchall() == [(row["heading"], row["body"], row["internal"])]  # the FTS5 row follows
    return row


@pytest.mark.parametrize("description", ["", "Papirstopp."])
def test_a_new_reply_or_note_is_appended_to_the_document_as_a_rewrite_would_write_it(cast, service, description):
    desk = ChangeOrigin.by_user(cast["desk"])
    case = services.create_case(
        requester=cast["requester"], service=service, title="Skanneren", description=description, origin=desk
    )
    services.add_note(case, "Første notat.", origin=desk)  # the first note: no newline before it
    services.add_reply(case, "Vi ser på det.", origin=desk)
    services.add_reply(case, "Ny driver lagt inn.", origin=desk)
    services.add_note(case, "Andre notat.", origin=desk)
    appended = _document(case.pk)
    search.index_case(case.pk)
    assert appended == _document(case.pk)
    assert appended["internal"] == "Første notat.\nAndre notat."
    assert found(cast["requester"], "driver") == ["Skanneren"]


def test_an_appended_document_is_cut_where_a_rewrite_cuts_it(cast, service, monkeypatch):
    monkeypatch.setattr(search, "MAX_TEXT", 30)
    desk = ChangeOrigin.by_user(cast["desk"])
    case = services.create_case(requester=cast["requester"], service=service, title="Lang", origin=desk)
    for n in range(4):
        services.add_reply(case, f"Svar nummer {n} æøå", origin=desk)
    appended = _document(case.pk)
    search.index_case(case.pk)
    assert appended == _document(case.pk) and len(appended["body"]) == 30


def test_a_reply_to_a_case_without_a_document_writes_the_whole_document(cast, world):
    desk = ChangeOrigin.by_user(cast["desk"])
    other = world["other"]
    CaseSearch.objects.filter(case=other).delete()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM cases_casesearch_fts WHERE rowid = %s", [other.pk])
    services.add_reply(other, "Lånekortet er sperret.", origin=desk)
    assert found(cast["requester"], "bøkene lånekort") == ["Bøkene i biblioteket"]


def test_cases_inserted_in_bulk_are_found_after_index_cases(cast, world, service):
    rows = Case.objects.bulk_create(
        [
            Case(
                number=f"KOM-2026-9{n:05d}",
                requester=cast["requester"],
                agency=cast["requester"].home_agency,
                service=service,
                title=f"Massesak {n}",
                created=world["other"].created,
            )
            for n in range(3)
        ]
    )
    assert found(cast["desk"], "massesak") == []
    assert search.index_cases([row.pk for row in rows]) == 3
    assert sorted(found(cast["desk"], "massesak")) == ["Massesak 0", "Massesak 1", "Massesak 2"]
    CaseSearch.objects.all().delete()
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("DELETE FROM cases_casesearch_fts")
    assert search.rebuild() == Case.objects.count()
    assert found(cast["desk"], "hemmelighetsfullt") == ["Skrivere på Tromsø-kontoret"]


@pytest.mark.parametrize("limit", [0, 1])
def test_common_words_search_through_the_subquery_with_the_same_results(cast, world, monkeypatch, limit):
    monkeypatch.setattr(search, "INLINE_LIMIT", limit)  # every word "common": past the inline id list
    assert found(cast["desk"], "hemmelighetsfullt") == ["Skrivere på Tromsø-kontoret"]
    assert found(cast["requester"], "hemmelighetsfullt") == []
    assert found(cast["requester"], "tonerkassetter") == ["Skrivere på Tromsø-kontoret"]
    assert sorted(found(cast["desk"], "kom")) == ["Bøkene i biblioteket", "Skrivere på Tromsø-kontoret"]


@pytest.mark.parametrize("who", ["desk", "it_contact"])
def test_a_common_word_on_the_queue_page_is_matched_row_by_row_with_the_same_result(cast, world, monkeypatch, who):
    """PostgreSQL's dense path (a word matching many of the queue's first rows): the same cases, same order; notes
    still only for those who see them. SQLite (FTS5) always takes the index path: ``hint`` stays empty."""
    desk = ChangeOrigin.by_user(cast["desk"])
    for n in range(3):
        services.create_case(requester=cast["requester"], service=world["printer"].service, title=f"Skriver {n}",
                             origin=desk)  # fmt: skip
    monkeypatch.setattr(search, "DENSE_MATCHES", 2)
    user = cast[who]
    queue = Case.objects.restrict(user, "view").order_by("pk")
    for query in ("skriver", "skriv", "skriver 1", "hemmelighetsfullt", "skriver biblioteket"):
        hint = {}
        dense = list(search.search(queue, query, user, hint=hint).values_list("title", flat=True))
        assert dense == list(search.search(queue, query, user).values_list("title", flat=True)), query
        assert hint.get("dense", False) == (connection.vendor == "postgresql" and query in ("skriver", "skriv"))
    hint = {}
    assert list(search.search(queue, "hemmelighetsfullt", user, hint=hint)) == (
        [world["printer"]] if who == "desk" else []
    )


def test_the_queue_page_counts_a_common_word_only_up_to_its_cap(clients, cast, world, monkeypatch):
    from kompass.cases import views

    monkeypatch.setattr(search, "DENSE_MATCHES", 1)
    monkeypatch.setattr(views.CaseListView, "dense_count_limit", 0)
    response = clients("desk").get("/cases/", {"q": "skriv"})
    assert [c.title for c in response.context["object_list"]] == ["Skrivere på Tromsø-kontoret"]
    assert response.context["count_capped"] == (connection.vendor == "postgresql")


@pytest.mark.django_db(transaction=True)  # outside a test transaction, as a request runs (autocommit)
def test_the_gin_lookup_gets_more_memory_for_its_transaction_only(cast, world):
    """Two common words make bitmaps that turn lossy at PostgreSQL's default 4 MB (every row of thousands of pages
    checked again); the lookup raises ``work_mem`` with ``SET LOCAL``, which ends with its transaction."""
    from django.test.utils import CaptureQueriesContext

    from kompass.cases import search as fts

    if connection.vendor != "postgresql":
        pytest.skip("PostgreSQL's work_mem")
    with connection.cursor() as cursor:
        cursor.execute("SHOW work_mem")
        before = cursor.fetchone()[0]
    with CaptureQueriesContext(connection) as seen:
        fts._narrow(fts._matching(["skriver", "pålogging"], internal=True))
    sql = [q["sql"] for q in seen.captured_queries]
    lookup = next(i for i, q in enumerate(sql) if "cases_casesearch" in q)
    assert f"SET LOCAL work_mem = '{fts.SEARCH_WORK_MEM}'" in sql[lookup - 1]
    with connection.cursor() as cursor:
        cursor.execute("SHOW work_mem")
        assert cursor.fetchone()[0] == before
