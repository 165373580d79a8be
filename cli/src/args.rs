//! Arguments shared by several commands: masks, region states, `--set` edits.

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use pertouch_core::config::Config;
use pertouch_core::image_io::{self, LoadOptions, LoadedImage};
use pertouch_core::mask::MaskSet;
use pertouch_core::measure::LevelTables;
use pertouch_core::params::{Attribute, RegionState, GLOBAL};
use pertouch_core::raster::Raster;
use pertouch_core::segment::Layered;
use std::path::{Path, PathBuf};

/// Region masks given as files.
#[derive(Args, Debug, Clone, Default)]
pub struct MaskArgs {
    /// A region mask: NAME=FILE, a greyscale image where white is inside
    /// (repeatable; any size with the photo's aspect ratio).
    #[arg(long = "mask", value_name = "NAME=FILE")]
    pub masks: Vec<String>,
}

impl MaskArgs {
    pub fn load(&self) -> Result<MaskSet> {
        let mut set = MaskSet::new();
        for spec in &self.masks {
            let (name, file) = spec
                .split_once('=')
                .ok_or_else(|| anyhow!("--mask expects NAME=FILE, got \"{spec}\""))?;
            if name.trim().is_empty() {
                bail!("--mask \"{spec}\": the region name is empty");
            }
            set.insert_file(name, Path::new(file))
                .with_context(|| format!("loading mask \"{name}\""))?;
        }
        Ok(set)
    }
}

/// A region state built from `--state` and `--set`.
#[derive(Args, Debug, Clone, Default)]
pub struct StateArgs {
    /// Region state as JSON text or a JSON file, e.g.
    /// '{"global": {"brightness": 0.1}, "sky": {"temperature": -0.3}}'.
    #[arg(long, value_name = "FILE|JSON")]
    pub state: Option<String>,
    /// One change: [REGION.]ATTRIBUTE=VALUE, e.g. sky.temperature=-0.3 or
    /// contrast=+0.2 (no region means global). Synonyms work: saturation, warmth,
    /// exposure; so do directions: sky.cool=0.2 is sky.temperature=-0.2. Applied after
    /// --state, in order, with the reference update rules. Repeatable.
    #[arg(long = "set", value_name = "EDIT", allow_hyphen_values = true)]
    pub sets: Vec<String>,
}

impl StateArgs {
    pub fn build(&self) -> Result<RegionState> {
        let mut state = match &self.state {
            None => RegionState::new(),
            Some(s) if s.trim_start().starts_with('{') => RegionState::from_json(s)?,
            Some(path) => {
                let text = std::fs::read_to_string(path)
                    .with_context(|| format!("reading --state file {path}"))?;
                RegionState::from_json(&text).with_context(|| format!("in --state file {path}"))?
            }
        };
        for spec in &self.sets {
            let (region, attr, value) = parse_set(spec)?;
            state.set(&region, attr, value)?;
        }
        Ok(state)
    }
}

/// Parses `[REGION.]ATTRIBUTE=VALUE`.
pub fn parse_set(spec: &str) -> Result<(String, Attribute, f32)> {
    let (lhs, rhs) = spec
        .split_once('=')
        .ok_or_else(|| anyhow!("--set expects [REGION.]ATTRIBUTE=VALUE, got \"{spec}\""))?;
    let (region, word) = match lhs.rsplit_once('.') {
        Some((r, a)) => (r.trim(), a.trim()),
        None => (GLOBAL, lhs.trim()),
    };
    let (attr, sign) = Attribute::parse_word(word).ok_or_else(|| {
        anyhow!(
            "--set \"{spec}\": unknown attribute \"{word}\" (use colorfulness, contrast, temperature or brightness)"
        )
    })?;
    let value: f32 = rhs
        .trim()
        .trim_start_matches('+')
        .parse()
        .map_err(|_| anyhow!("--set \"{spec}\": \"{rhs}\" is not a number"))?;
    if !value.is_finite() {
        bail!("--set \"{spec}\": value must be finite");
    }
    if region.is_empty() {
        bail!("--set \"{spec}\": empty region name");
    }
    Ok((region.to_string(), attr, sign * value))
}

/// Options for reading photos and tables.
#[derive(Args, Debug, Clone)]
pub struct InputArgs {
    /// Refuse images larger than this many megapixels (protects against
    /// decompression bombs).
    #[arg(long, default_value_t = image_io::DEFAULT_MAX_MEGAPIXELS, value_name = "MP")]
    pub max_megapixels: f64,
    /// Level tables from `pertouch calibrate` instead of the built-in ones.
    #[arg(long, value_name = "FILE")]
    pub tables: Option<PathBuf>,
}

impl InputArgs {
    pub fn load_image(&self, path: &Path) -> Result<LoadedImage> {
        Ok(image_io::load(
            path,
            &LoadOptions {
                max_megapixels: self.max_megapixels,
            },
        )?)
    }

    pub fn tables(&self) -> Result<LevelTables> {
        match &self.tables {
            Some(p) => Ok(LevelTables::load(p)?),
            None => Ok(LevelTables::builtin().clone()),
        }
    }
}

