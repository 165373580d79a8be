//! `pertouch measure`.

use crate::args::{InputArgs, MaskArgs};
use anyhow::Result;
use clap::Args;
use pertouch_core::measure::{measure_regions, RegionWeights};
use pertouch_core::params::Attribute;
use pertouch_core::plane::Plane;
use serde_json::json;
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct MeasureArgs {
    /// The photo to measure.
    pub input: PathBuf,
    #[command(flatten)]
    pub masks: MaskArgs,
    #[command(flatten)]
    pub input_opts: InputArgs,
    /// Print JSON (levels and raw measurements) for scripts.
    #[arg(long)]
    pub json: bool,
}

pub fn run(a: MeasureArgs) -> Result<()> {
    let loaded = a.input_opts.load_image(&a.input)?;
    let tables = a.input_opts.tables()?;
    let masks = a.masks.load()?;
    let src = &loaded.raster;
    masks.check_fits(src.width(), src.height())?;
    let rgb = src.analysis_rgb(tables.analysis_long_side);
    let planes: Vec<(String, Plane)> = masks
        .iter()
        .map(|m| {
            (
                m.name.clone(),
                m.mask
                    .resized(rgb.width, rgb.height)
                    .map(|v| v.clamp(0.0, 1.0)),
            )
        })
        .collect();
    let mut regions = vec![RegionWeights::Whole];
    regions.extend(planes.iter().map(|(_, p)| RegionWeights::Mask(p)));
    let results = measure_regions(&rgb, &regions);
    let names: Vec<&str> = std::iter::once("global")
        .chain(planes.iter().map(|(n, _)| n.as_str()))
        .collect();

    if a.json {
        let mut out = serde_json::Map::new();
        for (name, m) in names.iter().zip(&results) {
            let v = match m {
                Some(m) => {
                    let levels = tables.levels(m);
                    let lv: serde_json::Map<_, _> = Attribute::ALL
                        .iter()
                        .map(|a| (a.name().to_string(), json!(round(levels[a.channel()]))))
                        .collect();
                    json!({"levels": lv, "raw": m})
                }
                None => json!({"levels": null, "note": "empty mask"}),
            };
            out.insert(name.to_string(), v);
        }
        println!(
            "{}",
            serde_json::to_string_pretty(&serde_json::Value::Object(out))?
        );
        return Ok(());
    }
    println!(
        "{}: {} x {} (measured at {} x {})",
        a.input.display(),
        src.width(),
        src.height(),
        rgb.width,
        rgb.height
    );
    println!(
        "{:<14} {:>12} {:>9} {:>12} {:>11}",
        "region", "colorfulness", "contrast", "temperature", "brightness"
    );
    for (name, m) in names.iter().zip(&results) {
        match m {
            Some(m) => {
                let l = tables.levels(m);
                println!(
                    "{:<14} {:>+12.3} {:>+9.3} {:>+12.3} {:>+11.3}",
                    name, l[0], l[1], l[2], l[3]
                );
            }
            None => println!("{name:<14} (empty mask)"),
        }
    }
    println!("levels in [-1, 1]; 0 is the median of the reference photos");
    Ok(())
}

fn round(v: f64) -> f64 {
    (v * 1e4).round() / 1e4
}
