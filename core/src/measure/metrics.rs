//! The four attribute measurements of PERTOUCH.md section 2, on binary or soft masks.
//!
//! Pixels are 8-bit sRGB units (0..255). A soft mask weighs each pixel by its mask
//! value and each neighbour pair by the product of the two; on a binary mask this is
//! exactly the reference definition.

use crate::color::temperature_of_srgb;
use crate::plane::Plane;
use crate::raster::RgbF32;
use rayon::prelude::*;
use serde::{Deserialize, Serialize};

/// Upper cap on the contrast measurement, as in the reference.
pub const CONTRAST_CAP: f64 = 20_000.0;

/// Raw measurements of one region, in channel order.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct RawMeasurement {
    /// Hasler & Suesstrunk colourfulness.
    pub colorfulness: f64,
    /// Mean squared neighbour difference / 4, capped at 20000.
    pub contrast: f64,
    /// Negative correlated colour temperature in kelvin (larger is warmer); past
    /// the fit's range [1000, 100000] K it continues linearly in mireds
    /// ([`crate::color::temperature_of_srgb`]).
    pub temperature: f64,
    /// HSP perceived brightness, 0..255.
    pub brightness: f64,
}

impl RawMeasurement {
    /// As an array in channel order.
    pub fn to_array(self) -> [f64; 4] {
        [
            self.colorfulness,
            self.contrast,
            self.temperature,
            self.brightness,
        ]
    }
}

/// Weighted running sums from which all four measurements follow.
#[derive(Debug, Clone, Copy, Default)]
struct Sums {
    w: f64,
    rg: f64,
    rg2: f64,
    yb: f64,
    yb2: f64,
    r: f64,
    g: f64,
    b: f64,
    pair_w: f64,
    pair_d2: f64,
}

impl Sums {
    fn add(&mut self, o: &Sums) {
        self.w += o.w;
        self.rg += o.rg;
        self.rg2 += o.rg2;
        self.yb += o.yb;
        self.yb2 += o.yb2;
        self.r += o.r;
        self.g += o.g;
        self.b += o.b;
        self.pair_w += o.pair_w;
        self.pair_d2 += o.pair_d2;
    }

    #[inline]
    fn pixel(&mut self, p: [f32; 3], w: f64) {
        let rg = (p[0] - p[1]).abs() as f64;
        let yb = ((p[0] + p[1]) * 0.5 - p[2]).abs() as f64;
        self.w += w;
        self.rg += w * rg;
        self.rg2 += w * rg * rg;
        self.yb += w * yb;
        self.yb2 += w * yb * yb;
        self.r += w * p[0] as f64;
        self.g += w * p[1] as f64;
        self.b += w * p[2] as f64;
    }

    #[inline]
    fn pair(&mut self, p: [f32; 3], q: [f32; 3], w: f64) {
        let d0 = (p[0] - q[0]) as f64;
        let d1 = (p[1] - q[1]) as f64;
        let d2 = (p[2] - q[2]) as f64;
        self.pair_w += w;
        self.pair_d2 += w * (d0 * d0 + d1 * d1 + d2 * d2);
    }

    fn finish(&self) -> Option<RawMeasurement> {
        // Below a thousandth of a pixel of weight there is nothing to measure.
        if self.w < 1e-3 {
            return None;
        }
        let n = self.w;
        let mrg = self.rg / n;
        let myb = self.yb / n;
        let srg = (self.rg2 / n - mrg * mrg).max(0.0);
        let syb = (self.yb2 / n - myb * myb).max(0.0);
        let colorfulness = (srg + syb).sqrt() + 0.3 * (mrg * mrg + myb * myb).sqrt();
        let contrast = if self.pair_w > 0.0 {
            (self.pair_d2 / self.pair_w / 4.0).min(CONTRAST_CAP)
        } else {
            0.0
        };
        let (r, g, b) = (self.r / n, self.g / n, self.b / n);
        let temperature = temperature_of_srgb([r / 255.0, g / 255.0, b / 255.0]);
        let brightness = (0.241 * r * r + 0.691 * g * g + 0.068 * b * b).sqrt();
        Some(RawMeasurement {
            colorfulness,
            contrast,
            temperature,
            brightness,
        })
    }
}

