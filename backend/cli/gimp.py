"""`osdd bridge` and `osdd gimp install / uninstall`."""

from __future__ import annotations

import argparse
from pathlib import Path

from .options import add_log_level


def add_commands(sub) -> None:
    bridge = sub.add_parser("bridge", help="the GIMP plug-in's link to the server "
                                           "(frames on stdin/stdout; started by the plug-in)")
    add_log_level(bridge)
    bridge.set_defaults(run=_bridge)
    gimp = sub.add_parser("gimp", help="install or remove the GIMP 3 plug-in")
    actions = gimp.add_subparsers(required=True, metavar="ACTION")
    for name, run, text in (("install", _install, "copy the plug-in into GIMP 3's plug-ins "
                                                   "folder and point it at this environment"),
                            ("uninstall", _uninstall, "remove the plug-in and its config")):
        action = actions.add_parser(name, help=text)
        action.add_argument("--gimp-config-dir", type=Path,
                            help="GIMP's user folder (default: GIMP 3.0's for this system)")
        if name == "install":
            action.add_argument("--flatpak", action="store_true", default=None,
                                help="GIMP runs as a Flatpak: start the bridge through "
                                     "flatpak-spawn (automatic for the Flatpak folder)")
        action.set_defaults(run=run)


def _bridge(args: argparse.Namespace) -> int:
    from ..gimp.bridge import main

    return main()


def _install(args: argparse.Namespace) -> int:
    from ..gimp.install import install

    target = install(args.gimp_config_dir, args.flatpak)
    print(f"installed the plug-in in {target}\nrestart GIMP, then use Filters > Enhance > "
          "Motion Deblur (OSDD)...")
    if "flatpak-spawn" in (target / "bridge.json").read_text():
        print("Flatpak: allow the plug-in to start the bridge with\n  flatpak override --user "
              "--talk-name=org.freedesktop.Flatpak org.gimp.GIMP")
    return 0


def _uninstall(args: argparse.Namespace) -> int:
    from ..gimp.install import uninstall

    removed = uninstall(args.gimp_config_dir)
    print(f"removed {removed}" if removed else "the plug-in was not installed there")
    return 0
