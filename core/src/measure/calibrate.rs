//! Fitting level tables to a set of photos.
//!
//! Each photo contributes the measurements of many regions of different sizes and
//! kinds, the kinds of region retouchers edit: the whole frame, the cells of 2 x 2,
//! 3 x 3 and 4 x 4 grids, and soft shadow / midtone / highlight ranges. Their
//! distribution per attribute becomes the table.

use super::level_table::LevelTables;
use super::metrics::{measure_regions, RawMeasurement, RegionWeights};
use crate::error::Result;
use crate::plane::Plane;
use crate::raster::RgbF32;

/// Number of knots in fitted tables.
pub const KNOTS: usize = 33;

/// The calibration regions of one analysis-size photo, measured.
pub fn calibration_samples(img: &RgbF32) -> Vec<RawMeasurement> {
    let (w, h) = (img.width, img.height);
    let mut planes = Vec::new();
    for n in [2usize, 3, 4] {
        for gy in 0..n {
            for gx in 0..n {
                let data = (0..w * h)
                    .map(|k| {
                        let (x, y) = (k % w, k / w);
                        ((x * n / w == gx) && (y * n / h == gy)) as u8 as f32
                    })
                    .collect();
                planes.push(Plane::from_vec(w, h, data).expect("sizes match"));
            }
        }
    }
    // Tonal ranges by luma, as soft triangular bands.
    let luma: Vec<f32> = img
        .data
        .iter()
        .map(|p| (0.299 * p[0] + 0.587 * p[1] + 0.114 * p[2]) / 255.0)
        .collect();
    for centre in [0.0f32, 0.5, 1.0] {
        let data = luma
            .iter()
            .map(|&l| (1.0 - (l - centre).abs() * 2.0).max(0.0))
            .collect();
        planes.push(Plane::from_vec(w, h, data).expect("sizes match"));
    }
    let mut regions = vec![RegionWeights::Whole];
    regions.extend(planes.iter().map(RegionWeights::Mask));
    measure_regions(img, &regions)
        .into_iter()
        .flatten()
        .collect()
}

/// Fits tables to the calibration regions of several photos.
pub fn fit_tables(
    images: &[RgbF32],
    analysis_long_side: usize,
    source: String,
) -> Result<LevelTables> {
    let samples: Vec<RawMeasurement> = images.iter().flat_map(calibration_samples).collect();
    LevelTables::fit(&samples, KNOTS, analysis_long_side, source)
}
