"""The shared import forms and template includes: mapping chosen by a person, the preview rendered."""

import pytest
from django.template.loader import render_to_string
from django.utils import translation

from kompass.core.imports import build_preview
from kompass.core.imports.forms import ApplyForm, MappingForm, UploadForm
from kompass.core.imports.testing import make_xlsx
from kompass.core.tests.test_imports_validate import HEADER, SPEC


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


def preview_of(rows, context=None):
    return build_preview(make_xlsx(rows), "krav.xlsx", SPEC, context)


def test_the_mapping_form_offers_each_header_column_and_returns_a_mapping():
    preview = preview_of([["Tittel"], ["Nr", "Kravtekst", "Merknad"], ["1.1", "a", "x"]])
    form = MappingForm(preview=preview, spec=SPEC, sheets=["Krav", "Gammel"])
    assert list(form.fields) == ["sheet", "column_1", "column_2", "column_3"]
    assert form.fields["column_2"].label == "B: Kravtekst" and form.fields["column_2"].initial == "text"

    form = MappingForm(
        {"sheet": "Krav", "column_1": "ref", "column_2": "text", "column_3": ""}, preview=preview, spec=SPEC
    )
    assert form.is_valid(), form.errors
    mapping = form.mapping()
    assert (mapping.columns, mapping.header_row) == ({"Nr": "ref", "Kravtekst": "text"}, 2)
    again = build_preview(preview.data, "krav.xlsx", SPEC, None, mapping)
    assert again.ok and [r.key for r in again.rows] == ["1.1"]


def test_the_mapping_form_refuses_one_field_for_two_columns():
    preview = preview_of([["Nr", "Kravtekst"], ["1.1", "a"]])
    form = MappingForm({"column_1": "text", "column_2": "text"}, preview=preview, spec=SPEC)
    assert not form.is_valid()
    assert form.non_field_errors() == ["“Text” is chosen for more than one column."]


def test_the_preview_include_shows_errors_warnings_and_the_diff():
    existing = {"1.2": {"ref": "1.2", "text": "gammel", "chapter": ""}, "9.9": {"ref": "9.9", "text": "borte"}}
    preview = preview_of([HEADER, [1.1, "a"], ["1.2", "ny"], ["1.3", "c", "Ukjent"]], {"existing": existing})
    html = render_to_string(
        "core/imports/preview.html",
        {
            "preview": preview,
            "apply_form": ApplyForm(initial={"fingerprint": preview.fingerprint}),
            "apply_action": "/x",
        },
    )
    assert 'data-testid="import-errors"' in html and "Unknown status" in html
    assert 'data-testid="import-warnings"' in html and "Excel stored the ID 1.1" in html
    assert "gammel" in html and "ny" in html and "9.9" in html
    assert 'data-testid="import-apply"' not in html  # errors: nothing to apply

    ok = preview_of([HEADER, ["1.2", "ny"]], {"existing": existing})
    html = render_to_string(
        "core/imports/preview.html",
        {"preview": ok, "apply_form": ApplyForm(initial={"fingerprint": ok.fingerprint}), "apply_action": "/x"},
    )
    assert 'data-testid="import-apply"' in html and ok.fingerprint in html
    assert "accept_warnings" not in html


def test_the_upload_and_mapping_includes_render():
    preview = preview_of([["Nr", "Kravtekst"], ["1.1", "a"]])
    html = render_to_string("core/imports/upload.html", {"upload_form": UploadForm(), "action": "/u"})
    assert 'type="file"' in html and 'accept=".xlsx,.xlsm,.csv,.txt"' in html
    html = render_to_string(
        "core/imports/mapping.html", {"mapping_form": MappingForm(preview=preview, spec=SPEC), "action": "/m"}
    )
    assert "row 1" in html and "B: Kravtekst" in html
