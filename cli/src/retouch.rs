//! `pertouch retouch`.

use crate::args::{
    open_engine, read_instruction, read_scene, AgentArgs, InputArgs, MaskArgs, RendererArgs,
    SegmenterArgs, StateArgs,
};
use crate::memory::{warn_set_aside, ProfileArgs};
use crate::progress::Bar;
use anyhow::{Context, Result};
use clap::Args;
use pertouch_core::agent::{self, Kind, Outcome};
use pertouch_core::host::EngineConfig;
use pertouch_core::image_io::{self, SaveOptions};
use pertouch_core::memory::Record;
use pertouch_core::outputs::{self, OutputCheck};
use pertouch_core::params::RegionState;
use pertouch_core::render::{Control, RenderJob, RenderReport};
use pertouch_core::segment::PhotoSegments;
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
    // Before any work: no output may be an input (the photo only with --force,
    // and only for -o) or the other output.
    let check = crate::output_check::with_inputs(
        OutputCheck::new(),
        None,
        Some(&a.masks),
        Some(&a.state),
        Some(&a.input_opts),
    );
    let check = if a.force {
        check.input(&a.input, "the input photo").output_replacing(
            &a.output,
            "the -o output",
            &a.input,
        )
    } else {
        check
            .input(&a.input, "the input photo (--force replaces it)")
            .output(&a.output, "the -o output")
    };
    match &a.report {
        Some(r) => check.output(r, "the --report output").check()?,
        None => check.check()?,
    }
    image_io::OutputFormat::from_path(&a.output)?;
    let mut state = a.state.build()?;
    // The mask files are read while the photo decodes (each is one thread's work).
    let (masks, loaded) = std::thread::scope(|s| {
        let masks = s.spawn(|| a.masks.load());
        let t = std::time::Instant::now();
        let loaded = a.input_opts.load_image(&a.input);
        tracing::debug!(elapsed = ?t.elapsed(), "loaded");
        let masks = masks
            .join()
            .unwrap_or_else(|_| Err(anyhow::anyhow!("reading the --mask files failed")));
        (masks, loaded)
    });
    let mut masks = masks?;
    let loaded = loaded?;
    let mut config = EngineConfig {
        refine: !a.no_refine,
        verify: true,
        ..EngineConfig::default()
    };
    a.input_opts.configure(&mut config);
    a.segmenter.configure(&mut config);
    a.render.configure(&mut config)?;
    // One engine for the agent's previews and the full-resolution result.
    let engine = open_engine(&config)?;
    let agent = a.agent.open(&engine)?;
    let photo = &loaded.raster;
    // The scene tags and the regions share one segmentation of the photo.
    let segments = PhotoSegments::new(photo);
    let memory = (a.recall || a.accept)
        .then(|| -> Result<_> {
            let scene = read_scene(&agent, &engine, photo, &segments);
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
        Some(text) => Some(read_instruction(&agent, &engine, text, photo)?),
        None => None,
    };
    // Regions named by the state or the instruction that no --mask covers: the
    // segmenters find them (or say they cannot).
    let mut wanted: Vec<String> = state.named_regions().map(|(n, _)| n.to_string()).collect();
    if let Some(p) = &plan {
        wanted.extend(p.interpretation.regions());
    }
    engine.find_regions(&segments, &mut masks, &wanted)?;
    if let (Some(plan), Some(text)) = (&plan, &a.say) {
        let preview = agent::preview(photo, agent::PREVIEW_LONG_SIDE);
        let outcome = engine.rethink(
            &agent,
            plan,
            text,
            &preview,
            &masks,
            &state,
            &Control::default(),
        )?;
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
        source: photo,
        masks: &masks,
        state: &state,
    };
    let save = SaveOptions {
        jpeg_quality: a.jpeg_quality,
    };
    // Encoding runs while later bands are still rendering.
    let report = engine.render_and_save(&job, &a.output, &loaded.metadata, &save, &ctl)?;
    bar.finish();
    print_report(&report);
    if let Some(p) = &a.report {
        let json = serde_json::to_string_pretty(&report)?;
        outputs::write_file(p, json.as_bytes())
            .with_context(|| format!("writing report {}", p.display()))?;
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
