# Run by GIMP's python-fu-eval inside the test chroot (exec'd, with gi available):
# loads the blurred photo, selects a rectangle, runs Motion Deblur (OSDD) non-interactively
# in both output modes, in place through a feathered ellipse, and once against a server
# that is not running, exports the results
# and writes report.json for the host-side test to check.
import json
import os
import struct
import traceback

from gi.repository import Gegl, Gimp, Gio

T = os.environ["OSDD_TEST_DIR"]
X, Y, W, H = (int(v) for v in os.environ["OSDD_TEST_SEL"].split(","))
report = {"runs": {}}


def load():
    image = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(f"{T}/in.png"))
    image.select_rectangle(Gimp.ChannelOps.REPLACE, X, Y, W, H)
    return image, image.get_layers()[0]


def export(image, name):
    path = f"{T}/{name}.png"
    if not Gimp.file_save(Gimp.RunMode.NONINTERACTIVE, image, Gio.File.new_for_path(path),
                          None):
        raise RuntimeError(f"export failed: {path}")


def deblur(image, drawable, output, server):
    procedure = Gimp.get_pdb().lookup_procedure("python-fu-osdd-motion-deblur")
    if procedure is None:
        raise RuntimeError("the plug-in is not registered (not installed, not executable, "
                           "or it failed at query time)")
    config = procedure.create_config()
    config.set_property("run-mode", Gimp.RunMode.NONINTERACTIVE)
    config.set_property("image", image)
    config.set_core_object_array("drawables", [drawable])
    for name, value in (("engine", "classical"), ("output", output), ("margin", 64),
                        ("server", server), ("autostart", False)):
        config.set_property(name, value)
    result = procedure.run(config)
    status = result.index(0)
    message = ""
    if result.length() > 1 and result.index(1) is not None:
        message = getattr(result.index(1), "message", str(result.index(1)))
    return {"status": status.value_nick, "message": message,
            "menu": list(procedure.get_menu_paths()), "label": procedure.get_menu_label()}


def layers_of(image):
    return [{"name": layer.get_name(), "size": [layer.get_width(), layer.get_height()],
             "offsets": list(layer.get_offsets()[1:]), "mask": layer.get_mask() is not None}
            for layer in image.get_layers()]


try:
    for output in ("new-layer", "in-place"):
        image, drawable = load()
        run = deblur(image, drawable, output, os.environ["OSDD_SERVER"])
        run["layers"] = layers_of(image)
        report["runs"][output] = run
        export(image, f"out_{output}")
        if output == "new-layer" and len(image.get_layers()) == 2:
            alone = image.duplicate()
            alone.remove_layer(alone.get_layers()[1])  # keep only the new layer
            alone.get_layers()[0].remove_mask(Gimp.MaskApplyMode.DISCARD)
            alone.resize_to_layers()
            export(alone, "new_layer_alone")
            alone.delete()
        image.delete()
    image, drawable = load()  # a feathered ellipse, in place: merged through its mask
    image.select_ellipse(Gimp.ChannelOps.REPLACE, X, Y, W, H)
    Gimp.Selection.feather(image, 12)
    report["runs"]["feathered"] = deblur(image, drawable, "in-place", os.environ["OSDD_SERVER"])
    export(image, "out_feathered")
    image.delete()
    image, drawable = load()  # 16-bit: the result must not pass through 8 bits
    image.convert_precision(Gimp.Precision.U16_NON_LINEAR)
    drawable = image.get_layers()[0]
    run = deblur(image, drawable, "in-place", os.environ["OSDD_SERVER"])
    pixels = drawable.get_buffer().get(Gegl.Rectangle.new(X, Y, W, H), 1.0, "R'G'B' u16",
                                       Gegl.AbyssPolicy.CLAMP)
    values = struct.unpack(f"={len(pixels) // 2}H", bytes(pixels))
    run["multiples_of_257"] = sum(v % 257 == 0 for v in values) / len(values)
    run["precision"] = image.get_precision().value_nick
    report["runs"]["sixteen-bit"] = run
    image.delete()
    image, drawable = load()
    run = deblur(image, drawable, "new-layer", os.environ["OSDD_DOWN_SERVER"])
    run["layers"] = layers_of(image)
    report["runs"]["server-down"] = run
    export(image, "out_server_down")
    image.delete()
    report["ok"] = True
except Exception:
    report["error"] = traceback.format_exc()
finally:
    with open(f"{T}/report.json", "w") as f:
        json.dump(report, f, indent=1)
