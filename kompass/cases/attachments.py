"""Attachments: size limit, a type allowlist checked on the content (not the name), Django storage, a scan hook.

``filetype`` reads the magic bytes (PDF, images, Office Open XML, …); ``puremagic`` was rejected because it
trusts the file name (stack-notes). Neither recognises text, so plain text is accepted when it decodes as UTF-8
and has no NUL byte. ``SCAN_HOOK`` (a dotted path in ``KOMPASS_CASES_SCAN_HOOK``, called with the file's bytes,
returning ``True`` when clean) is where a virus scanner plugs in; without one the attachment stays "not
scanned".
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

import filetype
from django.conf import settings
from django.core.files.base import ContentFile
from django.utils.module_loading import import_string
from django.utils.text import get_valid_filename
from django.utils.translation import gettext as _

__all__ = ["ALLOWED_TYPES", "Upload", "check_upload", "store_attachments"]

#: MIME types accepted, as detected from the content.
ALLOWED_TYPES = frozenset(
    {
        "application/pdf",
        "image/png",
        "image/jpeg",
        "image/gif",
        "image/webp",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "application/vnd.oasis.opendocument.text",
        "application/vnd.oasis.opendocument.spreadsheet",
        "message/rfc822",
        "text/plain",
    }
)
MAX_ATTACHMENTS = 10


@dataclass(frozen=True)
class Upload:
    """A file to attach: its name as given and its bytes."""

    name: str
    content: bytes


def _as_upload(item) -> Upload:
    if isinstance(item, Upload):
        return item
    if hasattr(item, "read"):  # a Django UploadedFile
        item.seek(0)
        return Upload(getattr(item, "name", "") or "vedlegg", item.read())
    name = getattr(item, "filename", None) or getattr(item, "name", None) or "vedlegg"
    content = getattr(item, "content", None) or getattr(item, "payload", None) or b""
    return Upload(str(name), bytes(content))  # e-mail intake attachments


def detect_type(content: bytes) -> str | None:
    kind = filetype.guess(content)
    if kind is not None:
        return kind.mime
    if b"\x00" in content:
        return None
    try:
        content.decode("utf-8")
    except UnicodeDecodeError:
        return None
    return "text/plain"


def check_upload(upload: Upload) -> str:
    """The detected content type of an acceptable upload; ``CaseError`` (400) otherwise."""
    from kompass.cases.services import CaseError

    limit = settings.KOMPASS_CASES_MAX_ATTACHMENT_BYTES
    if not upload.content:
        raise CaseError(_("The file %(name)s is empty.") % {"name": upload.name}, code="attachment_empty")
    if len(upload.content) > limit:
        raise CaseError(
            _("The file %(name)s is larger than %(mb)s MB.") % {"name": upload.name, "mb": limit // (1024 * 1024)},
            code="attachment_size",
        )
    kind = detect_type(upload.content)
    if kind not in ALLOWED_TYPES:
        raise CaseError(
            _("The file %(name)s is not of an accepted type (PDF, images, Office documents, plain text).")
            % {"name": upload.name},
            code="attachment_type",
        )
    return kind


def _scan(content: bytes):
    from kompass.cases.models import Attachment

    hook = settings.KOMPASS_CASES_SCAN_HOOK
    if not hook:
        return Attachment.Scan.PENDING
    return Attachment.Scan.CLEAN if import_string(hook)(content) else Attachment.Scan.INFECTED


def store_attachments(case, items, *, uploaded_by=None, reply=None) -> list:
    """Check every file first (one bad file refuses them all), then store them through Django storage."""
    from kompass.cases.models import Attachment
    from kompass.cases.services import CaseError

    uploads = [_as_upload(item) for item in items or ()]
    if len(uploads) > MAX_ATTACHMENTS:
        raise CaseError(_("At most %(n)s files at a time.") % {"n": MAX_ATTACHMENTS}, code="attachment_count")
    checked = [(upload, check_upload(upload)) for upload in uploads]
    stored = []
    for upload, kind in checked:
        scan = _scan(upload.content)
        if scan == Attachment.Scan.INFECTED:
            raise CaseError(
                _("The file %(name)s was refused by the virus scan.") % {"name": upload.name},
                code="attachment_infected",
            )
        name = get_valid_filename(upload.name)[:200] or "vedlegg"
        attachment = Attachment(
            case=case,
            reply=reply,
            name=name,
            content_type=kind,
            size=len(upload.content),
            sha256=hashlib.sha256(upload.content).hexdigest(),
            scan=scan,
            uploaded_by=uploaded_by,
        )
        attachment.file.save(name, ContentFile(upload.content), save=False)
        attachment.save()
        stored.append(attachment)
    return stored
