#!/usr/bin/env python3
"""Builds PerTouch's diffusion networks on diffusers classes and exports them as a
pertouch model package (task "diffusion").

The architecture (../shared/PERTOUCH.md section 3):

- Stable Diffusion 2.1's UNet (v-prediction), whose own output conv is replaced by
  PerTouch's separately trained conv 3x3 (320 -> 4);
- a ControlNet copied from that UNet, whose conditioning embedding takes two inputs:
  the 4-channel parameter map (conv 3x3 4 -> 16, then three stages of [conv 3x3 same
  width, conv 3x3 stride 2] 16 -> 32 -> 96 -> 256, SiLU after each) and the source
  latent (conv 3x3 4 -> 256); both are concatenated and a zero-initialised conv 3x3
  (512 -> 320) gives the embedding added after the ControlNet's input conv;
- SD 2.1's VAE.

The package holds four graphs and their data:

    vae_encoder.onnx   image f32 [1, 3, S, S] in [-1, 1] -> latent [1, 4, S/8, S/8]
                       (the posterior's mean times the VAE scaling factor)
    controlnet.onnx    sample, timestep [1], encoder_hidden_states, param_map
                       [1, 4, S, S], source_latent -> down_0 .. down_N, mid
    unet.onnx          sample, timestep, encoder_hidden_states, down_0 .. down_N,
                       mid -> model_output (v or epsilon, as the scheduler says)
    vae_decoder.onnx   latent (scaled) -> image [1, 3, S, S] in [-1, 1]
    text_embedding.f32 the empty prompt's text-encoder output, little-endian f32
    level_tables.json  the quantile tables the map levels were fitted with
    manifest.json      files with SHA-256, each graph's inputs and outputs, and the
                       "diffusion" section: size, latent factor, scaling factor,
                       scheduler config

A user with PerTouch's weights exports the real package once (needs internet for
SD 2.1 on the Hugging Face Hub, or a local copy of it):

    python3 -m pip install torch diffusers==0.35.2 transformers==4.57.1 onnx==1.23.2 onnxruntime==1.31.1 numpy
    python3 models/export_diffusion.py real --out /tmp/pertouch-sd21 \\
        --base stabilityai/stable-diffusion-2-1 \\
        --controlnet /path/to/pertouch/controlnet   # diffusers ControlNet folder, PerTouch embedding
        --output-conv /path/to/pertouch/conv_out.pt  # state dict: weight [4, 320, 3, 3], bias [4]
        --tables /path/to/level_tables.json          # the quantile tables of training
        [--dtype fp16]
    pertouch models import /tmp/pertouch-sd21

The checkpoint layout above is this script's assumption: PERTOUCH.md gives the
architecture, not the file format of the released weights. Adapt `load_real` if
yours differs. `tiny` builds the same architecture at toy widths with random weights
(the test fixtures); `full-random` builds the real-size architecture with random
weights, for timing.

Every export runs each ONNX graph in onnxruntime beside PyTorch on random inputs and
stops if they differ by more than 1e-3 (fp32) or 2e-2 (fp16).
"""
import argparse
import json
import shutil
import sys
from pathlib import Path

import numpy as np
import torch
from torch import nn
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))
import pertouch_models as pm  # noqa: E402

OPSET = 17
SD21_SCHEDULER = {
    "num_train_timesteps": 1000,
    "beta_start": 0.00085,
    "beta_end": 0.012,
    "beta_schedule": "scaled_linear",
    "prediction_type": "v_prediction",
    "set_alpha_to_one": False,
    "steps_offset": 1,
    "clip_sample": False,
}


class ParamMapEmbedding(nn.Module):
    """PerTouch's ControlNet conditioning: parameter map and source latent."""

    def __init__(self, out_channels, widths=(16, 32, 96, 256), map_channels=4, latent_channels=4):
        super().__init__()
        self.conv_in = nn.Conv2d(map_channels, widths[0], 3, padding=1)
        self.blocks = nn.ModuleList()
        for a, b in zip(widths[:-1], widths[1:]):
            self.blocks.append(nn.Conv2d(a, a, 3, padding=1))
            self.blocks.append(nn.Conv2d(a, b, 3, padding=1, stride=2))
        self.latent_in = nn.Conv2d(latent_channels, widths[-1], 3, padding=1)
        self.conv_out = nn.Conv2d(2 * widths[-1], out_channels, 3, padding=1)
        nn.init.zeros_(self.conv_out.weight)
        nn.init.zeros_(self.conv_out.bias)

    def forward(self, cond):
        param_map, source_latent = cond
        e = F.silu(self.conv_in(param_map))
        for block in self.blocks:
            e = F.silu(block(e))
        return self.conv_out(torch.cat([e, self.latent_in(source_latent)], dim=1))


