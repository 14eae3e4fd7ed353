"""``services.cases_of_system``: the portfolio's view of a system's cases, restricted to what the viewer sees."""

import pytest

from kompass.cases import services
from kompass.cases.services import ChangeOrigin

pytestmark = pytest.mark.django_db


def test_cases_of_system_counts_only_the_cases_the_viewer_sees(make_case, systems, cast):
    first = make_case(title="Sak 1", system=systems["alfa"])
    make_case(title="Sak 2", system=systems["alfa"])
    services.transition(first, "cancelled", origin=ChangeOrigin.by_user(cast["admin"]), reason="Feil")
    figures = services.cases_of_system(systems["alfa"], cast["admin"])
    assert (figures["open"], figures["total"]) == (1, 2)
    assert [c.title for c in figures["latest_open"]] == ["Sak 2"]
    nobody = services.cases_of_system(systems["alfa"], cast["noroles"])
    assert (nobody["open"], nobody["total"], nobody["latest_open"]) == (0, 0, [])
