//! An engine: the renderer a host chose, its segmenters and level tables, and the
//! frames it has solved. Hosts call [`Engine::frame`] for each tile they render
//! (the first call for a frame segments and plans it; the others reuse it) and
//! [`Frame::render_tile`] for the pixels.

use super::frame_cache::{FrameCache, FrameKey};
use super::pixels::PixelView;
use crate::agent::{self, Session};
use crate::diffusion::SchedulerKind;
use crate::diffusion::{DiffusionModel, DiffusionPlan, DiffusionRenderer, SampleOptions};
use crate::error::{Error, Result};
use crate::mask::MaskSet;
use crate::measure::LevelTables;
use crate::params::{ParamMap, RegionState, GLOBAL};
use crate::raster::Raster;
use crate::render::{Control, ParametricRenderer, RenderJob, RenderOptions, RenderPlan, Renderer};
use crate::segment::{masks_for, Layered, Segmenter};
use serde::Deserialize;
use std::path::PathBuf;
use std::sync::Arc;

/// Which renderer an engine draws with.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RendererKind {
    /// The fast deterministic renderer (no model files).
    #[default]
    Parametric,
    /// PerTouch's diffusion model from an installed package.
    Diffusion,
}

/// How a host sets an engine up (the C ABI takes it as JSON; unknown keys are
/// refused so that a misspelt option is not silently ignored).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineConfig {
    /// Edge-aware mask refinement (parametric renderer).
    pub refine: bool,
    /// Installed segmentation packages to use before the built-in segmenter.
    pub segmentation_models: Vec<String>,
    pub renderer: RendererKind,
    /// A diffusion package folder...
    pub diffusion_package: Option<PathBuf>,
    /// ...or an installed diffusion package's name (default: the only one).
    pub diffusion_model: Option<String>,
    /// "dpm++" (default), "ddim" or "ddpm".
    pub scheduler: Option<String>,
    /// Sampling steps (default: the scheduler's).
    pub steps: Option<usize>,
    pub seed: u64,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            refine: true,
            segmentation_models: Vec::new(),
            renderer: RendererKind::Parametric,
            diffusion_package: None,
            diffusion_model: None,
            scheduler: None,
            steps: None,
            seed: 0,
        }
    }
}

impl EngineConfig {
    /// Parses the JSON form (`null`/empty text for the defaults).
    pub fn from_json(text: &str) -> Result<Self> {
        if text.trim().is_empty() {
            return Ok(Self::default());
        }
        serde_json::from_str(text).map_err(|e| Error::InvalidRequest(format!("engine config: {e}")))
    }
}

enum EngineRenderer {
    Parametric(ParametricRenderer),
    Diffusion(Box<DiffusionRenderer>),
}

/// A frame's solved edit, either renderer's.
pub enum FramePlan {
    Parametric(RenderPlan),
    Diffusion(DiffusionPlan),
}

/// A solved frame: the edit's plan and the masks it was solved with.
pub struct Frame {
    pub plan: FramePlan,
    /// The regions' masks: the host's own, then the segmenters'.
    pub masks: MaskSet,
    pub width: usize,
    pub height: usize,
    state: RegionState,
}

/// What a host hands over when a frame is not cached yet.
pub struct FrameInputs<'a> {
    /// The whole frame, at the render scale the host renders at (borrowed when
    /// the host holds it as a raster already).
    pub source: std::borrow::Cow<'a, Raster>,
    /// Masks the host supplies for named regions (a compositor's mattes); regions
    /// of the state not in here are found by the engine's segmenters.
    pub masks: MaskSet,
}

/// How many frames an engine keeps solved (hosts render frames out of order on
/// several threads; a plan holds masks and tables, not the frame's pixels).
const FRAMES_CACHED: usize = 4;

/// Renderer, segmenters, level tables and solved frames. `Send + Sync`: one engine
/// serves every render thread of a host.
pub struct Engine {
    renderer: EngineRenderer,
    segmenter: Layered,
    tables: LevelTables,
    frames: FrameCache<Frame>,
}