/// A region to measure: the whole image, or a weight plane of the image's size.
#[derive(Debug, Clone, Copy)]
pub enum RegionWeights<'a> {
    /// Every pixel with weight 1.
    Whole,
    /// Per-pixel weights in [0, 1].
    Mask(&'a Plane),
}

/// Measures every region in one pass over `img`. `None` for a region with no weight.
///
/// Panics if a mask's size differs from the image's; callers resize masks first.
pub fn measure_regions(img: &RgbF32, regions: &[RegionWeights<'_>]) -> Vec<Option<RawMeasurement>> {
    let (w, h) = (img.width, img.height);
    for r in regions {
        if let RegionWeights::Mask(m) = r {
            assert_eq!(
                (m.width(), m.height()),
                (w, h),
                "mask size must match the image"
            );
        }
    }
    let k = regions.len();
    // Fixed bands summed in order: the result does not depend on thread scheduling.
    let band_sums: Vec<Vec<Sums>> = (0..h.div_ceil(BAND_ROWS))
        .into_par_iter()
        .map(|band| {
            let mut acc = vec![Sums::default(); k];
            for y in band * BAND_ROWS..((band + 1) * BAND_ROWS).min(h) {
                accumulate_row(img, regions, y, &mut acc);
            }
            acc
        })
        .collect();
    let mut sums = vec![Sums::default(); k];
    for band in &band_sums {
        for (total, part) in sums.iter_mut().zip(band) {
            total.add(part);
        }
    }
    sums.iter().map(Sums::finish).collect()
}

const BAND_ROWS: usize = 16;

fn accumulate_row(img: &RgbF32, regions: &[RegionWeights<'_>], y: usize, acc: &mut [Sums]) {
    let (w, h) = (img.width, img.height);
    let row = &img.data[y * w..(y + 1) * w];
    let below = (y + 1 < h).then(|| &img.data[(y + 1) * w..(y + 2) * w]);
    for (s, region) in acc.iter_mut().zip(regions) {
        match region {
            RegionWeights::Whole => {
                for x in 0..w {
                    s.pixel(row[x], 1.0);
                    if x + 1 < w {
                        s.pair(row[x], row[x + 1], 1.0);
                    }
                    if let Some(b) = below {
                        s.pair(row[x], b[x], 1.0);
                    }
                }
            }
            RegionWeights::Mask(m) => {
                let mr = m.row(y);
                let mb = (y + 1 < h).then(|| m.row(y + 1));
                for x in 0..w {
                    let wp = mr[x] as f64;
                    if wp <= 0.0 {
                        continue;
                    }
                    s.pixel(row[x], wp);
                    if x + 1 < w && mr[x + 1] > 0.0 {
                        s.pair(row[x], row[x + 1], wp * mr[x + 1] as f64);
                    }
                    if let (Some(b), Some(mb)) = (below, mb) {
                        if mb[x] > 0.0 {
                            s.pair(row[x], b[x], wp * mb[x] as f64);
                        }
                    }
                }
            }
        }
    }
}

/// Measures one region.
pub fn measure(img: &RgbF32, region: RegionWeights<'_>) -> Option<RawMeasurement> {
    measure_regions(img, &[region]).pop().flatten()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn img(w: usize, h: usize, px: &[[f32; 3]]) -> RgbF32 {
        RgbF32 {
            width: w,
            height: h,
            data: px.to_vec(),
        }
    }

    #[test]
    fn hand_computed_two_pixel_image() {
        // Pixels (0,0,0) and (10,20,60).
        let im = img(2, 1, &[[0.0, 0.0, 0.0], [10.0, 20.0, 60.0]]);
        let m = measure(&im, RegionWeights::Whole).unwrap();
        // rg = {0, 10}: mean 5, std 5. yb = {0, |15-60| = 45}: mean 22.5, std 22.5.
        let c = (25.0f64 + 506.25).sqrt() + 0.3 * (25.0f64 + 506.25).sqrt();
        assert!((m.colorfulness - c).abs() < 1e-9, "{}", m.colorfulness);
        // One neighbour pair, squared difference 100 + 400 + 3600 = 4100, / 4.
        assert!((m.contrast - 1025.0).abs() < 1e-9);
        // Mean (5, 10, 30): HSP brightness.
        let b = (0.241f64 * 25.0 + 0.691 * 100.0 + 0.068 * 900.0).sqrt();
        assert!((m.brightness - b).abs() < 1e-9);
        assert!(m.temperature < 0.0);
    }

    #[test]
    fn grey_patch_has_zero_colourfulness_and_contrast() {
        let im = img(3, 3, &[[128.0; 3]; 9]);
        let m = measure(&im, RegionWeights::Whole).unwrap();
        assert_eq!(m.colorfulness, 0.0);
        assert_eq!(m.contrast, 0.0);
        assert!((m.brightness - 128.0).abs() < 1e-9);
        // Neutral grey is the sRGB white point, ~6504 K.
        assert!((m.temperature + 6504.0).abs() < 30.0, "{}", m.temperature);
    }

    #[test]
    fn binary_mask_ignores_pixels_and_pairs_outside() {
        // Left column red, right column black noise; mask selects the left column only.
        let px = [
            [200.0, 0.0, 0.0],
            [0.0, 255.0, 0.0],
            [200.0, 0.0, 0.0],
            [0.0, 0.0, 255.0],
        ];
        let im = img(2, 2, &px);
        let mask = Plane::from_vec(2, 2, vec![1.0, 0.0, 1.0, 0.0]).unwrap();
        let m = measure(&im, RegionWeights::Mask(&mask)).unwrap();
        // Only the vertical pair between two identical reds counts.
        assert_eq!(m.contrast, 0.0);
        // rg = 200, yb = 100 everywhere: no spread.
        assert!((m.colorfulness - 0.3 * (200.0f64 * 200.0 + 100.0 * 100.0).sqrt()).abs() < 1e-9);
        let b = (0.241f64 * 200.0 * 200.0).sqrt();
        assert!((m.brightness - b).abs() < 1e-9);
    }

    #[test]
    fn soft_weights_interpolate_means() {
        let im = img(2, 1, &[[0.0; 3], [100.0; 3]]);
        let mask = Plane::from_vec(2, 1, vec![1.0, 0.25]).unwrap();
        let m = measure(&im, RegionWeights::Mask(&mask)).unwrap();
        // Weighted mean grey = 25 / 1.25 = 20; HSP of grey g is g.
        assert!((m.brightness - 20.0).abs() < 1e-9);
        // The single pair has weight 0.25: contrast is still its own value.
        assert!((m.contrast - 30000.0f64.min(3.0 * 10000.0 / 4.0)).abs() < 1e-9);
    }

    #[test]
    fn contrast_is_capped_and_empty_regions_are_none() {
        let im = img(2, 1, &[[0.0; 3], [255.0; 3]]);
        let m = measure(&im, RegionWeights::Whole).unwrap();
        assert!((m.contrast - (3.0 * 255.0f64 * 255.0 / 4.0).min(CONTRAST_CAP)).abs() < 1e-9);
        assert_eq!(m.contrast, CONTRAST_CAP);
        let zero = Plane::filled(2, 1, 0.0);
        assert!(measure(&im, RegionWeights::Mask(&zero)).is_none());
    }

    #[test]
    fn one_pass_matches_separate_passes() {
        let px: Vec<[f32; 3]> = (0..48)
            .map(|i| {
                [
                    (i * 5 % 255) as f32,
                    (i * 11 % 255) as f32,
                    (i * 17 % 255) as f32,
                ]
            })
            .collect();
        let im = img(8, 6, &px);
        let a = Plane::from_vec(8, 6, (0..48).map(|i| (i % 3) as f32 / 2.0).collect()).unwrap();
        let b = Plane::from_vec(
            8,
            6,
            (0..48).map(|i| if i < 20 { 1.0 } else { 0.0 }).collect(),
        )
        .unwrap();
        let all = measure_regions(
            &im,
            &[
                RegionWeights::Whole,
                RegionWeights::Mask(&a),
                RegionWeights::Mask(&b),
            ],
        );
        assert_eq!(all[0], measure(&im, RegionWeights::Whole));
        assert_eq!(all[1], measure(&im, RegionWeights::Mask(&a)));
        assert_eq!(all[2], measure(&im, RegionWeights::Mask(&b)));
    }
}
