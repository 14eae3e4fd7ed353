"""Cases, their conversation (public replies and internal notes), attachments and change rows.

Every change goes through :mod:`kompass.cases.services`; these models hold state and answer questions about
it. Public replies and internal notes are separate models on purpose: a note is reachable only through
``Note.objects.restrict(...)``, whose policy names no agency role, so no page, endpoint or e-mail built on the
restricted managers can show one to a requester or an agency role.
"""

from django.conf import settings
from django.core.exceptions import FieldDoesNotExist
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from kompass.core import access
from kompass.core.models import AgencyOwnedModel, RestrictedModel
from kompass.core.querysets import RestrictedQuerySet

__all__ = [
    "Attachment",
    "Case",
    "CaseChange",
    "CaseCounter",
    "CaseSearch",
    "IntakeRecord",
    "Note",
    "Origin",
    "Reply",
    "SavedFilter",
]


class CaseCounter(models.Model):
    """The last case number used in one year (``KOM-<year>-<n>``), bumped by ``UPDATE … SET last = last + 1``.

    The UPDATE locks the row until the creating transaction commits, so concurrent creations on PostgreSQL
    queue behind each other and never share a number; SQLite serialises writers anyway.
    """

    year = models.PositiveIntegerField(primary_key=True)
    last = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("case counter")
        verbose_name_plural = _("case counters")

    def __str__(self) -> str:
        return f"{self.year}: {self.last}"


class Origin(models.TextChoices):
    """Who or what made a change: stored on each :class:`CaseChange` and sent with ``case_changed``."""

    USER = "user", _("User")
    EMAIL = "email", _("E-mail")
    VENDOR = "vendor", _("Vendor link")
    SYSTEM = "system", _("System")


class CaseQuerySet(RestrictedQuerySet):
    """Cases restricted in the shape PostgreSQL plans well at a million rows.

    The matrix's condition for an agency contact is "their agency's cases, or those they requested or watch".
    The watchers are many-valued, so the generic ``restrict`` wraps the whole condition in
    ``id IN (SELECT … LEFT JOIN watchers WHERE agency OR requester OR watcher)``: a semi-join PostgreSQL
    checks case by case (40 ms, 9 ms of planning, for a common word's page of one agency's 187,000 cases).
    Here only the terms that cross a many-valued relation go into a subquery (``agency_id IN (…) OR
    requester_id = … OR id IN (SELECT case_id FROM watchers …)``: 7 ms). The rows are the same: a term on the
    case's own columns does not depend on the join."""

    def restrict(self, user, action: str = "view") -> "CaseQuerySet":
        condition = access.restrict_q(user, action, self.model)
        if condition is None:
            return self.all()
        terms = _or_terms(condition)
        if terms is None or not any(_crosses_many(self.model, lookup) for lookup, _value in terms):
            return super().restrict(user, action)
        flat = models.Q()
        for lookup, value in terms:
            term = models.Q(**{lookup: value})
            if _crosses_many(self.model, lookup):
                term = models.Q(pk__in=self.model._default_manager.filter(term).values("pk"))
            flat |= term
        return self.filter(flat)


def _or_terms(condition: models.Q) -> list[tuple[str, object]] | None:
    """The ``(lookup, value)`` leaves of an OR of plain lookups; ``None`` for any other shape (AND, NOT)."""
    if condition.negated or (condition.connector != models.Q.OR and len(condition.children) > 1):
        return None
    terms = []
    for child in condition.children:
        if isinstance(child, models.Q):
            inner = _or_terms(child)
            if inner is None:
                return None
            terms.extend(inner)
        else:
            terms.append(child)
    return terms


def _crosses_many(model, lookup: str) -> bool:
    for name in lookup.split("__"):
        try:
            field = model._meta.get_field(name)
        except FieldDoesNotExist:
            return False  # a lookup (``in``, ``exact``) or an attname: the path ended
        if field.many_to_many or field.one_to_many:
            return True
        model = field.related_model
        if model is None:
            return False
    return False