/// Which segmenters find the regions no `--mask` covers.
#[derive(Args, Debug, Clone, Default)]
pub struct SegmenterArgs {
    /// A segmentation model package to find regions with (repeatable, asked in
    /// order; "builtin" alone for the built-in segmenter only). Default: the
    /// models config.toml names, else every installed segmentation package, in
    /// front of the built-in segmenter.
    #[arg(long = "segmenter", value_name = "NAME")]
    pub segmenters: Vec<String>,
}

impl SegmenterArgs {
    /// The segmenters, opened on first use (ONNX Runtime and the models load only
    /// when a region actually needs finding).
    pub fn lazy(&self) -> LazySegmenter {
        LazySegmenter {
            args: self.clone(),
            opened: std::cell::OnceCell::new(),
        }
    }
}

/// Segmenters opened on first use.
#[derive(Debug)]
pub struct LazySegmenter {
    args: SegmenterArgs,
    opened: std::cell::OnceCell<Layered>,
}

impl LazySegmenter {
    pub fn get(&self) -> Result<&Layered> {
        if let Some(l) = self.opened.get() {
            return Ok(l);
        }
        let config = Config::load()?;
        let mut wanted = config.segmentation.clone();
        if !self.args.segmenters.is_empty() {
            wanted.models = Some(
                self.args
                    .segmenters
                    .iter()
                    .filter(|n| n.as_str() != "builtin")
                    .cloned()
                    .collect(),
            );
        }
        let layered = Layered::open(
            &wanted,
            pertouch_core::paths::models_dir().as_deref(),
            &config.runtime(),
            &config.session(),
        );
        // Models named on the command line must open: asking for one and silently
        // getting another segmenter would be a surprise. Models from the config
        // that fail are warned about and skipped.
        if !self.args.segmenters.is_empty() && !layered.notes.is_empty() {
            bail!("{}", layered.notes.join("; "));
        }
        for note in &layered.notes {
            eprintln!("warning: {note}");
        }
        Ok(self.opened.get_or_init(|| layered))
    }
}

/// Which agent reads `--say` instructions.
#[derive(Args, Debug, Clone, Default)]
pub struct AgentArgs {
    /// "offline" (built in, no network) or "vlm" (an OpenAI-compatible chat server
    /// reads the photo and the words; the offline agent and the measurements check
    /// it, and take over for any step it fails). Default: config.toml's [agent]
    /// kind, else offline.
    #[arg(long, value_name = "KIND")]
    pub agent: Option<String>,
    /// The VLM server's base URL, e.g. http://127.0.0.1:8000/v1 (default: [vlm] url).
    /// The API key, if the server needs one, is read from PERTOUCH_VLM_API_KEY (or
    /// the variable [vlm] api_key_env names).
    #[arg(long, value_name = "URL")]
    pub vlm_url: Option<String>,
    /// The model name the server knows (default: [vlm] model).
    #[arg(long, value_name = "NAME")]
    pub vlm_model: Option<String>,
}

impl AgentArgs {
    /// The agent asked for (by flag or config): the VLM, or the offline one.
    pub fn open(&self) -> Result<ChosenAgent> {
        let config = Config::load()?;
        let kind = self
            .agent
            .clone()
            .or(config.agent.kind.clone())
            .unwrap_or_else(|| "offline".into());
        let vlm = match kind.as_str() {
            "offline" => None,
            "vlm" => {
                let cfg = config
                    .vlm
                    .client_config(self.vlm_url.as_deref(), self.vlm_model.as_deref())
                    .map_err(|e| anyhow!(e))?;
                let client = pertouch_core::vlm::VlmClient::new(cfg)?;
                let regions = pertouch_core::segment::ALL_REGIONS
                    .iter()
                    .map(|r| r.name().to_string())
                    .collect();
                Some(pertouch_core::vlm::VlmAgent::new(client, regions))
            }
            other => bail!("unknown --agent {other}: use offline or vlm"),
        };
        Ok(ChosenAgent { vlm })
    }
}

/// The agent a command reads instructions with.
pub struct ChosenAgent {
    vlm: Option<pertouch_core::vlm::VlmAgent>,
}

impl ChosenAgent {
    /// Session start: the photo's scene for the memory (the VLM's tags when it
    /// answers), printing what the VLM said.
    pub fn scene(&self, photo: &Raster, tables: &LevelTables) -> pertouch_core::memory::Scene {
        let (scene, greeting, line) =
            pertouch_core::vlm::session_scene(self.vlm.as_ref(), photo, tables, None);
        if self.vlm.is_some() {
            println!("{line}");
        }
        if let Some(g) = greeting {
            println!("{g}");
        }
        scene
    }

