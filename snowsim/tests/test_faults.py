"""snowsim.faults: injected errors, rate limits, latency, timeouts, the down switch and admin endpoints."""

import time

import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from snowsim.faults import FaultConfig, FaultController, FaultMiddleware, admin_routes

ADMIN = ("admin", "admin")


def make_client(config=None, seed=1, resets=None):
    """A stand-in for the Table API behind the fault middleware, plus the admin routes."""
    controller = FaultController(config or FaultConfig(), seed=seed)
    calls = []

    async def table(request):
        calls.append(request.method)
        return JSONResponse({"result": []}, headers={"X-Total-Count": "0"})

    async def home(request):
        return JSONResponse({"ok": True})

    routes = [
        Route("/api/now/table/incident", table, methods=["GET", "POST"]),
        Route("/oauth_token.do", table, methods=["POST"]),
        Route("/", home),
        *admin_routes(controller, reset_store=(lambda: resets.append("store")) if resets is not None else None),
    ]
    app = Starlette(routes=routes, middleware=[Middleware(FaultMiddleware, controller=controller)])
    client = TestClient(app)
    client.calls = calls
    client.controller = controller
    return client


def statuses(client, n=200):
    return [client.get("/api/now/table/incident").status_code for _ in range(n)]


# -- config syntax ----------------------------------------------------------------------------


def test_it_parses_the_cli_syntax():
    config = FaultConfig.parse(
        "error500=0.05,error503=0.05,rate429=0.02,retry_after=2,latency_ms=50-200,timeout=0.01,timeout_s=30,"
        "webhook_drop=0.1,webhook_dup=0.1,webhook_delay_ms=0-3000,webhook_reorder=0.2,down_for_s=0"
    )
    assert config.error500 == 0.05 and config.rate429 == 0.02
    assert config.latency_ms == (50, 200) and config.webhook_delay_ms == (0, 3000)
    assert FaultConfig.parse(config.to_spec()) == config
    assert FaultConfig.parse("") == FaultConfig()
    assert FaultConfig.parse("latency_ms=100").latency_ms == (100, 100)


@pytest.mark.parametrize("spec", ["bogus=1", "error500=2", "error500", "latency_ms=9-1", "error500=0.6,error503=0.6"])
def test_it_rejects_bad_specs(spec):
    with pytest.raises(ValueError):
        FaultConfig.parse(spec)


# -- HTTP faults ------------------------------------------------------------------------------


def test_no_faults_pass_everything_through():
    client = make_client()
    assert set(statuses(client, 20)) == {200}


def test_error500_has_a_servicenow_error_body_and_does_not_reach_the_api():
    client = make_client(FaultConfig(error500=1.0))
    response = client.post("/api/now/table/incident", json={})
    assert response.status_code == 500
    assert response.json()["status"] == "failure"
    assert response.json()["error"]["message"]
    assert client.calls == []


def test_error503_carries_retry_after():
    client = make_client(FaultConfig(error503=1.0, retry_after=7))
    response = client.get("/api/now/table/incident")
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "7"
    # the edge's HTML error page, not ServiceNow's JSON envelope (a client calling .json() fails here)
    assert response.headers["content-type"].startswith("text/html")
    assert "<h1>503 Service Unavailable</h1>" in response.text


def test_rate429_looks_like_servicenow():
    client = make_client(FaultConfig(rate429=1.0, retry_after=3))
    response = client.get("/api/now/table/incident")
    assert response.status_code == 429
    assert response.json() == {
        "error": {
            "message": "Rate limit exceeded",
            "detail": "Rate limit of 5000 requests per hour for Table API exceeded",
        },
        "status": "failure",
    }
    assert response.headers["Retry-After"] == "3"
    assert response.headers["X-RateLimit-Limit"] == "5000"
    assert int(response.headers["X-RateLimit-Reset"]) > time.time()
    assert len(response.headers["X-RateLimit-Rule"]) == 32


def test_a_real_hourly_rate_limit_counts_requests():
    client = make_client(FaultConfig(rate_limit=3))
    codes = statuses(client, 5)
    assert codes == [200, 200, 200, 429, 429]
    ok = client.get("/")  # outside the API: not counted, no headers
    assert "X-RateLimit-Limit" not in ok.headers
    response = client.get("/api/now/table/incident")
    assert "Rate limit of 3 requests per hour" in response.json()["error"]["detail"]


def test_latency_delays_the_answer():
    client = make_client(FaultConfig(latency_ms=(60, 60)))
    started = time.monotonic()
    assert client.get("/api/now/table/incident").status_code == 200
    assert time.monotonic() - started >= 0.055


def test_timeout_holds_the_request_then_answers_504():
    client = make_client(FaultConfig(timeout=1.0, timeout_s=0.15))
    started = time.monotonic()
    response = client.get("/api/now/table/incident")
    assert time.monotonic() - started >= 0.14
    assert response.status_code == 504
    assert response.headers["content-type"].startswith("text/html") and "504 Gateway Timeout" in response.text


