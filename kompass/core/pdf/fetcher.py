"""A WeasyPrint URL fetcher that serves only Kompass's own static files.

A PDF template may load fonts, images and style sheets, but rendering must never reach the network or
read a file outside the static files: a stray ``<img src="http://...">`` (or ``file:///etc/passwd``) in
user-supplied text would otherwise be fetched while the PDF renders. Everything except our static files
and ``data:`` URLs is refused; WeasyPrint logs the refusal as a warning and renders without the resource.
"""

import mimetypes
from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.contrib.staticfiles import finders
from django.contrib.staticfiles.storage import staticfiles_storage
from django.core.exceptions import SuspiciousFileOperation
from weasyprint.urls import URLFetcher, URLFetcherResponse

__all__ = ["STATIC_ORIGIN", "StaticFilesURLFetcher", "base_url"]

#: The pretend origin that PDF templates are rendered against. ``.invalid`` is reserved (RFC 2606): it can
#: never resolve, and the fetcher answers it from disk without any network access.
STATIC_ORIGIN = "https://static.kompass.invalid"


def base_url() -> str:
    """The base URL for a PDF template, so that ``{% static %}`` paths resolve to :data:`STATIC_ORIGIN`."""
    return f"{STATIC_ORIGIN}/"


class StaticFilesURLFetcher(URLFetcher):
    """Serve ``STATIC_ORIGIN + STATIC_URL + <name>`` from the static files finders; refuse everything else."""

    def __init__(self, **kwargs):
        super().__init__(allowed_protocols={"https", "data"}, allow_redirects=False, **kwargs)

    def fetch(self, url: str, headers=None) -> URLFetcherResponse:
        if url.startswith("data:"):
            return super().fetch(url, headers)  # inline data: no network, no file
        prefix = STATIC_ORIGIN + settings.STATIC_URL
        if not url.startswith(prefix):
            raise ValueError(f"PDF rendering only loads Kompass's static files, not {url!r}")
        name = unquote(urlsplit(url).path.removeprefix(urlsplit(prefix).path))
        path = self._find(name)
        if path is None:
            raise ValueError(f"No static file named {name!r}")
        content_type = mimetypes.guess_type(path)[0] or "application/octet-stream"
        with open(path, "rb") as file:
            return URLFetcherResponse(url, body=file.read(), headers={"Content-Type": content_type})

    @staticmethod
    def _find(name: str) -> str | None:
        """The file behind a static name: the app's source copy, or the collected (possibly hashed) copy."""
        if not name or name.startswith("/") or "\\" in name or ".." in name.split("/"):
            return None
        try:
            found = finders.find(name)
            if found:
                return found
            if staticfiles_storage.exists(name):  # collectstatic's output, e.g. a manifest's hashed name
                return staticfiles_storage.path(name)
        except (SuspiciousFileOperation, NotImplementedError):
            return None
        return None
