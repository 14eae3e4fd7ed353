"""create_app options and hooks other snowsim parts rely on."""

from __future__ import annotations

import ssl

import httpx
import pytest
from starlette.middleware import Middleware
from starlette.responses import PlainTextResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from snowsim.api import create_app
from snowsim.store import PolicyError, Store


class TagMiddleware:
    def __init__(self, app, tag="x"):
        self.app, self.tag = app, tag

    async def __call__(self, scope, receive, send):
        async def wrapped(message):
            if message["type"] == "http.response.start":
                message["headers"] = list(message.get("headers", [])) + [(b"x-tag", self.tag.encode())]
            await send(message)

        await self.app(scope, receive, wrapped)


def test_extra_routes_middleware_base_url_and_invalid_mode(store):
    async def hello(request):
        return PlainTextResponse("hi " + str(request.app.state.store is store))

    app = create_app(
        store,
        base_url="https://acme.service-now.com/",
        invalid_query_returns_no_rows=True,
        extra_routes=[Route("/snowsim/hello", hello)],
        middleware=[Middleware(TagMiddleware, tag="t")],
    )
    c = TestClient(app, base_url="https://testserver")
    r = c.get("/snowsim/hello")
    assert r.text == "hi True" and r.headers["x-tag"] == "t"
    c.auth = ("admin", "admin")
    r = c.post("/api/now/table/incident", json={"short_description": "x"})
    assert r.headers["Location"].startswith("https://acme.service-now.com/api/now/table/incident/")
    assert r.json()["result"]["opened_by"]["link"].startswith("https://acme.service-now.com/api/now/table/sys_user/")
    assert c.get("/api/now/table/incident", params={"sysparm_query": "bogus=1"}).json()["result"] == []
    assert len(c.get("/api/now/table/incident", params={"sysparm_query": "active=true"}).json()["result"]) == 1


def test_policy_error_from_direct_store_calls(store):
    rec = store.insert("incident", {"short_description": "x"}, "admin")
    with pytest.raises(PolicyError) as exc:
        store.update("incident", rec["sys_id"], {"state": "6"}, "admin")
    assert exc.value.message == "Operation Failed" and "Resolution notes" in exc.value.detail


def test_file_store_persists(tmp_path):
    path = str(tmp_path / "db.sqlite3")
    s = Store(path, seed=3)
    sid = s.insert("incident", {"short_description": "persist"}, "admin")["sys_id"]
    admin_id = s.sid("sys_user", "admin")
    s.close()
    s2 = Store(path, seed=3)
    assert s2.get("incident", sid)["short_description"] == "persist"
    assert s2.get("sys_user", admin_id)["user_name"] == "admin"
    assert s2.insert("incident", {}, "admin")["number"] == "INC0010002"
    s2.reset()
    assert s2.get("incident", sid) is None and s2.get("sys_user", admin_id)
    s2.close()


def _tagged_app(store):
    return create_app(store, middleware=[Middleware(TagMiddleware, tag="live")])


@pytest.mark.parametrize("live_server", [_tagged_app], indirect=True)
def test_live_server_with_app_override(live_server):
    r = httpx.get(
        f"{live_server.url}/api/now/table/sys_user_group",
        auth=("admin", "admin"),
        verify=ssl.create_default_context(cafile=live_server.ca_path),
    )
    assert r.status_code == 200 and r.headers["x-tag"] == "live"
    assert int(r.headers["X-Total-Count"]) == 5
