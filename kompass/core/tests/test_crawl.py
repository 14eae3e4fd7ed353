"""Crawl: as every demo role, follow every same-site link from the home page and open every URL of the
URLconf without parameters; fail on any 5xx, any page not axe-checked, or any serious/critical violation.

So a page that no test names is still checked. At most ``PER_NAME`` concrete URLs per URL name keep it
short (an agency list links 50 agencies; two of them show the template). Marked ``browser`` and ``slow``.
"""

import os
from collections import deque
from html import unescape
from html.parser import HTMLParser
from urllib.parse import urldefrag, urljoin, urlsplit

import pytest
from django.core.management import call_command
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve

from kompass.core import demo
from kompass.core.views.auth import INTEGRATION_LOGIN_REFUSED
from kompass.testing.browser import AccessibilityError, check_a11y, checked_page, log_in, visit
from kompass.testing.split import in_share, parse_share

pytestmark = [pytest.mark.browser, pytest.mark.slow, pytest.mark.django_db(transaction=True)]

PER_NAME = 2
#: Which (role, page name) pairs are axe-checked: ``all``, ``none`` or ``i/n`` (``kompass.testing.split``).
#: Both CI runs check every page's status as every role, which can differ by database; axe judges the HTML,
#: which does not, so ``.ci/run`` gives each run half of the pairs (``1/2`` on SQLite, ``2/2`` on
#: PostgreSQL): together they check every pair once. Unset: ``all``, or ``none`` under
#: ``KOMPASS_ONLY_DATABASE_TESTS`` (the PostgreSQL run leaves axe to the SQLite run unless told otherwise).
AXE_SHARE = os.environ.get("KOMPASS_CRAWL_AXE") or (
    "none" if os.environ.get("KOMPASS_ONLY_DATABASE_TESTS") == "1" else "all"
)
SKIP_PREFIXES = ("/logout/", "/i18n/", "/static/", "/django-admin/", "/oidc/")


def parameterless_urls(resolver=None, prefix="") -> list[str]:
    urls = []
    for entry in (resolver or get_resolver()).url_patterns:
        route = prefix + str(entry.pattern)
        if isinstance(entry, URLResolver):
            urls += parameterless_urls(entry, route)
        elif isinstance(entry, URLPattern) and "<" not in route and "(" not in route and "^" not in route:
            urls.append("/" + route)
    return sorted(u for u in urls if not u.startswith(SKIP_PREFIXES))


def url_name(path: str) -> str:
    try:
        match = resolve(path)
    except Resolver404:
        return path
    return f"{match.namespace}:{match.url_name}"


class _Links(HTMLParser):
    def __init__(self):
        super().__init__()
        self.hrefs = []

    def handle_starttag(self, tag, attrs):
        if tag == "a":
            self.hrefs += [value for name, value in attrs if name == "href" and value]


def links_in(html: str, url: str) -> list[str]:
    parser = _Links()
    parser.feed(html)
    return [urljoin(url, unescape(href)) for href in parser.hrefs]


def crawl(page, base: str, *, axe=lambda name: True) -> list[str]:
    """Breadth-first over same-site links; returns the problems found.

    The first URL of each URL name is loaded in the browser and axe-checked (when ``axe(name)``); the others
    (a second agency, a second case: the same template over other rows) are fetched for their status and
    their links only, which is what can differ between them.
    """
    problems, seen, per_name = [], set(), {}
    queue = deque(["/", *parameterless_urls()])
    while queue:
        path = queue.popleft()
        if path in seen or path.startswith(SKIP_PREFIXES):
            continue
        seen.add(path)
        name = url_name(urlsplit(path).path)
        if per_name.get(name, 0) >= PER_NAME:
            continue
        per_name[name] = per_name.get(name, 0) + 1
        # One request per URL: its status, its type, its links; an HTML page to be axe-checked is then
        # shown to the browser from that same response (the server renders each page once, not twice).
        response = page.request.get(base + path, max_redirects=0)
        if response.status >= 500:
            problems.append(f"{path}: {response.status}")
            continue
        if 300 <= response.status < 400:
            hrefs = [urljoin(response.url, response.headers.get("location", "/"))]
        elif not _is_page(path) or "text/html" not in response.headers.get("content-type", ""):
            continue  # JSON, CSS, a download (an export, a signed PDF): no document to check, only the status
        elif per_name[name] > 1 or not axe(name):
            hrefs = links_in(response.text(), response.url)
        else:
            target = base + path

            def matches(url, target=target):
                return url == target

            page.route(matches, _fulfilment(response))
            try:
                page.goto(target)
            finally:
                page.unroute(matches)
            try:
                check_a11y(page)
            except AccessibilityError as error:
                problems.append(str(error))
            hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
        for href in hrefs:
            link, _fragment = urldefrag(href)
            parts = urlsplit(link)
            if parts.netloc == urlsplit(base).netloc and parts.scheme in {"http", "https"}:
                queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    assert len(seen) > 3
    return problems


def _fulfilment(response):
    """A route handler answering the browser's navigation with the response already fetched."""
    headers = {k: v for k, v in response.headers.items() if k.lower() not in {"content-encoding", "content-length"}}
    body = response.body()

    def handler(route):
        route.fulfill(status=response.status, headers=headers, body=body)

    return handler


def _is_page(path: str) -> bool:
    return not (path.endswith(".css") or path.startswith("/healthz") or path.startswith("/api/"))


@pytest.fixture
def demo_data(settings):
    call_command("demo_data", "--quiet", stdout=open("/dev/null", "w"))  # noqa: SIM115


def test_crawl_every_page_as_every_demo_role(browser, live_server, demo_data):
    """Every demo role in turn, each in a fresh browser context, over one load of the demo data (loading it
    once per role cost CI minutes on each database)."""
    parse_share(AXE_SHARE)  # a mistyped KOMPASS_CRAWL_AXE fails here, not by checking nothing
    problems = {}
    for login in demo.DEMO_LOGINS:
        with checked_page(browser) as page:
            if login.role == "vendor_integration":
                visit(page, f"{live_server.url}/login/")
                page.locator("input[name=username]").fill(login.email)
                page.locator("input[name=password]").fill(demo.DEFAULT_PASSWORD)
                page.locator("main form button[type=submit]").last.click()
                page.wait_for_load_state("load")
                check_a11y(page)
                assert str(INTEGRATION_LOGIN_REFUSED) in page.content(), login.email
                continue
            log_in(page, live_server.url, login.email, demo.DEFAULT_PASSWORD)
            found = crawl(page, live_server.url, axe=lambda name, who=login.email: in_share(f"{who} {name}", AXE_SHARE))
            if found:
                problems[login.email] = found
    assert problems == {}, "\n".join(f"{who}: {problem}" for who, found in problems.items() for problem in found)
