//! An engine: the renderer a host chose, its segmenters, level tables and agent,
//! config.toml as read once when it opened, and the frames it has solved. Every
//! front end (the CLI, the C ABI, the OpenFX plug-in, the GIMP and Photoshop hosts)
//! opens renderers, segmenters and agents here, so each gets the same choices and
//! the same wording for each error.
//!
//! Hosts that render tiles call [`Engine::frame`] for each tile (the first call for
//! a frame segments and plans it; the others reuse it) and [`Frame::render_tile`]
//! or [`Frame::render_into`] for the pixels. Hosts that render whole photos (the
//! CLI) call [`Engine::render_and_save`]; instructions go through
//! [`Engine::agent`] and [`Engine::rethink`].

use super::agent::{open_vlm, Agent, AgentChoice};
use super::frame_cache::{FrameCache, FrameKey};
use super::pixels::PixelView;
use crate::agent::{self, Outcome, Plan, Session};
use crate::config::{Config, ConfigError};
use crate::diffusion::{DiffusionModel, DiffusionRenderer, SampleOptions, SchedulerKind};
use crate::error::{Error, Result};
use crate::image_io::{Metadata, SaveOptions};
use crate::mask::MaskSet;
use crate::measure::LevelTables;
use crate::params::{ParamMap, RegionState, GLOBAL};
use crate::raster::Raster;
use crate::render::{
    Control, FramePlan, ParametricRenderer, RenderJob, RenderOptions, RenderReport, Renderer,
};
use crate::segment::{Layered, PhotoSegments, Segmenter, SegmenterConfig};
use serde::Deserialize;
use std::path::{Path, PathBuf};
use std::sync::{Arc, OnceLock};

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

impl std::str::FromStr for RendererKind {
    type Err = Error;

    /// "parametric" or "diffusion".
    fn from_str(s: &str) -> Result<Self> {
        match s {
            "parametric" => Ok(RendererKind::Parametric),
            "diffusion" => Ok(RendererKind::Diffusion),
            other => Err(Error::InvalidRequest(format!(
                "unknown renderer \"{other}\": use parametric or diffusion"
            ))),
        }
    }
}

/// How a host sets an engine up (the C ABI takes it as JSON; unknown keys are
/// refused so that a misspelt option is not silently ignored).
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct EngineConfig {
    /// Edge-aware mask refinement (parametric renderer).
    pub refine: bool,
    /// Installed segmentation packages to use before the built-in segmenter, in
    /// order; each must open.
    pub segmentation_models: Vec<String>,
    /// With no `segmentation_models`: the models config.toml's `[segmentation]`
    /// names, else every installed segmentation package (those that fail to open
    /// are warned about and skipped), opened when a region first needs finding.
    /// Off: the built-in segmenter alone.
    pub installed_segmenters: bool,
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
    /// Level tables from `pertouch calibrate` for the parametric renderer (default:
    /// the built-in ones; a diffusion package brings its own).
    pub tables: Option<PathBuf>,
    /// Measure full-frame renders again for their reports (what the CLI prints;
    /// hosts that render tiles have no use for it).
    pub verify: bool,
}

