//! `pertouch calibrate`.

use crate::progress::Bar;
use anyhow::{bail, Context, Result};
use clap::Args;
use pertouch_core::image_io::{self, LoadOptions};
use pertouch_core::measure::calibrate::fit_tables;
use pertouch_core::measure::DEFAULT_ANALYSIS_LONG_SIDE;
use pertouch_core::outputs::{self, OutputCheck};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct CalibrateArgs {
    /// A folder of photos whose look defines level 0 (the median) and the range.
    pub dir: PathBuf,
    /// Where to write the tables (use them with --tables).
    #[arg(short, long, value_name = "FILE.json")]
    pub output: PathBuf,
    /// Analysis resolution (long side) the tables are fitted at.
    #[arg(long, default_value_t = DEFAULT_ANALYSIS_LONG_SIDE)]
    pub long_side: usize,
}

pub fn run(a: CalibrateArgs, quiet: bool) -> Result<()> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(&a.dir)
        .with_context(|| format!("reading {}", a.dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| {
            p.extension().and_then(|e| e.to_str()).is_some_and(|e| {
                matches!(
                    e.to_ascii_lowercase().as_str(),
                    "png" | "jpg" | "jpeg" | "tif" | "tiff" | "webp"
                )
            })
        })
        .collect();
    files.sort();
    files
        .iter()
        .fold(OutputCheck::new(), |c, f| {
            c.input(f, "a photo being measured")
        })
        .output(&a.output, "the -o output")
        .check()?;
    if files.len() < 2 {
        bail!(
            "{} holds {} photo(s); calibration needs at least 2",
            a.dir.display(),
            files.len()
        );
    }
    let bar = Bar::new(quiet);
    let mut images = Vec::new();
    for (i, f) in files.iter().enumerate() {
        match image_io::load(f, &LoadOptions::default()) {
            Ok(img) => images.push(img.raster.analysis_rgb(a.long_side)),
            Err(e) => eprintln!("skipping {}: {e}", f.display()),
        }
        bar.update("measure", (i + 1) as f32 / files.len() as f32);
    }
    bar.finish();
    let names: Vec<String> = files
        .iter()
        .filter_map(|f| f.file_name().map(|n| n.to_string_lossy().into_owned()))
        .collect();
    let tables = fit_tables(
        &images,
        a.long_side,
        format!(
            "pertouch calibrate over {} photos: {}",
            images.len(),
            names.join(", ")
        ),
    )?;
    let json = serde_json::to_string_pretty(&tables)?;
    outputs::write_file(&a.output, (json + "\n").as_bytes())
        .with_context(|| format!("writing {}", a.output.display()))?;
    println!("wrote {} from {} photos", a.output.display(), images.len());
    Ok(())
}
