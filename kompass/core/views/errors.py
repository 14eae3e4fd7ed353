"""Error pages: JSON under /api/, the Punkt-styled templates everywhere else."""

from django.http import JsonResponse
from django.views import defaults


def _api_aware(page_view, status: int, detail: str):
    """An error handler answering ``{"detail": ...}`` for API paths and ``page_view``'s page otherwise."""

    def handler(request, *args, **kwargs):
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": detail}, status=status)
        return page_view(request, *args, **kwargs)

    return handler


bad_request = _api_aware(defaults.bad_request, 400, "Bad request.")
permission_denied = _api_aware(defaults.permission_denied, 403, "You do not have permission to perform this action.")
page_not_found = _api_aware(defaults.page_not_found, 404, "Not found.")
server_error = _api_aware(defaults.server_error, 500, "Server error.")
