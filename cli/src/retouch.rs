//! `pertouch retouch`.

use crate::args::{
    AgentArgs, ChosenRenderer, InputArgs, LazySegmenter, MaskArgs, RendererArgs, SegmenterArgs,
    StateArgs,
};
use crate::memory::{warn_set_aside, ProfileArgs};
use crate::progress::Bar;
use anyhow::{bail, Context, Result};
use clap::Args;
use pertouch_core::agent::{self, Kind, Outcome, Session};
use pertouch_core::image_io::{self, SaveOptions};
use pertouch_core::mask::MaskSet;
use pertouch_core::memory::Record;
use pertouch_core::params::{RegionState, GLOBAL};
use pertouch_core::raster::Raster;
use pertouch_core::render::{
    Control, RenderJob, RenderOptions, RenderReport, RenderRequest, Renderer,
};
use pertouch_core::segment;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct RetouchArgs {
    /// The photo to retouch (PNG, JPEG, TIFF, WebP).
    pub input: PathBuf,
    /// Where to write the result; the format follows the extension. ICC profile and
    /// EXIF are kept where the format allows; 16-bit input stays 16-bit in PNG/TIFF.
    #[arg(short, long, value_name = "FILE")]
    pub output: PathBuf,
    #[command(flatten)]
    pub state: StateArgs,
    #[command(flatten)]
    pub masks: MaskArgs,
    #[command(flatten)]
    pub input_opts: InputArgs,
    #[command(flatten)]
    pub segmenter: SegmenterArgs,
    #[command(flatten)]
    pub render: RendererArgs,
    #[command(flatten)]
    pub agent: AgentArgs,
    /// Use masks exactly as given instead of snapping them to the photo's edges.
    #[arg(long)]
    pub no_refine: bool,
    /// Write the measured report (levels before, targets, achieved) as JSON.
    #[arg(long, value_name = "FILE")]
    pub report: Option<PathBuf>,
    /// JPEG quality (1-100).
    #[arg(long, default_value_t = 92, value_parser = clap::value_parser!(u8).range(1..=100))]
    pub jpeg_quality: u8,
    /// Overwrite the input file if -o names it.
    #[arg(long)]
    pub force: bool,
    /// An instruction in plain English, e.g. "make the sky a bit warmer and the grass
    /// greener", "cinematic", "make it look better". Applied on top of --state/--set;
    /// regions without a --mask are found by the built-in segmenter.
    #[arg(long, value_name = "TEXT")]
    pub say: Option<String>,
    /// Start from the edit you accepted on the most similar photo before (by scene:
    /// sky, greenery, people, tones, colour); printed when one matches.
    #[arg(long)]
    pub recall: bool,
    /// Remember this edit as one you like, for --recall on later photos.
    #[arg(long)]
    pub accept: bool,
    #[command(flatten)]
    pub who: ProfileArgs,
}

/// How alike a remembered scene must be to be recalled.
const RECALL_SIMILARITY: f32 = 0.6;

pub fn run(a: RetouchArgs, quiet: bool) -> Result<()> {
    if !a.force && same_file(&a.input, &a.output) {
        bail!(
            "-o {} is the input photo; pass --force to overwrite it",
            a.output.display()
        );
    }
    image_io::OutputFormat::from_path(&a.output)?;
    let mut state = a.state.build()?;
    let mut masks = a.masks.load()?;
    let t = std::time::Instant::now();
    let loaded = a.input_opts.load_image(&a.input)?;
    tracing::debug!(elapsed = ?t.elapsed(), "loaded");
    let tables = a.input_opts.tables()?;
    let segmenter = a.segmenter.lazy();
    let reader = a.agent.open()?;
    let memory = (a.recall || a.accept)
        .then(|| -> Result<_> {
            let scene = reader.scene(&loaded.raster, &tables);
            Ok((a.who.store()?, scene))
        })
        .transpose()?;
    if let (true, Some((store, scene))) = (a.recall, &memory) {
        let found = store.propose(scene, RECALL_SIMILARITY)?;
        match found.value {
            Some((r, sim)) => {
                println!(
                    "recalled: {} from a similar photo ([{}], similarity {sim:.2}{})",
                    serde_json::to_string(&r.state)?,
                    r.scene.tags.join(", "),
                    if r.instruction.is_empty() {
                        String::new()
                    } else {
                        format!(", \"{}\"", r.instruction)
                    }
                );
                let mut recalled = RegionState::from_value(&r.state)?;
                recalled.apply(&state)?;
                state = recalled;
            }
            None => println!("recall: no remembered photo is similar enough; starting fresh"),
        }
    }
    let plan = match &a.say {
        Some(text) => Some(reader.read(text, &loaded.raster, &segmenter)?),
        None => None,
    };
    // Regions named by the state or the instruction that no --mask covers: the
    // built-in segmenter finds them (or says it cannot).
    let mut wanted: Vec<String> = state.named_regions().map(|(n, _)| n.to_string()).collect();
    if let Some(p) = &plan {
        wanted.extend(p.interpretation.regions());
    }
    segment_missing(&mut masks, &loaded.raster, wanted, &segmenter)?;
    // One renderer for the agent's previews and the full-resolution result.
    let chosen = a.render.open(RenderOptions {
        tables: tables.clone(),
        refine: (!a.no_refine).then(Default::default),
        verify: true,
    })?;
    let renderer = chosen.as_dyn();
    let session_tables = match &chosen {
        ChosenRenderer::Diffusion(d) => d.model().tables().clone(),
        ChosenRenderer::Parametric(_) => tables.clone(),
    };
    if let Some(plan) = &plan {
        let preview = agent::preview(&loaded.raster, agent::PREVIEW_LONG_SIDE);
        let session = Session {
            renderer,
            preview: &preview,
            masks: &masks,
            tables: &session_tables,
        };
        let advisor = reader.advisor();
        let guidance = plan.guidance(
            a.say.as_deref().unwrap_or(""),
            advisor.as_ref().map(|a| a as &dyn agent::Advisor),
        );
        let outcome =
            session.apply_with(&state, &plan.interpretation, &guidance, &Control::default())?;
        print_trace(&outcome);
        state = outcome.state;
    }
    let bar = Bar::new(quiet);
    let progress = |stage: &str, f: f32| bar.update(stage, f);
    let ctl = Control {
        cancel: None,
        progress: Some(&progress),
    };
    let job = RenderJob {
        source: &loaded.raster,
        masks: &masks,
        state: &state,
    };
    let save = SaveOptions {
        jpeg_quality: a.jpeg_quality,
    };
    let report = match &chosen {
        // Encoding runs while later bands are still rendering.
        ChosenRenderer::Parametric(p) => {
            p.render_and_save(&job, &a.output, &loaded.metadata, &save, &ctl)?
        }
        ChosenRenderer::Diffusion(d) => {
            let out = d.render(&job, &RenderRequest::default(), &ctl)?;
            image_io::save(&a.output, &out.image, &loaded.metadata, &save)?;
            out.report
        }
    };
    bar.finish();
    print_report(&report);
    if let Some(p) = &a.report {
        let json = serde_json::to_string_pretty(&report)?;
        std::fs::write(p, json).with_context(|| format!("writing report {}", p.display()))?;
    }
    println!("wrote {}", a.output.display());
    if let (true, Some((store, scene))) = (a.accept, memory) {
        let record = Record::new(
            a.say.as_deref().unwrap_or(""),
            scene,
            state.to_value(),
            true,
        );
        let opened = store.append(record)?;
        warn_set_aside(&opened.set_aside);
        println!(
            "remembered in {} ({} records)",
            store.path().display(),
            opened.records.len()
        );
    }
    Ok(())
}

