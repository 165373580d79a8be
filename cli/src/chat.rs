//! `pertouch chat`: instruction after instruction on one photo, with undo.

use crate::args::{
    open_engine, read_instruction, read_scene, AgentArgs, InputArgs, MaskArgs, SegmenterArgs,
};
use crate::memory::ProfileArgs;
use crate::retouch::{print_report, print_trace};
use anyhow::Result;
use clap::Args;
use pertouch_core::agent;
use pertouch_core::host::EngineConfig;
use pertouch_core::image_io::{self, SaveOptions};
use pertouch_core::memory::Record;
use pertouch_core::params::RegionState;
use pertouch_core::render::{Control, RenderJob};
use pertouch_core::segment::PhotoSegments;
use std::io::{BufRead, Write};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct ChatArgs {
    /// The photo to work on.
    pub input: PathBuf,
    /// Where `save` writes the result (default: IN with "-pertouch" before the
    /// extension).
    #[arg(short, long, value_name = "FILE")]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub masks: MaskArgs,
    #[command(flatten)]
    pub input_opts: InputArgs,
    #[command(flatten)]
    pub segmenter: SegmenterArgs,
    #[command(flatten)]
    pub agent: AgentArgs,
    #[command(flatten)]
    pub who: ProfileArgs,
}

const HELP: &str = "\
Type an instruction (\"make the sky a bit warmer\", \"cinematic\", \"make it look better\"),
or one of:
  undo          take back the last instruction
  state         print the region state so far
  recall        start from the edit you accepted on the most similar photo
  save [FILE]   render at full resolution and write the photo
  accept        remember this edit for similar photos (and save)
  quit          leave (unsaved changes are dropped)";

pub fn run(a: ChatArgs) -> Result<()> {
    let output = a.output.clone().unwrap_or_else(|| {
        let stem = a.input.file_stem().unwrap_or_default().to_string_lossy();
        let ext = a.input.extension().unwrap_or_default().to_string_lossy();
        a.input.with_file_name(format!("{stem}-pertouch.{ext}"))
    });
    image_io::OutputFormat::from_path(&output)?;
    let loaded = a.input_opts.load_image(&a.input)?;
    let mut masks = a.masks.load()?;
    let mut config = EngineConfig {
        verify: true,
        ..EngineConfig::default()
    };
    a.input_opts.configure(&mut config);
    a.segmenter.configure(&mut config);
    let engine = open_engine(&config)?;
    let src = &loaded.raster;
    let segments = PhotoSegments::new(src);
    let preview = agent::preview(src, agent::PREVIEW_LONG_SIDE);
    let store = a.who.store()?;
    let reader = a.agent.open(&engine)?;
    let scene = read_scene(&reader, &engine, src, &segments);
    println!(
        "{} ({} x {}): {}. Type help for commands.",
        a.input.display(),
        src.width(),
        src.height(),
        if scene.tags.is_empty() {
            "no scene tags".to_string()
        } else {
            scene.tags.join(", ")
        }
    );
    let proposal = store.propose(&scene, 0.6)?.value;
    if let Some((r, sim)) = &proposal {
        println!(
            "You accepted {} on a similar photo (similarity {sim:.2}); type recall to start from it.",
            serde_json::to_string(&r.state)?
        );
    }
    let mut history: Vec<RegionState> = vec![RegionState::new()];
    let stdin = std::io::stdin();
    let mut lines = stdin.lock().lines();
    loop {
        print!("> ");
        std::io::stdout().flush()?;
        let Some(line) = lines.next() else { break };
        let line = line?;
        let line = line.trim();
        let current = history.last().cloned().unwrap_or_default();
        let (cmd, rest) = line.split_once(' ').unwrap_or((line, ""));
        match cmd {
            "" => continue,
            "help" | "?" => println!("{HELP}"),
            "quit" | "exit" | "q" => break,
            "undo" => {
                if history.len() > 1 {
                    history.pop();
                    println!("undone; state: {}", state_line(history.last()));
                } else {
                    println!("nothing to undo");
                }
            }
            "state" => println!("{}", state_line(Some(&current))),
            "recall" => match &proposal {
                Some((r, _)) => match RegionState::from_value(&r.state) {
                    Ok(s) => {
                        history.push(s);
                        println!("state: {}", state_line(history.last()));
                    }
                    Err(e) => println!("error: the remembered state is unusable: {e}"),
                },
                None => println!("no remembered photo is similar enough"),
            },
            "save" | "accept" => {
                let path = if rest.trim().is_empty() {
                    output.clone()
                } else {
                    PathBuf::from(rest.trim())
                };
                let names: Vec<&str> = current.named_regions().map(|(n, _)| n).collect();
                if let Err(e) = engine.find_regions(&segments, &mut masks, &names) {
                    println!("error: {e}");
                    continue;
                }
                let job = RenderJob {
                    source: src,
                    masks: &masks,
                    state: &current,
                };
                match engine.render_and_save(
                    &job,
                    &path,
                    &loaded.metadata,
                    &SaveOptions::default(),
                    &Control::default(),
                ) {
                    Ok(report) => {
                        print_report(&report);
                        println!("wrote {}", path.display());
                    }
                    Err(e) => {
                        println!("error: {e}");
                        continue;
                    }
                }
                if cmd == "accept" {
                    let record = Record::new("", scene.clone(), current.to_value(), true);
                    match store.append(record) {
                        Ok(o) => println!("remembered ({} records)", o.records.len()),
                        Err(e) => println!("error: {e}"),
                    }
                }
            }
            _ => {
                let plan = match read_instruction(&reader, &engine, line, src) {
                    Ok(p) => p,
                    Err(e) => {
                        println!("{e}");
                        continue;
                    }
                };
                let regions = plan.interpretation.regions();
                if let Err(e) = engine.find_regions(&segments, &mut masks, &regions) {
                    println!("{e}");
                    continue;
                }
                match engine.rethink(
                    &reader,
                    &plan,
                    line,
                    &preview,
                    &masks,
                    &current,
                    &Control::default(),
                ) {
                    Ok(outcome) => {
                        print_trace(&outcome);
                        history.push(outcome.state);
                        println!("state: {}", state_line(history.last()));
                    }
                    Err(e) => println!("error: {e}"),
                }
            }
        }
    }
    if history.len() > 1 {
        println!("bye (the last state was {})", state_line(history.last()));
    }
    Ok(())
}

fn state_line(s: Option<&RegionState>) -> String {
    match s {
        Some(s) if !s.is_empty() => s.to_value().to_string(),
        _ => "{} (unchanged)".into(),
    }
}
