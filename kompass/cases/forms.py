"""The cases pages' forms. They only validate input; the views hand it to ``kompass.cases.services``."""

from django import forms
from django.forms.utils import flatatt
from django.utils.html import format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from kompass.cases.models import Case
from kompass.core import access
from kompass.core.models import Service, System, User
from kompass.core.roles import Role


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    """Several files in one input; each is checked on its content by the service."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("widget", MultipleFileInput(attrs={"class": "pkt-input"}))
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def clean(self, data, initial=None):
        if isinstance(data, list | tuple):
            return [super(MultipleFileField, self).clean(item, initial) for item in data if item]
        return [super().clean(data, initial)] if data else []


class _PythonOptions:
    """A select that writes its options in Python rather than through one template per option (Django's
    default): the queue's filter and bulk forms list every agency, service, system and agent, and rendering
    those options through templates was the largest share of the queue page's time. Same HTML."""

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        attrs = {**widget["attrs"], **({"multiple": True} if self.allow_multiple_selected else {})}
        parts = [format_html('<select name="{}"{}>', widget["name"], flatatt(attrs))]
        for group, options, _index in widget["optgroups"]:
            if group:
                parts.append(format_html('<optgroup label="{}">', group))
            parts.extend(
                format_html(
                    '<option value="{}"{}>{}</option>',
                    option["value"],
                    mark_safe(" selected") if option["selected"] else "",  # noqa: S308  (a constant)
                    option["label"],
                )
                for option in options
            )
            if group:
                parts.append("</optgroup>")
        parts.append("</select>")
        return mark_safe("".join(parts))  # noqa: S308  (every part escaped by format_html)


class ListedChoiceIterator(forms.models.ModelChoiceIterator):
    """A short list's choices in one plain fetch. Django streams them with ``.iterator()``, which on PostgreSQL
    is a server-side cursor (DECLARE … WITH HOLD, FETCH, CLOSE: three round trips per select, five selects on
    the queue page) — meant for long lists, not for the agencies, services and agents of a filter form."""

    def __iter__(self):
        if self.field.empty_label is not None:
            yield ("", self.field.empty_label)
        for obj in self.queryset.all():
            yield self.choice(obj)


class ListedModelChoiceField(forms.ModelChoiceField):
    iterator = ListedChoiceIterator


class FastSelect(_PythonOptions, forms.Select):
    pass


class FastSelectMultiple(_PythonOptions, forms.SelectMultiple):
    pass


def _styled(field, css="pkt-input"):
    field.widget.attrs.setdefault("class", css)
    return field


class CaseForm(forms.Form):
    """Register a case (portal and agents)."""

    service = forms.ModelChoiceField(queryset=Service.objects.filter(active=True), label=_("Service"))
    type = forms.ChoiceField(choices=Case.Type.choices, label=_("Type"), initial=Case.Type.INCIDENT)
    title = forms.CharField(max_length=200, label=_("Title"))
    description = forms.CharField(widget=forms.Textarea(attrs={"rows": 6}), label=_("Description"), required=False)
    system = forms.ModelChoiceField(queryset=System.objects.none(), label=_("System"), required=False)
    impact = forms.TypedChoiceField(choices=Case.LEVELS, coerce=int, initial=3, label=_("Impact"))
    urgency = forms.TypedChoiceField(choices=Case.LEVELS, coerce=int, initial=3, label=_("Urgency"))
    agency = forms.ModelChoiceField(queryset=None, label=_("Agency"), required=False)
    attachments = MultipleFileField(label=_("Attachments"))

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["agency"].queryset = access.agencies_for(user, "create", Case)
        self.fields["system"].queryset = System.objects.restrict(user, "view").filter(active=True)
        if getattr(user, "home_agency_id", None):
            self.fields["agency"].initial = user.home_agency_id
        if not self.fields["system"].queryset.exists():
            del self.fields["system"]
        for name, field in self.fields.items():
            if name != "attachments":
                _styled(field, "pkt-input" if not isinstance(field.widget, forms.Select) else "pkt-input")


class ReplyForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 4, "class": "pkt-input"}), label=_("Public reply"))
    attachments = MultipleFileField(label=_("Attachments"))


