"""`osdd serve` and `osdd demo`: a deblurring server in this process."""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
from dataclasses import replace
from pathlib import Path

from ..errors import OsddError
from ..files import write_text_atomically
from ..types import Limits
from .options import add_engine_options, add_log_level, engine_options

SAMPLE = Path(__file__).resolve().parents[1] / "samples" / "clock_motion.png"


def add_commands(sub) -> None:
    serve = sub.add_parser("serve", help="run the deblurring server")
    serve.add_argument("--host", default="127.0.0.1", help="address to listen on")
    serve.add_argument("--port", type=int, default=50051)
    serve.add_argument("--allow-remote", action="store_true",
                       help="allow a non-loopback --host (needs --token)")
    serve.add_argument("--token", default=os.environ.get("OSDD_TOKEN"),
                       help="access token clients must send (default: $OSDD_TOKEN)")
    serve.add_argument("--tls-cert", type=Path, help="PEM certificate chain for TLS")
    serve.add_argument("--tls-key", type=Path, help="PEM private key for TLS")
    serve.add_argument("--engine", action="append", dest="engines", metavar="NAME",
                       help="engine to offer: osdd, classical or auto (repeatable; default "
                            "auto: osdd and classical with --weights, classical without)")
    add_engine_options(serve)
    limits = Limits()
    serve.add_argument("--max-pixels", type=int, default=limits.max_pixels)
    serve.add_argument("--max-queued", type=int, default=limits.max_queued_jobs)
    serve.add_argument("--max-chunk-bytes", type=int, default=limits.max_chunk_bytes)
    serve.add_argument("--max-message-bytes", type=int, default=limits.max_message_bytes)
    serve.add_argument("--upload-idle", type=float, default=limits.upload_idle_seconds,
                       metavar="SECONDS", help="end an upload that sends nothing for this "
                       f"long (default {limits.upload_idle_seconds:g})")
    serve.add_argument("--max-uploads", type=int, default=limits.max_uploads,
                       help="images that may be arriving at once; more are refused "
                            f"(default {limits.max_uploads})")
    serve.add_argument("--max-upload-bytes", type=int, default=limits.max_upload_bytes,
                       help="bytes of images that may be arriving at once (default "
                            f"{limits.max_upload_bytes}; one image alone is always received)")
    serve.add_argument("--max-running", type=int, default=limits.max_concurrent_jobs,
                       help="jobs in progress at once, their tiles taken in turn so that a "
                            "small job does not wait for a large one (default "
                            f"{limits.max_concurrent_jobs}); the rest wait in the queue")
    serve.add_argument("--devices", metavar="LIST",
                       help="devices that share the jobs' tiles, comma-separated (e.g. "
                            "cuda:0,cuda:1), each with the engines loaded and a worker of "
                            "its own (default: every visible GPU with --weights and --device "
                            "auto, else --device)")
    serve.add_argument("--cpu-workers", type=int, default=1, metavar="N",
                       help="threads that share the jobs' tiles (default 1); on a CPU, "
                            "more use more cores")
    serve.add_argument("--grace", type=float, default=30.0,
                       help="seconds running jobs get to finish on shutdown")
    serve.add_argument("--port-file", type=Path,
                       help="once listening, write host:port to this file (for --port 0)")
    add_log_level(serve, default="info")
    serve.set_defaults(run=_serve)

    demo = sub.add_parser("demo", help="start a local server and deblur the bundled sample")
    demo.add_argument("--out", type=Path, default=Path("out"), help="folder for the results")
    demo.add_argument("--input", type=Path, default=SAMPLE, help="photo to deblur")
    add_log_level(demo)
    demo.add_argument("--engine", default="auto",
                      help="osdd, classical or auto (osdd when --weights is given)")
    add_engine_options(demo)
    demo.set_defaults(run=_demo)


