"""The surveys demo: twelve months with a visible dip and recovery, actions and meetings; a rerun adds nothing."""

import datetime as dt

import pytest

from kompass.surveys import services
from kompass.surveys.demo import add_surveys_demo
from kompass.surveys.models import Action, Campaign, CommentTagging, Meeting, Response

pytestmark = pytest.mark.django_db


def test_the_demo_dips_and_recovers_and_a_rerun_changes_nothing(cast, agencies):
    add_surveys_demo(None, seed=7)
    counts = (
        Campaign.objects.count(),
        Response.objects.count(),
        Action.objects.count(),
        Meeting.objects.count(),
        CommentTagging.objects.count(),
    )
    assert counts[0] == 12 and counts[1] > 200 and counts[3] >= 1 and counts[4] > 0
    figures = services.grid("resolution_time", dt.date(2025, 12, 1), dt.date(2026, 11, 1))
    mean = {m: f.mean for m, f in figures.average.items()}
    assert mean[dt.date(2026, 6, 1)] < mean[dt.date(2026, 2, 1)] - 0.8  # the broken vendor link
    assert mean[dt.date(2026, 10, 1)] > mean[dt.date(2026, 6, 1)] + 0.8  # and the recovery
    add_surveys_demo(None, seed=7)
    assert (
        Campaign.objects.count(),
        Response.objects.count(),
        Action.objects.count(),
        Meeting.objects.count(),
        CommentTagging.objects.count(),
    ) == counts
