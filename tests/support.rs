//! Shared helpers for the end-to-end tests: sample photos and region masks derived
//! from them.

use pertouch_core::image_io::{load, LoadOptions};
use pertouch_core::plane::Plane;
use pertouch_core::raster::Raster;
use std::path::PathBuf;

/// The shared sample folder (../shared/samples from the repository root).
pub fn samples_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/samples")
}

/// Every sample photo, sorted by name.
pub fn sample_photos() -> Vec<(String, Raster)> {
    let dir = samples_dir();
    let mut files: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("cannot read {}: {e}", dir.display()))
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| matches!(p.extension().and_then(|e| e.to_str()), Some("png" | "jpg")))
        .collect();
    files.sort();
    assert!(
        files.len() >= 6,
        "expected the shared sample photos in {}",
        dir.display()
    );
    files
        .into_iter()
        .map(|p| {
            let name = p
                .file_stem()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default();
            let img = load(&p, &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"));
            (name, img.raster)
        })
        .collect()
}

/// A rough band mask over the top `fraction` of the frame (where skies are).
pub fn top_band(w: usize, h: usize, fraction: f32) -> Plane {
    let cut = (h as f32 * fraction) as usize;
    Plane::from_vec(
        w,
        h,
        (0..w * h)
            .map(|k| if k / w < cut { 1.0 } else { 0.0 })
            .collect(),
    )
    .expect("sizes match")
}

/// A binary mask of the brighter half of the photo (by luma): an irregular,
/// content-following region like a segmenter's.
pub fn bright_half(img: &Raster) -> Plane {
    let (w, h) = (img.width(), img.height());
    let luma: Vec<f32> = (0..w * h)
        .map(|k| {
            let p = img.rgb255(k % w, k / w);
            0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]
        })
        .collect();
    let mut sorted = luma.clone();
    sorted.sort_by(|a, b| a.total_cmp(b));
    let median = sorted[sorted.len() / 2];
    Plane::from_vec(
        w,
        h,
        luma.iter()
            .map(|&l| if l > median { 1.0 } else { 0.0 })
            .collect(),
    )
    .expect("sizes match")
}

/// Our OpenFX test host (the host side of the C API, written in Rust).
#[path = "ofx_host/mod.rs"]
pub mod ofx_host;
