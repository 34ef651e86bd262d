"""`osdd gimp install / uninstall`: put the plug-in where GIMP 3 finds it and tell it how to
start the bridge from this environment."""

from __future__ import annotations

import json
import os
import shutil
import sys
from importlib.util import find_spec
from pathlib import Path

import osdd_framing

from ..errors import ConfigError

PLUGIN = "osdd_deblur"
CONFIG = "bridge.json"
FLATPAK_DIR = Path.home() / ".var/app/org.gimp.GIMP/config/GIMP/3.0"


def source_folder() -> Path:
    """The plug-in as shipped with this package: files to copy, never imported here."""
    spec = find_spec("plugin_gimp")
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError("the GIMP plug-in (plugin_gimp) is not installed with this package")
    return Path(next(iter(spec.submodule_search_locations))).resolve() / PLUGIN


def framing_folder() -> Path:
    """The wire format the plug-in shares with the bridge (stdlib only)."""
    return Path(osdd_framing.__file__).resolve().parent


def default_config_dir() -> Path:
    """GIMP 3.0's user folder: %APPDATA%\\GIMP\\3.0 on Windows, ~/Library/Application
    Support/GIMP/3.0 on macOS, $XDG_CONFIG_HOME/GIMP/3.0 (or the Flatpak's, when only
    that one exists) on Linux."""
    if sys.platform == "win32":
        return Path(os.environ.get("APPDATA", Path.home() / "AppData/Roaming")) / "GIMP/3.0"
    if sys.platform == "darwin":
        return Path.home() / "Library/Application Support/GIMP/3.0"
    xdg = Path(os.environ.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "GIMP/3.0"
    if not xdg.exists() and FLATPAK_DIR.exists():
        return FLATPAK_DIR
    return xdg


def bridge_command(flatpak: bool = False) -> list[str]:
    """How the plug-in starts `osdd bridge`: this environment's Python, by absolute path."""
    command = [str(Path(sys.executable).absolute()), "-m", "backend.cli", "bridge"]
    # Inside the Flatpak sandbox host programs run only through flatpak-spawn.
    return ["flatpak-spawn", "--host", *command] if flatpak else command


def install(config_dir: Path | None = None, flatpak: bool | None = None) -> Path:
    """Copy the plug-in into <config_dir>/plug-ins/osdd_deblur/ and write its bridge
    config; returns the installed folder. Replaces an earlier install."""
    config_dir = Path(config_dir) if config_dir else default_config_dir()
    if flatpak is None:
        flatpak = config_dir.resolve() == FLATPAK_DIR.resolve()
    target = config_dir / "plug-ins" / PLUGIN
    try:
        if target.exists():
            shutil.rmtree(target)
        shutil.copytree(source_folder(), target,
                        ignore=shutil.ignore_patterns("__pycache__", "__init__.py", "*.pyc"))
        # osdd_gimp is a package of its own inside the plug-in folder: it keeps its __init__.
        shutil.copy2(source_folder() / "osdd_gimp/__init__.py", target / "osdd_gimp")
        # The framing both ends share, where the plug-in's own Python finds it (next to
        # osdd_gimp/, on the path osdd_deblur.py sets up): the folder needs nothing else.
        shutil.copytree(framing_folder(), target / "osdd_framing",
                        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
        script = target / f"{PLUGIN}.py"
        script.chmod(script.stat().st_mode | 0o111)  # GIMP runs only executable plug-ins
        (target / CONFIG).write_text(json.dumps({"command": bridge_command(flatpak)},
                                                indent=2) + "\n")
    except OSError as exc:
        raise ConfigError(f"cannot install the plug-in into {target}: {exc}") from None
    return target


def uninstall(config_dir: Path | None = None) -> Path | None:
    """Remove the installed plug-in and its config; returns what was removed, if any."""
    config_dir = Path(config_dir) if config_dir else default_config_dir()
    target = config_dir / "plug-ins" / PLUGIN
    if not (target / f"{PLUGIN}.py").exists():
        return None
    try:
        shutil.rmtree(target)
    except OSError as exc:
        raise ConfigError(f"cannot remove {target}: {exc}") from None
    return target
