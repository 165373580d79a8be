//! `pertouch segment`.

use crate::args::{open_engine, InputArgs, SegmenterArgs};
use anyhow::{bail, Context, Result};
use clap::Args;
use pertouch_core::host::EngineConfig;
use pertouch_core::plane::{fit_long_side, Plane};
use pertouch_core::render::refine::{guide_value, RefineOptions, RefinedMask};
use pertouch_core::segment::{PhotoSegments, Segmenter};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct SegmentArgs {
    /// The photo.
    #[arg(required_unless_present = "list")]
    pub input: Option<PathBuf>,
    /// Region to find (sky, vegetation, water, skin, shadows, midtones, highlights,
    /// reds, oranges, yellows, greens, cyans, blues, purples, or a word for one of
    /// them such as trees, face, sea; with a segmentation model installed, also its
    /// classes, or any words for a text-prompted model). Repeatable with one -o each.
    #[arg(long, short, value_name = "NAME", required_unless_present = "list")]
    pub region: Vec<String>,
    /// Where to write each mask (greyscale PNG, white inside; refined to the photo's
    /// edges as the renderer refines it).
    #[arg(long, short, value_name = "FILE")]
    pub output: Vec<PathBuf>,
    /// List the segmenters in use and the regions they find, and exit.
    #[arg(long)]
    pub list: bool,
    /// Write the segmenter's rough score instead of the mask refined to the photo's
    /// edges (the renderer refines rough masks itself).
    #[arg(long)]
    pub rough: bool,
    /// Long side of the written masks (default: the analysis size, 512).
    #[arg(long, value_name = "PIXELS")]
    pub size: Option<usize>,
    #[command(flatten)]
    pub input_opts: InputArgs,
    #[command(flatten)]
    pub segmenter: SegmenterArgs,
}

pub fn run(a: SegmentArgs) -> Result<()> {
    let mut config = EngineConfig::default();
    a.segmenter.configure(&mut config);
    let engine = open_engine(&config)?;
    let seg = engine.segmenter();
    if a.list {
        let models = seg.model_names();
        println!(
            "segmenters, asked in this order: {}builtin (tone and colour ranges always builtin)",
            models.iter().map(|m| format!("{m}, ")).collect::<String>()
        );
        if seg.open_vocabulary() {
            println!("a text-prompted model is installed: any words name a region");
        }
        for o in seg.offers() {
            let by = seg.route(&o.name).map_or("-", |s| s.name());
            println!("{:<20} {:<18} {}", o.name, by, o.aliases.join(", "));
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
    let Some(input) = &a.input else {
        bail!("give the photo to segment");
    };
    let loaded = a.input_opts.load_image(input)?;
    let names: Vec<&str> = a.region.iter().map(String::as_str).collect();
    let masks = PhotoSegments::new(&loaded.raster).masks(seg, &names)?;
    let src = &loaded.raster;
    let (w, h) = match a.size {
        Some(n) => fit_long_side(src.width(), src.height(), n.clamp(16, 16384)),
        None => masks
            .iter()
            .next()
            .map_or((1, 1), |m| (m.mask.width(), m.mask.height())),
    };
    // The guide the renderer refines with: the photo's luma at the output size.
    let rgb = src.analysis_rgb(w.max(h));
    let guide = Plane::from_vec(
        rgb.width,
        rgb.height,
        rgb.data
            .iter()
            .map(|p| guide_value(p.map(|v| v / 255.0)))
            .collect(),
    )
    .context("guide size")?;
    for (m, out) in masks.iter().zip(&a.output) {
        let p = if a.rough {
            m.mask.resized(guide.width(), guide.height())
        } else {
            RefinedMask::refine(&m.mask, &guide, &RefineOptions::default()).to_plane(&guide)
        };
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
            "{:<12} {:>5.1}% of the photo (by {}) -> {}",
            m.name,
            p.mean() * 100.0,
            seg.route(&m.name).map_or("?", |s| s.name()),
            out.display()
        );
    }
    Ok(())
}
