//! `pertouch`: retouch photos region by region from the command line.

mod args;
mod bridge;
mod calibrate;
mod chat;
mod doctor;
mod map;
mod measure;
mod memory;
mod models;
mod progress;
mod retouch;
mod segment;

use clap::{Parser, Subcommand};
use std::process::ExitCode;

const AFTER_HELP: &str = "\
Levels and changes:
  Every attribute (colorfulness, contrast, temperature, brightness) is measured on
  the photo and expressed as a level in [-1, 1], where 0 is the median of the
  reference photos. Edits are *changes* of level: `--set sky.brightness=+0.2` makes
  the sky's measured brightness level 0.2 higher than it is now.

Examples:
  pertouch retouch in.jpg -o out.jpg --set brightness=+0.15 --set contrast=+0.1
  pertouch retouch in.jpg -o out.jpg --mask sky=sky.png --set sky.temperature=-0.3
  pertouch retouch in.jpg -o out.jpg --state '{\"global\": {\"colorfulness\": 0.2}}'
  pertouch measure in.jpg --mask sky=sky.png --json
  pertouch map in.jpg -o map.png --mask sky=sky.png --set sky.warmth=0.4
  pertouch calibrate ~/Pictures/best -o my-tables.json
  pertouch retouch in.jpg -o out.jpg --say \"make the sky a bit warmer\" --accept
  pertouch retouch other.jpg -o out2.jpg --recall
  pertouch memory list";

/// Region-aware photo retouching: measure, edit and map colourfulness, contrast,
/// temperature and brightness per region.
#[derive(Parser)]
#[command(name = "pertouch", version, after_help = AFTER_HELP)]
struct Cli {
    /// More log output (-v info, -vv debug); RUST_LOG overrides.
    #[arg(short, long, action = clap::ArgAction::Count, global = true)]
    verbose: u8,
    /// No progress bars.
    #[arg(short, long, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Retouch a photo: apply a region state of level changes and write the result.
    Retouch(Box<retouch::RetouchArgs>),
    /// Print the four attribute levels of the whole photo and of each mask.
    Measure(measure::MeasureArgs),
    /// Write the parameter map of a region state as a false-colour PNG.
    Map(map::MapArgs),
    /// Fit level tables to your own photos.
    Calibrate(calibrate::CalibrateArgs),
    /// Find a named region (sky, trees, face, shadows, blues...) and write its mask.
    Segment(segment::SegmentArgs),
    /// List, export, import or forget remembered edits (per user and host profile).
    Memory(memory::MemoryArgs),
    /// Work on one photo instruction by instruction, with undo; save when happy.
    Chat(chat::ChatArgs),
    /// Show the ONNX Runtime found, its execution providers, and where data lives.
    Doctor(doctor::DoctorArgs),
    /// List, verify, locate or install model packages.
    Models(models::ModelsArgs),
    /// Serve the PerTouch Photoshop panel (a local WebSocket bridge); `bridge pair` pairs it.
    Bridge(bridge::BridgeArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_logging(cli.verbose);
    let result = match cli.command {
        Command::Retouch(a) => retouch::run(*a, cli.quiet),
        Command::Measure(a) => measure::run(a),
        Command::Map(a) => map::run(a),
        Command::Calibrate(a) => calibrate::run(a, cli.quiet),
        Command::Segment(a) => segment::run(a),
        Command::Memory(a) => memory::run(a),
        Command::Chat(a) => chat::run(a),
        Command::Doctor(a) => doctor::run(a),
        Command::Models(a) => models::run(a),
        Command::Bridge(a) => bridge::run(a),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            for cause in e.chain().skip(1) {
                eprintln!("  caused by: {cause}");
            }
            ExitCode::FAILURE
        }
    }
}

fn init_logging(verbose: u8) {
    let default = match verbose {
        0 => "warn",
        1 => "info",
        _ => "debug",
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default));
    tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .init();
}
