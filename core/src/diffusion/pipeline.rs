//! PerTouch's diffusion pipeline on ONNX Runtime: encode the source with the VAE,
//! sample from noise with the ControlNet conditioned on the parameter map and the
//! source latent, decode. The four graphs come from one model package
//! (models/export_diffusion.py writes it).

use super::noise::gaussian;
use super::scheduler::{Scheduler, SchedulerConfig, SchedulerKind};
use crate::error::{Error, Result};
use crate::measure::LevelTables;
use crate::onnx::{Input, OnnxSession, Package, Runtime, SessionOptions, TensorF32};
use crate::raster::RgbF32;
use crate::render::Control;
use serde::Deserialize;
use std::time::{Duration, Instant};

/// The package's "diffusion" section.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DiffusionSpec {
    /// Side of the square image the networks run at (512 for SD 2.1).
    pub size: usize,
    /// Image pixels per latent pixel (8).
    pub latent_factor: usize,
    pub latent_channels: usize,
    /// Shape of the empty prompt's text embedding, `[1, 77, D]`.
    pub text_embedding_shape: Vec<usize>,
    pub scheduler: SchedulerConfig,
    /// Element type of the graphs' inputs and outputs: "f32", or "f16" (inputs
    /// are converted from and outputs to f32 at the session boundary).
    pub dtype: String,
}

/// How to sample.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct SampleOptions {
    pub scheduler: SchedulerKind,
    pub steps: usize,
    /// The same seed gives the same image.
    pub seed: u64,
}

impl Default for SampleOptions {
    fn default() -> Self {
        SampleOptions {
            scheduler: SchedulerKind::DpmSolverPP,
            steps: SchedulerKind::DpmSolverPP.default_steps(),
            seed: 0,
        }
    }
}

/// Where the time of one sampling run went.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct SampleStats {
    pub steps: usize,
    /// The whole loop.
    pub total: Duration,
    /// Inside ONNX Runtime's own run calls (ControlNet and UNet), excluding our
    /// tensor conversions.
    pub onnx: Duration,
}

/// A diffusion package, opened: its sessions are shared by every render.
pub struct DiffusionModel {
    name: String,
    spec: DiffusionSpec,
    vae_encoder: OnnxSession,
    controlnet: OnnxSession,
    unet: OnnxSession,
    vae_decoder: OnnxSession,
    /// The ControlNet's outputs, which are the UNet's residual inputs, in order.
    residuals: Vec<String>,
    text: TensorF32,
    tables: LevelTables,
}

impl std::fmt::Debug for DiffusionModel {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DiffusionModel")
            .field("name", &self.name)
            .field("size", &self.spec.size)
            .finish_non_exhaustive()
    }
}

