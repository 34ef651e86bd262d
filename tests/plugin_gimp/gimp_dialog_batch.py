# Run by GIMP's python-fu-eval (with its interface, under Xvfb): calls the plug-in
# interactively, so its dialog opens; gimp_dialog.sh presses OK.
import json
import os
import traceback

from gi.repository import Gimp, Gio

T = os.environ["OSDD_TEST_DIR"]
X, Y, W, H = (int(v) for v in os.environ["OSDD_TEST_SEL"].split(","))
report = {}
try:
    image = Gimp.file_load(Gimp.RunMode.NONINTERACTIVE, Gio.File.new_for_path(f"{T}/in.png"))
    image.select_rectangle(Gimp.ChannelOps.REPLACE, X, Y, W, H)
    procedure = Gimp.get_pdb().lookup_procedure("python-fu-osdd-motion-deblur")
    config = procedure.create_config()
    config.set_property("run-mode", Gimp.RunMode.INTERACTIVE)
    config.set_property("image", image)
    config.set_core_object_array("drawables", [image.get_layers()[0]])
    config.set_property("server", os.environ["OSDD_SERVER"])
    result = procedure.run(config)
    report["status"] = result.index(0).value_nick
    report["layers"] = [layer.get_name() for layer in image.get_layers()]
    image.delete()
except Exception:
    report["error"] = traceback.format_exc()
with open(f"{T}/dialog_report.json", "w") as f:
    json.dump(report, f)
