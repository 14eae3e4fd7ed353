import pytest
from django.urls import reverse

from kompass.core.forms import contrast_with_white
from kompass.core.models import Organisation

pytestmark = pytest.mark.django_db


def test_administrator_renames_and_rebrands_the_organisation(client, cast):
    client.force_login(cast["admin"])
    response = client.post(
        reverse("core:organisation_edit"),
        {"name": "Bergen kommune", "short_name": "BK", "it_agency_name": "IT-etaten", "primary_colour": "#004b87"},
    )
    assert response.status_code == 302
    assert Organisation.current().name == "Bergen kommune"
    assert "Bergen kommune" in client.get(reverse("core:home")).content.decode()
    css = client.get(reverse("core:branding_css"))
    assert css["Content-Type"].startswith("text/css")
    assert b"--kp-blue: #004b87" in css.content


def test_low_contrast_colour_is_refused(client, cast):
    client.force_login(cast["admin"])
    before = Organisation.current().primary_colour
    response = client.post(reverse("core:organisation_edit"), {"name": "X kommune", "primary_colour": "#ffff00"})
    assert response.status_code == 400
    assert Organisation.current().primary_colour == before
    assert Organisation.current().name != "X kommune"


def test_contrast_formula():
    assert round(contrast_with_white("#000000"), 1) == 21.0
    assert round(contrast_with_white("#ffffff"), 1) == 1.0
    assert contrast_with_white("#2a2859") > 4.5
