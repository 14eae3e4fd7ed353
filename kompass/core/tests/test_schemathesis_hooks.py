"""The hook that splits the schemathesis coverage phase's database-independent cases between CI's two runs."""

from types import SimpleNamespace

import pytest

from kompass.testing.schemathesis_hooks import filter_case

LABELS = [f"{method} /api/thing-{n}/" for method in ("GET", "POST", "PUT", "PATCH") for n in range(30)]
JSON, FORMS = "application/json", ("application/x-www-form-urlencoded", "multipart/form-data")
#: Answered by parsing and validation alone: split between the runs.
SPLIT = ["incorrect_type", "unspecified_http_method", "malformed_content_type", "unsupported_content_type"]
#: Boundaries, lengths, formats, enums, missing or unexpected properties, valid values: on every run.
EVERY_RUN = ["string_above_max_length", "value_above_maximum", "maximum_length_string", "valid_object", "enum_value"]


def case(label, media_type, scenario, phase="coverage", description="name: something"):
    data = SimpleNamespace(scenario=scenario, description=description)
    return SimpleNamespace(
        operation=SimpleNamespace(label=label),
        media_type=media_type,
        meta=SimpleNamespace(phase=SimpleNamespace(name=phase, data=data)),
    )


@pytest.fixture
def share(monkeypatch):
    def _set(value):
        monkeypatch.setenv("KOMPASS_SCHEMATHESIS_COVERAGE_SPLIT", value)

    return _set


@pytest.mark.parametrize("value", ["1/2", "2/2", "none"])
def test_json_and_bodiless_cases_that_can_reach_the_database_run_on_every_run(share, value):
    share(value)
    assert all(
        filter_case(None, case(label, media, scenario))
        for label in LABELS
        for media in (JSON, None)
        for scenario in EVERY_RUN
    )


@pytest.mark.parametrize("phase", ["fuzzing", "stateful", "examples"])
def test_other_phases_are_never_filtered(share, phase):
    share("none")
    assert all(filter_case(None, case(label, media, "incorrect_type", phase)) for label in LABELS for media in FORMS)
    assert filter_case(None, SimpleNamespace(meta=None, media_type=FORMS[0]))


def every_split_case():
    yield from ((label, media, scenario) for label in LABELS for media in (JSON, None) for scenario in SPLIT)
    yield from ((label, media, scenario) for label in LABELS for media in FORMS for scenario in SPLIT + EVERY_RUN)


def test_the_two_runs_send_each_database_independent_case_once(share):
    kept = []
    for value in ("1/2", "2/2"):
        share(value)
        kept.append({key for key in every_split_case() if filter_case(None, case(*key))})
    everything = set(every_split_case())
    assert kept[0] | kept[1] == everything
    assert not kept[0] & kept[1]
    assert 0.35 < len(kept[0]) / len(everything) < 0.65


def test_unset_sends_everything(monkeypatch):
    monkeypatch.delenv("KOMPASS_SCHEMATHESIS_COVERAGE_SPLIT", raising=False)
    assert all(filter_case(None, case(*key)) for key in every_split_case())
