"""The Markdown tables and figure grids of `osdd eval`.

Table 1 follows the paper's layout (methods down, datasets across, LPIPS and DISTS per
dataset), with the paper's published numbers beside ours, plus PSNR/SSIM, which the
paper does not give. The paper's methods were all trained on GoPro only.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PIL import Image, ImageDraw

from ..images import to_uint8

# Liu et al. 2025, Table 1: (dataset, metric) -> value.
PAPER = {
    "NAFNet": {("GoPro", "lpips"): 0.0781, ("GoPro", "dists"): 0.0678,
               ("RealBlur-J", "lpips"): 0.1688, ("RealBlur-J", "dists"): 0.1174},
    "AdaRevD-L": {("GoPro", "lpips"): 0.0712, ("GoPro", "dists"): 0.0672,
                  ("RealBlur-J", "lpips"): 0.1408, ("RealBlur-J", "dists"): 0.1037},
    "OSEDiff": {("GoPro", "lpips"): 0.1719, ("GoPro", "dists"): 0.0825,
                ("RealBlur-J", "lpips"): 0.1793, ("RealBlur-J", "dists"): 0.1198},
    "OSDD g=1": {("GoPro", "lpips"): 0.1002, ("GoPro", "dists"): 0.0536,
                 ("RealBlur-J", "lpips"): 0.1177, ("RealBlur-J", "dists"): 0.0859},
    "OSDD g=0.7": {("GoPro", "lpips"): 0.1211, ("GoPro", "dists"): 0.0606,
                   ("RealBlur-J", "lpips"): 0.1178, ("RealBlur-J", "dists"): 0.0831,
                   ("GoPro", "clipiqa"): 0.2421, ("GoPro", "niqe"): 4.11,
                   ("GoPro", "musiq"): 51.19, ("GoPro", "maniqa"): 0.5536},
}
LOWER_IS_BETTER = {"lpips", "dists", "niqe"}
TITLES = {"psnr": "PSNR", "ssim": "SSIM", "lpips": "LPIPS", "dists": "DISTS",
          "niqe": "NIQE", "musiq": "MUSIQ", "maniqa": "MANIQA", "clipiqa": "CLIPIQA"}


def markdown(table: dict[tuple[str, str], dict[str, float]]) -> str:
    datasets = list(dict.fromkeys(d for d, _ in table))
    methods = list(dict.fromkeys(m for _, m in table))
    ours = list(dict.fromkeys(k for row in table.values() for k in row
                              if k in TITLES))
    # The paper's columns for its datasets even where we did not measure that metric, so
    # its numbers always stand beside ours.
    published = [key for numbers in PAPER.values() for key in numbers]
    columns = [(d, m) for d in datasets
               for m in [*ours, *dict.fromkeys(pm for pd, pm in published
                                               if pd == d and pm not in ours)]]
    head = ["method", *(f"{d} {TITLES[m]} {'↓' if m in LOWER_IS_BETTER else '↑'}"
                        for d, m in columns), *(f"{d} s/image" for d in datasets)]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, numbers in PAPER.items():
        if any(key in numbers for key in columns):
            cells = [_cell(numbers.get(key)) for key in columns]
            lines.append(f"| {name} (paper) | " + " | ".join(cells + [""] * len(datasets))
                         + " |")
    for method in methods:
        cells = [_cell(table.get((d, method), {}).get(m)) for d, m in columns]
        times = [_cell(table.get((d, method), {}).get("seconds"), 2) for d in datasets]
        lines.append(f"| {method} (ours) | " + " | ".join(cells + times) + " |")
    counts = ", ".join(f"{d}: {table[(d, methods[0])]['images']} pairs" for d in datasets)
    return ("\n".join(lines) + f"\n\nPaper: Liu et al. 2025, Tables 1-2 (trained on GoPro "
            f"only). Ours: {counts}.\n")


def _cell(value: float | None, digits: int = 4) -> str:
    return "" if value is None else f"{value:.{digits}f}"


def figure_grid(rows: list[tuple[str, list[tuple[str, np.ndarray]]]], path: Path,
                crop: int = 192) -> None:
    """One row per image (its name on the left), one column per labelled image: the same
    centre crop of each, so detail is visible at 1:1."""
    if not rows:
        return
    label_h, name_w, gap = 18, 120, 4
    columns = max(len(images) for _, images in rows)
    width = name_w + columns * (crop + gap)
    height = label_h + len(rows) * (crop + gap)
    canvas = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(canvas)
    for c, (label, _) in enumerate(rows[0][1]):
        draw.text((name_w + c * (crop + gap) + 2, 3), label, fill="black")
    for r, (name, images) in enumerate(rows):
        top = label_h + r * (crop + gap)
        draw.text((4, top + crop // 2), name[:18], fill="black")
        for c, (_, image) in enumerate(images):
            tile = Image.fromarray(_centre_u8(image, crop))
            canvas.paste(tile, (name_w + c * (crop + gap), top))
    canvas.save(path)


def _centre_u8(image: np.ndarray, size: int) -> np.ndarray:
    h, w = image.shape[:2]
    top, left = max((h - size) // 2, 0), max((w - size) // 2, 0)
    part = image[top:top + size, left:left + size]
    if part.ndim == 3 and part.shape[2] == 1:
        part = part[..., 0]
    return to_uint8(part)
