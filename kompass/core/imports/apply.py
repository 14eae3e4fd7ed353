"""Apply a preview: all rows or none, and only if the data is still what the person saw."""

from collections.abc import Mapping
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from kompass.core.imports.spec import ImportSpec
from kompass.core.imports.validate import Preview, build_preview

__all__ = ["ImportRefused", "StalePreview", "apply_import"]


class ImportRefused(Exception):
    """Nothing was written: the rows have errors, or warnings nobody accepted. ``preview`` is the fresh one."""

    def __init__(self, message: str, preview: Preview | None = None):
        super().__init__(message)
        self.message = message
        self.preview = preview


class StalePreview(ImportRefused):
    """The file, the mapping or the existing records changed since the preview: preview again."""


def apply_import(
    preview: Preview,
    spec: ImportSpec,
    context: Mapping[str, Any] | None = None,
    *,
    expected_fingerprint: str = "",
    accept_warnings: bool = False,
) -> dict[str, Any]:
    """Validate again and write every row through ``spec.apply`` in one transaction; return the counts.

    ``expected_fingerprint`` is the one the person saw (e.g. from the preview form); it defaults to the
    preview's own. Any exception from ``spec.apply`` rolls the whole import back and propagates. For a strict
    guarantee against concurrent edits between the check and the write, ``spec.existing`` may lock its rows
    (``select_for_update()``): it runs inside the same transaction.
    """
    context = context or {}
    with transaction.atomic():
        fresh = build_preview(preview.data, preview.filename, spec, context, preview.mapping)
        if fresh.fingerprint != (expected_fingerprint or preview.fingerprint):
            raise StalePreview(
                _("The file or the existing records changed after the preview. Check the new preview and apply again."),
                fresh,
            )
        if fresh.errors:
            count = len(fresh.errors)
            raise ImportRefused(
                ngettext(
                    "Nothing was imported: fix the error and upload the file again.",
                    "Nothing was imported: fix the %(count)s errors and upload the file again.",
                    count,
                )
                % {"count": count},
                fresh,
            )
        if fresh.warnings and not accept_warnings:
            raise ImportRefused(_("Check the flagged rows and confirm them before importing."), fresh)
        result = spec.apply(fresh.rows, fresh.diff, context) or {}
    return {**fresh.diff.counts(), "rows": len(fresh.rows), **result}
