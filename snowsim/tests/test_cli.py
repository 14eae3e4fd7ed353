"""snowsim.cli: argument parsing, and `serve` / `vendor-agent` / `reset` as real processes."""

import json
import os
import signal
import socket
import subprocess
import sys
import time

import httpx
import pytest

from snowsim.cli import build_parser
from snowsim.tests.receiver import Receiver
from snowsim.tls import client_verify
from snowsim.webhooks import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature

PYTHON = sys.executable


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url, verify, proc, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"snowsim exited: {proc.communicate()}")
        try:
            return httpx.get(url, verify=verify, auth=("admin", "admin"), timeout=2)
        except (httpx.TransportError, OSError):
            time.sleep(0.1)
    raise AssertionError("snowsim did not answer in time")


def start(*args, env=None):
    return subprocess.Popen(
        [PYTHON, "-m", "snowsim", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, **(env or {})},
    )


def stop(proc):
    proc.send_signal(signal.SIGTERM)
    try:
        out, err = proc.communicate(timeout=15)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
    return proc.returncode, out, err


# -- parsing ----------------------------------------------------------------------------------


def test_serve_defaults():
    args = build_parser().parse_args(["serve"])
    assert (args.host, args.port, args.data, args.seed) == ("127.0.0.1", 8001, "var/snowsim", 1)
    assert args.insecure_http is False and args.invalid_query_returns_no_rows is False
    assert args.webhook == [] and args.access_log is False


def test_serve_options():
    args = build_parser().parse_args(
        [
            "serve",
            "--port",
            "9000",
            "--faults",
            "error500=0.1",
            "--webhook",
            "https://a/hook",
            "--webhook",
            "https://b",
            "--webhook-secret",
            "s",
            "--webhook-skip-user",
            "kompass.integration",
            "--insecure-http",
            "--invalid-query-returns-no-rows",
            "--cert",
            "c.pem",
            "--key",
            "k.pem",
        ]
    )
    assert args.port == 9000 and args.faults == "error500=0.1"
    assert args.webhook == ["https://a/hook", "https://b"] and args.webhook_skip_user == ["kompass.integration"]
    assert args.insecure_http and args.invalid_query_returns_no_rows and (args.cert, args.key) == ("c.pem", "k.pem")


def test_environment_fallbacks(monkeypatch):
    monkeypatch.setenv("SNOWSIM_PORT", "8123")
    monkeypatch.setenv("SNOWSIM_FAULTS", "rate429=0.5")
    monkeypatch.setenv("SNOWSIM_WEBHOOK", "https://x/1 https://x/2")
    monkeypatch.setenv("SNOWSIM_SPEED", "4")
    parser = build_parser()
    serve = parser.parse_args(["serve"])
    assert serve.port == 8123 and serve.faults == "rate429=0.5" and serve.webhook == ["https://x/1", "https://x/2"]
    agent = parser.parse_args(["vendor-agent"])
    assert agent.speed == 4.0 and agent.url == "https://127.0.0.1:8123"


def test_vendor_agent_and_reset_options():
    args = build_parser().parse_args(
        [
            "vendor-agent",
            "--url",
            "https://h:1",
            "--ca",
            "ca.pem",
            "--user",
            "admin",
            "--speed",
            "10",
            "--seed",
            "5",
            "--create-every",
            "30",
        ]
    )
    assert (args.url, args.ca, args.user, args.speed, args.seed, args.create_every) == (
        "https://h:1",
        "ca.pem",
        "admin",
        10.0,
        5,
        30.0,
    )
    assert args.caller_timeout == 300.0
    assert build_parser().parse_args(["vendor-agent", "--caller-timeout", "45"]).caller_timeout == 45.0
    assert build_parser().parse_args(["reset", "--data", "d"]).data == "d"
    serve = build_parser().parse_args(["serve"])
    assert (serve.http, serve.loop) == ("auto", "auto")
    serve = build_parser().parse_args(["serve", "--http", "h11", "--loop", "asyncio"])
    assert (serve.http, serve.loop) == ("h11", "asyncio")


@pytest.mark.slow
def test_a_bad_fault_spec_exits_with_2(tmp_path):
    result = subprocess.run(
        [PYTHON, "-m", "snowsim", "serve", "--data", str(tmp_path), "--faults", "nope=1"],
        capture_output=True,
        text=True,
        timeout=30,
    )
    assert result.returncode == 2 and "nope" in result.stderr


# -- processes --------------------------------------------------------------------------------


@pytest.mark.slow
def test_serve_speaks_https_with_its_own_ca_and_sends_webhooks(tmp_path):
    port, receiver = free_port(), Receiver()
    proc = start(
        "serve",
        "--port",
        str(port),
        "--data",
        str(tmp_path),
        "--webhook",
        receiver.url,
        "--webhook-secret",
        "shh",
        "--webhook-skip-user",
        "admin",
    )
    try:
        ca = tmp_path / "tls" / "ca.pem"
        deadline = time.monotonic() + 20
        while not ca.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        verify = client_verify(ca)
        response = wait_for(f"https://127.0.0.1:{port}/api/now/table/incident?sysparm_limit=1", verify, proc)
        assert response.status_code == 200
        assert (tmp_path / "snowsim.sqlite3").exists()
        with httpx.Client(
            base_url=f"https://localhost:{port}", verify=verify, auth=("kompass.integration", "kompass")
        ) as c:
            created = c.post("/api/now/table/incident", json={"short_description": "from the CLI test"})
            assert created.status_code == 201
        assert httpx.get(f"https://127.0.0.1:{port}/snowsim/", verify=verify).status_code == 200
        deadline = time.monotonic() + 10
        while not receiver.requests and time.monotonic() < deadline:
            time.sleep(0.05)
        headers, body = receiver.requests[0]["headers"], receiver.requests[0]["body"]
        assert verify_signature("shh", headers[TIMESTAMP_HEADER], body, headers[SIGNATURE_HEADER])
        assert json.loads(body)["number"] == created.json()["result"]["number"]
    finally:
        code, out, err = stop(proc)
        receiver.server.shutdown()
    assert code == 0, err
    assert f"https://127.0.0.1:{port}" in out and "ca.pem" in out


