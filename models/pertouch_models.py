"""Shared by the export and fixture scripts: package manifests, and the reference
pre- and post-processing of the segmenters in NumPy.

The NumPy functions are the specification the Rust code (core/src/segment/
model_io.rs) is tested against to 1e-4: change both together.
"""
import hashlib
import json
from pathlib import Path

import numpy as np

IMAGENET = {"scale": 255.0, "mean": [0.485, 0.456, 0.406], "std": [0.229, 0.224, 0.225]}
CLIP = {
    "scale": 255.0,
    "mean": [0.48145466, 0.4578275, 0.40821073],
    "std": [0.26862954, 0.26130258, 0.27577711],
}


def sha256(path):
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def write_manifest(pkg_dir, *, name, task, source, licence, files, inputs, outputs, **extra):
    """files: [(relative path, role)]. inputs/outputs: [(name, dtype, shape)]."""
    pkg_dir = Path(pkg_dir)
    manifest = {
        "schema": 1,
        "name": name,
        "task": task,
        "version": "1",
        "licence": licence,
        "source": source,
        "files": [{"path": p, "sha256": sha256(pkg_dir / p), "role": role} for p, role in files],
        "inputs": [{"name": n, "dtype": d, "shape": list(s)} for n, d, s in inputs],
        "outputs": [{"name": n, "dtype": d, "shape": list(s)} for n, d, s in outputs],
    }
    manifest.update({k: v for k, v in extra.items() if v is not None})
    (pkg_dir / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _taps(inp, out):
    o = np.arange(out, dtype=np.float64)
    s = np.maximum((o + 0.5) * (inp / out) - 0.5, 0.0)
    i0 = np.minimum(np.floor(s).astype(np.int64), inp - 1)
    i1 = np.minimum(i0 + 1, inp - 1)
    return i0, i1, (s - i0).astype(np.float32)


def resize_bilinear(plane, out_w, out_h):
    """PyTorch's bilinear, align_corners=False, no antialias, on an [h, w] array."""
    plane = plane.astype(np.float32)
    h, w = plane.shape
    x0, x1, tx = _taps(w, out_w)
    y0, y1, ty = _taps(h, out_h)
    r0, r1 = plane[y0], plane[y1]
    top = r0[:, x0] + (r0[:, x1] - r0[:, x0]) * tx[None, :]
    bottom = r1[:, x0] + (r1[:, x1] - r1[:, x0]) * tx[None, :]
    return (top + (bottom - top) * ty[:, None]).astype(np.float32)


def image_tensor(rgb, width, height, norm, batch=1):
    """rgb: [h, w, 3] float32 in 0..255. Returns [batch, 3, height, width]."""
    chans = []
    for c in range(3):
        r = resize_bilinear(rgb[:, :, c], width, height)
        chans.append((r / np.float32(norm["scale"]) - np.float32(norm["mean"][c])) / np.float32(norm["std"][c]))
    one = np.stack(chans)[None].astype(np.float32)
    return np.repeat(one, batch, axis=0)


def group_probabilities(logits, groups):
    """logits: [classes, h, w]. Softmax over classes, summed over each group."""
    m = logits.max(axis=0, keepdims=True)
    e = np.exp(logits - m)
    total = e.sum(axis=0)
    return [e[g].sum(axis=0) / total if g else np.zeros_like(total) for g in groups]


def sigmoid(x):
    return 1.0 / (1.0 + np.exp(-x))
