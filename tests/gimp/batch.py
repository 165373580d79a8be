# GIMP 3 side of the plug-in's end-to-end test (tests/gimp_plugin.rs), run by
# gimp-console-3.0's python-fu-eval interpreter inside the trixie chroot.
#
# Drives plug-in-pertouch non-interactively as a script would, exports what it
# made and writes results.json (statuses, messages, returned states, the layer's
# filters before and after an XCF round trip, precisions). It checks nothing
# about pixels: the Rust test does that with the core's own measurements. An
# exception here (a missing procedure, a failed export) stops GIMP with exit 64.
import json
import os

from gi.repository import Gegl, Gimp, Gio

W = os.environ["PT_WORK"]
NONINTERACTIVE = Gimp.RunMode.NONINTERACTIVE
results = {}

proc = Gimp.get_pdb().lookup_procedure("plug-in-pertouch")
if proc is None:
    raise RuntimeError("plug-in-pertouch is not registered: the plug-in did not load")
if not Gimp.get_pdb().procedure_exists("gimp-drawable-filter-new"):
    raise RuntimeError("this GIMP has no drawable filters")


def path(name):
    return os.path.join(W, name)


def load(name):
    image = Gimp.file_load(NONINTERACTIVE, Gio.File.new_for_path(path(name)))
    return image, image.get_layers()[0]


def call(image, layer, **args):
    cfg = proc.create_config()
    cfg.set_property("run-mode", NONINTERACTIVE)
    cfg.set_property("image", image)
    cfg.set_core_object_array("drawables", [layer])
    for key, value in args.items():
        cfg.set_property(key.replace("_", "-"), value)
    r = proc.run(cfg)
    status = r.index(0)
    out = {"status": status.value_nick}
    if status == Gimp.PDBStatusType.SUCCESS:
        out["state"] = r.index(1)
        out["summary"] = r.index(2)
    else:
        out["message"] = r.index(1) if r.length() > 1 else None
    return out


def filters(layer):
    return [
        {
            "name": f.get_name(),
            "operation": f.get_operation_name(),
            "state": f.get_config().get_property("state"),
            "mix": f.get_config().get_property("mix"),
            "renderer": f.get_config().get_property("renderer"),
        }
        for f in layer.get_filters()
    ]


def export(image, name):
    if len(image.get_layers()) > 1:
        image = image.duplicate()
        image.merge_visible_layers(Gimp.MergeType.CLIP_TO_IMAGE)
    if not Gimp.file_save(NONINTERACTIVE, image, Gio.File.new_for_path(path(name)), None):
        raise RuntimeError("exporting " + name + " failed")


def save_selection(image, name):
    """The selection as raw little-endian u16 coverage, row by row."""
    mask = image.get_selection()
    w, h = image.get_width(), image.get_height()
    data = mask.get_buffer().get(Gegl.Rectangle.new(0, 0, w, h), 1.0, "Y u16", Gegl.AbyssPolicy.NONE)
    with open(path(name), "wb") as f:
        f.write(bytes(data))
    return {"width": w, "height": h}


EXPLICIT = '{"global": {"contrast": 0.2}, "sky": {"temperature": 0.3, "colorfulness": 0.2}}'
BRIGHTER = '{"global": {"brightness": 0.3}}'

# A: an instruction, as the non-destructive filter; XCF round trip; re-opened.
image, layer = load("photo.png")
results["instruction"] = call(image, layer, instruction="make the sky a little warmer")
results["instruction"]["filters"] = filters(layer)
results["instruction"]["precision"] = image.get_precision().value_nick
export(image, "instruction.png")
Gimp.file_save(NONINTERACTIVE, image, Gio.File.new_for_path(path("instruction.xcf")), None)
image.delete()
image, layer = load("instruction.xcf")
results["reloaded"] = {"filters": filters(layer)}
export(image, "reloaded.png")
# Re-opening adds to the filter's state and edits the same filter. (This
# interpreter's filter objects keep the configs they were first read with, so
# the filters are read back from a fresh load.)
results["reopened"] = call(image, layer, instruction="a bit brighter")
export(image, "reopened.png")
Gimp.file_save(NONINTERACTIVE, image, Gio.File.new_for_path(path("reopened.xcf")), None)
image.delete()
image, layer = load("reopened.xcf")
results["reopened"]["filters"] = filters(layer)
image.delete()

# B: an explicit state; remembered under the "gimp" profile.
image, layer = load("photo.png")
results["explicit"] = call(image, layer, state=EXPLICIT, remember=True)
export(image, "explicit.png")
image.delete()

# Recall on the same photo: the remembered edit comes back.
image, layer = load("photo.png")
results["recall"] = call(image, layer, agent="recall")
image.delete()

# C: a feathered selection, as filter, merged and on a new layer.
for mode in ("filter", "merge", "new-layer"):
    image, layer = load("photo.png")
    Gimp.context_set_feather(True)
    Gimp.context_set_feather_radius(40.0, 40.0)
    image.select_ellipse(Gimp.ChannelOps.REPLACE, 120, 60, 400, 300)
    if mode == "filter":
        results["selection_mask"] = save_selection(image, "selection.raw")
    results["selection-" + mode] = call(image, layer, state=BRIGHTER, apply_as=mode)
    results["selection-" + mode]["layers"] = [l.get_name() for l in image.get_layers()]
    Gimp.Selection.none(image)
    export(image, "selection-" + mode + ".png")
    image.delete()

# D: 16-bit stays 16-bit.
image, layer = load("photo16.png")
results["sixteen"] = call(image, layer, state=EXPLICIT)
results["sixteen"]["precision"] = image.get_precision().value_nick
export(image, "sixteen.png")
image.delete()

# E: alpha untouched.
image, layer = load("alpha.png")
results["alpha"] = call(image, layer, state=EXPLICIT)
results["alpha"]["has_alpha"] = layer.has_alpha()
export(image, "alpha.png-out.png")
image.delete()

# F: a float linear image goes through float, in linear light's precision.
image, layer = load("photo.png")
image.convert_precision(Gimp.Precision.FLOAT_LINEAR)
results["float"] = call(image, layer, state=EXPLICIT)
results["float"]["precision"] = image.get_precision().value_nick
image.convert_precision(Gimp.Precision.U16_NON_LINEAR)
export(image, "float.png")
image.delete()

# Errors come back as a status and a message, and leave the image alone.
image, layer = load("photo.png")
results["bad_instruction"] = call(image, layer, instruction="frobnicate the wibble")
results["bad_state"] = call(image, layer, state='{"sky": {"sparkle": 1}}')
results["no_diffusion"] = call(image, layer, state=EXPLICIT, mix=0.5, renderer="diffusion")
results["errors_left_filters"] = filters(layer)
image.delete()

# Greyscale and indexed images get a clear refusal.
image, layer = load("photo.png")
image.convert_grayscale()
results["grey"] = call(image, layer, state=BRIGHTER)
image.delete()
image, layer = load("photo.png")
image.convert_indexed(Gimp.ConvertDitherType.NONE, Gimp.ConvertPaletteType.GENERATE, 64, False, False, "")
results["indexed"] = call(image, layer, state=BRIGHTER)
image.delete()

with open(path("results.json"), "w") as f:
    json.dump(results, f, indent=1)