def pertouch_controlnet(unet, widths):
    from diffusers import ControlNetModel

    cn = ControlNetModel.from_unet(unet, conditioning_channels=4)
    cn.controlnet_cond_embedding = ParamMapEmbedding(unet.config.block_out_channels[0], widths)
    return cn


class VaeEncoder(nn.Module):
    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, image):
        return self.vae.encode(image).latent_dist.mean * self.vae.config.scaling_factor


class VaeDecoder(nn.Module):
    def __init__(self, vae):
        super().__init__()
        self.vae = vae

    def forward(self, latent):
        return self.vae.decode(latent / self.vae.config.scaling_factor).sample


class ControlNetGraph(nn.Module):
    def __init__(self, cn):
        super().__init__()
        self.cn = cn

    def forward(self, sample, timestep, encoder_hidden_states, param_map, source_latent):
        down, mid = self.cn(sample, timestep, encoder_hidden_states,
                            controlnet_cond=(param_map, source_latent), return_dict=False)
        return (*down, mid)


class UNetGraph(nn.Module):
    def __init__(self, unet):
        super().__init__()
        self.unet = unet

    def forward(self, sample, timestep, encoder_hidden_states, *residuals):
        return self.unet(sample, timestep, encoder_hidden_states,
                         down_block_additional_residuals=list(residuals[:-1]),
                         mid_block_additional_residual=residuals[-1], return_dict=False)[0]


class Networks:
    """What the package is made from."""

    def __init__(self, unet, controlnet, vae, text_embedding, size, scheduler, source):
        self.unet, self.controlnet, self.vae = unet.eval(), controlnet.eval(), vae.eval()
        self.text_embedding = text_embedding
        self.size, self.scheduler, self.source = size, scheduler, source
        self.graphs = {
            "vae_encoder": VaeEncoder(self.vae).eval(),
            "controlnet": ControlNetGraph(self.controlnet).eval(),
            "unet": UNetGraph(self.unet).eval(),
            "vae_decoder": VaeDecoder(self.vae).eval(),
        }

    @property
    def latent_size(self):
        return self.size // 8

    def residual_count(self):
        s, lat = self.size, self.latent_size
        with torch.no_grad():
            out = self.graphs["controlnet"](*self.example_inputs(torch.float32)["controlnet"])
        del s, lat
        return len(out) - 1

    def example_inputs(self, dtype, seed=1):
        g = torch.Generator().manual_seed(seed)
        s, lat = self.size, self.latent_size
        ehs = self.text_embedding.to(dtype)

        def rnd(*shape):
            return torch.randn(*shape, generator=g).to(dtype)

        x = rnd(1, 4, lat, lat)
        t = torch.tensor([500.0], dtype=dtype)
        cn_in = (x, t, ehs, rnd(1, 4, s, s).clamp(-1, 1), rnd(1, 4, lat, lat))
        with torch.no_grad():
            res = self.graphs["controlnet"](*cn_in)
        return {
            "vae_encoder": (rnd(1, 3, s, s).clamp(-1, 1),),
            "controlnet": cn_in,
            "unet": (x, t, ehs, *res),
            "vae_decoder": (rnd(1, 4, lat, lat),),
        }

    def io_names(self, n_res):
        res = [f"down_{i}" for i in range(n_res)] + ["mid"]
        return {
            "vae_encoder": (["image"], ["latent"]),
            "controlnet": (["sample", "timestep", "encoder_hidden_states", "param_map", "source_latent"], res),
            "unet": (["sample", "timestep", "encoder_hidden_states", *res], ["model_output"]),
            "vae_decoder": (["latent"], ["image"]),
        }


def randomise_zero_layers(*modules, scale=0.05, seed=7):
    """Random weights for the zero-initialised convs, so that the ControlNet path
    is exercised (a zero ControlNet adds nothing and would test nothing)."""
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in modules:
            for p in m.parameters():
                if p.abs().max() == 0:
                    p.copy_(torch.randn(p.shape, generator=g) * scale)


