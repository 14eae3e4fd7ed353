"""Browser helpers for every app's tests: headless Debian Chromium through sync Playwright, axe on every page.

The fixtures (``browser``, ``page``, ``csp_page``) are registered by ``kompass.testing.plugin``; import the
helpers from here: ``from kompass.testing.browser import check_a11y, log_in, navigate, visit``.

* ``browser`` (session): ``/usr/bin/chromium`` (or ``KOMPASS_CHROMIUM``). Missing browser: the browser
  tests are skipped, unless ``KOMPASS_REQUIRE_BROWSER`` is set (CI), where that is a failure.
* ``page`` (function): a fresh context per test (``bypass_csp`` so axe can be injected, locale nb-NO).
  Every document the page loads is recorded; the test fails at teardown if one of them was never
  checked with :func:`check_a11y` (so no page can be visited without an accessibility check).
* :func:`visit` / :func:`check_a11y`: navigate, then run axe (WCAG 2.0/2.1 A and AA) and fail on any
  ``serious`` or ``critical`` violation with a readable report.

Playwright never downloads a browser here: the tests drive the Chromium from the operating system.
"""

import os
from contextlib import contextmanager
from pathlib import Path

import pytest

CHROMIUM = Path(os.environ.get("KOMPASS_CHROMIUM", "/usr/bin/chromium"))  # Debian package
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
AXE_JS = Path(__file__).resolve().parents[1] / "core" / "static" / "vendor" / "axe" / "axe.min.js"
AXE_STATIC_URL = "/static/vendor/axe/axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BLOCKING_IMPACTS = {"serious", "critical"}
TIMEOUT_MS = 10_000


class AccessibilityError(AssertionError):
    """axe-core found serious or critical WCAG violations on a page."""


def _browser_required() -> bool:
    return os.environ.get("KOMPASS_REQUIRE_BROWSER", "").strip().lower() not in ("", "0", "false", "no")


@pytest.fixture(scope="session")
def browser():
    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing (install Debian's chromium package; no browser download)"
        if _browser_required():
            pytest.fail(f"KOMPASS_REQUIRE_BROWSER is set but {reason}", pytrace=False)
        pytest.skip(reason)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


class A11yTracker:
    """Which documents a page loaded, and whether each one was axe-checked before the next."""

    def __init__(self, page):
        self.pending: list[str] = []  # documents loaded since the last check
        self.unchecked: list[str] = []  # documents replaced before anyone checked them
        self.checked: list[str] = []
        self.loaded: list[str] = []  # every document load, in order
        page.on("load", self._loaded)

    def _loaded(self, page):
        self.loaded.append(page.url)
        self.unchecked.extend(self.pending)  # the previous document went away unchecked
        self.pending = [page.url]

    def mark_checked(self, url: str):
        self.unchecked.extend(self.pending[:-1])
        self.pending = []
        self.checked.append(url)

    def missed(self) -> list[str]:
        return self.unchecked + self.pending


def _new_page(browser, **context_options):
    context = browser.new_context(locale="nb-NO", viewport={"width": 1280, "height": 900}, **context_options)
    context.set_default_timeout(TIMEOUT_MS)
    context.set_default_navigation_timeout(TIMEOUT_MS)
    page = context.new_page()
    page.a11y = A11yTracker(page)
    page.csp_bypassed = bool(context_options.get("bypass_csp"))
    return context, page


def _assert_all_checked(page):
    missed = page.a11y.missed()
    if missed:
        pytest.fail(
            "Pages were loaded but never accessibility-checked (call check_a11y after each navigation): "
            + ", ".join(missed),
            pytrace=False,
        )


@contextmanager
def checked_page(browser, **context_options):
    """A page in a fresh context, as the ``page`` fixture gives one, for a test that needs several in turn:
    on leaving the block every document it loaded must have been axe-checked."""
    context, page = _new_page(browser, **{"bypass_csp": True, **context_options})
    try:
        yield page
        _assert_all_checked(page)
    finally:
        context.close()


@pytest.fixture
def page(browser, live_server):
    """A page in a fresh context that may inject axe despite the strict CSP (``bypass_csp``)."""
    context, page = _new_page(browser, bypass_csp=True)
    try:
        yield page
        _assert_all_checked(page)
    finally:
        context.close()


@pytest.fixture
def csp_page(browser, live_server):
    """A page in a context that honours the app's Content-Security-Policy (no ``bypass_csp``)."""
    context, page = _new_page(browser)
    try:
        yield page
        _assert_all_checked(page)
    finally:
        context.close()


def format_violations(url: str, violations: list[dict]) -> str:
    lines = [f"{len(violations)} serious/critical accessibility violation(s) on {url}:"]
    for violation in violations:
        lines.append(f"- [{violation['impact']}] {violation['id']}: {violation['help']} ({violation['helpUrl']})")
        for node in violation["nodes"][:10]:
            target = " ".join(str(t) for t in node["target"])
            lines.append(f"    target: {target}")
            lines.append(f"    html:   {node['html'][:300]}")
            summary = (node.get("failureSummary") or "").replace("\n", " ")
            if summary:
                lines.append(f"    why:    {summary[:400]}")
        if len(violation["nodes"]) > 10:
            lines.append(f"    … and {len(violation['nodes']) - 10} more node(s)")
    return "\n".join(lines)


def _inject_axe(page):
    if page.evaluate("typeof window.axe !== 'undefined'"):
        return
    if getattr(page, "csp_bypassed", True):
        page.add_script_tag(path=str(AXE_JS))
    else:
        # The app's CSP refuses inline scripts; the same file served from 'self' is allowed.
        page.add_script_tag(url=AXE_STATIC_URL)


def check_a11y(page) -> list[dict]:
    """Run axe on the current document; raise :class:`AccessibilityError` on serious/critical violations.

    Returns the (non-blocking) violations so a test may look at minor/moderate ones.
    """
    page.wait_for_load_state("load")
    _inject_axe(page)
    violations = page.evaluate(
        """async (tags) => {
            const result = await axe.run(document, {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
            return result.violations.map(v => ({
                id: v.id, impact: v.impact, help: v.help, helpUrl: v.helpUrl,
                nodes: v.nodes.map(n => ({target: n.target, html: n.html, failureSummary: n.failureSummary})),
            }));
        }""",
        AXE_TAGS,
    )
    url = page.url
    if hasattr(page, "a11y"):
        page.a11y.mark_checked(url)
    blocking = [v for v in violations if v["impact"] in BLOCKING_IMPACTS]
    if blocking:
        raise AccessibilityError(format_violations(url, blocking))
    return violations


def visit(page, url: str, *, expect_status: int | None = 200):
    """Go to ``url``, check the HTTP status (if given) and the page's accessibility."""
    response = page.goto(url)
    if expect_status is not None:
        assert response is not None and response.status == expect_status, (
            f"GET {url} answered {response.status if response else None}, expected {expect_status}"
        )
    check_a11y(page)
    return response


def navigate(page, action):
    """Run ``action`` (a click or submit that loads a new document), wait for it, then axe-check it."""
    with page.expect_navigation():
        action()
    check_a11y(page)


def submit_main_form(page):
    """Click the submit button of the form in <main> (the header has language and log-out forms too)."""
    navigate(page, lambda: page.locator("main form button[type=submit]").last.click())


def log_in(page, base_url: str, email: str, password: str):
    """Sign in through the login form; the login page and the page it lands on are axe-checked."""
    visit(page, f"{base_url}/login/")
    page.locator("input[name=username]").fill(email)
    page.locator("input[name=password]").fill(password)
    submit_main_form(page)
