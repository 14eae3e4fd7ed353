"""Forms for the shared upload → mapping → preview → apply pages (the apps wire the views and URLs)."""

from collections.abc import Sequence

from django import forms
from django.utils.text import capfirst
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from kompass.core.forms import PunktFormMixin, style_fields
from kompass.core.imports.reader import column_letter
from kompass.core.imports.spec import ColumnMapping, ImportSpec
from kompass.core.imports.validate import Preview

__all__ = ["ApplyForm", "MappingForm", "UploadForm"]


class UploadForm(PunktFormMixin, forms.Form):
    file = forms.FileField(
        label=pgettext_lazy("import", "Spreadsheet"),
        help_text=_("An Excel file (.xlsx) or a CSV file (.csv)."),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx,.xlsm,.csv,.txt"}),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        style_fields(self)


class MappingForm(PunktFormMixin, forms.Form):
    """The sheet, and for each column of the preview's header row the field it holds (or none)."""

    def __init__(self, *args, preview: Preview, spec: ImportSpec, sheets: Sequence[str] = (), **kwargs):
        super().__init__(*args, **kwargs)
        self.preview = preview
        if len(sheets) > 1:
            self.fields["sheet"] = forms.ChoiceField(
                label=pgettext_lazy("import", "Sheet"), choices=[(name, name) for name in sheets], initial=preview.sheet
            )
        choices = [("", pgettext_lazy("import", "(not imported)"))] + [
            (f.name, capfirst(str(f.label))) for f in spec.fields
        ]
        for cell in preview.header:
            if cell.text:
                self.fields[f"column_{cell.column}"] = forms.ChoiceField(
                    label=f"{column_letter(cell.column)}: {cell.text}",
                    choices=choices,
                    required=False,
                    initial=preview.mapping.columns.get(cell.text, ""),
                )
        style_fields(self)

    def clean(self):
        cleaned = super().clean()
        chosen: dict[str, str] = {}
        for name, value in cleaned.items():
            if name.startswith("column_") and value:
                if value in chosen:
                    raise forms.ValidationError(
                        gettext("“%(field)s” is chosen for more than one column.")
                        % {"field": dict(self.fields[name].choices)[value]}
                    )
                chosen[value] = name
        return cleaned

    def mapping(self) -> ColumnMapping:
        """The chosen mapping (call after ``is_valid()``); the header row is the one the preview found."""
        by_column = {cell.column: cell.text for cell in self.preview.header}
        columns = {
            by_column[int(name.removeprefix("column_"))]: value
            for name, value in self.cleaned_data.items()
            if name.startswith("column_") and value
        }
        sheet = self.cleaned_data.get("sheet") or self.preview.sheet
        header_row = self.preview.mapping.header_row if sheet == self.preview.sheet else 0
        return ColumnMapping(columns=columns, sheet=sheet, header_row=header_row)


class ApplyForm(forms.Form):
    """What the preview page posts back: the fingerprint the person saw, and that they checked the flagged rows."""

    fingerprint = forms.CharField(widget=forms.HiddenInput, max_length=64)
    accept_warnings = forms.BooleanField(label=_("I have checked the flagged rows"), required=False)
