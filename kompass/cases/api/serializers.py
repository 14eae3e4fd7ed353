"""The cases API's serializers. Writes are validated here and performed by ``kompass.cases.services``."""

from collections.abc import Mapping

from django.db.models import BigIntegerField
from django.db.models.expressions import RawSQL
from rest_framework import serializers
from rest_framework.fields import SkipField
from rest_framework.relations import PKOnlyObject

from kompass.cases.models import Attachment, Case, CaseChange, Note, Reply
from kompass.core import access
from kompass.core.models import Agency, Service, System, User


class CaseSerializer(serializers.ModelSerializer):
    """A case with its SLA fields (read) — and the fields a PATCH may change (title, description, category)."""

    impact = serializers.IntegerField(read_only=True, help_text="1 (high) to 3 (low).")
    urgency = serializers.IntegerField(read_only=True, help_text="1 (high) to 3 (low).")
    priority = serializers.IntegerField(read_only=True, help_text="1 (critical) to 4 (low), from impact × urgency.")

    class Meta:
        model = Case
        fields = [
            "id",
            "number",
            "type",
            "agency",
            "requester",
            "watchers",
            "service",
            "system",
            "title",
            "description",
            "impact",
            "urgency",
            "priority",
            "category",
            "team",
            "assignee",
            "source",
            "state",
            "parent",
            "duplicate_of",
            "created",
            "updated",
            "responded_at",
            "resolved_at",
            "closed_at",
            "resolution",
            "response_due",
            "response_breached",
            "resolution_due",
            "resolution_warning",
            "resolution_breached",
            "resolution_breached_at",
            "sla_state",
            "rating",
            "rating_comment",
        ]
        read_only_fields = [f for f in fields if f not in ("title", "description", "category")]
        extra_kwargs = {"title": {"allow_blank": False, "min_length": 1}}

    def to_representation(self, instance):
        """DRF's own loop, over fields built once per class: ``ModelSerializer`` otherwise rebuilds its 35 fields
        from the model for every instance (a third of a creation's CPU in the API). Input still goes through
        ``self.fields``, built per instance as usual."""
        ret = {}
        for field in self._output_fields():
            try:
                attribute = field.get_attribute(instance)
            except SkipField:
                continue
            check_for_none = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
            ret[field.field_name] = None if check_for_none is None else field.to_representation(attribute)
        return ret

    @classmethod
    def _output_fields(cls) -> list:
        # Read-only use of the shared fields: no per-request state lives on them (the time zone of a date is
        # the request's active one, read at each call), so one list serves every request and thread.
        fields = cls.__dict__.get("_output_fields_cache")
        if fields is None:
            fields = [field for field in cls().fields.values() if not field.write_only]
            cls._output_fields_cache = fields
        return fields


def _restricted(queryset, request, action="view"):
    user = getattr(request, "user", None)
    return queryset.restrict(user, action) if user is not None else queryset.none()


class _LookedUp:
    """A primary-key field that first takes the object its serializer has already read for this input (in
    ``looked_up``, by field name), and only otherwise asks its own queryset as DRF does (same errors)."""

    def to_internal_value(self, data):
        found = getattr(self.parent, "looked_up", {}).get(self.field_name)
        if found is not None and found.pk == _plain_pk(data):
            return found
        return super().to_internal_value(data)


class _Pk(_LookedUp, serializers.PrimaryKeyRelatedField):
    pass


class _ChoiceOf(_LookedUp, serializers.PrimaryKeyRelatedField):
    """A primary key among ``choices(user)`` (nothing without a user), built only when the input names one:
    most creations name no system or agency, and building restricted querysets cost CPU on every request."""

    def __init__(self, model, choices, **kwargs):
        self.choices_for = choices
        super().__init__(queryset=model._default_manager.none(), **kwargs)  # the schema reads its model

    def get_queryset(self):
        user = getattr(self.context.get("request"), "user", None)
        return self.choices_for(user) if user is not None else self.queryset


_MAX_PK = 2**63 - 1

#: Per database: the compiled SQL of the create input's active-service query for one key, and where the key goes
#: among its parameters (compiling that subquery anew for every creation cost more than the query it saves).
_ACTIVE_SERVICE_PK: dict[str, tuple[str, list, int]] = {}
_SENTINEL_PK = -20261203  # never a key: only marks the parameter's place


def _active_service_pk(services, pk: int) -> RawSQL:
    """A scalar subquery: ``pk`` if that service is among ``services`` (the service field's fixed queryset, the
    active services), else NULL."""
    compiled = _ACTIVE_SERVICE_PK.get(services.db)
    if compiled is None:
        inner = services.filter(pk=_SENTINEL_PK).order_by().values("pk")[:1]
        sql, params = inner.query.get_compiler(services.db).as_sql()
        compiled = _ACTIVE_SERVICE_PK[services.db] = (sql, list(params), list(params).index(_SENTINEL_PK))
    sql, params, at = compiled
    # The SQL is Django's own compilation of the queryset; the key goes in as a parameter.
    return RawSQL(sql, [*params[:at], pk, *params[at + 1 :]], output_field=BigIntegerField())  # noqa: S611


