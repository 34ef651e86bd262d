"""The `osdd` command: serve, deblur, info, demo, models, bench, data, train, eval, bridge,
gimp, gui.

Client commands import only the light client side; the engines (numpy/scipy, torch and
diffusers) load only in the commands that run them, and Qt only in `gui`.
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from .data_commands import add_data_commands
from .errors import OsddError
from .files import write_text_atomically
from .gimp_commands import add_gimp_commands
from .model_commands import add_engine_options, add_model_commands, engine_options
from .rpc.client import DEFAULT_ADDRESS, DEFAULT_MARGIN
from .train_commands import add_eval_command, add_train_commands
from .types import Limits

log = logging.getLogger("osdd")
SAMPLE = Path(__file__).resolve().parent / "samples" / "clock_motion.png"


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=getattr(args, "log_level", "info").upper(),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    try:
        return args.run(args)
    except OsddError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\ninterrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader went away (`osdd info | head`): not an error of ours. Point stdout at
        # nothing so that the interpreter's final flush does not fail again.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="osdd", description="Local motion deblurring.")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

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
    serve.add_argument("--grace", type=float, default=30.0,
                       help="seconds running jobs get to finish on shutdown")
    serve.add_argument("--port-file", type=Path,
                       help="once listening, write host:port to this file (for --port 0)")
    serve.add_argument("--log-level", default="info",
                       choices=["debug", "info", "warning", "error"])
    serve.set_defaults(run=_serve)

    deblur = sub.add_parser("deblur", help="deblur an image file through a server")
    deblur.add_argument("input", type=Path)
    deblur.add_argument("-o", "--output", type=Path, required=True)
    deblur.add_argument("--region", help="only this rectangle: x,y,width,height in pixels")
    deblur.add_argument("--margin", type=int, default=DEFAULT_MARGIN,
                        help="context pixels sent around --region, per side (the blur is "
                             f"estimated on all of it; default {DEFAULT_MARGIN})")
    deblur.add_argument("--engine", default="auto")
    deblur.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="engine parameter, e.g. --param strength=0.8 (see `osdd info`)")
    deblur.add_argument("--seed", type=int)
    deblur.add_argument("--kernel", type=Path, metavar="IMAGE",
                        help="remove this blur instead of estimating one (non-blind): a grey "
                             "image with an odd side, e.g. one saved by --kernel-out")
    deblur.add_argument("--kernel-out", type=Path, metavar="IMAGE",
                        help="also save the blur kernel the engine removed (16-bit grey, "
                             "peak white), to see why a result looks as it does")
    deblur.add_argument("--timeout", type=float, help="give up after this many seconds")
    deblur.add_argument("--compare", type=Path,
                        help="also write a before|after picture to this file")
    _client_options(deblur)
    deblur.set_defaults(run=_deblur)

    info = sub.add_parser("info", help="show a server's engines, parameters and limits")
    _client_options(info)
    info.set_defaults(run=_info)

    add_model_commands(sub)
    add_data_commands(sub)
    add_train_commands(sub)
    add_eval_command(sub)
    add_gimp_commands(sub)
    demo = sub.add_parser("demo", help="start a local server and deblur the bundled sample")
    demo.add_argument("--out", type=Path, default=Path("out"), help="folder for the results")
    demo.add_argument("--input", type=Path, default=SAMPLE, help="photo to deblur")
    demo.add_argument("--log-level", default="warning",
                      choices=["debug", "info", "warning", "error"])
    demo.add_argument("--engine", default="auto",
                      help="osdd, classical or auto (osdd when --weights is given)")
    add_engine_options(demo)
    demo.set_defaults(run=_demo)

    gui = sub.add_parser("gui", help="open the desktop app (needs the [desktop] extra)")
    gui.add_argument("files", nargs="*", type=Path, help="images to open")
    _connection_options(gui)
    gui.add_argument("--start-server", action="store_true",
                     help="start a local server owned by the app instead of connecting")
    gui.add_argument("--log-level", default="warning",
                     choices=["debug", "info", "warning", "error"])
    gui.set_defaults(run=_gui)
    return parser


def _connection_options(parser: argparse.ArgumentParser) -> None:
    """How to reach the server; unset options come from the environment (see
    ConnectionSettings.resolve), the same for every front end."""
    parser.add_argument("--server", help=f"host:port (default: $OSDD_SERVER or "
                                         f"{DEFAULT_ADDRESS})")
    parser.add_argument("--token", help="access token (default: $OSDD_TOKEN)")
    parser.add_argument("--tls-ca", type=Path, help="PEM root certificate to use TLS "
                                                    "(default: $OSDD_TLS_CA; none: plain)")


def _connection(args: argparse.Namespace):
    from .rpc.client import ConnectionSettings

    return ConnectionSettings.resolve(args.server, args.token, args.tls_ca)


def _client_options(parser: argparse.ArgumentParser) -> None:
    _connection_options(parser)
    parser.add_argument("--log-level", default="warning",
                        choices=["debug", "info", "warning", "error"])


def _client(args: argparse.Namespace):
    return _connection(args).client()


def _parse_params(items: list[str]) -> dict[str, float]:
    params = {}
    for item in items:
        name, sep, value = item.partition("=")
        try:
            params[name.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep or not name.strip():
            raise OsddError(f"--param must look like name=number, got {item!r}")
    return params


def _serve(args: argparse.Namespace) -> int:
    from .engine.registry import build_engines
    from .jobs.service import DeblurService
    from .server.app import DeblurServer, ServerConfig

    limits = Limits(max_pixels=args.max_pixels, max_chunk_bytes=args.max_chunk_bytes,
                    max_message_bytes=args.max_message_bytes, max_queued_jobs=args.max_queued)
    engines = build_engines(args.engines, engine_options(args))
    config = ServerConfig(args.host, args.port, args.allow_remote, args.token, args.tls_cert,
                          args.tls_key, limits, args.grace)
    server = DeblurServer(config, DeblurService(engines, limits)).start()
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


def _gui(args: argparse.Namespace) -> int:
    try:
        from desktop_gui.app import main as gui_main
    except ImportError as exc:
        if not (exc.name or "").startswith("PyQt6"):
            raise
        raise OsddError(f"the desktop app needs PyQt6 (pip install -e '.[desktop]'): {exc}"
                        ) from None
    return gui_main(args.files, connection=_connection(args), start_server=args.start_server)


def _deblur(args: argparse.Namespace) -> int:
    with _terminate_as_interrupt():
        return _deblur_job(args)


def _deblur_job(args: argparse.Namespace) -> int:
    from .blur_kernel import kernel_from_pixels, kernel_to_pixels
    from .images import check_writable, read_image, read_image_file, side_by_side, write_image
    from .progress_bar import ProgressBar
    from .types import Done, JobEvent, Region

    params = _parse_params(args.param)
    region = Region.parse(args.region) if args.region else None
    for path in (args.output, args.compare, args.kernel_out):
        if path is not None:
            check_writable(path)  # before the work, not after it
    kernel = kernel_from_pixels(read_image(args.kernel)) if args.kernel else None
    image, meta = read_image_file(args.input)  # ICC profile and EXIF go to the output
    progress, done = ProgressBar(), []

    def on_event(event: JobEvent) -> None:
        progress(event)
        if isinstance(event, Done):
            done.append(event)

    with _client(args) as client:
        result = client.deblur_image(image, region=region, margin=args.margin,
                                     engine=args.engine, params=params, seed=args.seed,
                                     kernel=kernel, timeout=args.timeout, on_event=on_event)
    write_image(args.output, result, meta=meta)
    if args.kernel_out:
        if done[-1].kernel is None:
            raise OsddError(f"engine {done[-1].engine} works without a blur kernel; none "
                            f"written to {args.kernel_out}")
        write_image(args.kernel_out, kernel_to_pixels(done[-1].kernel))
        print(f"wrote {args.kernel_out} ({done[-1].kernel.shape[0]} px kernel)",
              file=sys.stderr)
    if args.compare:
        write_image(args.compare, side_by_side(image, result))
    print(f"wrote {args.output}", file=sys.stderr)
    return 0


@contextmanager
def _terminate_as_interrupt() -> Iterator[None]:
    """While inside, SIGTERM unwinds like Ctrl-C, so a write in progress removes its partial
    file (the default action ends the process on the spot and leaves it behind)."""
    def interrupt(signum, frame):
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def _info(args: argparse.Namespace) -> int:
    with _client(args) as client:
        info = client.info()
        status = client.health()
    print(f"server {client.address}: osdd-deblur {info.version}, {status}, device "
          f"{info.device}")
    print(f"default engine (auto): {info.default_engine}")
    for engine in info.engines:
        print(f"\nengine {engine.name} on {engine.device}: {engine.description}")
        for p in engine.params:
            print(f"  {p.name:<12} {p.type:<5} default {p.default:g}, "
                  f"range [{p.minimum:g}, {p.maximum:g}]  {p.description}")
    lim = info.limits
    print(f"\nlimits: {lim.max_pixels} pixels per job, chunks up to {lim.max_chunk_bytes} bytes, "
          f"messages up to {lim.max_message_bytes} bytes, {lim.max_queued_jobs} queued jobs, "
          f"{lim.max_concurrent_jobs} running at a time")
    return 0


def _demo(args: argparse.Namespace) -> int:
    """The README's first command: a real server on a free local port, a real client."""
    from .engine.registry import build_engines
    from .images import read_image, side_by_side, write_image
    from .jobs.service import DeblurService
    from .progress_bar import ProgressBar
    from .rpc.client import DeblurClient
    from .server.app import DeblurServer, ServerConfig

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


if __name__ == "__main__":
    sys.exit(main())
