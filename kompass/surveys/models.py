"""Temperature surveys and the agency dialogue.

A template is versioned: once a campaign has used it, its questions never change; a new version is a copy
(``services.new_version``). Results always name the question as it was asked, and a dimension (the stable
``Question.dimension`` key, e.g. ``stability``) ties the versions together in trends.

Anonymity: a :class:`Response` carries agency, role and month, never the invitation or the person (named
templates store the respondent). An :class:`Invitation` knows its recipient only until the campaign closes;
its timestamps are days, not moments, so the order of rows cannot pair an invitation with a response.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from kompass.core.models import AgencyOwnedModel, RestrictedModel
from kompass.core.roles import Role

__all__ = [
    "Action",
    "Answer",
    "Campaign",
    "CommentTag",
    "CommentTagging",
    "FollowUpRule",
    "Invitation",
    "Meeting",
    "MeetingParticipant",
    "Question",
    "Response",
    "ResultCell",
    "SurveyTemplate",
]

#: The roles asked by default (the story's IT main contacts and system owners).
DEFAULT_ROLES = [Role.AGENCY_IT_CONTACT.value, Role.SYSTEM_OWNER.value]


def default_roles() -> list[str]:
    return list(DEFAULT_ROLES)


def default_scale_labels() -> dict:
    return {"1": "Svært dårlig", "2": "Dårlig", "3": "Middels", "4": "God", "5": "Svært god"}


class SurveyTemplate(RestrictedModel):
    """A questionnaire, one version of it. Frozen once a campaign used it."""

    name = models.CharField(_("name"), max_length=200)
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    previous = models.ForeignKey(
        "self", verbose_name=_("previous version"), on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    anonymous = models.BooleanField(_("anonymous"), default=True)
    min_group_size = models.PositiveSmallIntegerField(_("smallest group shown"), default=5)
    scale_min = models.PositiveSmallIntegerField(_("scale from"), default=1)
    scale_max = models.PositiveSmallIntegerField(_("scale to"), default=5)
    #: ``{"1": "Svært dårlig", ..., "5": "Svært god"}``: the label of each point of the scale.
    scale_labels = models.JSONField(_("scale labels"), default=default_scale_labels)
    dont_know = models.BooleanField(_('offers "don\'t know"'), default=True)
    #: Roles asked (``Role`` values).
    roles = models.JSONField(_("roles asked"), default=default_roles)
    days_open = models.PositiveSmallIntegerField(_("days open"), default=14)
    remind_after_days = models.PositiveSmallIntegerField(_("remind after days"), default=7)
    #: Opened by the scheduler on the first working day of every month.
    monthly = models.BooleanField(_("monthly"), default=False)
    frozen = models.BooleanField(_("frozen"), default=False, editable=False)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("survey template")
        verbose_name_plural = _("survey templates")
        ordering = ["name", "-version"]
        constraints = [
            models.UniqueConstraint(fields=["name", "version"], name="surveys_template_version_unique"),
            models.CheckConstraint(condition=models.Q(scale_max__gt=models.F("scale_min")), name="surveys_scale_order"),
            models.CheckConstraint(condition=models.Q(min_group_size__gte=1), name="surveys_min_group_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.name} (v{self.version})"

    def get_absolute_url(self) -> str:
        return reverse("surveys:template_detail", args=[self.pk])

    @property
    def minimum(self) -> int:
        """The smallest group whose results are shown: the template's rule when anonymous, 1 when named."""
        return self.min_group_size if self.anonymous else 1

    def scale(self) -> list[tuple[int, str]]:
        return [(v, self.scale_labels.get(str(v), str(v))) for v in range(self.scale_min, self.scale_max + 1)]


class Question(RestrictedModel):
    class Kind(models.TextChoices):
        RATING = "rating", _("Rating")
        CHOICE = "choice", _("Choice")
        TEXT = "text", _("Free text")

    template = models.ForeignKey(SurveyTemplate, on_delete=models.CASCADE, related_name="questions")
    position = models.PositiveSmallIntegerField(_("position"))
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    #: A stable key across versions (``stability``, ``resolution_time``, ``follow_up``); blank for others.
    dimension = models.SlugField(_("dimension"), max_length=40, blank=True)
    text = models.CharField(_("question"), max_length=300)
    help_text = models.CharField(_("help text"), max_length=300, blank=True)
    choices = models.JSONField(_("choices"), default=list, blank=True)
    allow_comment = models.BooleanField(_("comment allowed"), default=False)
    required = models.BooleanField(_("required"), default=False)
    #: The "temperature" the agencies hoped for, on the template's scale.
    expected_level = models.DecimalField(_("expected level"), max_digits=4, decimal_places=2, null=True, blank=True)

    class Meta:
        verbose_name = _("question")
        verbose_name_plural = _("questions")
        ordering = ["template", "position"]
        constraints = [models.UniqueConstraint(fields=["template", "position"], name="surveys_question_position")]

    def __str__(self) -> str:
        return self.text


