"""`osdd deblur`, `osdd batch` and `osdd info`: the commands that talk to running servers."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from ..errors import OsddError
from ..types import DEFAULT_MARGIN, JobOptions
from .options import add_client_options, add_engine_options, client, engine_options


def add_commands(sub) -> None:
    deblur = sub.add_parser("deblur", help="deblur an image file through a server")
    deblur.add_argument("input", type=Path)
    deblur.add_argument("-o", "--output", type=Path, required=True)
    deblur.add_argument("--region", help="only this rectangle: x,y,width,height in pixels")
    _add_job_options(deblur, region=True)
    deblur.add_argument("--kernel", type=Path, metavar="IMAGE",
                        help="remove this blur instead of estimating one (non-blind): a grey "
                             "image with an odd side, e.g. one saved by --kernel-out")
    deblur.add_argument("--kernel-out", type=Path, metavar="IMAGE",
                        help="also save the blur kernel the engine removed (16-bit grey, "
                             "peak white), to see why a result looks as it does")
    deblur.add_argument("--timeout", type=float, help="give up after this many seconds")
    deblur.add_argument("--compare", type=Path,
                        help="also write a before|after picture to this file")
    add_client_options(deblur)
    deblur.set_defaults(run=_deblur)

    batch = sub.add_parser("batch", help="deblur every image of a folder tree into another "
                                         "folder, skipping those already done")
    batch.add_argument("input", type=Path, help="folder of images (subfolders included)")
    batch.add_argument("output", type=Path,
                       help="folder for the results, made if missing; the input's tree of "
                            "subfolders is kept and files already there are skipped")
    _add_job_options(batch)
    batch.add_argument("--redo", action="store_true",
                       help="deblur files again even when their result exists")
    batch.add_argument("--workers", type=int,
                       help="files deblurred at once (default: one per server given; with "
                            "--ray, one per GPU of the cluster, else one per node)")
    batch.add_argument("--ray", metavar="ADDRESS",
                       help="run the batch on a Ray cluster instead of servers: auto (the "
                            "cluster this machine is in), ray://HOST:PORT, or local (a Ray "
                            "instance on this machine); each Ray worker loads the engines "
                            "(--weights, --device: below), and every worker must see the "
                            "input and output folders. Needs the cluster extra")
    add_client_options(batch)
    add_engine_options(batch)
    batch.set_defaults(run=_batch)

    info = sub.add_parser("info", help="show a server's engines, parameters and limits")
    add_client_options(info)
    info.set_defaults(run=_info)


def _add_job_options(parser: argparse.ArgumentParser, region: bool = False) -> None:
    if region:  # whole files (batch) are sent whole: no context to choose
        parser.add_argument("--margin", type=int, default=DEFAULT_MARGIN,
                            help="context pixels sent around --region, per side (the blur "
                                 f"is estimated on all of it; default {DEFAULT_MARGIN})")
    parser.add_argument("--engine", default="auto")
    parser.add_argument("--param", action="append", default=[], metavar="NAME=VALUE",
                        help="engine parameter, e.g. --param strength=0.8 (see `osdd info`)")
    parser.add_argument("--seed", type=int)


def _job_options(args: argparse.Namespace) -> JobOptions:
    return JobOptions(args.engine, _parse_params(args.param), args.seed,
                      getattr(args, "margin", DEFAULT_MARGIN))


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


def _deblur(args: argparse.Namespace) -> int:
    with _terminate_as_interrupt():
        return _deblur_job(args)


def _deblur_job(args: argparse.Namespace) -> int:
    from ..blur_kernel import kernel_from_pixels, kernel_to_pixels
    from ..images import check_writable, read_image, read_image_file, side_by_side, write_image
    from ..progress_bar import ProgressBar
    from ..types import Done, JobEvent, Region

    options = _job_options(args)
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

    with client(args) as remote:
        result = remote.deblur_image(image, region=region, margin=options.margin,
                                     engine=options.engine, params=options.params,
                                     seed=options.seed, kernel=kernel, timeout=args.timeout,
                                     on_event=on_event)
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


def _batch(args: argparse.Namespace) -> int:
    from ..batch import FAILED, BatchRun, plan_batch, summary

    options = _job_options(args)
    if not args.input.is_dir():
        raise OsddError(f"no such folder: {args.input}")
    if args.workers is not None and args.workers < 1:
        raise OsddError(f"--workers must be 1 or more, got {args.workers}")
    try:
        args.output.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise OsddError(f"cannot make the output folder {args.output}: {exc}") from None
    items = plan_batch([args.input], args.output, recursive=True, redo=args.redo)
    with _terminate_as_interrupt():
        if args.ray:
            from ..cluster import run_on_ray

            _report(items, run_on_ray(items, options, engine_options(args), args.ray,
                                      args.workers))
        else:
            with client(args) as remote:
                run = BatchRun(remote, items, options, args.workers or remote.resends + 1)
                _report(items, run.run())
    print(summary(items), file=sys.stderr)
    return 1 if any(item.status == FAILED for item in items) else 0


def _report(items: list, updates: Iterator) -> None:
    """Show a batch's updates as a progress bar; on Ctrl-C, say how to resume."""
    from ..batch import summary
    from ..progress_bar import BatchProgressBar

    progress = BatchProgressBar(items)
    try:
        for update in updates:
            progress(update)
    except KeyboardInterrupt:
        progress.close()
        print(summary(items), file=sys.stderr)
        print("stopped; finished files are kept: run the same command again to resume",
              file=sys.stderr)
        raise
    progress.close()


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
    with client(args) as remote:
        info = remote.info()
        status = remote.health()
    print(f"server {remote.address}: osdd-deblur {info.version}, {status}, device "
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