def _plain_pk(value) -> int | None:
    """``value`` as a primary key when it is plainly one (an int, or a string of ASCII digits), else ``None``."""
    if type(value) is int:
        number = value
    elif isinstance(value, str) and value.isascii() and value.isdigit():
        number = int(value)
    else:
        return None
    return number if 0 < number <= _MAX_PK else None


def _visible(user, model, *related):
    return model._default_manager.select_related(*related).restrict(user, "view")


class CaseCreateSerializer(serializers.Serializer):
    """A new case. Requester and agency default to the user and their home agency."""

    type = serializers.ChoiceField(choices=Case.Type.choices, default=Case.Type.INCIDENT)
    title = serializers.CharField(max_length=200)
    description = serializers.CharField(required=False, allow_blank=True, default="")
    service = _Pk(queryset=Service.objects.filter(active=True))
    system = _ChoiceOf(System, lambda user: _visible(user, System), required=False, allow_null=True)
    agency = _ChoiceOf(Agency, lambda user: access.agencies_for(user, "create", Case), required=False, allow_null=True)
    requester = _ChoiceOf(User, lambda user: _visible(user, User, "home_agency"), required=False, allow_null=True)
    impact = serializers.IntegerField(min_value=1, max_value=3, default=3)
    urgency = serializers.IntegerField(min_value=1, max_value=3, default=3)
    category = serializers.CharField(max_length=100, required=False, allow_blank=True, default="")

    def validate_title(self, value):
        if not value.strip():
            raise serializers.ValidationError("This field may not be blank.")
        return value

    def to_internal_value(self, data):
        self.looked_up = self._look_up(data)
        return super().to_internal_value(data)

    def _look_up(self, data) -> dict:
        """The requester and the service in one query, when the input names both plainly (the fields' own
        querysets: the requester among the users the user may see, the service among the active ones). The
        service comes with only its key and ``active`` loaded (the rest on first use, as ``.only()`` does): a
        creation reads no more of it. Anything not found here, each field looks up itself, with DRF's errors."""
        user = getattr(self.context.get("request"), "user", None)
        if user is None or not isinstance(data, Mapping):
            return {}
        service_pk, requester_pk = _plain_pk(data.get("service")), _plain_pk(data.get("requester"))
        if service_pk is None or requester_pk is None:
            return {}
        services = self.fields["service"].get_queryset()
        requester = (
            self.fields["requester"]
            .get_queryset()
            .filter(pk=requester_pk)
            .annotate(_service_pk=_active_service_pk(services, service_pk))
            .order_by()[:1]  # one key: no ordering to compile
        )
        requester = next(iter(requester), None)
        if requester is None:
            return {}
        found = {"requester": requester}
        service = requester.__dict__.pop("_service_pk")
        if service is not None:
            found["service"] = Service.from_db(services.db, ["id", "active"], [service, True])
        return found


class TransitionSerializer(serializers.Serializer):
    state = serializers.ChoiceField(choices=Case.State.choices)
    resolution = serializers.CharField(required=False, allow_blank=True, default="")
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class AssignSerializer(serializers.Serializer):
    assignee = serializers.PrimaryKeyRelatedField(queryset=User.objects.filter(is_active=True), allow_null=True)
    team = serializers.CharField(required=False, allow_blank=True, max_length=100)


class PrioritySerializer(serializers.Serializer):
    impact = serializers.IntegerField(min_value=1, max_value=3)
    urgency = serializers.IntegerField(min_value=1, max_value=3)


class ReopenSerializer(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, default="", max_length=500)


class RatingSerializer(serializers.Serializer):
    rating = serializers.IntegerField(min_value=1, max_value=5)
    comment = serializers.CharField(required=False, allow_blank=True, default="", max_length=2000)


class LinkSerializer(serializers.Serializer):
    """``case``: the major incident (for ``parent``; null detaches) or the original (for ``duplicate``)."""

    case = serializers.PrimaryKeyRelatedField(queryset=Case.objects.none(), allow_null=True)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["case"].queryset = _restricted(Case.objects.all(), self.context.get("request"))


class _EntrySerializer(serializers.ModelSerializer):
    author = serializers.SerializerMethodField()

    def get_author(self, entry) -> str:
        return entry.author_label


class ReplySerializer(_EntrySerializer):
    text = serializers.CharField(allow_blank=False, trim_whitespace=True)

    class Meta:
        model = Reply
        fields = ["id", "case", "author", "text", "origin", "created"]
        read_only_fields = ["id", "case", "author", "origin", "created"]


class NoteSerializer(_EntrySerializer):
    text = serializers.CharField(allow_blank=False, trim_whitespace=True)

    class Meta:
        model = Note
        fields = ["id", "case", "author", "text", "share_with_vendor", "origin", "created"]
        read_only_fields = ["id", "case", "author", "origin", "created"]


class AttachmentSerializer(serializers.ModelSerializer):
    class Meta:
        model = Attachment
        fields = ["id", "case", "reply", "name", "content_type", "size", "sha256", "scan", "created"]
        read_only_fields = fields


class AttachmentUploadSerializer(serializers.Serializer):
    file = serializers.FileField()


class CaseChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = CaseChange
        fields = ["id", "case", "kind", "origin", "actor", "detail", "created"]
        read_only_fields = fields