/// Finds the regions of `wanted` that `masks` lacks with the segmenters (an
/// unknown region name is an error listing what is available).
pub fn segment_missing(
    masks: &mut MaskSet,
    image: &Raster,
    mut wanted: Vec<String>,
    segmenter: &LazySegmenter,
) -> Result<()> {
    wanted.retain(|r| r != GLOBAL && masks.get(r).is_none());
    wanted.sort();
    wanted.dedup();
    if wanted.is_empty() {
        return Ok(());
    }
    let names: Vec<&str> = wanted.iter().map(String::as_str).collect();
    let layered = segmenter.get()?;
    let found = segment::masks_for(layered, image, &names)?;
    for m in found.iter() {
        let by = layered.route(&m.name).map_or("?", |s| s.name());
        tracing::info!(region = %m.name, segmenter = by, coverage = m.mask.mean(), "segmented");
        masks.insert(&m.name, m.mask.clone());
    }
    Ok(())
}

/// Prints what the agent understood and each round of its rethink loop.
pub fn print_trace(o: &Outcome) {
    let i = &o.interpretation;
    let kind = match i.kind {
        Kind::Strong => "a specific change".to_string(),
        Kind::WeakStyle => format!("the look \"{}\"", i.style.unwrap_or("?")),
        Kind::WeakOptimize => "the auto look".to_string(),
    };
    println!("understood: {kind}");
    for (i, e) in o.edits.iter().enumerate() {
        match o.visible.get(i).copied().flatten() {
            Some(de) => println!(
                "  {} {} {:+.2} (a visible change of ΔE00 {de:.1})",
                e.region, e.attribute, e.amount
            ),
            None => println!("  {} {} {:+.2}", e.region, e.attribute, e.amount),
        }
    }
    for n in &o.notes {
        println!("note: {n}");
    }
    for h in &i.holds {
        println!("  {h} kept as it is");
    }
    for r in &o.trace {
        let checks: Vec<String> = r
            .checks
            .iter()
            .map(|c| match c.measured {
                Some(m) => format!(
                    "{} {} {:+.2} (asked {:+.2})",
                    c.region, c.attribute, m, c.asked
                ),
                None => format!("{} {}: region empty", c.region, c.attribute),
            })
            .collect();
        println!("round {}: measured {}", r.round, checks.join(", "));
        println!("  -> {}", r.decision);
    }
}

fn same_file(a: &std::path::Path, b: &std::path::Path) -> bool {
    match (a.canonicalize(), b.canonicalize()) {
        (Ok(x), Ok(y)) => x == y,
        _ => false,
    }
}

/// Prints the per-region table of levels.
pub fn print_report(r: &RenderReport) {
    if r.edits.is_empty() {
        println!("no edits: the photo is unchanged");
        return;
    }
    println!(
        "{:<12} {:<13} {:>7} {:>7} {:>7} {:>8} {:>6}",
        "region", "attribute", "before", "change", "target", "achieved", "error"
    );
    for e in &r.edits {
        let achieved = e.achieved.map_or("-".to_string(), |v| format!("{v:+.3}"));
        println!(
            "{:<12} {:<13} {:>+7.3} {:>+7.3} {:>+7.3} {:>8} {:>6.3}",
            e.region,
            e.attribute.name(),
            e.before,
            e.change,
            e.target,
            achieved,
            e.error()
        );
        if let Some(n) = &e.note {
            println!("    note: {n}");
        }
    }
}