class Campaign(RestrictedModel):
    """One round of a template: the month it measures, when it opens and closes."""

    class Status(models.TextChoices):
        DRAFT = "draft", _("Draft")
        OPEN = "open", pgettext_lazy("survey campaign", "Open")
        CLOSED = "closed", pgettext_lazy("survey campaign", "Closed")

    template = models.ForeignKey(SurveyTemplate, on_delete=models.PROTECT, related_name="campaigns")
    title = models.CharField(_("title"), max_length=200)
    #: The first day of the month measured.
    period = models.DateField(_("month"))
    opens_on = models.DateField(_("opens"))
    closes_on = models.DateField(_("closes"))
    status = models.CharField(_("status"), max_length=10, choices=Status.choices, default=Status.DRAFT)
    scheduled = models.BooleanField(_("opened by the schedule"), default=False, editable=False)
    invited = models.PositiveIntegerField(_("invited"), default=0, editable=False)
    answered = models.PositiveIntegerField(_("answered"), default=0, editable=False)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("campaign")
        verbose_name_plural = _("campaigns")
        ordering = ["-period", "-pk"]
        indexes = [models.Index(fields=["status", "closes_on"], name="surveys_campaign_status_idx")]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("surveys:campaign_detail", args=[self.pk])


class Invitation(AgencyOwnedModel):
    """One recipient's personal link: only its SHA-256 is stored. ``recipient`` is cleared when the campaign
    closes (anonymous or not), and ``draft`` (saved progress) when the answer is submitted."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="invitations")
    role = models.CharField(_("role"), max_length=40, choices=Role.choices)
    recipient = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    token_hash = models.CharField(max_length=64, unique=True, null=True, blank=True)
    draft = models.JSONField(default=dict, blank=True)
    invited_on = models.DateField(null=True, blank=True)
    reminded_on = models.DateField(null=True, blank=True)
    answered = models.BooleanField(default=False)

    class Meta:
        verbose_name = _("invitation")
        verbose_name_plural = _("invitations")
        indexes = [models.Index(fields=["campaign", "answered"], name="surveys_invitation_open_idx")]


class Response(AgencyOwnedModel):
    """One submitted answer sheet: agency, role and month; the respondent only on a named template."""

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="responses")
    role = models.CharField(_("role"), max_length=40, choices=Role.choices)
    respondent = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    submitted_on = models.DateField(_("submitted"))

    class Meta:
        verbose_name = _("response")
        verbose_name_plural = _("responses")


class Answer(RestrictedModel):
    """One answer; a rating keeps its raw value with the scale it was given on."""

    response = models.ForeignKey(Response, on_delete=models.CASCADE, related_name="answers")
    question = models.ForeignKey(Question, on_delete=models.PROTECT, related_name="answers")
    value = models.PositiveSmallIntegerField(null=True, blank=True)
    scale_min = models.PositiveSmallIntegerField(null=True, blank=True)
    scale_max = models.PositiveSmallIntegerField(null=True, blank=True)
    dont_know = models.BooleanField(default=False)
    choice = models.CharField(max_length=200, blank=True)
    text = models.TextField(blank=True)
    comment = models.TextField(blank=True)

    agency_field = "response__agency"

    class Meta:
        verbose_name = _("answer")
        verbose_name_plural = _("answers")


class ResultCell(AgencyOwnedModel):
    """The aggregate of one rating question for one agency, role and month, kept up to date on submission.

    Result pages, exports and the API read these rows (never single answers), and
    ``services.suppress`` hides the small ones and those whose difference would reveal a small one.
    """

    campaign = models.ForeignKey(Campaign, on_delete=models.CASCADE, related_name="cells")
    question = models.ForeignKey(Question, on_delete=models.CASCADE, related_name="cells")
    period = models.DateField()
    dimension = models.SlugField(max_length=40)
    role = models.CharField(max_length=40, choices=Role.choices)
    n = models.PositiveIntegerField(default=0)
    total = models.PositiveIntegerField(default=0)
    dont_know = models.PositiveIntegerField(default=0)
    #: ``{"1": 3, "2": 0, ...}``: how many gave each value.
    distribution = models.JSONField(default=dict)
    scale_min = models.PositiveSmallIntegerField()
    scale_max = models.PositiveSmallIntegerField()

    class Meta:
        verbose_name = _("result cell")
        verbose_name_plural = _("result cells")
        constraints = [
            models.UniqueConstraint(fields=["campaign", "question", "agency", "role"], name="surveys_cell_unique")
        ]
        indexes = [models.Index(fields=["dimension", "period"], name="surveys_cell_dim_period_idx")]


class FollowUpRule(RestrictedModel):
    """A dimension below ``threshold``, or dropping more than ``drop`` since last month, opens an action."""

    class Kind(models.TextChoices):
        BELOW = "below", _("Below a threshold")
        DROP = "drop", _("Drop since last month")

    name = models.CharField(_("name"), max_length=200)
    dimension = models.SlugField(_("dimension"), max_length=40)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices)
    value = models.DecimalField(_("value"), max_digits=4, decimal_places=2)
    due_days = models.PositiveSmallIntegerField(_("days to act"), default=30)
    active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("follow-up rule")
        verbose_name_plural = _("follow-up rules")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("surveys:rule_list")


class CommentTag(RestrictedModel):
    """A label for free-text comments ("leverandør", "kommunikasjon"), set by those who read the results."""

    name = models.CharField(_("name"), max_length=80, unique=True)

    class Meta:
        verbose_name = _("comment tag")
        verbose_name_plural = _("comment tags")
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name

    def get_absolute_url(self) -> str:
        return reverse("surveys:tag_list")


class CommentTagging(AgencyOwnedModel):
    """A tag on a comment of an agency-month. The comment is named by its text's SHA-256, never by its answer
    row (so tagging neither needs nor reveals which response wrote it); equal texts of a month share tags."""

    period = models.DateField()
    digest = models.CharField(max_length=64)
    tag = models.ForeignKey(CommentTag, on_delete=models.CASCADE, related_name="taggings")

    class Meta:
        verbose_name = _("comment tagging")
        verbose_name_plural = _("comment taggings")
        constraints = [
            models.UniqueConstraint(fields=["agency", "period", "digest", "tag"], name="surveys_tagging_unique")
        ]
        indexes = [models.Index(fields=["period", "tag"], name="surveys_tagging_period_idx")]


class Meeting(RestrictedModel):
    """A dialogue meeting: one to one with an agency, or an event for many (the breakfast meeting)."""

    class Kind(models.TextChoices):
        ONE_TO_ONE = "one_to_one", _("One to one")
        EVENT = "event", _("Event")

    kind = models.CharField(_("kind"), max_length=12, choices=Kind.choices, default=Kind.ONE_TO_ONE)
    title = models.CharField(_("title"), max_length=200)
    starts_at = models.DateTimeField(_("starts"))
    location = models.CharField(_("location"), max_length=200, blank=True)
    agencies = models.ManyToManyField("core.Agency", verbose_name=_("agencies"), related_name="survey_meetings")
    agenda = models.TextField(_("agenda"), blank=True)
    notes = models.TextField(_("notes"), blank=True)
    decisions = models.TextField(_("decisions"), blank=True)
    organiser = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("organiser"), on_delete=models.SET_NULL, null=True, related_name="+"
    )
    #: The survey month discussed (its results are linked from the meeting page).
    period = models.DateField(_("survey month discussed"), null=True, blank=True)
    #: Case numbers discussed (``KOM-2026-12``), one per line.
    case_numbers = models.TextField(_("cases discussed"), blank=True)

    agency_field = "agencies"

    class Meta:
        verbose_name = _("meeting")
        verbose_name_plural = _("meetings")
        ordering = ["-starts_at"]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("surveys:meeting_detail", args=[self.pk])


class MeetingParticipant(RestrictedModel):
    class Attendance(models.TextChoices):
        INVITED = "invited", _("Invited")
        ACCEPTED = "accepted", _("Accepted")
        DECLINED = "declined", _("Declined")
        ATTENDED = "attended", _("Attended")
        ABSENT = "absent", _("Absent")

    meeting = models.ForeignKey(Meeting, on_delete=models.CASCADE, related_name="participants")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    attendance = models.CharField(
        _("attendance"), max_length=10, choices=Attendance.choices, default=Attendance.INVITED
    )

    agency_field = "meeting__agencies"

    class Meta:
        verbose_name = _("participant")
        verbose_name_plural = _("participants")
        constraints = [models.UniqueConstraint(fields=["meeting", "user"], name="surveys_participant_unique")]

    def __str__(self) -> str:
        return str(self.user)


class Action(AgencyOwnedModel):
    """A follow-up action: from a rule, a meeting or by hand; closed with a note."""

    class Status(models.TextChoices):
        OPEN = "open", pgettext_lazy("follow-up action", "Open")
        IN_PROGRESS = "in_progress", _("In progress")
        DONE = "done", pgettext_lazy("follow-up action", "Done")

    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.PROTECT, related_name="+"
    )
    due_on = models.DateField(_("due"))
    status = models.CharField(_("status"), max_length=12, choices=Status.choices, default=Status.OPEN)
    closing_note = models.TextField(_("closing note"), blank=True)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True, editable=False)
    rule = models.ForeignKey(FollowUpRule, on_delete=models.SET_NULL, null=True, blank=True, related_name="actions")
    period = models.DateField(_("survey month"), null=True, blank=True)
    meeting = models.ForeignKey(
        Meeting, verbose_name=_("meeting"), on_delete=models.SET_NULL, null=True, blank=True, related_name="actions"
    )
    overdue_notified = models.BooleanField(default=False, editable=False)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("action")
        verbose_name_plural = _("actions")
        ordering = ["due_on", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["rule", "agency", "period"],
                condition=models.Q(rule__isnull=False),
                name="surveys_action_once_per_rule_month",
            )
        ]

    def __str__(self) -> str:
        return self.title

    def get_absolute_url(self) -> str:
        return reverse("surveys:action_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.status != self.Status.DONE