class NoteForm(forms.Form):
    text = forms.CharField(widget=forms.Textarea(attrs={"rows": 3, "class": "pkt-input"}), label=_("Internal note"))
    share_with_vendor = forms.BooleanField(
        label=_("Share with vendor"),
        required=False,
        help_text=_(
            "Also sent to the vendor's work notes when the case is with a vendor. Never shown to the requester."
        ),
    )


class TransitionForm(forms.Form):
    state = forms.ChoiceField(choices=Case.State.choices)
    resolution = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "class": "pkt-input"}), label=_("Resolution"), required=False
    )


def assignee_candidates():
    """People holding a role that works cases (the service asks the matrix about the one chosen)."""
    working_roles = [role for role in Role if access.policy_for(Case).scope("work", role).kind != "none"]
    return User.objects.filter(
        is_active=True, role_assignments__role__in=[*working_roles, Role.ADMINISTRATOR]
    ).distinct()


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(queryset=User.objects.none(), label=_("Assignee"), required=False)
    team = forms.CharField(max_length=100, label=_("Team"), required=False)

    def __init__(self, *args, case=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = assignee_candidates()
        for field in self.fields.values():
            _styled(field)


class RatingForm(forms.Form):
    rating = forms.TypedChoiceField(
        choices=[(n, str(n)) for n in range(1, 6)], coerce=int, label=_("Rating (1–5)"), widget=forms.RadioSelect
    )
    comment = forms.CharField(
        widget=forms.Textarea(attrs={"rows": 3, "class": "pkt-input"}), label=_("Comment"), required=False
    )


# ---------------------------------------------------------------------------------------------
# The queue: bulk changes and saved filters
# ---------------------------------------------------------------------------------------------

#: At most this many cases in one bulk change (each is its own transaction through the services).
BULK_LIMIT = 500


class BulkForm(forms.Form):
    """Assign, or move to a state, the cases ticked in the queue (``case`` checkboxes, ``form="bulk"``)."""

    ACTIONS = [("assign", _("Assign")), ("transition", _("Change state"))]

    action = forms.ChoiceField(choices=ACTIONS, label=_("Bulk action"), widget=FastSelect)
    assignee = ListedModelChoiceField(
        queryset=User.objects.none(), label=_("Assignee"), required=False, widget=FastSelect
    )
    team = forms.CharField(max_length=100, label=_("Team"), required=False)
    state = forms.ChoiceField(
        choices=[("", "–"), *Case.State.choices], label=_("New state"), required=False, widget=FastSelect
    )
    resolution = forms.CharField(max_length=2000, label=_("Resolution"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["assignee"].queryset = assignee_candidates()
        for field in self.fields.values():
            _styled(field)

    def clean(self):
        data = super().clean()
        raw = self.data.getlist("case") if hasattr(self.data, "getlist") else []
        try:
            ids = list(dict.fromkeys(int(v) for v in raw))
        except (TypeError, ValueError):
            raise forms.ValidationError(_("The selected cases are not valid.")) from None
        if not ids:
            raise forms.ValidationError(_("Select at least one case."))
        if len(ids) > BULK_LIMIT:
            raise forms.ValidationError(_("Select at most %(limit)s cases at a time.") % {"limit": BULK_LIMIT})
        if any(not 0 < pk < 2**63 for pk in ids):
            raise forms.ValidationError(_("The selected cases are not valid."))
        if data.get("action") == "transition" and not data.get("state"):
            self.add_error("state", _("Choose the new state."))
        if data.get("action") == "assign" and data.get("assignee") is None and not data.get("team"):
            self.add_error("assignee", _("Choose an assignee or a team."))
        data["cases"] = ids
        return data


class SavedFilterForm(forms.Form):
    name = forms.CharField(max_length=100, label=_("Name of the filter"))
    query = forms.CharField(max_length=2000, required=False, widget=forms.HiddenInput)
    team = forms.CharField(max_length=100, required=False, label=_("Share with team (optional)"))

    def clean_query(self):
        from django.http import QueryDict

        query = QueryDict(self.cleaned_data["query"], mutable=True)
        for name in ("cursor", "page", "csrfmiddlewaretoken"):
            query.pop(name, None)
        return query.urlencode()
