"""ImportBatch: one uploaded file between preview and apply, and the record of every import afterwards.

Imported from the end of ``kompass.core.models`` so the model belongs to the core app.
"""

import hashlib
from collections.abc import Mapping
from typing import Any

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext, pgettext_lazy
from django.utils.translation import gettext_lazy as _

from kompass.core.imports.apply import ImportRefused, apply_import
from kompass.core.imports.reader import ImportFileError, list_sheets
from kompass.core.imports.spec import ColumnMapping, ImportSpec
from kompass.core.imports.validate import Preview, build_preview

__all__ = ["ImportBatch"]

MAX_UPLOAD_BYTES = 20 * 1024 * 1024  # a 5,000-row specification is well under 2 MB


class ImportBatch(models.Model):
    """An uploaded file for one kind of import (``spec.name``), its mapping, its preview and its outcome."""

    class Status(models.TextChoices):
        PREVIEWED = "previewed", pgettext_lazy("import", "Previewed")
        APPLIED = "applied", pgettext_lazy("import", "Applied")
        FAILED = "failed", pgettext_lazy("import", "Failed")

    kind = models.CharField(_("kind"), max_length=100)
    scope = models.CharField(
        pgettext_lazy("import", "scope"),
        max_length=100,
        blank=True,
        help_text=_("What the import is for, e.g. contract:12."),
    )
    file = models.FileField(pgettext_lazy("import", "file"), upload_to="imports/%Y/%m/")
    file_name = models.CharField(pgettext_lazy("import", "file name"), max_length=255)
    sha256 = models.CharField(_("SHA-256"), max_length=64)
    mapping = models.JSONField(pgettext_lazy("import", "column mapping"), default=dict, blank=True)
    fingerprint = models.CharField(pgettext_lazy("import", "preview fingerprint"), max_length=64, blank=True)
    status = models.CharField(
        pgettext_lazy("import", "status"), max_length=20, choices=Status.choices, default=Status.PREVIEWED
    )
    summary = models.JSONField(pgettext_lazy("import", "summary"), default=dict, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=pgettext_lazy("import", "uploaded by"),
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    created = models.DateTimeField(pgettext_lazy("import", "uploaded"), auto_now_add=True)
    applied = models.DateTimeField(pgettext_lazy("import", "applied"), null=True, blank=True)

    class Meta:
        verbose_name = pgettext_lazy("import", "import")
        verbose_name_plural = pgettext_lazy("import", "imports")
        ordering = ["-created"]
        indexes = [models.Index(fields=["kind", "scope", "-created"], name="core_import_kind_scope")]

    def __str__(self) -> str:
        return f"{self.file_name} ({self.get_status_display()})"

    @classmethod
    def upload(cls, uploaded, *, kind: str, scope: str = "", user=None) -> "ImportBatch":
        """Store an uploaded file (a Django ``UploadedFile`` or any file object with a name) under ``imports/``."""
        if uploaded.size is not None and uploaded.size > MAX_UPLOAD_BYTES:
            raise ImportRefused(gettext("The file is too large (at most 20 MB)."))
        data = uploaded.read()
        name = getattr(uploaded, "name", "") or "upload"
        batch = cls(kind=kind, scope=scope, file_name=name[:255], sha256=hashlib.sha256(data).hexdigest())
        batch.created_by = user if getattr(user, "is_authenticated", False) else None
        batch.file.save(name.rsplit("/", 1)[-1], ContentFile(data), save=False)
        batch.save()
        return batch

    @classmethod
    def remembered_mapping(cls, kind: str, scope: str = "") -> ColumnMapping | None:
        """The columns of the last applied import of this kind and scope (e.g. the same contract).

        Only the header names → fields: the sheet and the header row are found again in the new file.
        """
        last = cls.objects.filter(kind=kind, scope=scope, status=cls.Status.APPLIED).order_by("-applied").first()
        return ColumnMapping(columns=ColumnMapping.from_json(last.mapping).columns) if last else None

    def read(self) -> bytes:
        with self.file.open("rb") as handle:
            return handle.read()

    def sheets(self) -> list[str]:
        """The sheets of the uploaded file, for the mapping form's sheet choice; none if it cannot be read."""
        try:
            return list_sheets(self.read(), self.file_name)
        except ImportFileError:
            return []

    def preview(
        self, spec: ImportSpec, context: Mapping[str, Any] | None = None, mapping: ColumnMapping | None = None
    ) -> Preview:
        """Build the preview (with ``mapping``, else the stored one, else a remembered or suggested one) and save it."""
        self._check_kind(spec)
        if mapping is None:
            mapping = (
                ColumnMapping.from_json(self.mapping)
                if self.mapping
                else self.remembered_mapping(self.kind, self.scope)
            )
        preview = build_preview(self.read(), self.file_name, spec, context, mapping)
        self.mapping = preview.mapping.to_json()
        self.fingerprint = preview.fingerprint
        self.summary = preview.summary()
        self.save(update_fields=["mapping", "fingerprint", "summary"])
        return preview

    def apply(
        self,
        spec: ImportSpec,
        context: Mapping[str, Any] | None = None,
        *,
        fingerprint: str,
        accept_warnings: bool = False,
    ) -> dict[str, Any]:
        """Apply the batch if ``fingerprint`` (the preview the person saw) is still current; at most once."""
        self._check_kind(spec)
        try:
            with transaction.atomic():
                locked = type(self).objects.select_for_update().get(pk=self.pk)
                if locked.status == self.Status.APPLIED:
                    raise ImportRefused(gettext("This import has already been applied."))
                preview = Preview(
                    spec.name, self.file_name, "", ColumnMapping.from_json(self.mapping), data=self.read()
                )
                result = apply_import(
                    preview, spec, context, expected_fingerprint=fingerprint, accept_warnings=accept_warnings
                )
                self.status, self.applied, self.summary = self.Status.APPLIED, timezone.now(), result
                self.save(update_fields=["status", "applied", "summary"])
        except ImportRefused:
            raise  # nothing written and nothing broken: the person previews again or fixes the file
        except Exception as exc:
            self.status = self.Status.FAILED
            self.summary = {**self.summary, "failure": f"{type(exc).__name__}: {exc}"[:2000]}
            self.save(update_fields=["status", "summary"])
            raise
        return result

    def _check_kind(self, spec: ImportSpec) -> None:
        if spec.name != self.kind:
            raise ValueError(f"batch {self.pk} is a {self.kind!r} import, not {spec.name!r}")
