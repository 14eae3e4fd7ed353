"""``snowsim`` command line: ``serve``, ``vendor-agent`` and ``reset``.

Every option has an environment fallback (shown in ``--help``), so a Procfile can stay short::

    snowsim serve --port 8001 --data var/snowsim --faults "error503=0.02,latency_ms=20-80"
    snowsim vendor-agent --url https://127.0.0.1:8001 --ca var/snowsim/tls/ca.pem --speed 2
    snowsim reset --data var/snowsim
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

__all__ = ["main", "build_parser", "build_app"]

DEFAULT_PORT = 8001
DEFAULT_DATA = "var/snowsim"


def _env(name: str, default: Any = None) -> Any:
    return os.environ.get(f"SNOWSIM_{name}", default)


def _env_list(name: str) -> list[str]:
    value = _env(name, "")
    return [v for v in value.replace(",", " ").split() if v] if value else []


def _env_bool(name: str) -> bool:
    return str(_env(name, "")).lower() in ("1", "true", "yes", "on")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="snowsim", description="A faithful ServiceNow REST simulator.")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="serve the simulated instance (HTTPS by default)")
    serve.add_argument("--host", default=_env("HOST", "127.0.0.1"), help="bind address [SNOWSIM_HOST, 127.0.0.1]")
    serve.add_argument("--port", type=int, default=int(_env("PORT", DEFAULT_PORT)), help="[SNOWSIM_PORT, 8001]")
    serve.add_argument(
        "--data",
        default=_env("DATA", DEFAULT_DATA),
        help="data directory: snowsim.sqlite3 and tls/ [SNOWSIM_DATA, var/snowsim]",
    )
    serve.add_argument("--memory", action="store_true", help="keep the store in memory (nothing written to --data)")
    serve.add_argument("--seed", type=int, default=int(_env("SEED", 1)), help="seed for demo data and faults [1]")
    serve.add_argument(
        "--faults",
        default=_env("FAULTS", ""),
        help='fault spec, e.g. "error500=0.05,rate429=0.02,latency_ms=50-200" [SNOWSIM_FAULTS]',
    )
    serve.add_argument(
        "--webhook",
        action="append",
        default=_env_list("WEBHOOK"),
        metavar="URL",
        help="outbound notification target (repeatable) [SNOWSIM_WEBHOOK, space-separated]",
    )
    serve.add_argument(
        "--webhook-secret", default=_env("WEBHOOK_SECRET", ""), help="HMAC secret [SNOWSIM_WEBHOOK_SECRET]"
    )
    serve.add_argument(
        "--webhook-skip-user",
        action="append",
        default=_env_list("WEBHOOK_SKIP_USER"),
        metavar="USER",
        help="no notification when sys_updated_by is USER (repeatable) [SNOWSIM_WEBHOOK_SKIP_USER]",
    )
    serve.add_argument(
        "--webhook-tables",
        default=_env("WEBHOOK_TABLES", "incident,sc_req_item"),
        help="comma list of tables that notify [incident,sc_req_item]",
    )
    serve.add_argument("--webhook-ca", default=_env("WEBHOOK_CA"), help="CA bundle for https webhook targets")
    serve.add_argument(
        "--webhook-retries",
        type=int,
        default=int(_env("WEBHOOK_RETRIES", 0)),
        help="retries per failed notification [0: like a real instance, none]",
    )
    serve.add_argument(
        "--webhook-payload",
        default=_env("WEBHOOK_PAYLOAD", "script"),
        choices=("script", "rich"),
        help="script: the fields the vendor's business rule sends; rich: full snapshots and journal rows "
        "[SNOWSIM_WEBHOOK_PAYLOAD, script]",
    )
    serve.add_argument(
        "--webhook-workers",
        type=int,
        default=int(_env("WEBHOOK_WORKERS", 4)),
        help="sender threads; more than 1 means no delivery order, like async business rules [4]",
    )
    serve.add_argument("--cert", default=_env("CERT"), help="server certificate (default: generated under <data>/tls)")
    serve.add_argument("--key", default=_env("KEY"), help="server private key (with --cert)")
    serve.add_argument(
        "--insecure-http",
        action="store_true",
        default=_env_bool("INSECURE_HTTP"),
        help="serve plain HTTP (debugging only; pysnc refuses http://)",
    )
    serve.add_argument(
        "--invalid-query-returns-no-rows",
        action="store_true",
        default=_env_bool("INVALID_QUERY_RETURNS_NO_ROWS"),
        help="glide.invalid_query.returns_no_rows=true: invalid queries match nothing",
    )
    serve.add_argument(
        "--autoclose-after",
        type=float,
        default=float(_env("AUTOCLOSE_AFTER", 120)),
        metavar="S",
        help="close incidents Resolved for longer than S seconds, as user system (a real instance: "
        "glide.ui.autoclose.time, in days); 0 disables [SNOWSIM_AUTOCLOSE_AFTER, 120]",
    )
    serve.add_argument(
        "--autoclose-interval",
        type=float,
        default=float(_env("AUTOCLOSE_INTERVAL", 5)),
        metavar="S",
        help="how often the auto-close job runs [SNOWSIM_AUTOCLOSE_INTERVAL, 5]",
    )
    serve.add_argument(
        "--integration-tz",
        default=_env("INTEGRATION_TZ"),
        metavar="ZONE",
        help="time zone of the integration user kompass.integration (display values and "
        "sysparm_input_display_value dates) [SNOWSIM_INTEGRATION_TZ; seeded Europe/Oslo]",
    )
    serve.add_argument(
        "--property",
        action="append",
        default=_env_list("PROPERTIES"),
        metavar="NAME=VALUE",
        help="set an instance property (repeatable; see docs/servicenow-simulator.md) [SNOWSIM_PROPERTIES]",
    )
    serve.add_argument("--base-url", default=_env("BASE_URL"), help="external URL used in links (default: derived)")
    serve.add_argument(
        "--http",
        default=_env("HTTP", "auto"),
        choices=("auto", "h11", "httptools"),
        help="uvicorn HTTP parser; auto = httptools when installed [SNOWSIM_HTTP, auto]",
    )
    serve.add_argument(
        "--loop",
        default=_env("LOOP", "auto"),
        choices=("auto", "asyncio", "uvloop"),
        help="event loop; auto = uvloop when installed [SNOWSIM_LOOP, auto]",
    )
    serve.add_argument("--access-log", action="store_true", help="log every request")
    serve.add_argument("--log-level", default=_env("LOG_LEVEL", "warning"), help="uvicorn log level [warning]")

    agent = sub.add_parser("vendor-agent", help="simulate the vendor's service desk working tickets over the API")
    agent.add_argument(
        "--url",
        default=_env("URL", f"https://127.0.0.1:{_env('PORT', DEFAULT_PORT)}"),
        help="instance URL [SNOWSIM_URL]",
    )
    agent.add_argument(
        "--ca", default=_env("CA"), help="CA bundle to trust [SNOWSIM_CA, default <SNOWSIM_DATA>/tls/ca.pem if present]"
    )
    agent.add_argument("--insecure", action="store_true", help="do not verify the server certificate")
    agent.add_argument("--user", default=_env("AGENT_USER", "itil.engineer1"), help="[SNOWSIM_AGENT_USER]")
    agent.add_argument(
        "--password",
        default=_env("AGENT_PASSWORD"),
        help="[SNOWSIM_AGENT_PASSWORD, default: the demo password of --user]",
    )
    agent.add_argument(
        "--speed",
        type=float,
        default=float(_env("SPEED", 1.0)),
        help="time scale: 2 = twice as fast [SNOWSIM_SPEED, 1]",
    )
    agent.add_argument("--seed", type=int, default=int(_env("AGENT_SEED", 1)), help="[SNOWSIM_AGENT_SEED, 1]")
    agent.add_argument(
        "--create-every",
        type=float,
        default=float(_env("CREATE_EVERY", 0)) or None,
        metavar="S",
        help="create an incident from a simulated caller every S seconds at speed 1 "
        "(S / speed of wall time) [SNOWSIM_CREATE_EVERY, off]",
    )
    agent.add_argument(
        "--hold-probability",
        type=float,
        default=float(_env("HOLD_PROBABILITY", 0.3)),
        help="chance of putting an incident on hold / awaiting caller [0.3]",
    )
    agent.add_argument(
        "--caller-timeout",
        type=float,
        default=float(_env("CALLER_TIMEOUT", 300)),
        metavar="S",
        help="resume an incident awaiting the caller after S seconds at speed 1 without a reply "
        "[SNOWSIM_CALLER_TIMEOUT, 300]",
    )
    agent.add_argument(
        "--engineers",
        default=_env("ENGINEERS", "itil.engineer1,itil.engineer2,itil.engineer3,itil.engineer4"),
        help="comma list of engineers who work the queue, each with their own login (demo password = user name) "
        "[SNOWSIM_ENGINEERS, the four demo engineers]",
    )
    agent.add_argument(
        "--burst-probability",
        type=float,
        default=float(_env("BURST_PROBABILITY", 0.25)),
        help="chance of a quick follow-up update in the same second [0.25]",
    )
    agent.add_argument(
        "--conflict-probability",
        type=float,
        default=float(_env("CONFLICT_PROBABILITY", 0.2)),
        help="chance that an engineer edits fields the integration also writes [0.2]",
    )
    agent.add_argument("--tables", default="incident,sc_req_item", help="tables to work [incident,sc_req_item]")
    agent.add_argument("--verbose", "-v", action="store_true", help="log every action")

    reset = sub.add_parser("reset", help="reset the store to the seeded demo data")
    reset.add_argument("--data", default=_env("DATA", DEFAULT_DATA), help="[SNOWSIM_DATA, var/snowsim]")
    reset.add_argument("--seed", type=int, default=int(_env("SEED", 1)))
    reset.add_argument("--url", help="reset a running instance through POST /snowsim/admin/reset instead")
    reset.add_argument("--ca", default=_env("CA"), help="CA bundle for --url")
    return parser


# -- app assembly -------------------------------------------------------------------------------


def build_app(
    store: Any,
    *,
    controller: Any = None,
    dispatcher: Any = None,
    base_url: str | None = None,
    invalid_query_returns_no_rows: bool = False,
) -> Any:
    """The Table API app with snowsim's extras: faults, admin endpoints, webhooks and the HTML view."""
    from starlette.middleware import Middleware

    from snowsim import faults, web, webhooks
    from snowsim.api import create_app

    controller = controller or faults.FaultController()
    dispatcher = dispatcher or webhooks.WebhookDispatcher(controller=controller)
    routes = faults.admin_routes(controller, reset_store=store.reset, on_reset=[dispatcher.clear])
    routes += webhooks.admin_routes(dispatcher)
    routes += web.routes()
    app = create_app(
        store,
        base_url=base_url,
        invalid_query_returns_no_rows=invalid_query_returns_no_rows,
        extra_routes=routes,
        middleware=[Middleware(faults.FaultMiddleware, controller=controller)],
    )
    if getattr(dispatcher, "journal_entry", True) is None:
        dispatcher.journal_entry = store.latest_journal_entry
    app.state.faults = controller
    app.state.webhooks = dispatcher
    return app


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from snowsim import faults, webhooks
    from snowsim.jobs import AutoCloseJob
    from snowsim.store import Store
    from snowsim.tls import ensure_certificate

    try:
        fault_config = faults.FaultConfig.parse(args.faults)
    except ValueError as exc:
        print(f"snowsim: --faults: {exc}", file=sys.stderr)
        return 2
    data = Path(args.data)
    data.mkdir(parents=True, exist_ok=True)
    store_path = None if args.memory else data / "snowsim.sqlite3"
    store = Store(path=str(store_path) if store_path else None, seed=args.seed)

    for item in args.property or ():
        name, sep, value = item.partition("=")
        if not sep or not name.strip():
            print(f"snowsim: --property {item!r} must look like NAME=VALUE", file=sys.stderr)
            return 2
        store.properties[name.strip()] = value.strip()
    if args.integration_tz:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(args.integration_tz)
        except (ZoneInfoNotFoundError, ValueError):
            print(f"snowsim: --integration-tz: unknown time zone {args.integration_tz!r}", file=sys.stderr)
            return 2
        store.set_user_tz("kompass.integration", args.integration_tz)
    controller = faults.FaultController(fault_config, seed=args.seed)
    dispatcher = webhooks.WebhookDispatcher(
        controller=controller, workers=args.webhook_workers, journal_entry=store.latest_journal_entry
    )
    tables = tuple(t.strip() for t in args.webhook_tables.split(",") if t.strip())
    for url in args.webhook or ():
        dispatcher.add_target(
            webhooks.WebhookTarget(
                url=url,
                secret=args.webhook_secret,
                tables=tables,
                skip_updated_by=tuple(args.webhook_skip_user or ()),
                verify=args.webhook_ca or True,
                retries=args.webhook_retries,
                payload=args.webhook_payload,
            )
        )
    store.add_listener(dispatcher.listener)

    scheme = "http" if args.insecure_http else "https"
    shown_host = f"[{args.host}]" if ":" in args.host else args.host
    base_url = args.base_url or f"{scheme}://{shown_host}:{args.port}"
    app = build_app(
        store,
        controller=controller,
        dispatcher=dispatcher,
        base_url=base_url,
        invalid_query_returns_no_rows=args.invalid_query_returns_no_rows,
    )
    ssl_kwargs: dict[str, Any] = {}
    if not args.insecure_http:
        if args.cert or args.key:
            if not (args.cert and args.key):
                print("snowsim: --cert and --key go together", file=sys.stderr)
                return 2
            cert, key, ca = Path(args.cert), Path(args.key), None
        else:
            cert, key, ca = ensure_certificate(data / "tls")
        ssl_kwargs = {"ssl_certfile": str(cert), "ssl_keyfile": str(key)}
        print(f"snowsim: certificate {cert}", flush=True)
        if ca:
            print(f"snowsim: CA (trust this) {ca}", flush=True)
    else:
        print("snowsim: WARNING plain HTTP (--insecure-http); pysnc needs https", flush=True)
    print(f"snowsim: store {store_path or 'in memory'}", flush=True)
    if fault_config != faults.FaultConfig():
        print(f"snowsim: faults {fault_config.to_spec()}", flush=True)
    for target in dispatcher.targets:
        print(f"snowsim: webhook {target.url} tables={','.join(target.tables)}", flush=True)
    print(f"snowsim: listening on {base_url} (admin/admin; HTML view at {base_url}/)", flush=True)

    dispatcher.start()
    autoclose = AutoCloseJob(store, args.autoclose_after, args.autoclose_interval).start()
    if args.autoclose_after > 0:
        print(f"snowsim: auto-close of incidents resolved for {args.autoclose_after:g} s", flush=True)
    config = uvicorn.Config(
        app,
        host=args.host,
        port=args.port,
        log_level=args.log_level,
        access_log=args.access_log,
        lifespan="on",
        http=args.http,
        loop=args.loop,
        **ssl_kwargs,
    )
    server = uvicorn.Server(config)

    def graceful(signum: int, frame: Any) -> None:
        # uvicorn handles SIGTERM/SIGINT while it runs, then re-raises the signal to this handler
        # when it is done; exiting normally lets the dispatcher and the store close (exit code 0).
        server.should_exit = True

    signal.signal(signal.SIGTERM, graceful)
    signal.signal(signal.SIGINT, graceful)
    try:
        server.run()
    finally:
        autoclose.stop()
        dispatcher.stop()
        close = getattr(store, "close", None)
        if callable(close):
            close()
    return 0 if server.started else 1


