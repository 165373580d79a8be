//! Writes the 100% crops of docs/DIFFUSION.md: a real edit (the parametric
//! renderer at the diffusion model's 512 x 512, standing in for the model) carried
//! to the full-size photo by the colour transfer, beside the 512 x 512 result
//! resized back up, and the PSNR of each against the same edit rendered directly
//! at full size.
//!
//! `cargo run --release -p pertouch-core --example transfer_crops -- docs/images`

use pertouch_core::diffusion::{ColourTransfer, TransferOptions};
use pertouch_core::image_io::{load, raster_to_dynamic, LoadOptions};
use pertouch_core::mask::MaskSet;
use pertouch_core::params::RegionState;
use pertouch_core::raster::{Raster, RgbF32, Samples};
use pertouch_core::render::crop;
use pertouch_core::render::{
    Control, ParametricRenderer, Rect, RenderJob, RenderRequest, Renderer,
};
use std::path::PathBuf;

fn to_raster(rgb: &RgbF32) -> Raster {
    let data = rgb
        .data
        .iter()
        .flat_map(|p| p.map(|v| (v + 0.5).clamp(0.0, 255.0) as u8))
        .collect();
    Raster::new(rgb.width, rgb.height, 3, Samples::U8(data)).expect("layout")
}

fn upscale(small: &RgbF32, w: usize, h: usize) -> Raster {
    to_raster(&small.resized(w, h))
}

fn psnr(a: &Raster, b: &Raster) -> f64 {
    let (Samples::U8(x), Samples::U8(y)) = (a.samples(), b.samples()) else {
        panic!("8-bit")
    };
    let mse = x
        .iter()
        .zip(y)
        .map(|(&p, &q)| (p as f64 - q as f64).powi(2))
        .sum::<f64>()
        / x.len() as f64;
    10.0 * (255.0f64.powi(2) / mse).log10()
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = PathBuf::from(
        std::env::args()
            .nth(1)
            .unwrap_or_else(|| "docs/images".into()),
    );
    let root = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let photo = load(
        &root.join("../../shared/samples/dune.jpg"),
        &LoadOptions::default(),
    )?
    .raster;
    let (w, h) = (photo.width(), photo.height());
    let state = RegionState::from_json(
        r#"{"global": {"contrast": 0.2, "temperature": 0.15, "colorfulness": 0.2, "brightness": -0.05}}"#,
    )?;
    let masks = MaskSet::new();
    let renderer = ParametricRenderer::default();
    let render = |src: &Raster| -> Result<Raster, Box<dyn std::error::Error>> {
        let job = RenderJob {
            source: src,
            masks: &masks,
            state: &state,
        };
        Ok(renderer
            .render(&job, &RenderRequest::default(), &Control::default())?
            .image)
    };
    let direct = render(&photo)?;
    // The "model": the same edit on the 512 x 512 stretched copy.
    let small = photo.rgb_resized(512, 512);
    let small_out = render(&to_raster(&small))?;
    let edited = small_out.rgb_resized(512, 512);
    let t = ColourTransfer::fit(&small, &edited, &TransferOptions::default())?;
    let transferred = t.apply(&photo, 0, 0, w, h, &Control::default())?;
    let resized = upscale(&edited, w, h);
    println!(
        "dune.jpg {w} x {h}: transfer {:.1} dB, resized 512 result {:.1} dB (against the edit rendered at full size)",
        psnr(&transferred, &direct),
        psnr(&resized, &direct)
    );
    let r = Rect {
        x: 980,
        y: 430,
        width: 240,
        height: 240,
    };
    std::fs::create_dir_all(&out)?;
    for (name, img) in [
        ("transfer-source", &photo),
        ("transfer-direct", &direct),
        ("transfer-resized", &resized),
        ("transfer-transferred", &transferred),
    ] {
        let c = crop(img, r)?;
        raster_to_dynamic(&c).save(out.join(format!("{name}.png")))?;
    }
    Ok(())
}
