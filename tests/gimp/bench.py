# Timing side of tests/gimp/bench.sh, run by gimp-console-3.0's python-fu-eval
# inside the trixie chroot (GIMP's start-up is not timed). For each of
# PT_ROUNDS rounds on PT_WORK/big.jpg: load, the plug-in call, and the JPEG
# export that renders the filter, with and without the edit; also apply-as
# "merge" (rendered in the plug-in process). Each step: wall-clock seconds and
# CPU seconds (GIMP's core plus the plug-ins it ran). Writes PT_WORK/bench.json.
import json
import os
import time

from gi.repository import Gimp, Gio

W = os.environ["PT_WORK"]
STATE = os.environ["PT_STATE"]
ROUNDS = int(os.environ.get("PT_ROUNDS", "3"))
NONINTERACTIVE = Gimp.RunMode.NONINTERACTIVE
proc = Gimp.get_pdb().lookup_procedure("plug-in-pertouch")
if proc is None:
    raise RuntimeError("plug-in-pertouch is not registered")


CORE = os.getppid()  # gimp-console: runs the filter, and reaps the plug-ins it starts
TICK = os.sysconf("SC_CLK_TCK")


def cpu():
    """CPU seconds of GIMP's core and its finished children (the plug-ins)."""
    fields = open(f"/proc/{CORE}/stat").read().rsplit(")", 1)[1].split()
    return sum(int(v) for v in fields[11:15]) / TICK


def timed(f):
    c, t = cpu(), time.perf_counter()
    r = f()
    return r, (time.perf_counter() - t, cpu() - c)


def load():
    return Gimp.file_load(NONINTERACTIVE, Gio.File.new_for_path(os.path.join(W, "big.jpg")))


def export(image, name):
    if not Gimp.file_save(NONINTERACTIVE, image, Gio.File.new_for_path(os.path.join(W, name)), None):
        raise RuntimeError("export failed")


def call(image, mode):
    cfg = proc.create_config()
    cfg.set_property("run-mode", NONINTERACTIVE)
    cfg.set_property("image", image)
    cfg.set_core_object_array("drawables", [image.get_layers()[0]])
    cfg.set_property("state", STATE)
    cfg.set_property("apply-as", mode)
    r = proc.run(cfg)
    if r.index(0) != Gimp.PDBStatusType.SUCCESS:
        raise RuntimeError("plug-in failed: " + str(r.index(1)))


rows = []
for _ in range(ROUNDS):
    for mode in ("none", "filter", "merge"):
        image, t_load = timed(load)
        t_call = (0.0, 0.0)
        if mode != "none":
            _, t_call = timed(lambda: call(image, mode))
        _, t_export = timed(lambda: export(image, "bench-" + mode + ".jpg"))
        rows.append({"mode": mode, "load": t_load, "call": t_call, "export": t_export})
        image.delete()
with open(os.path.join(W, "bench.json"), "w") as f:
    json.dump(rows, f, indent=1)
