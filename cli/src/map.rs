//! `pertouch map`.

use crate::args::{InputArgs, MaskArgs, StateArgs};
use anyhow::Result;
use clap::Args;
use pertouch_core::image_io::{self, Metadata, SaveOptions};
use pertouch_core::outputs::OutputCheck;
use pertouch_core::params::ParamMap;
use pertouch_core::plane::{fit_long_side, Plane};
use pertouch_core::raster::{Raster, Samples};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct MapArgs {
    /// The photo the map is for (sets the size and the faint backdrop).
    pub input: PathBuf,
    /// The PNG to write: four panels, colorfulness | contrast over
    /// temperature | brightness; orange is +, blue is -, grey is no change.
    #[arg(short, long, value_name = "FILE.png")]
    pub output: PathBuf,
    #[command(flatten)]
    pub state: StateArgs,
    #[command(flatten)]
    pub masks: MaskArgs,
    #[command(flatten)]
    pub input_opts: InputArgs,
    /// Long side of each panel, in pixels.
    #[arg(long, default_value_t = 512)]
    pub size: usize,
}

pub fn run(a: MapArgs) -> Result<()> {
    crate::output_check::with_inputs(
        OutputCheck::new(),
        Some(&a.input),
        Some(&a.masks),
        Some(&a.state),
        Some(&a.input_opts),
    )
    .output(&a.output, "the -o output")
    .check()?;
    let state = a.state.build()?;
    let masks = a.masks.load()?;
    let loaded = a.input_opts.load_image(&a.input)?;
    let src = &loaded.raster;
    masks.check_fits(src.width(), src.height())?;
    let (w, h) = fit_long_side(src.width(), src.height(), a.size.max(8));
    let rgb = src.analysis_rgb(a.size.max(8));
    let backdrop = Plane::from_vec(
        w,
        h,
        rgb.data
            .iter()
            .map(|p| (0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]) / 255.0)
            .collect(),
    );
    let map = ParamMap::rasterize(&state, &masks, w, h)?;
    let (px, ow, oh) = map.false_colour(backdrop.as_ref());
    let raster = Raster::new(ow, oh, 3, Samples::U8(px))
        .ok_or_else(|| anyhow::anyhow!("internal: map size"))?;
    image_io::save(
        &a.output,
        &raster,
        &Metadata::default(),
        &SaveOptions::default(),
    )?;
    println!(
        "wrote {} ({} x {}): colorfulness | contrast / temperature | brightness",
        a.output.display(),
        ow,
        oh
    );
    Ok(())
}
