# Run by GIMP's python-fu-eval with GIMP's interface up, under Xvfb (see gimp_gui.sh, which
# plays the user): 1) the plug-in runs interactively on a displayed image, gimp_gui.sh
# presses OK in its dialog, then Ctrl+Z once; 2) the same in place, non-interactively.
# After each step the image is exported, so the test sees the result and what one undo
# leaves.
import json
import os
import time
import traceback

from gi.repository import Gimp, Gio

T = os.environ["OSDD_TEST_DIR"]
X, Y, W, H = (int(v) for v in os.environ["OSDD_TEST_SEL"].split(","))
PROCEDURE = Gimp.get_pdb().lookup_procedure("python-fu-osdd-motion-deblur")
report = {}


def export(image, name):
    Gimp.file_save(Gimp.RunMode.NONINTERACTIVE, image, Gio.File.new_for_path(f"{T}/{name}.png"),
                   None)


def run(step, mode, output):
    image = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(f"{T}/in.png"))
    display = Gimp.Display.new(image)
    image.select_rectangle(Gimp.ChannelOps.REPLACE, X, Y, W, H)
    config = PROCEDURE.create_config()
    config.set_property("run-mode", mode)
    config.set_property("image", image)
    config.set_core_object_array("drawables", [image.get_layers()[0]])
    config.set_property("server", os.environ["OSDD_SERVER"])
    config.set_property("output", output)
    result = PROCEDURE.run(config)
    report[step] = {"status": result.index(0).value_nick,
                    "layers": [layer.get_name() for layer in image.get_layers()]}
    export(image, f"{step}_result")
    open(f"{T}/ready-{step[-1]}", "w").close()
    for _ in range(120):  # gimp_gui.sh presses Ctrl+Z in the image window
        if os.path.exists(f"{T}/undone-{step[-1]}"):
            break
        time.sleep(0.5)
    report[step]["layers_after_undo"] = [layer.get_name() for layer in image.get_layers()]
    export(image, f"{step}_undone")
    display.delete()
    image.delete()


try:
    run("dialog-1", Gimp.RunMode.INTERACTIVE, "new-layer")
    run("in-place-2", Gimp.RunMode.NONINTERACTIVE, "in-place")
except Exception:
    report["error"] = traceback.format_exc()
with open(f"{T}/gui_report.json", "w") as f:
    json.dump(report, f)
