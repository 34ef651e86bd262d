#!/usr/bin/env python3
"""GIMP 3 plug-in: Filters > Enhance > Motion Deblur (OSDD)...

Sends the selected region (plus a context margin) to an osdd server through the
`osdd bridge` process and pastes the deblurred tiles as they arrive, in one undo step.
Imports only the standard library and gi.repository.
"""

import sys
import traceback
from pathlib import Path

import gi

gi.require_version("Gimp", "3.0")
from gi.repository import Gimp, GLib, GObject  # noqa: E402

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))  # the plug-in's own modules live next to this file

from osdd_gimp.bridge_client import BridgeClient, BridgeError, bridge_command  # noqa: E402
from osdd_gimp.job import deblur, server_info  # noqa: E402
from osdd_gimp.settings import DEFAULT_SERVER, ENGINES, OUTPUTS, Settings  # noqa: E402

PROCEDURE = "python-fu-osdd-motion-deblur"
_LABELS = {"auto": "Server's default", "classical": "Classical (blind deconvolution)",
           "osdd": "OSDD (one-step diffusion)", "new-layer": "New layer above",
           "in-place": "In place"}


def _choice(names):
    choice = Gimp.Choice.new()
    for number, name in enumerate(names):
        choice.add(name, number, _LABELS[name], "")
    return choice


def settings_from(config) -> Settings:
    return Settings(engine=config.get_property("engine"), gamma=config.get_property("gamma"),
                    output=config.get_property("output"),
                    tile_size=config.get_property("tile-size"),
                    margin=config.get_property("margin"),
                    server=config.get_property("server"),
                    autostart=config.get_property("autostart"),
                    token=config.get_property("token"), tls_ca=config.get_property("tls-ca"),
                    seed=config.get_property("seed"))


def describe_server(settings: Settings) -> str:
    """One line for the dialog: the engines the server offers, or why it did not answer."""
    try:
        with BridgeClient(bridge_command(HERE)) as bridge:
            info = server_info(bridge, settings, autostart=False)
    except BridgeError as exc:
        return f"Server {settings.server}: {exc.message}"
    engines = ", ".join(e["name"] for e in info.get("engines", []))
    return (f"Server {settings.server} ({info.get('device', '?')}) offers: {engines}; "
            f"default {info.get('default_engine')}")


def _fail(procedure, status, message: str, interactive: bool):
    if interactive:
        Gimp.message(message)
    return procedure.new_return_values(status, GLib.Error.new_literal(
        GLib.quark_from_string("osdd-deblur"), message, 0))


def run(procedure, run_mode, image, drawables, config, data):
    interactive = run_mode == Gimp.RunMode.INTERACTIVE
    if len(drawables) != 1:
        return _fail(procedure, Gimp.PDBStatusType.CALLING_ERROR,
                     "Motion Deblur works on exactly one layer; select one.", interactive)
    try:
        if interactive:
            from osdd_gimp.dialog import show_dialog

            if not show_dialog(procedure, config, describe_server(settings_from(config))):
                return procedure.new_return_values(Gimp.PDBStatusType.CANCEL, GLib.Error())
        from osdd_gimp.host_gimp import GimpHost

        settings = settings_from(config)
        settings.check()
        host = GimpHost(image, drawables[0], settings.output)
        Gimp.progress_init("Motion Deblur (OSDD)")
        with BridgeClient(bridge_command(HERE)) as bridge:
            outcome = deblur(host, settings, bridge)
    except ValueError as exc:
        return _fail(procedure, Gimp.PDBStatusType.CALLING_ERROR, f"Motion Deblur: {exc}",
                     interactive)
    except BridgeError as exc:
        return _fail(procedure, Gimp.PDBStatusType.EXECUTION_ERROR,
                     f"Motion Deblur failed, the image is unchanged: {exc.message}", interactive)
    except Exception as exc:  # a bug: the user gets a message, the trace goes to stderr
        traceback.print_exc()
        return _fail(procedure, Gimp.PDBStatusType.EXECUTION_ERROR,
                     f"Motion Deblur failed with an internal error ({exc!r}); the image is "
                     "unchanged. Please report it with GIMP's error console output.",
                     interactive)
    finally:
        Gimp.progress_end()
    print(f"[osdd-deblur] {outcome.tiles} tiles by {outcome.engine} on {outcome.device} in "
          f"{outcome.seconds:.1f} s", file=sys.stderr)
    return procedure.new_return_values(Gimp.PDBStatusType.SUCCESS, GLib.Error())


class MotionDeblur(Gimp.PlugIn):
    def do_query_procedures(self):
        return [PROCEDURE]

    def do_set_i18n(self, name):
        return False

    def do_create_procedure(self, name):
        procedure = Gimp.ImageProcedure.new(self, name, Gimp.PDBProcType.PLUGIN, run, None)
        procedure.set_image_types("RGB*, GRAY*")
        procedure.set_sensitivity_mask(Gimp.ProcedureSensitivityMask.DRAWABLE)
        procedure.set_menu_label("Motion Deblur (OSDD)...")
        procedure.add_menu_path("<Image>/Filters/Enhance")
        procedure.set_documentation(
            "Remove camera-shake blur from the selection",
            "Sends the selected region, with a margin of context, to a local osdd-deblur "
            "server and pastes the deblurred result into a new layer or in place, tile by "
            "tile, as one undo step.", name)
        procedure.set_attribution("osdd-deblur", "osdd-deblur", "2026")
        flags = GObject.ParamFlags.READWRITE
        procedure.add_choice_argument("engine", "_Engine", "Deblurring engine on the server",
                                      _choice(ENGINES), "auto", flags)
        procedure.add_double_argument("gamma", "_Fidelity <-> perception",
                                      "osdd only: 1 = faithful, lower = more generated detail",
                                      0.0, 1.0, 1.0, flags)
        procedure.add_choice_argument("output", "Out_put", "Where the result goes",
                                      _choice(OUTPUTS), "new-layer", flags)
        procedure.add_int_argument("tile-size", "_Tile size",
                                   "Tile side in pixels; 0 = the engine's default",
                                   0, 4096, 0, flags)
        procedure.add_int_argument("margin", "Context _margin",
                                   "Pixels read around the selection: the blur is estimated "
                                   "on all of them",
                                   0, 1024, Settings.margin, flags)
        procedure.add_string_argument("server", "Ser_ver", "Address of the osdd server",
                                      DEFAULT_SERVER, flags)
        procedure.add_int_argument("seed", "S_eed",
                                   "For engines that use one: the same seed gives the same "
                                   "result; -1 = none", -1, 2 ** 31 - 1, -1, flags)
        procedure.add_string_argument("token", "Access _token",
                                      "For a server started with --token (sent as "
                                      "'authorization: Bearer'); empty = $OSDD_TOKEN. GIMP "
                                      "keeps it with the last-used values: prefer the "
                                      "environment on a shared machine", "", flags)
        procedure.add_string_argument("tls-ca", "TLS _root certificate",
                                      "PEM file to reach a server over TLS; empty = "
                                      "$OSDD_TLS_CA, else a plain connection", "", flags)
        procedure.add_boolean_argument("autostart", "Start a local server if none _runs",
                                       "Start `osdd serve` on this machine when the server "
                                       "address is local and nothing answers there",
                                       True, flags)
        return procedure


Gimp.main(MotionDeblur.__gtype__, sys.argv)