@pytest.mark.slow
def test_insecure_http_serves_plain_http(tmp_path):
    port = free_port()
    proc = start("serve", "--port", str(port), "--data", str(tmp_path), "--insecure-http", "--memory")
    try:
        response = wait_for(f"http://127.0.0.1:{port}/api/now/table/sys_user_group?sysparm_limit=1", True, proc)
        assert response.status_code == 200
        assert not (tmp_path / "snowsim.sqlite3").exists()
    finally:
        code, out, _ = stop(proc)
    assert "plain HTTP" in out


@pytest.mark.slow
def test_vendor_agent_process_works_and_exits_cleanly_on_sigterm(tmp_path):
    port = free_port()
    server = start("serve", "--port", str(port), "--data", str(tmp_path))
    try:
        deadline = time.monotonic() + 20
        while not (tmp_path / "tls" / "ca.pem").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        verify = client_verify(tmp_path / "tls" / "ca.pem")
        wait_for(f"https://127.0.0.1:{port}/api/now/table/incident?sysparm_limit=1", verify, server)
        agent = start(
            "vendor-agent",
            "--url",
            f"https://127.0.0.1:{port}",
            "--ca",
            str(tmp_path / "tls" / "ca.pem"),
            "--speed",
            "1000",
            "--create-every",
            "1000",
            "-v",
        )
        url = f"https://127.0.0.1:{port}/api/now/table/incident?sysparm_query=assigned_toISNOTEMPTY&sysparm_limit=1"
        deadline, found = time.monotonic() + 20, []
        while not found and time.monotonic() < deadline and agent.poll() is None:
            found = httpx.get(url, verify=verify, auth=("admin", "admin")).json()["result"]
            time.sleep(0.1)
        code, out, err = stop(agent)
        assert found, (out, err)
        assert code == 0, err
        assert "created by a simulated caller" in out
    finally:
        stop(server)


@pytest.mark.slow
def test_reset_reseeds_the_store(tmp_path):
    from snowsim.store import Store

    store = Store(str(tmp_path / "snowsim.sqlite3"), seed=1)
    store.insert("incident", {"short_description": "x"}, "admin")
    store.close()
    result = subprocess.run(
        [PYTHON, "-m", "snowsim", "reset", "--data", str(tmp_path)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    store = Store(str(tmp_path / "snowsim.sqlite3"), seed=1)
    assert store.count("incident") == 0
    assert store.get_user("admin") is not None
    store.close()


@pytest.mark.parametrize("argv", [["--help"], ["serve", "--help"], ["vendor-agent", "--help"], ["reset", "--help"]])
def test_help_works(argv, capsys):
    with pytest.raises(SystemExit) as exc:
        build_parser().parse_args(argv)
    assert exc.value.code == 0
    assert "snowsim" in capsys.readouterr().out


@pytest.mark.slow
def test_serve_wires_the_real_instance_options(tmp_path):
    """A real `snowsim serve` process: auto-close job, instance properties, the integration user's zone and
    the script payload, end to end over HTTPS."""
    port, receiver = free_port(), Receiver()
    proc = start(
        "serve",
        "--port",
        str(port),
        "--data",
        str(tmp_path),
        "--memory",
        "--webhook",
        receiver.url,
        "--autoclose-after",
        "1",
        "--autoclose-interval",
        "0.2",
        "--integration-tz",
        "UTC",
        "--property",
        "snowsim.incident.caller_proxy_users=",
    )
    try:
        deadline = time.monotonic() + 20
        while not (tmp_path / "tls" / "ca.pem").exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        verify = client_verify(tmp_path / "tls" / "ca.pem")
        wait_for(f"https://127.0.0.1:{port}/api/now/table/incident?sysparm_limit=1", verify, proc)
        base = f"https://127.0.0.1:{port}/api/now/table/incident"
        kompass = httpx.Client(verify=verify, auth=("kompass.integration", "kompass"))
        eng = httpx.Client(verify=verify, auth=("itil.engineer1", "itil.engineer1"))
        with kompass, eng:
            inc = kompass.post(base, json={"short_description": "cli", "correlation_id": "K-1"}).json()["result"]
            url = f"{base}/{inc['sys_id']}"
            shown = kompass.get(url, params={"sysparm_display_value": "all"}).json()["result"]["sys_created_on"]
            assert shown["display_value"] == shown["value"]  # --integration-tz UTC
            eng.patch(url, json={"state": "3", "hold_reason": "1"})
            assert kompass.patch(url, json={"comments": "reply"}).json()["result"]["state"] == "3"  # no proxy
            eng.patch(url, json={"state": "6", "close_code": "Solution provided", "close_notes": "ok"})
            deadline, state = time.monotonic() + 15, ""
            while state != "7" and time.monotonic() < deadline:
                time.sleep(0.2)
                state = kompass.get(url).json()["result"]["state"]
            assert state == "7"
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and not any(p["state"] == "7" for p in receiver.payloads()):
            time.sleep(0.05)
        closed = [p for p in receiver.payloads() if p["state"] == "7"]
        assert closed and closed[0]["sys_updated_by"] == "system" and "record" not in closed[0]
        assert closed[0]["latest_comment"].endswith("reply\n\n")
    finally:
        code, out, err = stop(proc)
        receiver.close()
    assert code == 0, err
    assert "auto-close" in out
