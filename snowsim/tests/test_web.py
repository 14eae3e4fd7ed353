"""snowsim.web: the read-only HTML view."""

import pytest
from starlette.testclient import TestClient

from snowsim.cli import build_app


@pytest.fixture
def web(store):
    return TestClient(build_app(store), base_url="https://127.0.0.1")


@pytest.fixture
def incident(store):
    rec = store.insert(
        "incident",
        {
            "short_description": "Printer <b>jammed</b>",
            "category": "hardware",
            "impact": "1",
            "urgency": "2",
            "assignment_group": store.sid("sys_user_group", "Network"),
            "assigned_to": store.sid("sys_user", "itil.engineer1"),
        },
        "kompass.integration",
    )
    store.update("incident", rec["sys_id"], {"comments": "First comment"}, "kompass.integration")
    store.update("incident", rec["sys_id"], {"work_notes": "Second, a work note"}, "itil.engineer1")
    store.add_attachment("incident", rec["sys_id"], "screen.png", "image/png", b"\x89PNG....", "kompass.integration")
    return rec


def test_root_redirects_to_the_tables_page(web):
    response = web.get("/", follow_redirects=False)
    assert response.status_code == 302 and response.headers["location"] == "/snowsim/"


def test_tables_page_lists_tables_with_counts(web, incident):
    response = web.get("/snowsim/")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert '<html lang="en">' in response.text
    assert '<a href="/snowsim/table/incident">Incident</a>' in response.text
    assert '<meta http-equiv="refresh" content="10">' in response.text


def test_records_list_shows_task_columns_with_display_values(web, incident):
    response = web.get("/snowsim/table/incident?refresh=0")
    text = response.text
    assert response.status_code == 200
    assert incident["number"] in text
    assert "Printer &lt;b&gt;jammed&lt;/b&gt;" in text  # escaped
    assert "<b>jammed" not in text
    assert "1 - Critical" not in text and "2 - High" in text  # priority label, computed from impact/urgency
    assert "New" in text and "Network" in text and "Ivar Engineer" in text
    assert 'http-equiv="refresh"' not in text


def test_records_list_filters_with_an_encoded_query(web, store, incident):
    store.insert("incident", {"short_description": "Email broken"}, "admin")
    text = web.get("/snowsim/table/incident", params={"q": "short_descriptionLIKEEmail"}).text
    assert "Email broken" in text and "Printer" not in text


def test_record_page_shows_fields_journal_newest_first_and_attachments(web, incident):
    response = web.get(f"/snowsim/table/incident/{incident['sys_id']}")
    text = response.text
    assert response.status_code == 200
    assert f"Incident {incident['number']}" in text
    assert text.index("Second, a work note") < text.index("First comment")
    assert "Work notes" in text and "Additional comments" in text
    assert "screen.png" in text and "image/png" in text
    assert "Kompass Integration (kompass.integration)" in text
    assert f'href="/snowsim/table/sys_user_group/{incident["assignment_group"]}"' in text


def test_unknown_record_is_404(web):
    assert web.get("/snowsim/table/incident/" + "0" * 32).status_code == 404
    assert "no table" in web.get("/snowsim/table/nope").text


def test_other_tables_render(web):
    text = web.get("/snowsim/table/sys_user_group").text
    assert "Application Support" in text


def test_non_loopback_clients_need_admin_basic_auth(store, incident):
    remote = TestClient(build_app(store), base_url="https://snowsim.example", client=("192.0.2.10", 40000))
    assert remote.get("/snowsim/").status_code == 401
    assert remote.get("/snowsim/", auth=("itil.engineer1", "itil.engineer1")).status_code == 401
    assert remote.get("/snowsim/", auth=("admin", "admin")).status_code == 200