    /// Reads `text` for `photo` (the VLM with the offline agent behind it, or the
    /// offline agent alone), printing the VLM's trace and notes.
    pub fn read(
        &self,
        text: &str,
        photo: &Raster,
        segmenter: &LazySegmenter,
    ) -> std::result::Result<pertouch_core::vlm::Plan, pertouch_core::agent::NotUnderstood> {
        use pertouch_core::segment::Segmenter;
        let plan = match &self.vlm {
            Some(v) => {
                let finds = |r: &str| segmenter.get().map(|l| l.finds(r)).unwrap_or(false);
                v.plan(text, photo, &finds, None)?
            }
            None => pertouch_core::vlm::Plan::offline(pertouch_core::agent::interpret(text)?),
        };
        for line in &plan.trace {
            println!("agent: {line}");
        }
        for note in &plan.notes {
            println!("note: {note}");
        }
        Ok(plan)
    }

    /// The VLM's rethink advisor, when the VLM is the agent.
    pub fn advisor(&self) -> Option<pertouch_core::vlm::VlmAdvisor<'_>> {
        self.vlm.as_ref().map(|v| v.advisor(None))
    }
}

/// Which renderer draws the result.
#[derive(Args, Debug, Clone, Default)]
pub struct RendererArgs {
    /// "parametric" (default: fast, exact, no model files) or "diffusion"
    /// (PerTouch's model from an installed diffusion package; slow on a CPU).
    #[arg(long, value_name = "NAME", default_value = "parametric")]
    pub renderer: String,
    /// The diffusion package to use (default: the one installed, if only one is).
    #[arg(long, value_name = "NAME")]
    pub model: Option<String>,
    /// Diffusion sampler: dpm++ (default, 20 steps), ddim (50) or ddpm (50).
    #[arg(long, value_name = "NAME", default_value = "dpm++")]
    pub scheduler: String,
    /// Diffusion steps (default: the sampler's full-quality count).
    #[arg(long, value_name = "N")]
    pub steps: Option<usize>,
    /// Diffusion seed: the same seed gives the same picture.
    #[arg(long, value_name = "N", default_value_t = 0)]
    pub seed: u64,
}

/// An opened renderer.
pub enum ChosenRenderer {
    Parametric(pertouch_core::render::ParametricRenderer),
    Diffusion(Box<pertouch_core::diffusion::DiffusionRenderer>),
}

impl ChosenRenderer {
    pub fn as_dyn(&self) -> &dyn pertouch_core::render::Renderer {
        match self {
            ChosenRenderer::Parametric(r) => r,
            ChosenRenderer::Diffusion(r) => r.as_ref(),
        }
    }
}

impl RendererArgs {
    /// Opens the chosen renderer; `parametric` is built from `options`.
    pub fn open(&self, options: pertouch_core::render::RenderOptions) -> Result<ChosenRenderer> {
        use pertouch_core::diffusion::{
            DiffusionModel, DiffusionRenderer, SampleOptions, SchedulerKind,
        };
        use pertouch_core::onnx::package;
        match self.renderer.as_str() {
            "parametric" => Ok(ChosenRenderer::Parametric(
                pertouch_core::render::ParametricRenderer::new(options),
            )),
            "diffusion" => {
                let scheduler = SchedulerKind::parse(&self.scheduler).ok_or_else(|| {
                    anyhow::anyhow!(
                        "unknown --scheduler {}: use dpm++, ddim or ddpm",
                        self.scheduler
                    )
                })?;
                let root = pertouch_core::paths::models_dir()
                    .ok_or_else(|| anyhow::anyhow!("no data folder: set PERTOUCH_DATA_DIR"))?;
                let pkg = package::find_for_task(&root, self.model.as_deref(), "diffusion")?;
                let config = Config::load()?;
                let rt = pertouch_core::onnx::load(&config.runtime())?;
                let model = DiffusionModel::open(&pkg, rt, &config.session())?;
                eprintln!(
                    "diffusion model {} ({} x {}) on {}",
                    model.name(),
                    model.size(),
                    model.size(),
                    model.provider()
                );
                let mut r = DiffusionRenderer::new(std::sync::Arc::new(model));
                r.sample = SampleOptions {
                    scheduler,
                    steps: self.steps.unwrap_or(scheduler.default_steps()),
                    seed: self.seed,
                };
                if let Some(refine) = options.refine {
                    r.refine = refine;
                }
                Ok(ChosenRenderer::Diffusion(Box::new(r)))
            }
            other => anyhow::bail!("unknown --renderer {other}: use parametric or diffusion"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn set_parses_regions_synonyms_and_signs() {
        assert_eq!(
            parse_set("sky.temperature=+0.2").unwrap(),
            ("sky".into(), Attribute::Temperature, 0.2)
        );
        assert_eq!(
            parse_set("contrast=-0.1").unwrap(),
            ("global".into(), Attribute::Contrast, -0.1)
        );
        assert_eq!(
            parse_set("sky.cool=0.3").unwrap(),
            ("sky".into(), Attribute::Temperature, -0.3)
        );
        assert!(parse_set("sky.hue=0.1")
            .unwrap_err()
            .to_string()
            .contains("hue"));
        assert!(parse_set("sky.brightness").is_err());
        assert!(parse_set("brightness=lots")
            .unwrap_err()
            .to_string()
            .contains("not a number"));
        assert!(parse_set("brightness=NaN").is_err());
    }
}
