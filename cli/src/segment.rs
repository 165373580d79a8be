//! `pertouch segment`.

use crate::args::InputArgs;
use anyhow::{bail, Context, Result};
use clap::Args;
use pertouch_core::segment::{self, BuiltinSegmenter, ALL_REGIONS};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct SegmentArgs {
    /// The photo.
    pub input: PathBuf,
    /// Region to find (sky, vegetation, water, skin, shadows, midtones, highlights,
    /// reds, oranges, yellows, greens, cyans, blues, purples, or a word for one of
    /// them such as trees, face, sea). Repeatable with one -o each.
    #[arg(long, short, value_name = "NAME", required_unless_present = "list")]
    pub region: Vec<String>,
    /// Where to write each mask (greyscale PNG at the analysis size, white inside).
    #[arg(long, short, value_name = "FILE")]
    pub output: Vec<PathBuf>,
    /// List the regions the segmenter knows and exit.
    #[arg(long)]
    pub list: bool,
    #[command(flatten)]
    pub input_opts: InputArgs,
}

pub fn run(a: SegmentArgs) -> Result<()> {
    let seg = BuiltinSegmenter;
    if a.list {
        for r in ALL_REGIONS {
            println!("{:<12} {}", r.name(), r.aliases().join(", "));
        }
        return Ok(());
    }
    if a.region.len() != a.output.len() {
        bail!(
            "{} --region but {} -o: give one output file per region",
            a.region.len(),
            a.output.len()
        );
    }
    let loaded = a.input_opts.load_image(&a.input)?;
    let names: Vec<&str> = a.region.iter().map(String::as_str).collect();
    let masks = segment::masks_for(&seg, &loaded.raster, &names)?;
    for (m, out) in masks.iter().zip(&a.output) {
        let p = &m.mask;
        let bytes: Vec<u8> = p
            .data()
            .iter()
            .map(|v| (v.clamp(0.0, 1.0) * 255.0 + 0.5) as u8)
            .collect();
        image::GrayImage::from_raw(p.width() as u32, p.height() as u32, bytes)
            .context("mask size")?
            .save(out)
            .with_context(|| format!("writing {}", out.display()))?;
        println!(
            "{:<12} {:>5.1}% of the photo -> {}",
            m.name,
            p.mean() * 100.0,
            out.display()
        );
    }
    Ok(())
}