class Case(AgencyOwnedModel):
    """An incident, service request or question from an agency, with its SLA clocks."""

    objects = CaseQuerySet.as_manager()

    class Type(models.TextChoices):
        INCIDENT = "incident", _("Incident")
        REQUEST = "request", _("Service request")
        QUESTION = "question", _("Question")

    class State(models.TextChoices):
        NEW = "new", _("New")
        IN_PROGRESS = "in_progress", _("In progress")
        WAITING_FOR_REQUESTER = "waiting_requester", _("Waiting for requester")
        WAITING_FOR_VENDOR = "waiting_vendor", _("Waiting for vendor")
        RESOLVED = "resolved", _("Resolved")
        CLOSED = "closed", _("Closed")
        CANCELLED = "cancelled", _("Cancelled")

    class Source(models.TextChoices):
        PORTAL = "portal", _("Portal")
        AGENT = "agent", _("Agent")
        EMAIL = "email", _("E-mail")
        API = "api", _("API")
        VENDOR = "vendor", _("Vendor")

    class SlaState(models.TextChoices):
        """The worst of the two clocks, for filtering and sorting the queue."""

        OK = "ok", _("On time")
        WARNING = "warning", _("Warning")
        BREACHED = "breached", _("Breached")
        PAUSED = "paused", _("Paused")
        MET = "met", _("Met")
        STOPPED = "stopped", _("Stopped")

    LEVELS = [(1, _("1 – High")), (2, _("2 – Medium")), (3, _("3 – Low"))]
    PRIORITIES = [(1, _("1 – Critical")), (2, _("2 – High")), (3, _("3 – Normal")), (4, _("4 – Low"))]
    OPEN_STATES = (State.NEW, State.IN_PROGRESS, State.WAITING_FOR_REQUESTER, State.WAITING_FOR_VENDOR)

    number = models.CharField(_("number"), max_length=20, unique=True, editable=False)
    type = models.CharField(_("type"), max_length=10, choices=Type.choices, default=Type.INCIDENT)
    requester = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("requester"), on_delete=models.PROTECT, related_name="cases_requested"
    )
    watchers = models.ManyToManyField(
        settings.AUTH_USER_MODEL, verbose_name=_("watchers"), blank=True, related_name="cases_watched"
    )
    service = models.ForeignKey(
        "core.Service", verbose_name=_("service"), on_delete=models.PROTECT, related_name="cases"
    )
    system = models.ForeignKey(
        "core.System", verbose_name=_("system"), on_delete=models.PROTECT, null=True, blank=True, related_name="cases"
    )
    title = models.CharField(_("title"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    impact = models.PositiveSmallIntegerField(_("impact"), choices=LEVELS, default=3)
    urgency = models.PositiveSmallIntegerField(_("urgency"), choices=LEVELS, default=3)
    priority = models.PositiveSmallIntegerField(_("priority"), choices=PRIORITIES, default=4, editable=False)
    category = models.CharField(_("category"), max_length=100, blank=True)
    team = models.CharField(_("team"), max_length=100, blank=True)
    assignee = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("assignee"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="cases_assigned",
    )
    source = models.CharField(_("source"), max_length=10, choices=Source.choices, default=Source.PORTAL)
    state = models.CharField(_("state"), max_length=20, choices=State.choices, default=State.NEW, editable=False)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("major incident"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="children",
    )
    duplicate_of = models.ForeignKey(
        "self",
        verbose_name=_("duplicate of"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="duplicates",
    )
    #: The Message-ID of the e-mail that opened the case (unique: a message opens at most one case).
    source_message_id = models.CharField(max_length=500, null=True, blank=True, unique=True, editable=False)

    created = models.DateTimeField(_("created"), editable=False, db_index=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)
    responded_at = models.DateTimeField(_("responded"), null=True, blank=True, editable=False)
    resolved_at = models.DateTimeField(_("resolved"), null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(_("closed"), null=True, blank=True, editable=False)
    resolution = models.TextField(_("resolution"), blank=True)

    # SLA: the clocks' events (kompass.cases.sla) and the fields the queue filters, sorts and reports on.
    sla_response = models.JSONField(default=dict, editable=False)
    sla_resolution = models.JSONField(default=dict, editable=False)
    #: Clocks of earlier rounds (a reopened case starts a new resolution clock).
    sla_history = models.JSONField(default=list, editable=False)
    response_due = models.DateTimeField(_("response due"), null=True, blank=True, editable=False)
    response_breached = models.BooleanField(_("response breached"), default=False, editable=False)
    response_breached_at = models.DateTimeField(null=True, blank=True, editable=False)
    resolution_due = models.DateTimeField(_("resolution due"), null=True, blank=True, editable=False, db_index=True)
    resolution_warning = models.BooleanField(_("resolution warning"), default=False, editable=False)
    resolution_breached = models.BooleanField(_("resolution breached"), default=False, editable=False)
    resolution_breached_at = models.DateTimeField(null=True, blank=True, editable=False)
    sla_state = models.CharField(
        _("SLA state"), max_length=10, choices=SlaState.choices, default=SlaState.OK, editable=False
    )
    #: When a flag flips next if nothing happens: the refresh job picks the cases whose time has come.
    sla_next_check = models.DateTimeField(null=True, blank=True, editable=False, db_index=True)

    rating = models.PositiveSmallIntegerField(
        _("rating"), null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)], editable=False
    )
    rating_comment = models.TextField(_("rating comment"), blank=True, editable=False)
    rated_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        verbose_name = _("case")
        verbose_name_plural = _("cases")
        ordering = ["-created"]
        indexes = [
            models.Index(fields=["agency", "state", "priority", "resolution_due"], name="cases_queue_idx"),
            models.Index(fields=["state", "resolution_due"], name="cases_state_due_idx"),
        ]
        constraints = [
            models.CheckConstraint(condition=models.Q(priority__gte=1, priority__lte=4), name="cases_priority_1_4"),
            models.CheckConstraint(
                condition=models.Q(rating__isnull=True) | models.Q(rating__gte=1, rating__lte=5),
                name="cases_rating_1_5",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.number} {self.title}"

    def get_absolute_url(self) -> str:
        return reverse("cases:case_detail", args=[self.pk])

    @property
    def is_open(self) -> bool:
        return self.state in self.OPEN_STATES


class _Entry(RestrictedModel):
    """What a reply and a note share: the case, the author and the text."""

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="%(class)ss")
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("author"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    #: Shown when there is no author (the vendor's agent, the system).
    author_name = models.CharField(_("author name"), max_length=200, blank=True)
    text = models.TextField(_("text"))
    origin = models.CharField(_("origin"), max_length=10, choices=Origin.choices, default=Origin.USER)
    created = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)

    agency_field = "case__agency"

    class Meta:
        abstract = True
        ordering = ["created", "pk"]

    def __str__(self) -> str:
        return f"{self.case.number}: {self.text[:40]}"

    @property
    def author_label(self) -> str:
        return str(self.author) if self.author else self.author_name


class Reply(_Entry):
    """A public reply: the requester, watchers and the agency see it, and it is e-mailed."""

    #: The Message-ID of the e-mail it came from (unique: a message is posted at most once).
    source_message_id = models.CharField(max_length=500, null=True, blank=True, unique=True)
    #: The whole message as received, when the reply came by e-mail (``text`` is the new part only).
    full_text = models.TextField(blank=True)

    class Meta(_Entry.Meta):
        verbose_name = _("public reply")
        verbose_name_plural = _("public replies")


class Note(_Entry):
    """An internal note: service desk and agreement managers only (see ``cases/access.py``).

    ``share_with_vendor``: the note also goes to the vendor's work notes when the case is bonded to a vendor
    (``kompass.vendors``); it stays internal on the Kompass side either way.
    """

    share_with_vendor = models.BooleanField(_("share with vendor"), default=False)

    class Meta(_Entry.Meta):
        verbose_name = _("internal note")
        verbose_name_plural = _("internal notes")


def _attachment_path(instance, filename: str) -> str:
    return f"cases/{instance.case_id}/{instance.sha256[:16]}/{filename}"


class Attachment(RestrictedModel):
    """A file on a case or on one of its public replies, checked on its content (see ``attachments.py``)."""

    class Scan(models.TextChoices):
        PENDING = "pending", _("Not scanned")
        CLEAN = "clean", _("Clean")
        INFECTED = "infected", _("Infected")

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="attachments")
    reply = models.ForeignKey(
        Reply, verbose_name=_("reply"), on_delete=models.CASCADE, null=True, blank=True, related_name="attachments"
    )
    file = models.FileField(_("file"), upload_to=_attachment_path, max_length=500)
    name = models.CharField(_("name"), max_length=255)
    content_type = models.CharField(_("content type"), max_length=100)
    size = models.PositiveIntegerField(_("size"))
    sha256 = models.CharField(max_length=64)
    scan = models.CharField(_("scan"), max_length=10, choices=Scan.choices, default=Scan.PENDING)
    uploaded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    created = models.DateTimeField(_("created"), auto_now_add=True)

    agency_field = "case__agency"

    class Meta:
        verbose_name = _("attachment")
        verbose_name_plural = _("attachments")
        ordering = ["created", "pk"]

    def __str__(self) -> str:
        return self.name


class CaseChange(RestrictedModel):
    """One change made through a service function: what, by whom, from which origin.

    The audit trail (django-auditlog) records the field values; this row says which operation it was and
    where it came from, and is what ``case_changed`` carries. ``detail`` holds no internal note text.
    """

    case = models.ForeignKey(Case, verbose_name=_("case"), on_delete=models.CASCADE, related_name="changes")
    kind = models.CharField(_("kind"), max_length=30)
    origin = models.CharField(_("origin"), max_length=10, choices=Origin.choices)
    #: The vendor link or mailbox the change came through (``origin`` vendor or e-mail), for echo detection.
    origin_ref = models.CharField(max_length=200, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    detail = models.JSONField(default=dict, blank=True)
    #: Whether the change is internal (a note): hidden from requesters and agency roles with the notes.
    internal = models.BooleanField(default=False)
    created = models.DateTimeField(_("created"), auto_now_add=True, db_index=True)

    agency_field = "case__agency"

    class Meta:
        verbose_name = _("case change")
        verbose_name_plural = _("case changes")
        ordering = ["created", "pk"]

    def __str__(self) -> str:
        return f"{self.case_id} {self.kind} ({self.origin})"


# ---------------------------------------------------------------------------------------------
# E-mail intake (kompass.cases.mail): what happened to each inbound message, per mailbox
# ---------------------------------------------------------------------------------------------


class IntakeRecord(models.Model):
    """One inbound e-mail of one mailbox: done (posted, opened a case, refused, ignored) or still failing.

    The intake's durable memory (``kompass.cases.mail.CaseSeenStore``). For a posted reply or an opened case the
    row is written **in the transaction that posts**, so the message counts as processed exactly when its
    effect is committed; a crash before the mailbox is marked finds the row on the next run and posts nothing.
    Refused and ignored messages get their row after the refusal went out. Failed attempts count in
    ``attempts`` (outside any rolled-back transaction).
    """

    mailbox = models.CharField(_("mailbox"), max_length=300)
    message_id = models.CharField(_("message ID"), max_length=500)
    done = models.BooleanField(_("done"), default=False)
    action = models.CharField(_("result"), max_length=20, blank=True)
    reference = models.CharField(_("case number"), max_length=30, blank=True)
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    attempts = models.PositiveIntegerField(_("failed attempts"), default=0)
    last_error = models.TextField(_("last error"), blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)
    updated = models.DateTimeField(_("updated"), auto_now=True)

    class Meta:
        verbose_name = _("e-mail intake record")
        verbose_name_plural = _("e-mail intake records")
        ordering = ["-created", "-pk"]
        constraints = [models.UniqueConstraint(fields=["mailbox", "message_id"], name="cases_intake_once_per_mailbox")]

    def __str__(self) -> str:
        return f"{self.mailbox} {self.message_id}: {self.action or '-'}"


# ---------------------------------------------------------------------------------------------
# The service desk workspace (issue #8, item 8): the search document and saved filters
# ---------------------------------------------------------------------------------------------


class CaseSearch(models.Model):
    """A case's search document, rewritten by ``kompass.cases.search`` inside the transaction of each change.

    ``heading`` (number and title) and ``body`` (description and public replies) are public; ``internal`` holds
    the internal notes and is searched only for those who may see notes. The indexes are not Django fields:
    PostgreSQL has generated ``tsvector`` columns (``norwegian`` and ``simple``) with GIN indexes beside these
    columns, SQLite an FTS5 table (``cases_casesearch_fts``); both are made by migration 0002.
    """

    case = models.OneToOneField(Case, on_delete=models.CASCADE, primary_key=True, related_name="search")
    heading = models.TextField(blank=True)
    body = models.TextField(blank=True)
    internal = models.TextField(blank=True)

    class Meta:
        verbose_name = _("case search document")
        verbose_name_plural = _("case search documents")

    def __str__(self) -> str:
        return self.heading[:60]


class SavedFilter(RestrictedModel):
    """A named query string of the queue, the owner's own or shared with the service desk under a team name."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name=_("owner"), on_delete=models.CASCADE, related_name="saved_case_filters"
    )
    name = models.CharField(_("name"), max_length=100)
    query = models.CharField(_("query"), max_length=2000, blank=True)
    #: Blank: only the owner sees it. A team name: every service desk agent sees it, under that team.
    team = models.CharField(_("shared with team"), max_length=100, blank=True)
    created = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("saved filter")
        verbose_name_plural = _("saved filters")
        ordering = ["team", "name", "pk"]
        constraints = [models.UniqueConstraint(fields=["owner", "name"], name="cases_savedfilter_owner_name")]

    def __str__(self) -> str:
        return self.name
