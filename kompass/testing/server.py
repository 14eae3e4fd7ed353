"""A one-thread HTTP server for Kompass on the test database, for clients that send one request at a time.

pytest-django's ``live_server`` is Django's threaded server: a new thread per request, and Django closes
that thread's database connections when it ends, so every request opens a new connection (on PostgreSQL a
new backend process and a password exchange). Schemathesis sends thousands of requests, one at a time; here
they go to one thread that keeps its connection (PostgreSQL's ``CONN_MAX_AGE``; SQLite reconnects per
request as in production). Measured on the shared 2-core machine: 68 → 20 ms a request on PostgreSQL,
68 → 43 ms on SQLite (bench/README.md, *CI*).

Not for a browser: it answers one connection at a time (and closes each after its response).
"""

import threading
from contextlib import contextmanager

from django.core.handlers.wsgi import WSGIHandler
from django.core.servers.basehttp import WSGIRequestHandler, WSGIServer
from django.db import connections


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002  (the access log of ~10,000 requests is noise)
        pass


@contextmanager
def one_thread_server(host: str = "127.0.0.1"):
    """Serve Kompass at ``http://host:port`` (yielded) from one thread until the block ends."""
    server = WSGIServer((host, 0), _QuietHandler, allow_reuse_address=True)
    server.set_app(WSGIHandler())

    def serve():
        try:
            server.serve_forever(poll_interval=0.05)
        finally:
            connections.close_all()  # this thread's connections, before the test database is flushed

    thread = threading.Thread(target=serve, name="kompass-one-thread-server", daemon=True)
    thread.start()
    try:
        yield f"http://{host}:{server.server_address[1]}"
    finally:
        server.shutdown()
        thread.join(timeout=10)
        server.server_close()