def build_random(size, tiny, seed=0):
    from diffusers import AutoencoderKL, UNet2DConditionModel

    torch.manual_seed(seed)
    if tiny:
        unet = UNet2DConditionModel(
            sample_size=size // 8, in_channels=4, out_channels=4, layers_per_block=1,
            block_out_channels=(32, 64), norm_num_groups=8,
            down_block_types=("CrossAttnDownBlock2D", "DownBlock2D"),
            up_block_types=("UpBlock2D", "CrossAttnUpBlock2D"),
            cross_attention_dim=32, attention_head_dim=2, use_linear_projection=True,
        )
        vae = AutoencoderKL(
            in_channels=3, out_channels=3, latent_channels=4, layers_per_block=1,
            block_out_channels=(8, 16, 16, 16), norm_num_groups=4,
            down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
            sample_size=size, scaling_factor=0.18215,
        )
        widths, text_dim = (8, 8, 16, 16), 32
    else:
        unet = UNet2DConditionModel(
            sample_size=size // 8, cross_attention_dim=1024, attention_head_dim=(5, 10, 20, 20),
            use_linear_projection=True, upcast_attention=True,
        )
        vae = AutoencoderKL(
            in_channels=3, out_channels=3, latent_channels=4, layers_per_block=2,
            block_out_channels=(128, 256, 512, 512),
            down_block_types=("DownEncoderBlock2D",) * 4, up_block_types=("UpDecoderBlock2D",) * 4,
            sample_size=size, scaling_factor=0.18215,
        )
        widths, text_dim = (16, 32, 96, 256), 1024
    unet.conv_out = nn.Conv2d(unet.config.block_out_channels[0], 4, 3, padding=1)
    controlnet = pertouch_controlnet(unet, widths)
    randomise_zero_layers(controlnet)
    text = torch.randn(1, 77, text_dim)
    kind = "tiny" if tiny else "SD 2.1-size"
    return Networks(unet, controlnet, vae, text, size, dict(SD21_SCHEDULER),
                    f"random weights ({kind} PerTouch architecture)")


def load_real(args):
    from diffusers import AutoencoderKL, ControlNetModel, StableDiffusionPipeline, UNet2DConditionModel

    pipe = StableDiffusionPipeline.from_pretrained(args.base, safety_checker=None)
    with torch.no_grad():
        text = pipe.encode_prompt("", "cpu", 1, False)[0]
    unet: UNet2DConditionModel = pipe.unet
    vae: AutoencoderKL = pipe.vae
    conv = torch.load(args.output_conv, map_location="cpu")
    unet.conv_out = nn.Conv2d(unet.config.block_out_channels[0], 4, 3, padding=1)
    unet.conv_out.load_state_dict(conv)
    cn = ControlNetModel.from_pretrained(args.controlnet, conditioning_channels=4,
                                         low_cpu_mem_usage=False, ignore_mismatched_sizes=True)
    embedding = ParamMapEmbedding(unet.config.block_out_channels[0])
    state = torch.load(Path(args.controlnet) / "controlnet_cond_embedding.pt", map_location="cpu")
    embedding.load_state_dict(state)
    cn.controlnet_cond_embedding = embedding
    scheduler = {k: pipe.scheduler.config[k] for k in SD21_SCHEDULER if k in pipe.scheduler.config}
    return Networks(unet, cn, vae, text, 512, scheduler,
                    f"{args.base} + PerTouch ({args.controlnet}) via models/export_diffusion.py")


def write_graph(module, inputs, in_names, out_names, path: Path):
    """Exports one graph to `path`. A graph over protobuf's 2 GB limit (the SD
    2.1-size UNet) keeps its weights in one `<name>.data` file beside it, which the
    package lists and hashes like the graph; returns that file's name, if any."""
    import tempfile

    import onnx

    with tempfile.TemporaryDirectory(dir=path.parent) as tmp:
        raw = Path(tmp) / path.name
        torch.onnx.export(module, inputs, str(raw), input_names=in_names, output_names=out_names,
                          opset_version=OPSET, dynamo=False)
        model = onnx.load(str(raw))
        big = sum(t.ByteSize() for t in model.graph.initializer) > 1_800_000_000
        data = f"{path.name}.data" if big else None
        if big:
            onnx.save_model(model, str(path), save_as_external_data=True,
                            all_tensors_to_one_file=True, location=data)
        else:
            onnx.save_model(model, str(path))
    return data