impl DiffusionModel {
    /// Verifies the package (hashes, every graph against the manifest) and opens
    /// its four sessions.
    pub fn open(pkg: &Package, rt: &Runtime, opts: &SessionOptions) -> Result<Self> {
        let name = pkg.manifest.name.clone();
        let bad = |reason: String| Error::model(name.clone(), reason);
        if pkg.manifest.task != "diffusion" {
            return Err(bad(format!(
                "task is \"{}\", not \"diffusion\"",
                pkg.manifest.task
            )));
        }
        let spec: DiffusionSpec = serde_json::from_value(
            pkg.manifest
                .diffusion
                .clone()
                .ok_or_else(|| bad("the manifest has no \"diffusion\" section".into()))?,
        )
        .map_err(|e| bad(format!("\"diffusion\" section: {e}")))?;
        if spec.dtype != "f32" && spec.dtype != "f16" {
            return Err(bad(format!(
                "graphs of element type {} are not supported: export with --dtype fp32 or fp16",
                spec.dtype
            )));
        }
        if spec.latent_factor == 0
            || spec.size == 0
            || !spec.size.is_multiple_of(spec.latent_factor)
            || spec.latent_channels == 0
        {
            return Err(bad(format!(
                "size {} is not a multiple of latent factor {}",
                spec.size, spec.latent_factor
            )));
        }
        Scheduler::new(SchedulerKind::Ddim, &spec.scheduler, 1)?;
        // Checks every file's hash once, then opens and checks each graph.
        let mut sessions = pkg
            .open_all(rt, opts)
            .map_err(|e| bad(e.to_string()))?
            .into_iter()
            .collect::<std::collections::HashMap<_, _>>();
        let mut take = |role: &str| {
            sessions
                .remove(role)
                .ok_or_else(|| bad(format!("the package has no graph \"{role}\"")))
        };
        let (vae_encoder, controlnet, unet, vae_decoder) = (
            take("vae_encoder")?,
            take("controlnet")?,
            take("unet")?,
            take("vae_decoder")?,
        );
        let residuals: Vec<String> = controlnet.outputs.iter().map(|o| o.name.clone()).collect();
        for r in &residuals {
            if !unet.inputs.iter().any(|i| &i.name == r) {
                return Err(bad(format!(
                    "the ControlNet's output {r} is not an input of the UNet"
                )));
            }
        }
        let text_path = pkg
            .file_path("text_embedding")
            .ok_or_else(|| bad("no file with the role text_embedding".into()))?;
        let bytes = std::fs::read(&text_path).map_err(|e| Error::io(&text_path, e))?;
        let expected: usize = spec.text_embedding_shape.iter().product();
        if bytes.len() != expected * 4 {
            return Err(bad(format!(
                "text embedding holds {} bytes, shape {:?} needs {}",
                bytes.len(),
                spec.text_embedding_shape,
                expected * 4
            )));
        }
        let text = TensorF32 {
            shape: spec.text_embedding_shape.clone(),
            data: bytes
                .chunks_exact(4)
                .map(|b| f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
                .collect(),
        };
        let tables_path = pkg
            .file_path("level_tables")
            .ok_or_else(|| bad("no file with the role level_tables".into()))?;
        let tables = LevelTables::load(&tables_path)?;
        tracing::info!(
            package = %name,
            provider = unet.provider.name(),
            size = spec.size,
            "diffusion model opened"
        );
        Ok(DiffusionModel {
            name,
            spec,
            vae_encoder,
            controlnet,
            unet,
            vae_decoder,
            residuals,
            text,
            tables,
        })
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// Side of the square image the networks run at.
    pub fn size(&self) -> usize {
        self.spec.size
    }

    /// The quantile tables the package's levels were fitted with.
    pub fn tables(&self) -> &LevelTables {
        &self.tables
    }

    /// The execution provider the UNet runs on.
    pub fn provider(&self) -> &'static str {
        self.unet.provider.name()
    }

    /// `[1, C, S / f, S / f]`.
    pub fn latent_shape(&self) -> Vec<usize> {
        let l = self.spec.size / self.spec.latent_factor;
        vec![1, self.spec.latent_channels, l, l]
    }

    /// The initial noise for `seed`.
    pub fn noise(&self, seed: u64) -> TensorF32 {
        let shape = self.latent_shape();
        let n = shape.iter().product();
        TensorF32 {
            shape,
            data: gaussian(seed, 0, n),
        }
    }

    fn err(&self, e: impl std::fmt::Display) -> Error {
        Error::model(self.name.clone(), e)
    }

    /// A graph run that failed, keeping ONNX Runtime's error as the cause.
    fn run_err(&self, e: crate::onnx::SessionError) -> Error {
        Error::model_caused(self.name.clone(), "a diffusion graph failed to run", e)
    }

    fn first_output(&self, outputs: Vec<(String, TensorF32)>) -> Result<TensorF32> {
        outputs
            .into_iter()
            .next()
            .map(|(_, t)| t)
            .ok_or_else(|| self.err("a graph returned nothing"))
    }

    /// VAE-encodes a `[1, 3, S, S]` image in [-1, 1] to the scaled latent.
    pub fn encode(&self, image: &TensorF32) -> Result<TensorF32> {
        let out = self
            .vae_encoder
            .run(&[("image", Input::F32(image))])
            .map_err(|e| self.run_err(e))?;
        self.first_output(out)
    }

    /// Decodes a scaled latent to a `[1, 3, S, S]` image in [-1, 1].
    pub fn decode(&self, latent: &TensorF32) -> Result<TensorF32> {
        let out = self
            .vae_decoder
            .run(&[("latent", Input::F32(latent))])
            .map_err(|e| self.run_err(e))?;
        self.first_output(out)
    }

    /// Samples a latent from `noise`, conditioned on the `[1, 4, S, S]` parameter
    /// map and the source latent. Checks for cancellation and reports progress
    /// between steps.
    pub fn sample(
        &self,
        source_latent: &TensorF32,
        param_map: &TensorF32,
        noise: TensorF32,
        opts: &SampleOptions,
        ctl: &Control<'_>,
    ) -> Result<(TensorF32, SampleStats)> {
        let latent_shape = self.latent_shape();
        let s = self.spec.size;
        if noise.shape != latent_shape || source_latent.shape != latent_shape {
            return Err(Error::InvalidRequest(format!(
                "latents must be shaped {latent_shape:?} (noise {:?}, source {:?})",
                noise.shape, source_latent.shape
            )));
        }
        if param_map.shape != [1, 4, s, s] {
            return Err(Error::InvalidRequest(format!(
                "the parameter map must be shaped [1, 4, {s}, {s}], not {:?}",
                param_map.shape
            )));
        }
        let mut scheduler = Scheduler::new(opts.scheduler, &self.spec.scheduler, opts.steps)?;
        let timesteps = scheduler.timesteps().to_vec();
        let mut x = noise;
        let mut stats = SampleStats {
            steps: timesteps.len(),
            ..SampleStats::default()
        };
        let start = Instant::now();
        let runtime_before = self.controlnet.runtime_total() + self.unet.runtime_total();
        for (k, &t) in timesteps.iter().enumerate() {
            ctl.check()?;
            let time = TensorF32 {
                shape: vec![1],
                data: vec![t as f32],
            };
            let residuals = self
                .controlnet
                .run(&[
                    ("sample", Input::F32(&x)),
                    ("timestep", Input::F32(&time)),
                    ("encoder_hidden_states", Input::F32(&self.text)),
                    ("param_map", Input::F32(param_map)),
                    ("source_latent", Input::F32(source_latent)),
                ])
                .map_err(|e| self.run_err(e))?;
            let mut inputs: Vec<(&str, Input)> = vec![
                ("sample", Input::F32(&x)),
                ("timestep", Input::F32(&time)),
                ("encoder_hidden_states", Input::F32(&self.text)),
            ];
            for name in &self.residuals {
                let (_, r) = residuals
                    .iter()
                    .find(|(n, _)| n == name)
                    .ok_or_else(|| self.err(format!("the ControlNet did not return {name}")))?;
                inputs.push((name.as_str(), Input::F32(r)));
            }
            let out = self.unet.run(&inputs).map_err(|e| self.run_err(e))?;
            let out = self.first_output(out)?;
            let noise = scheduler
                .needs_noise()
                .then(|| gaussian(opts.seed, k as u64 + 1, x.data.len()));
            scheduler.step(&out.data, &mut x.data, noise.as_deref())?;
            ctl.report("diffusion", (k + 1) as f32 / timesteps.len() as f32);
        }
        stats.total = start.elapsed();
        // Another thread sampling with the same model at the same time adds its
        // runs here too: these statistics are for single-threaded measurement.
        stats.onnx = (self.controlnet.runtime_total() + self.unet.runtime_total())
            .saturating_sub(runtime_before);
        tracing::debug!(
            steps = stats.steps,
            total = ?stats.total,
            onnx = ?stats.onnx,
            "sampled"
        );
        Ok((x, stats))
    }

    /// The whole pipeline on an `S` x `S` image: encode, sample from `opts.seed`'s
    /// noise, decode. Returns the model's image (0..255 units) and the sampling
    /// statistics.
    pub fn retouch(
        &self,
        source: &RgbF32,
        param_map: &TensorF32,
        opts: &SampleOptions,
        ctl: &Control<'_>,
    ) -> Result<(RgbF32, SampleStats)> {
        let s = self.spec.size;
        if source.width != s || source.height != s {
            return Err(Error::InvalidRequest(format!(
                "the model runs at {s} x {s}, the image is {} x {}",
                source.width, source.height
            )));
        }
        let latent = self.encode(&rgb_to_tensor(source))?;
        ctl.check()?;
        let (x, stats) = self.sample(&latent, param_map, self.noise(opts.seed), opts, ctl)?;
        ctl.check()?;
        let image = self.decode(&x)?;
        Ok((tensor_to_rgb(&image, s, s)?, stats))
    }
}

/// `[1, 3, H, W]` in [-1, 1] from 0..255 RGB.
pub fn rgb_to_tensor(rgb: &RgbF32) -> TensorF32 {
    let n = rgb.width * rgb.height;
    let mut data = vec![0.0f32; 3 * n];
    let (r, rest) = data.split_at_mut(n);
    let (g, b) = rest.split_at_mut(n);
    for (i, p) in rgb.data.iter().enumerate() {
        r[i] = p[0] / 127.5 - 1.0;
        g[i] = p[1] / 127.5 - 1.0;
        b[i] = p[2] / 127.5 - 1.0;
    }
    TensorF32 {
        shape: vec![1, 3, rgb.height, rgb.width],
        data,
    }
}

/// 0..255 RGB from `[1, 3, H, W]` in [-1, 1] (clamped).
pub fn tensor_to_rgb(t: &TensorF32, width: usize, height: usize) -> Result<RgbF32> {
    let n = width * height;
    if t.shape != [1, 3, height, width] || t.data.len() != 3 * n {
        return Err(Error::InvalidRequest(format!(
            "image tensor shaped {:?}, expected [1, 3, {height}, {width}]",
            t.shape
        )));
    }
    let to = |v: f32| ((v + 1.0) * 127.5).clamp(0.0, 255.0);
    Ok(RgbF32 {
        width,
        height,
        data: (0..n)
            .map(|i| [to(t.data[i]), to(t.data[n + i]), to(t.data[2 * n + i])])
            .collect(),
    })
}
