"""Schemathesis hooks for the API schema test (``kompass/core/tests/test_api_schema.py``), which loads this
module into ``st run`` through ``SCHEMATHESIS_HOOKS``.

The coverage phase enumerates, for every operation, every boundary and every wrong type of every parameter
and body field, once per documented media type (DRF documents JSON, form-encoded and multipart bodies). Most
of its requests test the API's parsing and validation, whose answer cannot depend on the database: a value
of the wrong type (half of all its cases), an unexpected HTTP method, a malformed or unsupported content type,
and every form-encoded or multipart body. ``KOMPASS_SCHEMATHESIS_COVERAGE_SPLIT`` (``all``, ``none`` or
``i/n``, ``kompass.testing.split``) says which of those this run sends; CI's two runs send half each. The
rest (JSON and bodiless cases: valid values, boundaries, lengths, formats, enums, missing and unexpected
properties) run on every database. The fuzzing and stateful phases are not filtered.
"""

import os

import schemathesis

from kompass.testing.split import in_share

JSON = "application/json"
#: Coverage scenarios answered by parsing and validation alone.
DATABASE_INDEPENDENT_SCENARIOS = frozenset(
    {"incorrect_type", "unspecified_http_method", "malformed_content_type", "unsupported_content_type"}
)


def split_key(case) -> str | None:
    """The key by which a coverage case is split between runs, or ``None`` if every run sends it."""
    data = case.meta.phase.data
    scenario = str(getattr(data, "scenario", ""))
    if case.media_type in (None, JSON) and scenario not in DATABASE_INDEPENDENT_SCENARIOS:
        return None
    return f"{case.operation.label} {case.media_type} {scenario} {getattr(data, 'description', '')}"


@schemathesis.hook
def filter_case(context, case):
    meta = case.meta
    if meta is None or str(meta.phase.name) != "coverage":
        return True
    key = split_key(case)
    return key is None or in_share(key, os.environ.get("KOMPASS_SCHEMATHESIS_COVERAGE_SPLIT", "all"))
