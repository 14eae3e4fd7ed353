"""Shared fixtures for snowsim tests (no Django).

- ``store``: a fresh in-memory :class:`snowsim.store.Store` (seed 0).
- ``app``: ``create_app(store)``.
- ``client``: Starlette TestClient on ``https://testserver`` with admin Basic auth.
- ``tls_files``: (cert, key, ca) for 127.0.0.1/localhost, made by ``snowsim.tls.ensure_certificate``.
- ``make_live_server(app)``: starts uvicorn over HTTPS on 127.0.0.1 (random port) in a thread and
  returns a :class:`LiveServer` (``.url``, ``.ca_path``, ``.store``, ``.app``); stopped at teardown.
- ``live_server``: ``make_live_server(create_app(store))``; parametrize it indirectly with an app
  factory ``(store) -> app`` to wrap the app (e.g. with middleware).
"""

from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

import pytest

from snowsim.api import create_app
from snowsim.store import Store
from snowsim.tls import ensure_certificate


def pytest_configure(config):
    # Starlette's TestClient warns that it prefers httpx2; httpx is what the project pins.
    config.addinivalue_line("filterwarnings", "ignore::starlette.exceptions.StarletteDeprecationWarning")


ADMIN = ("admin", "admin")


@pytest.fixture(autouse=True)
def _live_server_helper():
    """Shadow pytest-django's autouse helper of the same name: it would treat our ``live_server``
    fixture as Django's (requesting a Django test database and calling Django-only methods)."""
    yield


@pytest.fixture
def store():
    s = Store(None, seed=0)
    yield s
    s.close()


@pytest.fixture
def app(store):
    return create_app(store)


@pytest.fixture
def client(app):
    from starlette.testclient import TestClient

    with TestClient(app, base_url="https://testserver") as c:
        c.auth = ADMIN
        yield c


@pytest.fixture(scope="session")
def tls_files(tmp_path_factory) -> tuple[str, str, str]:
    cert, key, ca = ensure_certificate(tmp_path_factory.mktemp("snowsim-tls"))
    return str(cert), str(key), str(ca)


@dataclass
class LiveServer:
    url: str
    ca_path: str
    store: Store
    app: object
    server: object = None
    thread: threading.Thread | None = None

    def stop(self) -> None:
        if self.server is not None:
            self.server.should_exit = True
            self.server.force_exit = True
        if self.thread is not None:
            self.thread.join(timeout=10)


def start_live_server(app, store: Store, tls_files) -> LiveServer:
    import uvicorn

    cert, key, ca = tls_files
    # IPPROTO_TCP (not 0): asyncio only sets TCP_NODELAY on sockets whose proto is TCP, and without
    # it Nagle + delayed ACK add ~40 ms to every request/response on keep-alive connections.
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    config = uvicorn.Config(
        app,
        host="127.0.0.1",
        port=port,
        ssl_certfile=cert,
        ssl_keyfile=key,
        log_level="warning",
        lifespan="off",
        access_log=False,
        timeout_graceful_shutdown=1,
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 10
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        time.sleep(0.01)
    return LiveServer(f"https://127.0.0.1:{port}", ca, store, app, server, thread)


@pytest.fixture
def make_live_server(tls_files):
    """Factory: ``make_live_server(app, store=None)`` -> LiveServer (HTTPS, stopped at teardown)."""
    started: list[LiveServer] = []

    def factory(app, store: Store | None = None) -> LiveServer:
        st = store if store is not None else getattr(getattr(app, "state", None), "store", None)
        srv = start_live_server(app, st, tls_files)
        started.append(srv)
        return srv

    yield factory
    for srv in started:
        srv.stop()


@pytest.fixture
def live_server(request, store, make_live_server):
    """HTTPS uvicorn on 127.0.0.1; indirect param: an app factory ``(store) -> ASGI app``."""
    factory = getattr(request, "param", None) or create_app
    return make_live_server(factory(store), store)