def _agent(args: argparse.Namespace) -> int:
    from snowsim.agent import AgentConfig, VendorAgent

    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s vendor-agent %(message)s",
        stream=sys.stdout,
    )
    logging.getLogger("snowsim.agent").setLevel(logging.INFO)
    logging.getLogger("httpx").setLevel(logging.INFO if args.verbose else logging.WARNING)
    if args.insecure:
        verify: bool | str = False
    elif args.ca:
        verify = args.ca
    else:
        default_ca = Path(_env("DATA", DEFAULT_DATA)) / "tls" / "ca.pem"
        verify = str(default_ca) if default_ca.exists() else True
    password = args.password or _demo_password(args.user)
    config = AgentConfig(
        url=args.url,
        user=args.user,
        password=password,
        verify=verify,
        speed=args.speed,
        seed=args.seed,
        create_every=args.create_every,
        hold_probability=args.hold_probability,
        caller_timeout_s=args.caller_timeout,
        tables=tuple(t.strip() for t in args.tables.split(",") if t.strip()),
        engineers=tuple(e.strip() for e in args.engineers.split(",") if e.strip()),
        burst_probability=args.burst_probability,
        conflict_probability=args.conflict_probability,
    )
    agent = VendorAgent(config)

    def stop(signum: int, frame: Any) -> None:
        agent.stop()

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    agent.run()
    return 0


def _demo_password(user: str) -> str:
    """The demo users' passwords (see docs/servicenow-simulator.md)."""
    return {"admin": "admin", "kompass.integration": "kompass"}.get(user, user)


def _reset(args: argparse.Namespace) -> int:
    if args.url:
        import httpx

        response = httpx.post(
            args.url.rstrip("/") + "/snowsim/admin/reset",
            auth=("admin", "admin"),
            verify=args.ca or True,
            timeout=30,
        )
        print(json.dumps(response.json(), indent=2))
        return 0 if response.status_code == 200 else 1
    from snowsim.store import Store

    path = Path(args.data) / "snowsim.sqlite3"
    path.parent.mkdir(parents=True, exist_ok=True)
    store = Store(path=str(path), seed=args.seed)
    store.reset()
    close = getattr(store, "close", None)
    if callable(close):
        close()
    print(f"snowsim: reset {path}")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    handlers = {"serve": _serve, "vendor-agent": _agent, "reset": _reset}
    return handlers[args.command](args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
