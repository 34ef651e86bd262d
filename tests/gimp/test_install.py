"""`osdd gimp install / uninstall`, and the installed plug-in reaching a live server."""

import json
import os
import subprocess
import sys

from backend.cli import main


def test_install_lays_out_the_plug_in_and_its_bridge(tmp_path, capsys):
    assert main(["gimp", "install", "--gimp-config-dir", str(tmp_path)]) == 0
    target = tmp_path / "plug-ins" / "osdd_deblur"
    script = target / "osdd_deblur.py"
    assert script.is_file() and os.access(script, os.X_OK)
    assert (target / "osdd_framing" / "__init__.py").is_file()
    assert (target / "osdd_gimp" / "__init__.py").is_file()
    assert not list(target.rglob("__pycache__"))
    command = json.loads((target / "bridge.json").read_text())["command"]
    assert command == [sys.executable, "-m", "backend.cli", "bridge"]
    assert "Filters > Enhance > Motion Deblur (OSDD)" in capsys.readouterr().out


def test_installed_plug_in_needs_nothing_outside_its_folder(tmp_path):
    """GIMP's Python has the plug-in's folder and the standard library, nothing of this
    project: the installed copy must find the framing it shares with the bridge there."""
    main(["gimp", "install", "--gimp-config-dir", str(tmp_path)])
    target = tmp_path / "plug-ins" / "osdd_deblur"
    code = ("import sys; sys.path.insert(0, sys.argv[1])\n"
            "import osdd_framing, osdd_gimp.bridge_client, osdd_gimp.job\n"
            "for m in (osdd_framing, osdd_gimp.bridge_client, osdd_gimp.job):\n"
            "    assert m.__file__.startswith(sys.argv[1]), m.__file__\n"
            "assert not [m for m in sys.modules if m.startswith(('backend', 'plugin_gimp'))]\n")
    # -I: no PYTHONPATH, no user site, not the working folder; -S: no site-packages
    done = subprocess.run([sys.executable, "-I", "-S", "-c", code, str(target)],
                          capture_output=True, text=True, cwd=tmp_path)
    assert done.returncode == 0, done.stderr


def test_installed_plug_in_talks_to_the_server_through_its_bridge(tmp_path, server,
                                                                  monkeypatch):
    main(["gimp", "install", "--gimp-config-dir", str(tmp_path)])
    target = tmp_path / "plug-ins" / "osdd_deblur"
    monkeypatch.syspath_prepend(str(target))
    for name in [m for m in sys.modules if m.startswith("osdd_gimp")]:
        monkeypatch.delitem(sys.modules, name)  # import the installed copy, not the source
    from osdd_gimp.bridge_client import BridgeClient, bridge_command

    assert str(target) in sys.modules["osdd_gimp.bridge_client"].__file__
    with BridgeClient(bridge_command(target)) as bridge:
        [(info, _)] = list(bridge.request({"type": "info", "server": server.address}))
    assert info["default_engine"] == "invert"


def test_reinstall_replaces_and_uninstall_removes(tmp_path, capsys):
    main(["gimp", "install", "--gimp-config-dir", str(tmp_path)])
    stale = tmp_path / "plug-ins" / "osdd_deblur" / "stale.py"
    stale.write_text("")
    main(["gimp", "install", "--gimp-config-dir", str(tmp_path)])
    assert not stale.exists()
    assert main(["gimp", "uninstall", "--gimp-config-dir", str(tmp_path)]) == 0
    assert not (tmp_path / "plug-ins" / "osdd_deblur").exists()
    assert main(["gimp", "uninstall", "--gimp-config-dir", str(tmp_path)]) == 0
    assert "was not installed" in capsys.readouterr().out


def test_flatpak_install_goes_through_flatpak_spawn(tmp_path, capsys):
    main(["gimp", "install", "--gimp-config-dir", str(tmp_path), "--flatpak"])
    command = json.loads((tmp_path / "plug-ins/osdd_deblur/bridge.json").read_text())["command"]
    assert command[:2] == ["flatpak-spawn", "--host"]
    assert "flatpak override --user --talk-name=org.freedesktop.Flatpak" in \
        capsys.readouterr().out


def test_missing_bridge_config_is_a_clear_error(tmp_path):
    from plugin_gimp.osdd_deblur.osdd_gimp.bridge_client import BridgeError, bridge_command

    try:
        bridge_command(tmp_path)
    except BridgeError as exc:
        assert "run `osdd gimp install`" in exc.message
    else:
        raise AssertionError("no error")
