#!/usr/bin/env python3
"""Exports the public segmentation checkpoints as pertouch model packages.

Run once, on a machine with internet (the checkpoints come from the Hugging Face
Hub), then install the package on any machine:

    python3 -m pip install torch transformers==4.57.1 onnx==1.23.2 onnxruntime==1.31.1 numpy pillow
    python3 models/export_segmentation.py segformer --out /tmp/segformer-ade20k
    python3 models/export_segmentation.py clipseg   --out /tmp/clipseg-rd64
    pertouch models import /tmp/segformer-ade20k
    pertouch models import /tmp/clipseg-rd64
    pertouch doctor        # lists both, verified, and the execution provider they run on

segformer   nvidia/segformer-b0-finetuned-ade-512-512 (or --checkpoint
            nvidia/segformer-b5-finetuned-ade-640-640 and --size 640): 150 ADE20K
            classes; package "segformer-ade20k", task segmentation-labels.
clipseg     CIDAS/clipseg-rd64-refined: any words; package "clipseg-rd64", task
            segmentation-text, with CLIP's vocab.json and merges.txt.

--random-weights builds the same architecture with random weights and no download
(SegFormer-b0 with the 150 ADE20K labels; CLIPSeg rd64 with ViT-B/16 at 352 and the
fixture's CLIP vocabulary): the package has the real graph's size and cost, for
timing (PERTOUCH_BENCH_SEGFORMER / PERTOUCH_BENCH_CLIPSEG in
core/benches/segmentation.rs) and for testing this script offline. Its masks mean
nothing.

Each export runs the ONNX graph in onnxruntime beside the PyTorch model on a test
image and stops if the logits differ by more than 1e-3, then checks that the NumPy
reference pre- and post-processing (models/pertouch_models.py, the specification of
the Rust code) produces masks in [0, 1].
"""
import argparse
import shutil
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pertouch_models as pm  # noqa: E402

OPSET = 17


def test_image(width=640, height=427):
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    img = np.stack([80 + 120 * x / width, 120 + 60 * y / height, 230 - 150 * y / height], -1)
    return np.clip(img, 0, 255).astype(np.float32)


def export_checked(module, inputs, path, input_names, what, dynamic_axes=None):
    """Exports `module` (in eval mode: torch.onnx.export restores the mode a module
    had, and a fresh wrapper's train mode would reach the model's dropout and
    drop-path) to `path` with one output "logits", runs the graph in onnxruntime
    beside PyTorch on `inputs`, stops if they differ by more than 1e-3, and returns
    onnxruntime's logits."""
    import torch
    import onnxruntime as ort

    module = module.eval()
    torch.onnx.export(module, inputs, path, input_names=input_names, output_names=["logits"],
                      dynamic_axes=dynamic_axes, opset_version=OPSET, dynamo=False)
    with torch.no_grad():
        want = module(*inputs).numpy()
    got = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"]).run(
        None, {n: t.numpy() for n, t in zip(input_names, inputs)})[0]
    diff = float(np.abs(got - want).max())
    print(f"{what}: onnxruntime vs PyTorch max |difference| {diff:.2e}")
    if diff > 1e-3:
        sys.exit(f"{what}: the exported graph does not reproduce PyTorch ({diff})")
    return got


def export_segformer(args):
    import torch
    from transformers import SegformerForSemanticSegmentation

    ckpt = args.checkpoint or "nvidia/segformer-b0-finetuned-ade-512-512"
    if args.random_weights:
        from transformers import SegformerConfig
        from fixtures.make_segmentation_fixtures import ADE20K

        torch.manual_seed(0)
        labels = dict(enumerate(ADE20K))
        config = SegformerConfig(num_labels=150, id2label=labels,
                                 label2id={v: k for k, v in labels.items()})
        model = SegformerForSemanticSegmentation(config).eval()
        source = "random weights (SegFormer-b0 architecture)"
    else:
        model = SegformerForSemanticSegmentation.from_pretrained(ckpt).eval()
        source = f"https://huggingface.co/{ckpt}"
    size = args.size or 512
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    class Logits(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, pixel_values):
            return self.m(pixel_values=pixel_values).logits

    x = torch.from_numpy(pm.image_tensor(test_image(), size, size, pm.IMAGENET))
    got = export_checked(Logits(model), (x,), out / "model.onnx", ["pixel_values"],
                         "segformer logits")
    labels = [model.config.id2label[i].split(";")[0].strip() for i in range(len(model.config.id2label))]
    classes, h, w = got.shape[1:]
    masks = pm.group_probabilities(got[0], [[labels.index("sky")]])
    assert 0.0 <= masks[0].min() and masks[0].max() <= 1.0
    pm.write_manifest(
        out,
        name=args.name or "segformer-ade20k",
        task="segmentation-labels",
        source=f"{source} via models/export_segmentation.py",
        licence="NVIDIA Source Code License for SegFormer (research and non-commercial use); check the model card",
        files=[("model.onnx", "model")],
        inputs=[("pixel_values", "f32", [1, 3, size, size])],
        outputs=[("logits", "f32", [1, classes, h, w])],
        normalisation=pm.IMAGENET,
        labels=labels,
    )
    print(f"wrote {out} ({len(labels)} labels)")


