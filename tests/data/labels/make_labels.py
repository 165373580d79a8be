#!/usr/bin/env python3
"""Derives the segmentation labels in this folder from ../shared/samples.

Each label is a per-photo rule written by looking at that photo: a hand-placed
horizon or box, intersected with a colour test that fits that photo only (no rule
is shared with the built-in segmenter, which uses one generic model for all
photos). Every label was checked by eye as an overlay (python3 make_labels.py
--overlay writes them to /tmp). Labels are at the analysis size (long side 512),
white = inside. A class with no file is absent from the photo.

Run from this folder: python3 make_labels.py   (needs Pillow and numpy)
"""
import sys
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).resolve().parent
SAMPLES = HERE.parents[3] / "shared" / "samples"


def load(name):
    path = next(SAMPLES.glob(name + ".*"))
    im = Image.open(path).convert("RGB")
    w, h = im.size
    s = 512 / max(w, h)
    im = im.resize((max(1, round(w * s)), max(1, round(h * s))), Image.BOX)
    a = np.asarray(im).astype(int)
    r, g, b = a[..., 0], a[..., 1], a[..., 2]
    yy, xx = np.mgrid[0 : a.shape[0], 0 : a.shape[1]]
    return im, r, g, b, yy, xx


def rocket():
    _, r, g, b, y, x = load("rocket")
    lum = (r + g + b) / 3
    # Night-blue sky down to the cloud bank at the horizon (y ~ 318); the towers,
    # the rocket and the pad lights are not blue or are far too bright.
    sky = (y < 318) & (b > r + 12) & (b >= g) & (lum < 170)
    return {"sky": sky}


def dune():
    _, r, g, b, y, x = load("dune")
    # Pale sky above, saturated turquoise sea in a band below it, dune grass in
    # front of both and below.
    sky = (y < 112) & (b > r + 30) & (r >= 105)
    water = (y > 80) & (y < 170) & (b > r + 50) & (r < 105) & ~sky
    vegetation = ~sky & ~water
    return {"sky": sky, "water": water, "vegetation": vegetation}


def storm():
    _, r, g, b, y, x = load("storm")
    # Storm clouds above the horizon (y ~ 212); a strip of green field below it;
    # then a motion-blurred road (not water, not vegetation).
    sky = (y < 226) & (b > r + 5) & (b >= g)
    vegetation = (y >= 200) & (y < 240) & (g > b + 3) & (g > r)
    return {"sky": sky, "vegetation": vegetation}


def meadow():
    _, r, g, b, y, x = load("meadow")
    return {"vegetation": np.ones_like(r, dtype=bool)}


def garden():
    _, r, g, b, y, x = load("garden")
    # Green leaves and stems; the red flower and the orange blur are flowers.
    return {"vegetation": (g > r + 5) & (g > b + 5)}


def ladybird():
    _, r, g, b, y, x = load("ladybird")
    # Leaves and stems; the blue and white flowers and the ladybird are not.
    return {"vegetation": (g > r + 5) & (g > b + 5)}


def astronaut():
    _, r, g, b, y, x = load("astronaut")
    # The face (hand-placed box around the head, below the hair line, above the
    # collar) intersected with skin colour; the orange suit is outside the box.
    box = (x > 168) & (x < 290) & (y > 62) & (y < 178)
    skin = box & (r > g) & (g > b) & (r > 120) & (r - b > 35) & (r - g < 90)
    return {"skin": skin}


PHOTOS = {
    "rocket": rocket,
    "dune": dune,
    "storm": storm,
    "meadow": meadow,
    "garden": garden,
    "ladybird": ladybird,
    "astronaut": astronaut,
    # coffee and chelsea: none of sky, vegetation, water, skin.
    "coffee": lambda: {},
    "chelsea": lambda: {},
}


def main():
    overlay = "--overlay" in sys.argv
    for old in HERE.glob("*.png"):
        old.unlink()
    for name, rule in PHOTOS.items():
        labels = rule()
        for cls, m in labels.items():
            Image.fromarray((m * 255).astype(np.uint8)).save(HERE / f"{name}.{cls}.png")
            if overlay:
                im = load(name)[0]
                a = np.asarray(im).copy()
                a[m] = (a[m] * 0.4 + np.array([255, 0, 255]) * 0.6).astype(np.uint8)
                Image.fromarray(a).save(f"/tmp/label-{name}-{cls}.png")
            print(f"{name}.{cls}: {m.mean() * 100:.1f}%")


if __name__ == "__main__":
    main()
