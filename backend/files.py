"""Small text files that readers must never see half-written (port files, manifests, run
settings, dataset records)."""

from __future__ import annotations

import os
from pathlib import Path


def write_text_atomically(path: Path, text: str) -> None:
    """Write beside `path` and rename over it, so `path` is either the old file or the
    whole new one; a failed write leaves no temporary file behind. Raises OSError."""
    path = Path(path)
    tmp = path.with_name(f".{path.name}.partial")
    try:
        tmp.write_text(text)
        os.replace(tmp, path)
    except OSError:
        tmp.unlink(missing_ok=True)
        raise
