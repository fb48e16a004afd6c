"""`emostudio serve`: the web UI at / and the REST API at /v1 in one local server."""

from __future__ import annotations

import argparse
import tempfile

from emostudio.cli.common import RenamedFlag, add_adapter_arg, add_model_args, err_console, fail, read_adapter


def register(sub) -> None:
    p = sub.add_parser(
        "serve",
        help="web UI and REST API in one server",
        description="Serve the web UI at / , the REST API at /v1 and its docs at /docs.",
    )
    p.add_argument(
        "--host",
        default="127.0.0.1",
        help="address to listen on (default 127.0.0.1; any other address needs --token)",
    )
    p.add_argument("--port", type=int, default=7860, help="port (default 7860)")
    p.add_argument(
        "--token",
        default=None,
        help="require 'Authorization: Bearer TOKEN' for the API and TOKEN as the web UI password",
    )
    p.add_argument(
        "--outputs",
        default="outputs",
        help="folder for run folders (default: outputs); the server writes nowhere else",
    )
    p.add_argument(
        "--max-upload-mb",
        type=float,
        default=100.0,
        help="largest upload in MB (1 MB = 1,000,000 bytes; default 100)",
    )
    p.add_argument("--max-duration", type=float, default=600.0, help="longest audio in seconds (default 600)")
    p.add_argument(
        "--queue-size",
        type=int,
        default=8,
        help="requests in progress at once; more get HTTP 429 (default 8)",
    )
    p.add_argument(
        "--model-threads",
        type=int,
        default=1,
        metavar="N",
        help="model worker threads: threads that score the queued requests, each model call batching what "
        "waits (default 1)",
    )
    p.add_argument("--workers", type=int, dest="model_threads", action=RenamedFlag, new="--model-threads")
    p.add_argument("--max-batch", type=int, default=8, help="requests scored together at most (default 8)")
    p.add_argument(
        "--cors-origin",
        action="append",
        default=[],
        metavar="ORIGIN",
        help="allow cross-origin requests from ORIGIN (repeatable; default: CORS off)",
    )
    _add_stream_and_host_args(p)
    add_adapter_arg(p)
    add_model_args(p, limits=False)
    p.set_defaults(func=run)


def _add_stream_and_host_args(p) -> None:
    p.add_argument(
        "--allowed-host",
        action="append",
        default=None,
        metavar="NAME",
        help="also answer to this host name (repeatable; a reverse proxy's or LAN name; '*': any). Besides "
        "localhost and the --host address, other names are refused against DNS rebinding "
        "(default: $EMOSTUDIO_ALLOWED_HOSTS, comma-separated)",
    )
    p.add_argument("--no-ui", action="store_true", help="serve only the REST API")
    p.add_argument(
        "--max-streams",
        type=int,
        default=None,
        help="live streams at once (WebSocket /v1/stream and the Live tab); below --queue-size; 0: off "
        "(default: 4, or queue size - 1 if smaller)",
    )
    p.add_argument(
        "--stream-idle-timeout",
        type=float,
        default=10.0,
        metavar="SECONDS",
        help="end a live stream that sends nothing for this long, saving what it sent (default 10)",
    )
    p.add_argument(
        "--max-stream-duration",
        type=float,
        default=7200.0,
        metavar="SECONDS",
        help="longest live stream; its audio is kept on disk under --outputs/.live while it runs (default 7200)",
    )
    p.add_argument(
        "--max-stream-wall",
        type=float,
        default=None,
        metavar="SECONDS",
        help="longest live stream in wall-clock time, whatever it sends (pings included); ended with close "
        "code 4410, saving what it sent (default: 1.5 x --max-stream-duration)",
    )


def settings_from_args(args: argparse.Namespace):
    from emostudio.server.settings import ServerSettings

    return ServerSettings(
        host=args.host,
        port=args.port,
        model=args.model,
        device=args.device,
        dtype=args.dtype,
        allow_download=not args.offline,
        token=args.token,
        outputs=args.outputs,
        max_upload_bytes=int(args.max_upload_mb * 1_000_000),
        max_duration_s=args.max_duration,
        queue_size=args.queue_size,
        workers=args.model_threads,
        max_batch=args.max_batch,
        cors_origins=args.cors_origin,
        **({} if args.allowed_host is None else {"allowed_hosts": args.allowed_host}),
        ui=not args.no_ui,
        max_streams=args.max_streams,
        stream_idle_timeout_s=args.stream_idle_timeout,
        max_stream_s=args.max_stream_duration,
        adapter=args.adapter,
        max_stream_wall_s=args.max_stream_wall,
    )


def run(args: argparse.Namespace) -> int:
    import logging

    import uvicorn

    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    server_log = logging.getLogger("emostudio")
    server_log.addHandler(handler)
    server_log.setLevel(logging.INFO)
    server_log.propagate = False

    from emostudio.server.app import create_app
    from emostudio.server.settings import UnsafeBindError

    if isinstance(read_adapter(args), int):  # a damaged folder: before binding (other weights: on /readyz)
        return 2
    try:
        settings = settings_from_args(args)
        app = create_app(settings)
    except (UnsafeBindError, ValueError) as exc:
        fail(f"cannot start: {exc}")
        return 2
    # uploads larger than Starlette's in-memory limit are spooled to a temp file: keep those under outputs too
    spool = settings.outputs / ".tmp"
    spool.mkdir(parents=True, exist_ok=True)
    tempfile.tempdir = str(spool)
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    err_console.print(
        f"Emotion Studio on http://{host}:{settings.port}/  (API docs: /docs, outputs: {settings.outputs})",
        highlight=False,
    )
    uvicorn.run(app, host=settings.host, port=settings.port, log_level="info", timeout_graceful_shutdown=10)
    return 0
