"""The plug-in's modules import as GIMP imports them: `osdd_gimp` from the plug-in folder,
with gi replaced by the fake in fake_gi.py."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

PLUGIN_DIR = Path(__file__).resolve().parents[2] / "plugin_gimp" / "osdd_deblur"
if str(PLUGIN_DIR) not in sys.path:
    sys.path.insert(0, str(PLUGIN_DIR))

from . import fake_gi  # noqa: E402

FAKE_GIMP = fake_gi.install()
BRIDGE = [sys.executable, "-m", "backend.cli", "bridge"]


@pytest.fixture
def gimp_calls():
    FAKE_GIMP.calls.clear()
    return FAKE_GIMP.calls


