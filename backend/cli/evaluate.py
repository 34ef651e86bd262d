"""`osdd eval`: run engines in this process over paired test sets and score them; tables
and figures. The metrics and datasets load inside the command, never at import."""

from __future__ import annotations

import argparse
from pathlib import Path

from .options import add_engine_options, engine_options

DATASET_LABELS = {"gopro": "GoPro", "realblur-j": "RealBlur-J", "realblur-r": "RealBlur-R"}


def add_commands(sub) -> None:
    ev = sub.add_parser("eval", help="score engines on paired test sets; tables and figures",
                        description="Runs each method over each dataset, scores it against "
                                    "the sharp images and writes results.csv, summary.csv, "
                                    "table.md (laid out like the paper's Tables 1-2) and "
                                    "grid_<dataset>.png into --out.")
    ev.add_argument("--data", action="append", required=True,
                    help="test pairs (dataset spec, see README); repeat for several")
    ev.add_argument("--method", action="append",
                    help="ENGINE[:NAME=VALUE,...], e.g. classical or osdd:gamma=0.7; repeat "
                         "(default: classical, plus osdd at gamma 1 and 0.7 with --weights)")
    ev.add_argument("--out", type=Path, required=True, help="folder for the results")
    ev.add_argument("--metrics", default="auto",
                    help="comma-separated, from psnr,ssim,lpips,dists,niqe,musiq,maniqa,"
                         "clipiqa; auto: every one that can run here")
    ev.add_argument("--metric-weights", help="folder of the converted perceptual weights "
                                             "(default: $OSDD_METRIC_WEIGHTS)")
    ev.add_argument("--limit", type=int, help="at most N pairs per dataset")
    ev.add_argument("--figure", type=int, default=4, help="images per figure grid (0: none)")
    add_engine_options(ev)
    ev.set_defaults(run=_eval)


def _eval(args: argparse.Namespace) -> int:
    from ..train.data.spec import open_dataset, parse_spec
    from ..train.evaluate import Method, evaluate, means, write_csv, write_summary
    from ..train.report import figure_grid, markdown
    from ..train.scoring import Scorer

    methods = [Method.parse(m) for m in args.method or []]
    if not methods:
        methods = [Method("classical")]
        if args.weights:
            methods += [Method("osdd", {"gamma": 1.0}), Method("osdd", {"gamma": 0.7})]
    datasets = []
    for spec in args.data:
        kind, path, _ = parse_spec(spec)
        label = DATASET_LABELS.get(kind) or Path(path.split(",")[-1]).name or kind
        datasets.append((label, open_dataset(spec)))
    scorer = Scorer(args.metrics.split(","), args.metric_weights)
    args.out.mkdir(parents=True, exist_ok=True)
    kept: dict[tuple[str, str], list[tuple[str, object]]] = {}

    def keep(dataset: str, image: str, method: str, output) -> None:
        shown = [k for k in kept if k[0] == dataset]
        if (dataset, image) in kept or len(shown) < args.figure:
            kept.setdefault((dataset, image), []).append((method, output))

    results = evaluate(datasets, methods, scorer, engine_options(args), args.limit,
                       keep if args.figure else None)
    write_csv(results, args.out / "results.csv")
    table = means(results)
    write_summary(table, args.out / "summary.csv")
    text = markdown(table)
    (args.out / "table.md").write_text(text)
    for dataset, _ in datasets:
        rows = [(image, _figure_order(images)) for (d, image), images in kept.items()
                if d == dataset]
        figure_grid(rows, args.out / f"grid_{dataset}.png")
    print(text)
    print(f"wrote results.csv, summary.csv, table.md and the figures to {args.out}")
    return 0


def _figure_order(images: list[tuple[str, object]]) -> list[tuple[str, object]]:
    """blurred input, the methods, then the sharp image last."""
    sharp = [i for i in images if i[0] == "sharp"]
    return [i for i in images if i[0] != "sharp"] + sharp
