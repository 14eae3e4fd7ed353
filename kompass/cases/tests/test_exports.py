"""Exports of the queue's list to .csv and .xlsx: the same filters and search, the matrix, never a note."""

import csv
import io

import pytest
from openpyxl import load_workbook

from kompass.cases import services
from kompass.cases.models import Case
from kompass.cases.services import ChangeOrigin
from kompass.core.models import User

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(cast, agencies, service):
    desk = ChangeOrigin.by_user(cast["desk"])
    beta_user = User.objects.create_user(
        "ansatt.beta@test.example", "x", full_name="Beta", home_agency=agencies["beta"]
    )
    mine = services.create_case(requester=cast["requester"], service=service, title="Skjermen blinker", origin=desk)
    services.add_note(mine, "Intern mistanke om hemmelighetsfullt kabelbrudd", origin=desk)
    services.create_case(requester=cast["requester"], service=service, title='=HYPERLINK("http://x")', origin=desk)
    beta = services.create_case(requester=beta_user, service=service, title="Betas sak", origin=desk)
    services.transition(beta, Case.State.IN_PROGRESS, origin=desk)
    return {"mine": mine, "beta": beta}


def csv_rows(response):
    assert response.streaming and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff")), delimiter=";"))


def xlsx_rows(response):
    assert response["Content-Disposition"].startswith("attachment") and ".xlsx" in response["Content-Disposition"]
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True).active
    return [list(row) for row in sheet.iter_rows(values_only=True)]


def test_the_csv_export_is_the_filtered_list(clients, world):
    rows = csv_rows(clients("desk").get("/cases/export.csv?state=in_progress"))
    assert len(rows) == 2 and rows[1][1] == "Betas sak" and rows[1][0] == world["beta"].number
    all_rows = csv_rows(clients("desk").get("/cases/export.csv"))
    assert len(all_rows) == 4


def test_the_xlsx_export_is_the_filtered_list(clients, world):
    rows = xlsx_rows(clients("desk").get("/cases/export.xlsx?state=new"))
    assert sorted(r[1] for r in rows[1:]) == ['\'=HYPERLINK("http://x")', "Skjermen blinker"]
    assert rows[0][0] in ("Number", "Nummer")


def test_a_cell_that_looks_like_a_formula_is_defused(clients, world):
    titles = [r[1] for r in csv_rows(clients("desk").get("/cases/export.csv"))[1:]]
    assert '\'=HYPERLINK("http://x")' in titles and '=HYPERLINK("http://x")' not in titles


def test_an_agency_role_exports_only_its_cases_and_never_finds_by_a_note(clients, world):
    for key in ("requester", "it_contact", "agency_admin", "kam"):
        rows = csv_rows(clients(key).get("/cases/export.csv"))
        assert "Betas sak" not in {r[1] for r in rows}, key
        assert len(csv_rows(clients(key).get("/cases/export.csv?q=hemmelighetsfullt"))) == 1, key  # header only
        assert len(xlsx_rows(clients(key).get("/cases/export.xlsx?q=hemmelighetsfullt"))) == 1, key
    desk = csv_rows(clients("desk").get("/cases/export.csv?q=hemmelighetsfullt"))
    assert [r[1] for r in desk[1:]] == ["Skjermen blinker"]
    assert "kabelbrudd" not in repr(desk)  # the note found the case; its text is never exported


def test_bad_filters_are_a_400_and_an_unknown_format_a_404(clients, world):
    assert clients("desk").get("/cases/export.csv?state=nonsense").status_code == 400
    assert clients("desk").get("/cases/export.csv?q=" + "x" * 201).status_code == 400
    assert clients("desk").get("/cases/export.pdf").status_code == 404
    assert clients("noroles").get("/cases/export.csv").status_code == 403
