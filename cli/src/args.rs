//! Arguments shared by several commands: masks, region states, `--set` edits.

use anyhow::{anyhow, bail, Context, Result};
use clap::Args;
use pertouch_core::agent::{NotUnderstood, Plan};
use pertouch_core::config::Config;
use pertouch_core::host::{Agent, AgentChoice, Engine, EngineConfig};
use pertouch_core::image_io::{self, LoadOptions, LoadedImage};
use pertouch_core::mask::MaskSet;
use pertouch_core::measure::LevelTables;
use pertouch_core::memory::Scene;
use pertouch_core::params::{Attribute, RegionState, GLOBAL};
use pertouch_core::raster::Raster;
use pertouch_core::segment::PhotoSegments;
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
    /// Reads every --mask file, in parallel, each at the resolution the renderer
    /// reads masks at (`mask::MASK_LONG_SIDE`).
    pub fn load(&self) -> Result<MaskSet> {
        let t = std::time::Instant::now();
        let mut files = Vec::with_capacity(self.masks.len());
        for spec in &self.masks {
            let (name, file) = spec
                .split_once('=')
                .ok_or_else(|| anyhow!("--mask expects NAME=FILE, got \"{spec}\""))?;
            if name.trim().is_empty() {
                bail!("--mask \"{spec}\": the region name is empty");
            }
            files.push((name.to_string(), PathBuf::from(file)));
        }
        let mut set = MaskSet::new();
        set.insert_files(&files).context("loading --mask files")?;
        if !files.is_empty() {
            tracing::debug!(elapsed = ?t.elapsed(), masks = files.len(), "masks read");
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
    /// Sets the engine's level tables.
    pub fn configure(&self, config: &mut EngineConfig) {
        config.tables = self.tables.clone();
    }

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
    /// Sets the engine's segmenters: the named models (each must open), else
    /// config.toml's choice, opened when a region first needs finding.
    pub fn configure(&self, config: &mut EngineConfig) {
        config.segmentation_models = self
            .segmenters
            .iter()
            .filter(|n| n.as_str() != "builtin")
            .cloned()
            .collect();
        config.installed_segmenters = self.segmenters.is_empty();
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
    pub fn open(&self, engine: &Engine) -> Result<Agent> {
        Ok(engine.agent(&self.choice())?)
    }

    /// The choice as the engine takes it (`None`: config.toml decides).
    pub fn choice(&self) -> AgentChoice {
        AgentChoice {
            kind: self.agent.clone(),
            vlm_url: self.vlm_url.clone(),
            vlm_model: self.vlm_model.clone(),
        }
    }
}

/// Session start: the photo's scene for the memory (the VLM's tags when it
/// answers), printing what the VLM said.
pub fn read_scene(
    agent: &Agent,
    engine: &Engine,
    photo: &Raster,
    segments: &PhotoSegments,
) -> Scene {
    let reading = agent.scene(photo, segments, engine.tables(), None);
    if agent.kind() == "vlm" {
        println!("{}", reading.source);
    }
    if let Some(g) = reading.greeting {
        println!("{g}");
    }
    reading.scene
}

/// Reads `text` for `photo` with `agent` (the VLM with the offline agent behind
/// it, or the offline agent alone), printing the VLM's trace and notes.
pub fn read_instruction(
    agent: &Agent,
    engine: &Engine,
    text: &str,
    photo: &Raster,
) -> std::result::Result<Plan, NotUnderstood> {
    let plan = agent.read(text, photo, &|r| engine.finds(r), None)?;
    for line in &plan.trace {
        println!("agent: {line}");
    }
    for note in &plan.notes {
        println!("note: {note}");
    }
    Ok(plan)
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

impl RendererArgs {
    /// Sets the engine's renderer.
    pub fn configure(&self, config: &mut EngineConfig) -> Result<()> {
        config.renderer = self.renderer.parse()?;
        config.diffusion_model = self.model.clone();
        config.scheduler = Some(self.scheduler.clone());
        config.steps = self.steps;
        config.seed = self.seed;
        Ok(())
    }
}

/// Opens the engine a command renders, segments and reads instructions with,
/// reading config.toml once; says which diffusion model it loaded, if any.
pub fn open_engine(config: &EngineConfig) -> Result<Engine> {
    let engine = Engine::open_with(config, Config::load()?)?;
    if let Some(model) = engine.diffusion_model() {
        eprintln!(
            "diffusion model {} ({} x {}) on {}",
            model.name(),
            model.size(),
            model.size(),
            model.provider()
        );
    }
    Ok(engine)
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