impl Default for EngineConfig {
    fn default() -> Self {
        EngineConfig {
            refine: true,
            segmentation_models: Vec::new(),
            installed_segmenters: false,
            renderer: RendererKind::Parametric,
            diffusion_package: None,
            diffusion_model: None,
            scheduler: None,
            steps: None,
            seed: 0,
            tables: None,
            verify: false,
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

/// A solved frame: the edit's plan and the masks it was solved with.
pub struct Frame {
    /// The renderer's plan of this frame.
    pub plan: Box<dyn FramePlan>,
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

/// Renderer, segmenters, level tables, settings and solved frames. `Send + Sync`:
/// one engine serves every render thread of a host.
pub struct Engine {
    /// config.toml as read when the engine opened.
    settings: Config,
    renderer: Box<dyn Renderer>,
    /// The diffusion renderer's model, when that is the renderer.
    diffusion: Option<Arc<DiffusionModel>>,
    segmenters: Segmenters,
    tables: LevelTables,
    frames: FrameCache<Frame>,
}

/// The segmenters: opened with the engine, or (config.toml's choice) when a
/// region first needs finding, so a render that finds none never loads ONNX Runtime.
struct Segmenters {
    /// What to open lazily (`None`: opened already).
    later: Option<SegmenterConfig>,
    opened: OnceLock<Layered>,
}

impl Engine {
    /// Opens the renderer and segmenters `config` asks for, reading config.toml
    /// (ONNX Runtime, segmentation models, the VLM) now. A malformed config.toml,
    /// a bad option or a missing tables file is an error; missing or broken model
    /// packages are [`Error::Model`].
    pub fn open(config: &EngineConfig) -> Result<Engine> {
        let settings = Config::load().map_err(config_error)?;
        Self::open_with(config, settings)
    }

    /// [`Engine::open`] with config.toml already read (a program that reads it
    /// once for several things).
    pub fn open_with(config: &EngineConfig, settings: Config) -> Result<Engine> {
        let segmenters = if !config.segmentation_models.is_empty() {
            let layered = open_segmenters(
                &SegmenterConfig {
                    models: Some(config.segmentation_models.clone()),
                },
                &settings,
            );
            // Models asked for by name must open: silently getting another
            // segmenter would be a surprise.
            if !layered.notes.is_empty() {
                return Err(Error::model(
                    config.segmentation_models.join(", "),
                    layered.notes.join("; "),
                ));
            }
            Segmenters::opened(layered)
        } else if config.installed_segmenters {
            Segmenters {
                later: Some(settings.segmentation.clone()),
                opened: OnceLock::new(),
            }
        } else {
            Segmenters::opened(Layered::builtin_only())
        };
        let (renderer, diffusion, tables): (Box<dyn Renderer>, _, _) = match config.renderer {
            RendererKind::Parametric => {
                let tables = match &config.tables {
                    Some(p) => LevelTables::load(p)?,
                    None => LevelTables::builtin().clone(),
                };
                let r = ParametricRenderer::new(RenderOptions {
                    tables: tables.clone(),
                    refine: config.refine.then(Default::default),
                    verify: config.verify,
                });
                (Box::new(r), None, tables)
            }
            RendererKind::Diffusion => {
                let r = open_diffusion(config, &settings)?;
                let model = r.model_arc();
                let tables = model.tables().clone();
                (Box::new(r), Some(model), tables)
            }
        };
        Ok(Engine {
            settings,
            renderer,
            diffusion,
            segmenters,
            tables,
            frames: FrameCache::new(FRAMES_CACHED),
        })
    }

    /// The renderer's name ("parametric", "diffusion").
    pub fn renderer_name(&self) -> &'static str {
        self.renderer.name()
    }

    /// The renderer, for whole-photo renders and the agent's previews.
    pub fn renderer(&self) -> &dyn Renderer {
        self.renderer.as_ref()
    }

    /// The diffusion model, when the engine renders with it.
    pub fn diffusion_model(&self) -> Option<&DiffusionModel> {
        self.diffusion.as_deref()
    }

    /// The level tables levels are measured with (the renderer's).
    pub fn tables(&self) -> &LevelTables {
        &self.tables
    }

    /// config.toml as read when the engine opened.
    pub fn settings(&self) -> &Config {
        &self.settings
    }

    /// The segmenters (opened now if the engine left them for first use).
    pub fn segmenter(&self) -> &Layered {
        self.segmenters
            .opened
            .get_or_init(|| match &self.segmenters.later {
                Some(choice) => open_segmenters(choice, &self.settings),
                None => Layered::builtin_only(),
            })
    }

    /// True when the engine's segmenters can find `region`.
    pub fn finds(&self, region: &str) -> bool {
        self.segmenter().finds(region)
    }

    /// Adds to `masks` the regions of `wanted` it lacks ("global" and repeats
    /// skipped), found by the engine's segmenters on `photo`. An unknown region
    /// is an [`Error::UnknownRegion`] listing what is available.
    pub fn find_regions<S: AsRef<str>>(
        &self,
        photo: &PhotoSegments,
        masks: &mut MaskSet,
        wanted: &[S],
    ) -> Result<()> {
        let mut names: Vec<&str> = wanted
            .iter()
            .map(AsRef::as_ref)
            .filter(|r| *r != GLOBAL && masks.get(r).is_none())
            .collect();
        names.sort_unstable();
        names.dedup();
        if names.is_empty() {
            return Ok(());
        }
        let layered = self.segmenter();
        for m in photo.masks(layered, &names)?.iter() {
            let by = layered.route(&m.name).map_or("?", |s| s.name());
            tracing::info!(region = %m.name, segmenter = by, coverage = m.mask.mean(), "segmented");
            masks.insert(&m.name, m.mask.clone());
        }
        Ok(())
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
        let mut masks = supplied;
        let wanted: Vec<&str> = state
            .named_regions()
            .filter(|(n, v)| *n != GLOBAL && !v.is_empty() && masks.get(n).is_none())
            .map(|(n, _)| n)
            .collect();
        if !wanted.is_empty() {
            ctl.report("segment", 0.0);
            self.find_regions(&PhotoSegments::new(source), &mut masks, &wanted)?;
            ctl.report("segment", 1.0);
        }
        let job = RenderJob {
            source,
            masks: &masks,
            state,
        };
        Ok(Frame {
            plan: self.renderer.plan_frame(&job, ctl)?,
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

    /// Renders `job` at full resolution with the engine's renderer and saves it to
    /// `path`, encoding bands while later ones render; nothing is written if
    /// rendering fails or is cancelled. The report is verified when the engine
    /// was opened with `verify`.
    pub fn render_and_save(
        &self,
        job: &RenderJob<'_>,
        path: &Path,
        metadata: &Metadata,
        save: &SaveOptions,
        ctl: &Control<'_>,
    ) -> Result<RenderReport> {
        self.renderer
            .render_and_save(job, path, metadata, save, ctl)
    }

    /// The agent `choice` asks for, config.toml filling in what it leaves open:
    /// the offline agent, or (with the `vlm` feature) the VLM agent.
    pub fn agent(&self, choice: &AgentChoice) -> Result<Agent> {
        let kind = choice
            .kind
            .as_deref()
            .or(self.settings.agent.kind.as_deref())
            .unwrap_or("offline");
        match kind {
            "offline" => Ok(Agent::offline()),
            "vlm" => open_vlm(choice, &self.settings),
            other => Err(Error::InvalidRequest(format!(
                "unknown agent \"{other}\": use offline or vlm"
            ))),
        }
    }

    /// Runs `plan` (what `agent` read in `instruction`) on top of `base`: the
    /// measured rethink loop on `preview` (see [`agent::preview`]), rendered by
    /// this engine's renderer with `masks`, which must hold the regions of the
    /// plan and of `base` (see [`Engine::find_regions`]).
    #[allow(clippy::too_many_arguments)]
    pub fn rethink(
        &self,
        agent: &Agent,
        plan: &Plan,
        instruction: &str,
        preview: &Raster,
        masks: &MaskSet,
        base: &RegionState,
        ctl: &Control<'_>,
    ) -> Result<Outcome> {
        let session = Session {
            renderer: self.renderer(),
            preview,
            masks,
            tables: &self.tables,
        };
        let advisor = agent.advisor(ctl.cancel);
        let guidance = plan.guidance(instruction, advisor.as_deref());
        session.apply_with(base, &plan.interpretation, &guidance, ctl)
    }

    /// The offline agent in one call: applies `instruction` on top of `base` for
    /// `photo`, running the measured rethink loop on a preview with this engine's
    /// renderer; returns the resulting region state.
    pub fn agent_apply(
        &self,
        photo: &Raster,
        instruction: &str,
        base: &RegionState,
        ctl: &Control<'_>,
    ) -> Result<RegionState> {
        Ok(self
            .agent_apply_with(&Agent::offline(), photo, instruction, base, ctl)?
            .state)
    }

    /// [`Engine::agent_apply`] with any agent (the offline one, or the VLM the
    /// host configured through [`Engine::agent`]): `agent` reads the words, the
    /// measured rethink loop runs on a preview with this engine's renderer, and the
    /// whole outcome (what was understood, the state, the rounds) comes back.
    pub fn agent_apply_with(
        &self,
        agent: &Agent,
        photo: &Raster,
        instruction: &str,
        base: &RegionState,
        ctl: &Control<'_>,
    ) -> Result<Outcome> {
        let preview = agent::preview(photo, agent::PREVIEW_LONG_SIDE);
        let plan = agent
            .read(instruction, &preview, &|r| self.finds(r), ctl.cancel)
            .map_err(|e| Error::InvalidRequest(format!("instruction: {e}")))?;
        // The regions the words name and those the base state already edits: the
        // rethink loop renders and measures the whole state.
        let mut names = plan.interpretation.regions();
        for (name, values) in base.named_regions() {
            if name != GLOBAL && !values.is_empty() && !names.iter().any(|n| n == name) {
                names.push(name.to_string());
            }
        }
        let mut masks = MaskSet::new();
        self.find_regions(&PhotoSegments::new(&preview), &mut masks, &names)?;
        self.rethink(agent, &plan, instruction, &preview, &masks, base, ctl)
    }
}

impl Segmenters {
    fn opened(layered: Layered) -> Self {
        Segmenters {
            later: None,
            opened: OnceLock::from(layered),
        }
    }
}

/// The segmenters `choice` names in front of the built-in one; what fails to
/// open is logged and left out (the caller decides whether that is an error).
fn open_segmenters(choice: &SegmenterConfig, settings: &Config) -> Layered {
    let layered = Layered::open(
        choice,
        crate::paths::models_dir().as_deref(),
        &settings.runtime(),
        &settings.session(),
    );
    for n in &layered.notes {
        tracing::warn!("{n}");
    }
    layered
}

/// config.toml's errors as the core's: I/O on the file, or what is wrong in it.
fn config_error(e: ConfigError) -> Error {
    match e {
        ConfigError::Io { path, source } => Error::Io { path, source },
        ConfigError::Parse { path, reason } => {
            Error::InvalidRequest(format!("{}: {reason}", path.display()))
        }
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
        self.plan.render_tile(tile, x0, y0, fw, fh, ctl)
    }

    /// [`Frame::render_tile`] into `out`, which is made the tile's size, channels
    /// and depth, keeping its memory where it has them already: a host rendering
    /// frame after frame into one buffer pays for no new pages.
    pub fn render_tile_into(
        &self,
        tile: &Raster,
        at: (usize, usize),
        frame: (usize, usize),
        out: &mut Raster,
        ctl: &Control<'_>,
    ) -> Result<()> {
        self.plan.render_tile_into(tile, at, frame, out, ctl)
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
        // Bands of about BAND_BYTES each, read into and rendered from two buffers
        // every worker reuses: the source band, its render and the host's rows
        // stay in cache, and no band allocates (a new buffer per band faulted in
        // fresh pages: a fifth of a 4K float render's time).
        const BAND_BYTES: usize = 512 << 10;
        let row_bytes = w * dst.channels() * dst.depth().bytes().max(src.depth().bytes());
        let band_rows = (BAND_BYTES / row_bytes.max(1)).clamp(1, 64);
        let bands = dst.bands(band_rows);
        let total = bands.len();
        let done = std::sync::atomic::AtomicUsize::new(0);
        let inner = Control {
            cancel: ctl.cancel,
            progress: None,
        };
        bands.into_par_iter().enumerate().try_for_each_init(
            || (Raster::scratch(), Raster::scratch()),
            |(tile, out), (i, mut band)| -> Result<()> {
                ctl.check()?;
                let y = i * band_rows;
                src.read_rect_into((sx, sy + y), (w, band.height()), tile)
                    .map_err(Error::InvalidRequest)?;
                self.render_tile_into(tile, (at.0, at.1 + y), frame, out, &inner)?;
                band.write_rect(0, 0, out).map_err(Error::InvalidRequest)?;
                let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                ctl.report("render", n as f32 / total as f32);
                Ok(())
            },
        )
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

/// The diffusion renderer `config` asks for: the package (a folder, or installed
/// by name, or the only one installed), ONNX Runtime, the sampler.
fn open_diffusion(config: &EngineConfig, settings: &Config) -> Result<DiffusionRenderer> {
    use crate::onnx::package;
    let model_err = |model: &str, reason: String| Error::model(model, reason);
    let scheduler = match config.scheduler.as_deref() {
        None => SchedulerKind::DpmSolverPP,
        Some(s) => SchedulerKind::parse(s).ok_or_else(|| {
            Error::InvalidRequest(format!(
                "unknown scheduler \"{s}\": use dpm++, ddim or ddpm"
            ))
        })?,
    };
    let pkg = if let Some(dir) = &config.diffusion_package {
        package::Package::open(dir)
            .map_err(|e| model_err(&dir.display().to_string(), e.to_string()))?
    } else {
        let root = crate::paths::models_dir().ok_or_else(|| {
            model_err(
                "diffusion",
                "no data folder for model packages: set PERTOUCH_DATA_DIR".into(),
            )
        })?;
        package::find_for_task(&root, config.diffusion_model.as_deref(), "diffusion")
            .map_err(|e| model_err("diffusion", e.to_string()))?
    };
    let rt = crate::onnx::load(&settings.runtime())
        .map_err(|e| model_err("onnxruntime", e.to_string()))?;
    let model = DiffusionModel::open(&pkg, rt, &settings.session())?;
    let mut r = DiffusionRenderer::new(Arc::new(model));
    r.sample = SampleOptions {
        scheduler,
        steps: config.steps.unwrap_or(scheduler.default_steps()),
        seed: config.seed,
    };
    r.verify = config.verify;
    Ok(r)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn engine() -> Engine {
        Engine::open_with(&EngineConfig::default(), Config::default()).unwrap()
    }

    #[test]
    fn options_are_refused_with_one_wording() {
        let e = "watercolour"
            .parse::<RendererKind>()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("\"watercolour\"") && e.contains("parametric or diffusion"),
            "{e}"
        );
        let config = EngineConfig {
            renderer: RendererKind::Diffusion,
            scheduler: Some("euler".into()),
            ..EngineConfig::default()
        };
        let e = Engine::open_with(&config, Config::default())
            .err()
            .unwrap()
            .to_string();
        assert!(
            e.contains("\"euler\"") && e.contains("dpm++, ddim or ddpm"),
            "{e}"
        );
        let e = EngineConfig::from_json(r#"{"verfy": true}"#)
            .unwrap_err()
            .to_string();
        assert!(e.contains("verfy"), "{e}");
    }

    #[test]
    fn the_agent_comes_from_the_engine() {
        let engine = engine();
        let offline = engine.agent(&AgentChoice::default()).unwrap();
        assert_eq!(offline.kind(), "offline");
        let e = engine
            .agent(&AgentChoice {
                kind: Some("psychic".into()),
                ..AgentChoice::default()
            })
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("\"psychic\"") && e.contains("offline or vlm"),
            "{e}"
        );
        // The VLM agent needs a server (and, in a lean build, the `vlm` feature).
        let e = engine
            .agent(&AgentChoice {
                kind: Some("vlm".into()),
                ..AgentChoice::default()
            })
            .unwrap_err()
            .to_string();
        if cfg!(feature = "vlm") {
            assert!(e.contains("--vlm-url"), "{e}");
        } else {
            assert!(e.contains("`vlm` feature"), "{e}");
        }
        // What the offline agent reads is what the engine runs.
        let plan = offline
            .read(
                "make it a bit brighter",
                &photo(),
                &|r| engine.finds(r),
                None,
            )
            .unwrap();
        assert!(plan.trace.is_empty() && offline.advisor(None).is_none());
        let state = engine
            .agent_apply(
                &photo(),
                "make it a bit brighter",
                &RegionState::new(),
                &Control::default(),
            )
            .unwrap();
        assert!(state.region(GLOBAL).is_some(), "{:?}", state.to_value());
    }

    #[test]
    fn regions_are_found_once_and_masks_given_are_kept() {
        let engine = engine();
        let img = photo();
        let segments = PhotoSegments::new(&img);
        let mut masks = MaskSet::new();
        let mine = crate::plane::Plane::filled(8, 8, 1.0);
        masks.insert("sky", mine.clone());
        engine
            .find_regions(
                &segments,
                &mut masks,
                &["global", "sky", "shadows", "shadows"],
            )
            .unwrap();
        assert_eq!(masks.get("sky"), Some(&mine));
        assert!(masks.get("shadows").is_some() && masks.get("global").is_none());
        let e = engine
            .find_regions(&segments, &mut masks, &["unicorns"])
            .unwrap_err();
        assert!(matches!(e, Error::UnknownRegion { .. }), "{e}");
    }

    fn photo() -> Raster {
        crate::raster::Raster::new(
            64,
            48,
            3,
            crate::raster::Samples::U8((0..64 * 48 * 3).map(|k| (k % 200) as u8).collect()),
        )
        .unwrap()
    }

    /// A dark-to-light ramp: every tone region has pixels.
    fn ramp() -> Raster {
        let (w, h) = (96, 64);
        let data = (0..w * h)
            .flat_map(|k| {
                let v = ((k % w) * 255 / (w - 1)) as u8;
                [v, v / 2 + 40, 255 - v]
            })
            .collect();
        Raster::new(w, h, 3, crate::raster::Samples::U8(data)).expect("sizes match")
    }

    #[test]
    fn agent_apply_keeps_the_regions_of_the_base_state() {
        let engine = engine();
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