def _serve(args: argparse.Namespace) -> int:
    from ..engine.registry import build_engines
    from ..jobs.service import DeblurService
    from ..server.app import DeblurServer, ServerConfig

    limits = Limits(max_pixels=args.max_pixels, max_chunk_bytes=args.max_chunk_bytes,
                    max_message_bytes=args.max_message_bytes, max_queued_jobs=args.max_queued,
                    upload_idle_seconds=args.upload_idle, max_uploads=args.max_uploads,
                    max_upload_bytes=args.max_upload_bytes,
                    max_concurrent_jobs=args.max_running)
    if args.cpu_workers < 1:
        raise OsddError(f"--cpu-workers must be 1 or more, got {args.cpu_workers}")
    options = engine_options(args)
    devices = _devices(args)
    if args.cpu_workers > 1 and any(d != "cpu" for d in devices):
        raise OsddError(f"--cpu-workers is for a server on the CPU; on {', '.join(devices)} "
                        "each device has one worker (--devices lists the devices)")
    services = [DeblurService(build_engines(args.engines, replace(options, device=device)),
                              limits, device) for device in devices]
    config = ServerConfig(args.host, args.port, args.allow_remote, args.token, args.tls_cert,
                          args.tls_key, limits, args.grace, args.cpu_workers)
    server = DeblurServer(config, services[0], services[1:]).start()
    stop_requested = _catch_stop_signals()
    print(f"osdd server listening on {server.address} (Ctrl-C to stop)", file=sys.stderr)
    if args.port_file:
        try:
            _write_port_file(args.port_file, f"{server.address}\n")
        except OsddError:
            server.stop(0)
            raise
    while not stop_requested:
        time.sleep(0.1)
        if (error := server.jobs.load_error) is not None:
            server.stop(0)
            raise error
    server.stop()
    return 0


def _devices(args: argparse.Namespace) -> list[str]:
    """The devices to serve on: --devices, else every visible GPU when the osdd engine
    may run on any (weights given, --device auto) and there are several, else --device."""
    from ..engine.osdd.devices import parse_devices, visible_gpus

    if args.devices is not None:
        return parse_devices(args.devices)
    if args.weights and args.device == "auto" and len(gpus := visible_gpus()) > 1:
        return gpus
    return parse_devices(args.device)


def _catch_stop_signals() -> list[int]:
    """SIGINT and SIGTERM append to the returned list. The handler takes no lock: it runs
    on the main thread between bytecodes, and Event.set() there, while the main thread sat
    in the same Event's wait(), deadlocked the server for good now and then."""
    received: list[int] = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda signum, _frame: received.append(signum))
    return received


def _write_port_file(path: Path, text: str) -> None:
    """Readers polling for `path` never see it half-written."""
    try:
        write_text_atomically(path, text)
    except OSError as exc:
        raise OsddError(f"cannot write the port file {path}: {exc}") from None


def _demo(args: argparse.Namespace) -> int:
    """The README's first command: a real server on a free local port, a real client."""
    from ..engine.registry import build_engines
    from ..images import read_image, side_by_side, write_image
    from ..jobs.service import DeblurService
    from ..progress_bar import ProgressBar
    from ..rpc.client import DeblurClient
    from ..server.app import DeblurServer, ServerConfig

    args.out.mkdir(parents=True, exist_ok=True)
    engines = build_engines([args.engine], engine_options(args))
    server = DeblurServer(ServerConfig(port=0), DeblurService(engines)).start()
    try:
        with DeblurClient(server.address) as client:
            client.wait_until_serving(120)
            print(f"server on {server.address}; deblurring {args.input.name}", file=sys.stderr)
            image = read_image(args.input)
            result = client.deblur_image(image, engine=engines[0].name,
                                         on_event=ProgressBar())
    finally:
        server.stop(0)
    stem = args.input.stem
    write_image(args.out / f"{stem}_deblurred.png", result)
    write_image(args.out / f"{stem}_before_after.png", side_by_side(image, result))
    print(f"wrote {args.out / f'{stem}_deblurred.png'} and "
          f"{args.out / f'{stem}_before_after.png'}", file=sys.stderr)
    return 0