def test_lost_response_commits_but_the_client_sees_502():
    client = make_client(FaultConfig(lost_response=1.0))
    response = client.post("/api/now/table/incident", json={})
    assert response.status_code == 502
    assert response.headers["content-type"].startswith("text/html") and "502 Bad Gateway" in response.text
    assert client.calls == ["POST"]


def test_errors_the_instance_itself_sends_stay_json():
    assert make_client(FaultConfig(error500=1.0)).get("/api/now/table/incident").json()["status"] == "failure"
    assert make_client(FaultConfig(rate429=1.0)).get("/api/now/table/incident").json()["status"] == "failure"


def test_a_down_period_can_look_like_a_hibernating_instance():
    client = make_client(FaultConfig(down_for_s=5, down_mode="hibernate"))
    response = client.get("/api/now/table/incident")
    assert response.status_code == 200  # a trap: success status, but an HTML page instead of JSON
    assert response.headers["content-type"].startswith("text/html")
    assert "hibernating" in response.text
    assert FaultConfig.parse("down_mode=hibernate").down_mode == "hibernate"
    with pytest.raises(ValueError):
        FaultConfig.parse("down_mode=sleepy")


def test_faults_apply_to_the_oauth_endpoint_but_not_elsewhere():
    client = make_client(FaultConfig(error500=1.0))
    assert client.post("/oauth_token.do").status_code == 500
    assert client.get("/").status_code == 200
    assert client.get("/snowsim/admin/faults", auth=ADMIN).status_code == 200


def test_the_same_seed_fails_the_same_requests():
    config = FaultConfig(error500=0.1, error503=0.1, rate429=0.1)
    first = statuses(make_client(config, seed=42))
    second = statuses(make_client(config, seed=42))
    other = statuses(make_client(config, seed=43))
    assert first == second
    assert first != other
    assert {500, 503, 429, 200} <= set(first)
    assert 0.2 < first.count(200) / len(first) < 0.9


def test_the_down_switch_answers_503_until_it_expires():
    client = make_client(FaultConfig(down_for_s=0.2))
    response = client.get("/api/now/table/incident")
    assert response.status_code == 503
    assert int(response.headers["Retry-After"]) >= 1
    time.sleep(0.25)
    assert client.get("/api/now/table/incident").status_code == 200


# -- admin endpoints --------------------------------------------------------------------------


@pytest.mark.parametrize("auth", [None, ("admin", "wrong"), ("itil.engineer1", "itil.engineer1")])
@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "/snowsim/admin/faults"),
        ("PUT", "/snowsim/admin/faults"),
        ("POST", "/snowsim/admin/down"),
        ("POST", "/snowsim/admin/reset"),
    ],
)
def test_admin_endpoints_need_admin_basic_auth(auth, method, path):
    client = make_client()
    response = client.request(method, path, auth=auth, json={})
    assert response.status_code == 401
    assert response.json()["status"] == "failure"


def test_admin_can_read_and_change_faults_at_runtime():
    client = make_client()
    state = client.get("/snowsim/admin/faults", auth=ADMIN).json()
    assert state["config"]["error500"] == 0.0
    response = client.put("/snowsim/admin/faults", auth=ADMIN, json={"error503": 1.0, "latency_ms": "0-5"})
    assert response.status_code == 200
    assert response.json()["config"]["error503"] == 1.0
    assert response.json()["config"]["latency_ms"] == [0, 5]
    assert client.get("/api/now/table/incident").status_code == 503
    client.put("/snowsim/admin/faults", auth=ADMIN, json={"spec": ""})
    assert client.get("/api/now/table/incident").status_code == 200


def test_admin_rejects_invalid_faults():
    client = make_client()
    response = client.put("/snowsim/admin/faults", auth=ADMIN, json={"error500": 5})
    assert response.status_code == 400
    assert client.put("/snowsim/admin/faults", auth=ADMIN, json={"nope": 1}).status_code == 400


def test_admin_down_and_reset():
    resets = []
    client = make_client(resets=resets)
    assert client.post("/snowsim/admin/down?seconds=30", auth=ADMIN).json()["down_remaining_s"] > 29
    assert client.get("/api/now/table/incident").status_code == 503
    assert client.post("/snowsim/admin/down?seconds=-1", auth=ADMIN).status_code == 400
    client.put("/snowsim/admin/faults", auth=ADMIN, json={"error500": 1.0})
    assert client.post("/snowsim/admin/reset", auth=ADMIN).status_code == 200
    assert resets == ["store"]
    assert client.get("/api/now/table/incident").status_code == 200


def test_webhook_plans_are_deterministic_and_independent_of_http_traffic():
    config = FaultConfig(webhook_drop=0.3, webhook_dup=0.3, webhook_reorder=0.3, webhook_delay_ms=(0, 100))
    a = FaultController(config, seed=5)
    b = FaultController(config, seed=5)
    for _ in range(7):
        b.decide()
    plans_a = [a.webhook_plan() for _ in range(50)]
    plans_b = [b.webhook_plan() for _ in range(50)]
    assert plans_a == plans_b
    assert any(p["drop"] for p in plans_a) and any(p["duplicate"] for p in plans_a)
