from kompass.core.forms import AgencyForm


def test_punkt_classes_are_added_once_even_after_cleaning(db):
    form = AgencyForm({"name": "", "short_code": "x"}, user=None)
    assert not form.is_valid()
    assert form.fields["name"].widget.attrs["class"] == "pkt-input"
    assert form.fields["name"].widget.attrs["aria-invalid"] == "true"
    assert 'class="pkt-input"' in str(form["short_code"])