def export(nets: Networks, out: Path, *, name, dtype, tables, licence):
    import onnxruntime as ort

    out.mkdir(parents=True, exist_ok=True)
    tdtype = torch.float16 if dtype == "fp16" else torch.float32
    ddtype = "f16" if dtype == "fp16" else "f32"
    tol = 2e-2 if dtype == "fp16" else 1e-3
    n_res = nets.residual_count()
    names = nets.io_names(n_res)
    for m in (nets.unet, nets.controlnet, nets.vae):
        m.to(tdtype)
    examples = nets.example_inputs(tdtype)
    graphs = []
    extra_files = []
    for role, module in nets.graphs.items():
        inputs = examples[role]
        in_names, out_names = names[role]
        path = out / f"{role}.onnx"
        data_file = write_graph(module, inputs, in_names, out_names, path)
        if data_file:
            extra_files.append((data_file, f"{role}_data"))
        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        got = sess.run(None, {n: t.numpy() for n, t in zip(in_names, inputs)})
        with torch.no_grad():
            want = module(*inputs)
        want = want if isinstance(want, tuple) else (want,)
        diff = max(float(np.abs(g.astype(np.float32) - w.float().numpy()).max()) for g, w in zip(got, want))
        print(f"{role}: onnxruntime vs PyTorch max |difference| {diff:.2e}")
        if diff > tol:
            sys.exit(f"{role}: the exported graph does not reproduce PyTorch ({diff})")
        graphs.append({
            "role": role,
            "inputs": [{"name": n, "dtype": ddtype, "shape": list(t.shape)} for n, t in zip(in_names, inputs)],
            "outputs": [{"name": n, "dtype": ddtype, "shape": list(w.shape)} for n, w in zip(out_names, want)],
        })
    for m in (nets.unet, nets.controlnet, nets.vae):
        m.to(torch.float32)
    nets.text_embedding.float().numpy().astype("<f4").tofile(out / "text_embedding.f32")
    shutil.copy(tables, out / "level_tables.json")
    files = [(f"{g['role']}.onnx", g["role"]) for g in graphs] + extra_files
    files += [("text_embedding.f32", "text_embedding"), ("level_tables.json", "level_tables")]
    manifest = pm.write_manifest(
        out, name=name, task="diffusion", source=nets.source, licence=licence, files=files,
        inputs=[], outputs=[], graphs=graphs,
        diffusion={
            "size": nets.size,
            "latent_factor": 8,
            "latent_channels": 4,
            "text_embedding_shape": list(nets.text_embedding.shape),
            "scheduler": nets.scheduler,
            "dtype": ddtype,
        },
    )
    print(f"wrote {out} ({dtype}, {n_res} ControlNet residuals)")
    return manifest


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("kind", choices=["real", "tiny", "full-random"])
    ap.add_argument("--out", required=True, type=Path)
    ap.add_argument("--name", help="package name (default pertouch-sd21, or -tiny / -random)")
    ap.add_argument("--dtype", choices=["fp32", "fp16"], default="fp32")
    ap.add_argument("--size", type=int, help="image side the model runs at (512; tiny: 64)")
    ap.add_argument("--base", default="stabilityai/stable-diffusion-2-1")
    ap.add_argument("--controlnet", help="PerTouch's ControlNet folder (real)")
    ap.add_argument("--output-conv", help="PerTouch's output conv state dict (real)")
    ap.add_argument("--tables", type=Path, help="level tables JSON (default: the core's built-in ones)")
    args = ap.parse_args()
    tables = args.tables or Path(__file__).resolve().parent.parent / "core/data/level_tables.json"
    if args.kind == "real":
        if not (args.controlnet and args.output_conv and args.tables):
            ap.error("real needs --controlnet, --output-conv and --tables")
        nets = load_real(args)
        name, licence = args.name or "pertouch-sd21", "CreativeML Open RAIL++-M (SD 2.1) and PerTouch's licence"
    else:
        tiny = args.kind == "tiny"
        nets = build_random(args.size or (64 if tiny else 512), tiny)
        name = args.name or ("pertouch-tiny" if tiny else "pertouch-random")
        licence = "CC0-1.0 (random weights)"
    if args.dtype == "fp16":
        name += "-fp16"
    export(nets, args.out, name=name, dtype=args.dtype, tables=tables, licence=licence)


if __name__ == "__main__":
    main()
