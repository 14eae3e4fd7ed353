"""kompass.cases.services.find_by_number: other apps (the contract register) find a visible case by its number."""

import pytest

from kompass.cases.services import find_by_number

pytestmark = pytest.mark.django_db


def test_a_case_is_found_by_its_number_only_by_those_who_see_it(cast, make_case, sent):
    case = make_case()
    assert find_by_number(f"  {case.number.lower()} ", cast["agreement"]) == case
    assert find_by_number(case.number, cast["requester"]) == case
    assert find_by_number(case.number, cast["vendor"]) is None  # the matrix hides it: same answer as no case
    assert find_by_number("KOM-1999-000001", cast["agreement"]) is None
    assert find_by_number("", cast["agreement"]) is None
