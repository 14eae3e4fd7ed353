"""Fault injection for snowsim: errors, rate limits, latency, timeouts and outages.

A :class:`FaultConfig` says how often each fault happens; a :class:`FaultController` holds
the config, the seeded random streams and the "down" switch; :class:`FaultMiddleware` is a
plain ASGI middleware that applies the controller to ``/api/*`` and ``/oauth_token.do``
(never to ``/snowsim/*`` or the HTML view).

Spec syntax (CLI ``--faults`` and :meth:`FaultConfig.parse`): comma-separated ``key=value``
pairs, probabilities as fractions 0..1, ranges as ``lo-hi``::

    error500=0.05,error503=0.05,rate429=0.02,retry_after=2,latency_ms=50-200,
    timeout=0.01,timeout_s=30,lost_response=0.01,rate_limit=3600,
    webhook_drop=0.1,webhook_dup=0.1,webhook_delay_ms=0-3000,webhook_reorder=0.2,down_for_s=0

Determinism: with the same seed and the same request order, the same requests fail. HTTP
requests draw from one ``random.Random(seed)`` stream (exactly two draws per request:
the fault kind, then the latency); webhook deliveries draw from a second stream seeded from
the same seed, so webhook faults do not shift when HTTP traffic changes.
"""

from __future__ import annotations

import asyncio
import base64
import dataclasses
import json
import random
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from starlette.requests import Request
from starlette.responses import HTMLResponse, JSONResponse, Response
from starlette.routing import Route

__all__ = [
    "FaultConfig",
    "FaultController",
    "FaultMiddleware",
    "admin_routes",
    "check_admin",
    "error_body",
]

RATE_LIMIT_RULE_ID = "5f1c0a7e8b2d4c6e9a1b3d5f7e9c0b2a"
FAULT_PATH_PREFIXES = ("/api/",)
FAULT_PATHS = ("/oauth_token.do",)

_PROBABILITIES = (
    "error500",
    "error503",
    "rate429",
    "timeout",
    "lost_response",
    "webhook_drop",
    "webhook_dup",
    "webhook_reorder",
)
_RANGES = ("latency_ms", "webhook_delay_ms")
_NUMBERS = ("retry_after", "timeout_s", "down_for_s")
_INTEGERS = ("rate_limit",)
DOWN_MODES = ("503", "hibernate")


