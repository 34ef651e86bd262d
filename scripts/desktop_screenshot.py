"""A screenshot of the real desktop app for the README: it starts its own local server
(classical engine), opens a photo with real camera shake, deblurs a region and shows
it in compare mode. Needs an X display; run it through the wrapper:

    bash scripts/desktop_screenshot.sh [--photo PATH --region X,Y,W,H] [--out FILE]

Without --photo it uses the bundled clock photo. The README's screenshot is of OpenCV's
licence-plate sample (Debian's opencv-doc), `--photo licenseplate_motion.jpg --region
150,150,290,200`.
"""

from __future__ import annotations

import argparse
import sys
import time
from collections.abc import Callable
from pathlib import Path

from PyQt6.QtWidgets import QApplication

from backend.types import Region
from desktop_gui.app import build

REPO = Path(__file__).resolve().parents[1]
PHOTO = REPO / "backend" / "samples" / "clock_motion.png"
REGION = "120,80,160,140"  # the clock's face


def wait_until(app: QApplication, done: Callable[[], bool], timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            sys.exit(f"timed out waiting for {what}")
        app.processEvents()
        time.sleep(0.02)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--photo", type=Path, default=PHOTO)
    parser.add_argument("--region", default=REGION, help="x,y,width,height to deblur")
    parser.add_argument("--out", type=Path,
                        default=REPO / "docs" / "screenshots" / "desktop_compare.png")
    args = parser.parse_args()
    if not args.photo.is_file():
        sys.exit(f"{args.photo} not found: pass --photo PATH, a photo with camera shake")
    app = QApplication(sys.argv[:1])
    parts = build(poll_ms=500)
    window = parts.window
    try:
        window.resize(1280, 800)
        window.show()
        window.server_panel.start_local()
        wait_until(app, lambda: parts.connection.status.serving
                   and parts.settings.info is not None, 120, "the local server")
        if not window.open_path(args.photo):
            sys.exit(f"cannot open {args.photo}: {window.last_message}")
        region = Region.parse(args.region)
        parts.workspace.document.set_selection(region)
        window.deblur()
        wait_until(app, lambda: not parts.workspace.busy, 300, "the deblur job")
        if window.last_message is not None:
            sys.exit(f"deblurring failed: {window.last_message}")
        window.set_compare(True)
        window.view.fit()
        split = window.view.to_widget(region).center().x() / window.view.width()
        window.split_slider.setValue(round(split * 1000))
        settle = time.monotonic() + 1.0  # let the window paint before the X grab
        wait_until(app, lambda: time.monotonic() > settle, 5, "painting")
        geometry = window.frameGeometry()
        shot = app.primaryScreen().grabWindow(0, geometry.x(), geometry.y(),
                                              geometry.width(), geometry.height())
        args.out.parent.mkdir(parents=True, exist_ok=True)
        if not shot.save(str(args.out)):
            sys.exit(f"cannot write {args.out}")
        print(f"wrote {args.out} ({shot.width()}x{shot.height()})")
    finally:
        parts.shutdown()


if __name__ == "__main__":
    main()
