"""`make run` serves with gunicorn, as in production: the Procfile's web command answers, with its CSS."""

import os
import socket
import subprocess
import sys
import urllib.request

import pytest
from django.conf import settings

from kompass.core.tests.processes import database_url, stop, wait_for


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def get(url: str) -> tuple[int, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our own loopback server
            return response.status, response.read()
    except OSError:
        return 0, b""


def test_make_run_uses_gunicorn_and_collects_static_files():
    procfile = (settings.BASE_DIR / "Procfile").read_text()
    web = next(line for line in procfile.splitlines() if line.startswith("web:"))
    assert "gunicorn kompass.wsgi:application" in web
    for option in ("--no-control-socket", "--graceful-timeout 4", "--bind 127.0.0.1:${KOMPASS_PORT:-8000}"):
        assert option in web
    makefile = (settings.BASE_DIR / "Makefile").read_text()
    assert "collectstatic --no-input" in makefile
    assert "runserver" in (settings.BASE_DIR / "Procfile.dev").read_text()


@pytest.mark.slow
@pytest.mark.django_db(transaction=True)
def test_the_procfile_web_command_serves_pages_and_css_with_debug_off(tmp_path):
    static_root = tmp_path / "static"
    environment = {
        **os.environ,
        "KOMPASS_ENV": "test",
        "KOMPASS_DEBUG": "false",
        "KOMPASS_STATIC_ROOT": str(static_root),
        "DATABASE_URL": database_url(),
        "KOMPASS_PORT": str(free_port()),
        "WEB_CONCURRENCY": "1",
    }
    kompass = [sys.executable, "-m", "kompass.cli"]
    subprocess.run(
        [*kompass, "collectstatic", "--no-input", "-v", "0"], env=environment, cwd=settings.BASE_DIR, check=True
    )  # noqa: S603
    web = next(line for line in (settings.BASE_DIR / "Procfile").read_text().splitlines() if line.startswith("web:"))
    log = tmp_path / "web.log"
    with open(log, "wb") as output:
        server = subprocess.Popen(  # noqa: S602 - the Procfile line, as honcho runs it
            web.removeprefix("web:").strip(),
            shell=True,
            env=environment,
            cwd=settings.BASE_DIR,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    port = environment["KOMPASS_PORT"]
    try:
        status, page = wait_for(
            lambda: (result := get(f"http://127.0.0.1:{port}/login/"))[0] and result, timeout=30, message="gunicorn"
        )
        assert status == 200
        assert b'href="/static/vendor/punkt/css/pkt.min.css"' in page
        status, css = get(f"http://127.0.0.1:{port}/static/vendor/punkt/css/pkt.min.css")
        assert status == 200 and len(css) > 100_000
    finally:
        assert stop(server) == 0
    output = log.read_text()
    assert "Starting gunicorn" in output
    assert "development server" not in output


def test_a_web_process_loads_the_urlconf_as_it_boots_not_in_its_first_request():
    """gunicorn imports kompass.wsgi in each worker: after that import the URL resolver is populated and the
    views' modules are loaded, so the first request (a vendor's webhook after a restart) pays nothing for it."""
    probe = (
        "import sys, kompass.wsgi; from django.urls import get_resolver; "
        "print(get_resolver()._populated, 'kompass.vendors.api.views' in sys.modules)"
    )
    environment = {**os.environ, "DATABASE_URL": database_url(), "KOMPASS_ENV": "test"}
    result = subprocess.run(  # noqa: S603
        [sys.executable, "-c", probe], env=environment, cwd=settings.BASE_DIR, capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["True", "True"]
