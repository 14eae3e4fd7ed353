from django.db.models import ProtectedError, RestrictedError
from django.utils.translation import gettext as _
from rest_framework import status
from rest_framework.response import Response
from rest_framework.views import exception_handler


def kompass_exception_handler(exc, context):
    """DRF's handler, plus a clear 409 when a delete is blocked by objects that still point here."""
    if isinstance(exc, ProtectedError | RestrictedError):
        blocking = sorted({str(obj._meta.verbose_name_plural) for obj in exc.args[1]})
        return Response(
            {"detail": _("Cannot delete: still in use by %(objects)s.") % {"objects": ", ".join(blocking)}},
            status=status.HTTP_409_CONFLICT,
        )
    return exception_handler(exc, context)