def export_clipseg(args):
    import torch
    from transformers import CLIPSegForImageSegmentation, CLIPTokenizer

    ckpt = args.checkpoint or "CIDAS/clipseg-rd64-refined"
    if args.random_weights:
        from transformers import CLIPSegConfig

        torch.manual_seed(0)
        fixture = Path(__file__).resolve().parent / "fixtures" / "clipseg_fixture"
        tok = CLIPTokenizer(str(fixture / "vocab.json"), str(fixture / "merges.txt"))
        config = CLIPSegConfig(
            vision_config={"patch_size": 16, "image_size": 352}, reduce_dim=64,
            use_complex_transposed_convolution=True,
        )
        model = CLIPSegForImageSegmentation(config).eval()
        source = "random weights (CLIPSeg rd64-refined architecture)"
    else:
        model = CLIPSegForImageSegmentation.from_pretrained(ckpt).eval()
        tok = CLIPTokenizer.from_pretrained(ckpt)
        source = f"https://huggingface.co/{ckpt}"
    size = args.size or 352
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)

    class Logits(torch.nn.Module):
        def __init__(self, m):
            super().__init__()
            self.m = m

        def forward(self, input_ids, pixel_values, attention_mask):
            logits = self.m(input_ids=input_ids, pixel_values=pixel_values,
                            attention_mask=attention_mask).logits
            return logits.reshape(input_ids.shape[0], logits.shape[-2], logits.shape[-1])

    prompts = ["sky", "a red car"]
    enc = tok(prompts, padding=True, return_tensors="pt")
    pix = torch.from_numpy(pm.image_tensor(test_image(), size, size, pm.CLIP, batch=len(prompts)))
    inputs = (enc["input_ids"], pix, enc["attention_mask"])
    export_checked(
        Logits(model), inputs, out / "model.onnx", ["input_ids", "pixel_values", "attention_mask"],
        "clipseg logits",
        dynamic_axes={"input_ids": {0: "n", 1: "len"}, "attention_mask": {0: "n", 1: "len"},
                      "pixel_values": {0: "n"}, "logits": {0: "n"}},
    )
    tok.save_pretrained(out / "tokenizer")
    for f in ["vocab.json", "merges.txt"]:
        shutil.copy(out / "tokenizer" / f, out / f)
    shutil.rmtree(out / "tokenizer")
    pm.write_manifest(
        out,
        name=args.name or "clipseg-rd64",
        task="segmentation-text",
        source=f"{source} via models/export_segmentation.py",
        licence="MIT (CLIPSeg weights and CLIP tokenizer); check the model card",
        files=[("model.onnx", "model"), ("vocab.json", "vocab"), ("merges.txt", "merges")],
        inputs=[("input_ids", "i64", [-1, -1]), ("pixel_values", "f32", [-1, 3, size, size]),
                ("attention_mask", "i64", [-1, -1])],
        outputs=[("logits", "f32", [-1, size, size])],
        normalisation=pm.CLIP,
        tokenizer="clip-bpe",
    )
    print(f"wrote {out}")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model", choices=["segformer", "clipseg"])
    ap.add_argument("--out", required=True, help="package folder to write")
    ap.add_argument("--checkpoint", help="a Hugging Face checkpoint of the same architecture")
    ap.add_argument("--size", type=int, help="model input side (512 SegFormer, 352 CLIPSeg)")
    ap.add_argument("--name", help="package name")
    ap.add_argument("--random-weights", action="store_true",
                    help="the architecture with random weights, no download (for timing and tests)")
    args = ap.parse_args()
    {"segformer": export_segformer, "clipseg": export_clipseg}[args.model](args)


if __name__ == "__main__":
    main()