impl Engine {
    /// Opens the renderer and segmenters `config` asks for. Missing or broken model
    /// packages are [`Error::Model`]; a bad option is [`Error::InvalidRequest`].
    pub fn open(config: &EngineConfig) -> Result<Engine> {
        let app = crate::config::Config::load().unwrap_or_default();
        let segmenter = if config.segmentation_models.is_empty() {
            Layered::builtin_only()
        } else {
            let layered = Layered::open(
                &crate::segment::SegmenterConfig {
                    models: Some(config.segmentation_models.clone()),
                },
                crate::paths::models_dir().as_deref(),
                &app.runtime(),
                &app.session(),
            );
            for n in &layered.notes {
                tracing::warn!("{n}");
            }
            layered
        };
        let (renderer, tables) = match config.renderer {
            RendererKind::Parametric => {
                let tables = LevelTables::builtin().clone();
                let r = ParametricRenderer::new(RenderOptions {
                    tables: tables.clone(),
                    refine: config.refine.then(Default::default),
                    verify: false,
                });
                (EngineRenderer::Parametric(r), tables)
            }
            RendererKind::Diffusion => {
                let r = open_diffusion(config, &app)?;
                let tables = r.model().tables().clone();
                (EngineRenderer::Diffusion(Box::new(r)), tables)
            }
        };
        Ok(Engine {
            renderer,
            segmenter,
            tables,
            frames: FrameCache::new(FRAMES_CACHED),
        })
    }

    /// The renderer's name ("parametric", "diffusion").
    pub fn renderer_name(&self) -> &'static str {
        self.renderer().name()
    }

    fn renderer(&self) -> &dyn Renderer {
        match &self.renderer {
            EngineRenderer::Parametric(r) => r,
            EngineRenderer::Diffusion(r) => r.as_ref(),
        }
    }

    /// True when the engine's segmenters can find `region`.
    pub fn finds(&self, region: &str) -> bool {
        self.segmenter.finds(region)
    }

    /// The solved frame for `key`: cached, or planned from what `inputs` gives
    /// (called only then, so a host can skip reading the whole frame for a tile of
    /// a frame already solved). Several threads asking for one frame plan it once.
    pub fn frame<'a>(
        &self,
        key: FrameKey,
        state: &RegionState,
        inputs: impl FnOnce() -> Result<FrameInputs<'a>>,
        ctl: &Control<'_>,
    ) -> Result<Arc<Frame>> {
        self.frames.get_or_plan(key, || {
            let FrameInputs { source, masks } = inputs()?;
            self.plan(&source, masks, state, ctl)
        })
    }

    fn plan(
        &self,
        source: &Raster,
        supplied: MaskSet,
        state: &RegionState,
        ctl: &Control<'_>,
    ) -> Result<Frame> {
        ctl.check()?;
        let wanted: Vec<&str> = state
            .named_regions()
            .filter(|(n, v)| *n != GLOBAL && !v.is_empty() && supplied.get(n).is_none())
            .map(|(n, _)| n)
            .collect();
        let mut masks = supplied;
        if !wanted.is_empty() {
            ctl.report("segment", 0.0);
            for m in masks_for(&self.segmenter, source, &wanted)?.iter() {
                masks.insert(&m.name, m.mask.clone());
            }
            ctl.report("segment", 1.0);
        }
        let job = RenderJob {
            source,
            masks: &masks,
            state,
        };
        let plan = match &self.renderer {
            EngineRenderer::Parametric(r) => FramePlan::Parametric(r.plan(&job, ctl)?),
            EngineRenderer::Diffusion(r) => FramePlan::Diffusion(r.plan(&job, ctl)?),
        };
        Ok(Frame {
            plan,
            masks,
            width: source.width(),
            height: source.height(),
            state: state.clone(),
        })
    }

    /// (reused, planned) frame counts so far.
    pub fn cache_stats(&self) -> (u64, u64) {
        self.frames.stats()
    }

    /// Forgets every solved frame.
    pub fn purge(&self) {
        self.frames.clear();
    }

    /// The offline agent: applies `instruction` on top of `base` for `photo`,
    /// running the measured rethink loop on a preview with this engine's renderer;
    /// returns the resulting region state.
    pub fn agent_apply(
        &self,
        photo: &Raster,
        instruction: &str,
        base: &RegionState,
        ctl: &Control<'_>,
    ) -> Result<RegionState> {
        let interp = agent::interpret(instruction)
            .map_err(|e| Error::InvalidRequest(format!("instruction: {e}")))?;
        let preview = agent::preview(photo, agent::PREVIEW_LONG_SIDE);
        // The regions the words name and those the base state already edits: the
        // rethink loop renders and measures the whole state.
        let mut names = interp.regions();
        for (name, values) in base.named_regions() {
            if name != GLOBAL && !values.is_empty() && !names.iter().any(|n| n == name) {
                names.push(name.to_string());
            }
        }
        let names: Vec<&str> = names.iter().map(String::as_str).collect();
        let masks = masks_for(&self.segmenter, &preview, &names)?;
        let session = Session {
            renderer: self.renderer(),
            preview: &preview,
            masks: &masks,
            tables: &self.tables,
        };
        Ok(session.apply(base, &interp, ctl)?.state)
    }
}