@dataclass
class FaultConfig:
    """How often each fault happens. All probabilities are fractions between 0 and 1."""

    error500: float = 0.0  # answer 500 before the request reaches the API (nothing written)
    error503: float = 0.0  # answer 503 + Retry-After before the request reaches the API
    rate429: float = 0.0  # answer 429 with ServiceNow's rate-limit body and headers
    retry_after: float = 2  # seconds, sent as Retry-After on 429/503
    latency_ms: tuple[int, int] = (0, 0)  # extra delay per request, uniform in [lo, hi]
    timeout: float = 0.0  # hold the request for timeout_s seconds, then answer 504
    timeout_s: float = 30
    lost_response: float = 0.0  # the API handles (and commits) the request, the client gets 502
    rate_limit: int = 0  # a real per-hour limit (requests/hour, all users); 0 = off
    webhook_drop: float = 0.0  # outbound notification silently not sent
    webhook_dup: float = 0.0  # outbound notification sent twice (same event id)
    webhook_delay_ms: tuple[int, int] = (0, 0)  # extra delay before an outbound notification
    webhook_reorder: float = 0.0  # hold a notification back and send it after the next one
    down_for_s: float = 0  # at start (or when set through the admin API): answer 503 for N seconds
    down_mode: str = "503"  # while down: "503" (the edge's HTML error page) or "hibernate" (200 + HTML page)

    def __post_init__(self) -> None:
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` for out-of-range values."""
        for name in _PROBABILITIES:
            value = float(getattr(self, name))
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1, got {value}")
            setattr(self, name, value)
        for name in _RANGES:
            lo, hi = (int(v) for v in getattr(self, name))
            if lo < 0 or hi < lo:
                raise ValueError(f"{name} must be a range lo-hi with 0 <= lo <= hi")
            setattr(self, name, (lo, hi))
        for name in _NUMBERS:
            value = float(getattr(self, name))
            if value < 0:
                raise ValueError(f"{name} must not be negative")
            setattr(self, name, value)
        self.down_mode = str(self.down_mode)
        if self.down_mode not in DOWN_MODES:
            raise ValueError(f"down_mode must be one of {', '.join(DOWN_MODES)}")
        if int(self.rate_limit) < 0:
            raise ValueError("rate_limit must not be negative")
        self.rate_limit = int(self.rate_limit)
        total = self.error500 + self.error503 + self.rate429 + self.timeout + self.lost_response
        if total > 1.0 + 1e-9:
            raise ValueError("error500 + error503 + rate429 + timeout + lost_response must not exceed 1")

    @classmethod
    def parse(cls, spec: str | None) -> FaultConfig:
        """Parse ``"error500=0.05,latency_ms=50-200"``; an empty spec means no faults."""
        values: dict[str, Any] = {}
        for raw in (spec or "").replace(";", ",").split(","):
            item = raw.strip()
            if not item:
                continue
            key, sep, value = item.partition("=")
            key, value = key.strip(), value.strip()
            if not sep or not value:
                raise ValueError(f"fault {item!r} must look like key=value")
            values[key] = _coerce(key, value)
        return cls.from_dict(values)

    @classmethod
    def from_dict(cls, data: dict[str, Any], base: FaultConfig | None = None) -> FaultConfig:
        """Build a config from JSON-like data (ranges as ``[lo, hi]`` or ``"lo-hi"``) on top of ``base``."""
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise ValueError(f"unknown fault setting(s): {', '.join(unknown)}; known: {', '.join(sorted(names))}")
        merged = dataclasses.asdict(base) if base else {}
        for key, value in data.items():
            merged[key] = _coerce(key, value) if isinstance(value, str) else value
            if key in _RANGES and not isinstance(merged[key], tuple):
                merged[key] = _coerce(key, merged[key])
        return cls(**merged)

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        for name in _RANGES:
            data[name] = list(data[name])
        return data

    def to_spec(self) -> str:
        """The CLI spec for the non-default settings."""
        default = FaultConfig()
        parts = []
        for f in dataclasses.fields(self):
            value = getattr(self, f.name)
            if value == getattr(default, f.name):
                continue
            if f.name in _RANGES:
                value = f"{value[0]}-{value[1]}"
            elif isinstance(value, float) and value.is_integer() and f.name in _NUMBERS:
                value = int(value)
            parts.append(f"{f.name}={value}")
        return ",".join(parts)


def _coerce(key: str, value: Any) -> Any:
    try:
        if key in _RANGES:
            if isinstance(value, list | tuple):
                lo, hi = value
            else:
                text = str(value)
                lo, _, hi = text.partition("-")
                hi = hi or lo
            return (int(float(lo)), int(float(hi)))
        if key in _INTEGERS:
            return int(value)
        if key in _PROBABILITIES or key in _NUMBERS:
            return float(value)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"bad value for {key}: {value!r}") from exc
    return value  # unknown keys are rejected by from_dict with a helpful message


def error_body(message: str, detail: str = "") -> dict[str, Any]:
    """ServiceNow's error envelope."""
    return {"error": {"message": message, "detail": detail}, "status": "failure"}


_EDGE_PAGE = """<!DOCTYPE html>
<html><head><title>{status} {reason}</title></head>
<body><h1>{status} {reason}</h1><p>{text}</p><hr><p>snowsim ({fault})</p></body></html>
"""
_HIBERNATE_PAGE = """<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>Instance Hibernating page</title></head>
<body><h1>Your instance is hibernating</h1>
<p>This instance is asleep to save resources. Sign in to wake it up; this can take a few minutes.</p>
<form method="post" action="/login.do"><button type="submit">Wake up instance</button></form>
<p>snowsim (down_mode=hibernate)</p></body></html>
"""


def html_page(status: int, reason: str, text: str, fault: str, headers: dict[str, str] | None = None) -> Response:
    """The HTML page a real instance's edge (load balancer, proxy) sends on 502/503/504: not JSON."""
    body = _EDGE_PAGE.format(status=status, reason=reason, text=text, fault=fault)
    return HTMLResponse(body, status, headers=headers)


def hibernation_page() -> Response:
    """What a hibernating (developer) instance answers on any path, the API included: 200 and HTML."""
    return HTMLResponse(_HIBERNATE_PAGE, 200)


def _next_hour(now: float) -> int:
    return int(now // 3600 + 1) * 3600


@dataclass
class Decision:
    """What the middleware does with one request."""

    kind: str  # "pass", "error500", "error503", "rate429", "timeout", "lost_response", "down"
    latency_s: float = 0.0
    retry_after: float = 0.0


@dataclass
class FaultController:
    """Holds the active :class:`FaultConfig`, the seeded decision streams and the down switch."""

    config: FaultConfig = field(default_factory=FaultConfig)
    seed: int = 0
    clock: Callable[[], float] = time.monotonic
    wall_clock: Callable[[], float] = time.time

    def __post_init__(self) -> None:
        self._lock = threading.Lock()
        self.initial_config = dataclasses.replace(self.config)
        self.counts: dict[str, int] = {}
        self._reseed()
        self._down_until = 0.0
        if self.config.down_for_s:
            self.set_down(self.config.down_for_s)
        self._window_start = 0
        self._window_count = 0

    # -- state -------------------------------------------------------------------------------
    def _reseed(self) -> None:
        self.rng = random.Random(self.seed)
        self.webhook_rng = random.Random(f"webhooks:{self.seed}")
        self.counts = {}

    def reset(self) -> None:
        """Back to the start-up config, fresh random streams, not down."""
        with self._lock:
            self.config = dataclasses.replace(self.initial_config)
            self._reseed()
            self._down_until = 0.0
            self._window_count = 0
        if self.config.down_for_s:
            self.set_down(self.config.down_for_s)

    def update(self, config: FaultConfig, *, seed: int | None = None) -> None:
        """Replace the active config (and optionally reseed)."""
        with self._lock:
            self.config = config
            if seed is not None:
                self.seed = seed
                self._reseed()
        if config.down_for_s:
            self.set_down(config.down_for_s)

    def set_down(self, seconds: float) -> None:
        """Answer 503 to every API request for ``seconds`` (0 brings the instance back)."""
        with self._lock:
            self._down_until = self.clock() + max(0.0, float(seconds)) if seconds else 0.0

    def down_remaining(self) -> float:
        return max(0.0, self._down_until - self.clock())

    def state(self) -> dict[str, Any]:
        return {
            "config": self.config.to_dict(),
            "spec": self.config.to_spec(),
            "seed": self.seed,
            "down_remaining_s": round(self.down_remaining(), 3),
            "counts": dict(self.counts),
        }

    # -- decisions ---------------------------------------------------------------------------
    def decide(self) -> Decision:
        """Decide the fate of one API request (two draws from the HTTP stream, unless down)."""
        with self._lock:
            cfg = self.config
            remaining = self._down_until - self.clock()
            if remaining > 0:
                self._count("down")
                return Decision("down", retry_after=max(1.0, remaining))
            draw = self.rng.random()
            lo, hi = cfg.latency_ms
            latency_draw = self.rng.random()
            latency = (lo + (hi - lo) * latency_draw) / 1000.0
            kind = "pass"
            threshold = 0.0
            for name in ("timeout", "error500", "error503", "rate429", "lost_response"):
                threshold += getattr(cfg, name)
                if draw < threshold:
                    kind = name
                    break
            if kind == "pass" and cfg.rate_limit and self._over_limit():
                kind = "rate429_limit"
            self._count(kind)
            return Decision(kind, latency_s=latency, retry_after=cfg.retry_after)

    def _over_limit(self) -> bool:
        window = int(self.wall_clock() // 3600)
        if window != self._window_start:
            self._window_start, self._window_count = window, 0
        self._window_count += 1
        return self._window_count > self.config.rate_limit

    def _count(self, kind: str) -> None:
        self.counts[kind] = self.counts.get(kind, 0) + 1

    def webhook_plan(self) -> dict[str, Any]:
        """Decide the fate of one outbound notification (four draws from the webhook stream)."""
        with self._lock:
            cfg = self.config
            drop, dup, reorder, delay = (self.webhook_rng.random() for _ in range(4))
            lo, hi = cfg.webhook_delay_ms
            return {
                "drop": drop < cfg.webhook_drop,
                "duplicate": dup < cfg.webhook_dup,
                "reorder": reorder < cfg.webhook_reorder,
                "delay_s": (lo + (hi - lo) * delay) / 1000.0,
            }

    def rate_limit_headers(self) -> dict[str, str]:
        limit = self.config.rate_limit or 5000
        return {
            "X-RateLimit-Limit": str(limit),
            "X-RateLimit-Reset": str(_next_hour(self.wall_clock())),
            "X-RateLimit-Rule": RATE_LIMIT_RULE_ID,
        }


def _applies(path: str) -> bool:
    return path.startswith(FAULT_PATH_PREFIXES) or path in FAULT_PATHS


class FaultMiddleware:
    """ASGI middleware that applies a :class:`FaultController` to the API paths."""

    def __init__(self, app: Any, controller: FaultController | None = None) -> None:
        self.app = app
        self.controller = controller or FaultController()

    async def __call__(self, scope: dict, receive: Callable, send: Callable) -> None:
        if scope["type"] != "http" or not _applies(scope.get("path", "")):
            await self.app(scope, receive, send)
            return
        controller = self.controller
        decision = controller.decide()
        if decision.latency_s > 0:
            await asyncio.sleep(decision.latency_s)
        rate_headers = controller.rate_limit_headers() if controller.config.rate_limit else {}
        kind = decision.kind
        if kind == "pass":
            await self.app(scope, receive, _adding_headers(send, rate_headers))
            return
        if kind == "timeout":
            await _hold(receive, controller.config.timeout_s)
            response: Response = html_page(
                504, "Gateway Timeout", "The upstream server did not answer in time.", "timeout fault"
            )
        elif kind == "error500":
            response = JSONResponse(
                error_body("Internal server error", "An unexpected error occurred (snowsim error500 fault)"), 500
            )
        elif kind == "down" and controller.config.down_mode == "hibernate":
            response = hibernation_page()
        elif kind in ("error503", "down"):
            text = (
                "The instance is temporarily unavailable for maintenance."
                if kind == "down"
                else "The server is temporarily unable to service your request."
            )
            response = html_page(
                503,
                "Service Unavailable",
                text,
                "down switch" if kind == "down" else "error503 fault",
                headers={"Retry-After": str(max(1, round(decision.retry_after)))},
            )
        elif kind in ("rate429", "rate429_limit"):
            limit = controller.config.rate_limit or 5000
            response = JSONResponse(
                error_body("Rate limit exceeded", f"Rate limit of {limit} requests per hour for Table API exceeded"),
                429,
                headers={"Retry-After": str(max(1, round(decision.retry_after))), **controller.rate_limit_headers()},
            )
        elif kind == "lost_response":
            await self.app(scope, receive, _discard)
            response = html_page(
                502, "Bad Gateway", "The proxy received an invalid response from the upstream server.", "lost_response"
            )
        else:  # pragma: no cover - defensive
            raise RuntimeError(kind)
        if kind not in ("rate429", "rate429_limit"):
            response.headers.update(rate_headers)
        await response(scope, receive, send)


async def _discard(message: dict) -> None:
    return None


def _adding_headers(send: Callable, headers: dict[str, str]) -> Callable:
    if not headers:
        return send
    raw = [(k.lower().encode("latin-1"), v.encode("latin-1")) for k, v in headers.items()]

    async def wrapped(message: dict) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": list(message.get("headers", [])) + raw}
        await send(message)

    return wrapped


async def _hold(receive: Callable, seconds: float) -> None:
    """Sleep ``seconds`` or until the client disconnects, whichever comes first."""

    async def until_disconnect() -> None:
        while True:
            message = await receive()
            if message["type"] == "http.disconnect":
                return

    waiter = asyncio.ensure_future(until_disconnect())
    try:
        await asyncio.wait({waiter}, timeout=seconds)
    finally:
        waiter.cancel()


# -- admin endpoints --------------------------------------------------------------------------

ADMIN_USER, ADMIN_PASSWORD = "admin", "admin"


def check_admin(request: Request, user: str = ADMIN_USER, password: str = ADMIN_PASSWORD) -> Response | None:
    """Return a 401 response unless the request carries admin basic auth."""
    header = request.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "basic":
        try:
            given_user, _, given_password = base64.b64decode(value).decode("utf-8").partition(":")
        except (ValueError, UnicodeDecodeError):
            given_user, given_password = "", ""
        if secrets.compare_digest(given_user, user) and secrets.compare_digest(given_password, password):
            return None
    return JSONResponse(
        error_body("User Not Authenticated", "Required to provide Auth information (snowsim admin: admin basic auth)"),
        401,
        headers={"WWW-Authenticate": 'Basic realm="snowsim admin"'},
    )


def admin_routes(
    controller: FaultController,
    *,
    reset_store: Callable[[], None] | None = None,
    on_reset: list[Callable[[], None]] | None = None,
) -> list[Route]:
    """``GET/PUT /snowsim/admin/faults``, ``POST /snowsim/admin/down``, ``POST /snowsim/admin/reset``."""

    async def faults(request: Request) -> Response:
        denied = check_admin(request)
        if denied:
            return denied
        if request.method == "PUT":
            try:
                data = json.loads(await request.body() or b"{}")
                if not isinstance(data, dict):
                    raise ValueError("body must be a JSON object")
                seed = data.pop("seed", None)
                spec = data.pop("spec", None)
                replace = bool(data.pop("replace", False))
                if spec is not None:
                    base = FaultConfig.parse(spec)
                elif replace:
                    base = FaultConfig()
                else:
                    base = controller.config
                config = FaultConfig.from_dict(data, base=base)
            except (ValueError, TypeError) as exc:
                return JSONResponse(error_body("Invalid fault configuration", str(exc)), 400)
            controller.update(config, seed=int(seed) if seed is not None else None)
        return JSONResponse(controller.state())

    async def down(request: Request) -> Response:
        denied = check_admin(request)
        if denied:
            return denied
        try:
            seconds = float(request.query_params.get("seconds", "60"))
            if seconds < 0:
                raise ValueError
        except ValueError:
            return JSONResponse(error_body("Invalid request", "seconds must be a non-negative number"), 400)
        controller.set_down(seconds)
        return JSONResponse({"down_remaining_s": round(controller.down_remaining(), 3)})

    async def reset(request: Request) -> Response:
        denied = check_admin(request)
        if denied:
            return denied
        if reset_store is not None:
            await asyncio.to_thread(reset_store)
        controller.reset()
        for callback in on_reset or ():
            callback()
        return JSONResponse({"status": "reset", "faults": controller.state()})

    return [
        Route("/snowsim/admin/faults", faults, methods=["GET", "PUT"]),
        Route("/snowsim/admin/down", down, methods=["POST"]),
        Route("/snowsim/admin/reset", reset, methods=["POST"]),
    ]