impl Frame {
    /// Renders `tile`, the source pixels of the rectangle at `at` of this frame
    /// shown at `frame` size (the planned size, or any render scale of it): the same
    /// pixels as that part of a full-frame render at that size.
    pub fn render_tile(
        &self,
        tile: &Raster,
        at: (usize, usize),
        frame: (usize, usize),
        ctl: &Control<'_>,
    ) -> Result<Raster> {
        let ((x0, y0), (fw, fh)) = (at, frame);
        match &self.plan {
            FramePlan::Parametric(p) => p.render_tile(tile, x0, y0, fw, fh, ctl),
            FramePlan::Diffusion(p) => p.render_tile(tile, x0, y0, fw, fh, ctl),
        }
    }

    /// Renders into `dst` the source pixels of `src` at `src_origin` (a
    /// rectangle of `dst`'s size, which is the rectangle at `at` of this frame
    /// shown at `frame` size), in bands of rows on the core's threads: no copy of
    /// the whole tile is made, so a host pays for reading its pixels and writing
    /// the result, nothing more. `dst` has `src`'s channels, any depth.
    pub fn render_into(
        &self,
        (src, src_origin): (&PixelView<'_>, (usize, usize)),
        dst: &mut PixelView<'_>,
        at: (usize, usize),
        frame: (usize, usize),
        ctl: &Control<'_>,
    ) -> Result<()> {
        use rayon::prelude::*;
        let (w, h) = (dst.width(), dst.height());
        let (sx, sy) = src_origin;
        if dst.channels() != src.channels() || sx + w > src.width() || sy + h > src.height() {
            return Err(Error::InvalidRequest(format!(
                "destination {w} x {h} x {} for a source of {} x {} x {} at ({sx}, {sy})",
                dst.channels(),
                src.width(),
                src.height(),
                src.channels()
            )));
        }
        const BAND: usize = 64;
        let bands = dst.bands(BAND);
        let total = bands.len();
        let done = std::sync::atomic::AtomicUsize::new(0);
        let inner = Control {
            cancel: ctl.cancel,
            progress: None,
        };
        bands
            .into_par_iter()
            .enumerate()
            .try_for_each(|(i, mut band)| -> Result<()> {
                ctl.check()?;
                let y = i * BAND;
                let tile = src
                    .read_rect(sx, sy + y, w, band.height())
                    .map_err(Error::InvalidRequest)?;
                let out = self.render_tile(&tile, (at.0, at.1 + y), frame, &inner)?;
                band.write_rect(0, 0, &out).map_err(Error::InvalidRequest)?;
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                ctl.report("render", n as f32 / total as f32);
                Ok(())
            })
    }

    /// The parameter map (changes asked, per pixel) over the `width` x `height`
    /// rectangle at (`x0`, `y0`): what a host shows for inspection.
    pub fn param_map_tile(
        &self,
        x0: usize,
        y0: usize,
        width: usize,
        height: usize,
    ) -> Result<ParamMap> {
        ParamMap::rasterize_window(
            &self.state,
            &self.masks,
            (self.width, self.height),
            (x0, y0, width, height),
        )
    }

    /// The mask of `region` (as the renderer was given it, before refinement) over
    /// a rectangle of the frame, values in [0, 1]; `None` when this frame has no
    /// mask of that region.
    pub fn mask_tile(
        &self,
        region: &str,
        x0: usize,
        y0: usize,
        width: usize,
        height: usize,
    ) -> Option<crate::plane::Plane> {
        let mask = self.masks.get(region)?;
        Some(mask.frame_window(self.width, self.height, x0, y0, width, height))
    }
}

/// The diffusion renderer `config` asks for.
fn open_diffusion(config: &EngineConfig, app: &crate::config::Config) -> Result<DiffusionRenderer> {
    use crate::onnx::package;
    let model_err = |model: &str, reason: String| Error::Model {
        model: model.to_string(),
        reason,
    };
    let pkg = if let Some(dir) = &config.diffusion_package {
        package::Package::open(dir)
            .map_err(|e| model_err(&dir.display().to_string(), e.to_string()))?
    } else {
        let root = crate::paths::models_dir()
            .ok_or_else(|| model_err("diffusion", "no data folder for model packages".into()))?;
        package::find_for_task(&root, config.diffusion_model.as_deref(), "diffusion")
            .map_err(|e| model_err("diffusion", e.to_string()))?
    };
    let scheduler = match config.scheduler.as_deref() {
        None => SchedulerKind::DpmSolverPP,
        Some(s) => SchedulerKind::parse(s).ok_or_else(|| {
            Error::InvalidRequest(format!(
                "engine config: scheduler \"{s}\" (dpm++, ddim, ddpm)"
            ))
        })?,
    };
    let rt =
        crate::onnx::load(&app.runtime()).map_err(|e| model_err("onnxruntime", e.to_string()))?;
    let model = DiffusionModel::open(&pkg, rt, &app.session())?;
    let mut r = DiffusionRenderer::new(Arc::new(model));
    r.sample = SampleOptions {
        scheduler,
        steps: config.steps.unwrap_or(scheduler.default_steps()),
        seed: config.seed,
    };
    r.verify = false;
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raster::Samples;

    /// A dark-to-light ramp: every tone region has pixels.
    fn ramp() -> Raster {
        let (w, h) = (96, 64);
        let data = (0..w * h)
            .flat_map(|k| {
                let v = ((k % w) * 255 / (w - 1)) as u8;
                [v, v / 2 + 40, 255 - v]
            })
            .collect();
        Raster::new(w, h, 3, Samples::U8(data)).expect("sizes match")
    }

    #[test]
    fn agent_apply_keeps_the_regions_of_the_base_state() {
        let engine = Engine::open(&EngineConfig::default()).unwrap();
        let base = RegionState::from_json(r#"{"shadows": {"brightness": 0.1}}"#).unwrap();
        // The words name only the whole image; the base's region must still be found.
        let state = engine
            .agent_apply(&ramp(), "more contrast", &base, &Control::default())
            .unwrap();
        assert_eq!(
            state.get("shadows", crate::params::Attribute::Brightness),
            Some(0.1)
        );
        assert!(state
            .get(GLOBAL, crate::params::Attribute::Contrast)
            .is_some_and(|v| v > 0.0));
    }
}
