//! How large an edit looks: CIEDE2000 colour differences between two renders of a
//! photo, in CIELAB (D65), by palette's colour science.
//!
//! The four attributes' levels say *what* changed; this says *how much* a person
//! sees change. The agent sizes its wording with it ("a little" is a small visible
//! change on every photo, whatever the levels), and the tests hold edits to it.

use crate::plane::Plane;
use crate::raster::RgbF32;
use palette::color_difference::Ciede2000;
use palette::white_point::D65;
use palette::{FromColor, Lab, Srgb};
use rayon::prelude::*;

/// CIELAB (D65) of an 8-bit-scaled sRGB colour (channels 0..255).
#[inline]
pub fn lab_of_srgb255(p: [f32; 3]) -> [f32; 3] {
    let lab = Lab::<D65, f32>::from_color(Srgb::new(
        (p[0] / 255.0).clamp(0.0, 1.0),
        (p[1] / 255.0).clamp(0.0, 1.0),
        (p[2] / 255.0).clamp(0.0, 1.0),
    ));
    [lab.l, lab.a, lab.b]
}

/// CIEDE2000 difference of two CIELAB colours.
#[inline]
pub fn delta_e00(a: [f32; 3], b: [f32; 3]) -> f32 {
    Lab::<D65, f32>::new(a[0], a[1], a[2]).difference(Lab::new(b[0], b[1], b[2]))
}

/// The size of a change between two renders of the same photo over a region.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ChangeSize {
    /// Mean CIEDE2000 difference, weighted by the region.
    pub mean: f64,
    /// 99th percentile of the difference over the region's pixels (weight >= 0.5).
    pub p99: f64,
    /// Mean change of CIELAB a* (green to red/magenta) and b* (blue to yellow).
    pub mean_da: f64,
    pub mean_db: f64,
    /// Mean change of CIELAB L*.
    pub mean_dl: f64,
}

/// How large the change from `before` to `after` (same size) looks over `weights`
/// (`None`: the whole frame). `None` when the region has no weight.
///
/// Panics if the sizes differ; callers render both at one size.
pub fn change_size(before: &RgbF32, after: &RgbF32, weights: Option<&Plane>) -> Option<ChangeSize> {
    assert_eq!(
        (before.width, before.height),
        (after.width, after.height),
        "both renders have one size"
    );
    if let Some(w) = weights {
        assert_eq!((w.width(), w.height()), (before.width, before.height));
    }
    // Per pixel: weight, dE00, da, db, dL.
    let per: Vec<[f32; 5]> = before
        .data
        .par_iter()
        .zip(&after.data)
        .enumerate()
        .map(|(k, (p, q))| {
            let w = weights.map_or(1.0, |w| w.data()[k]);
            if w <= 0.0 {
                return [0.0; 5];
            }
            let (a, b) = (lab_of_srgb255(*p), lab_of_srgb255(*q));
            [w, delta_e00(a, b), b[1] - a[1], b[2] - a[2], b[0] - a[0]]
        })
        .collect();
    let mut sums = [0f64; 5];
    for v in &per {
        sums[0] += v[0] as f64;
        for k in 1..5 {
            sums[k] += (v[0] * v[k]) as f64;
        }
    }
    if sums[0] < 1e-3 {
        return None;
    }
    let mut inside: Vec<f32> = per.iter().filter(|v| v[0] >= 0.5).map(|v| v[1]).collect();
    let p99 = quantile(&mut inside, 0.99);
    Some(ChangeSize {
        mean: sums[1] / sums[0],
        p99,
        mean_da: sums[2] / sums[0],
        mean_db: sums[3] / sums[0],
        mean_dl: sums[4] / sums[0],
    })
}

/// The `q` quantile of CIELAB chroma (C*ab) over the photo: how much colour is left.
pub fn chroma_quantile(img: &RgbF32, q: f64) -> f64 {
    let mut c: Vec<f32> = img
        .data
        .par_iter()
        .map(|p| {
            let lab = lab_of_srgb255(*p);
            lab[1].hypot(lab[2])
        })
        .collect();
    quantile(&mut c, q)
}

/// The `q` quantile (nearest rank) of `v`, reordering it; 0 when empty.
fn quantile(v: &mut [f32], q: f64) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    let i = ((v.len() - 1) as f64 * q.clamp(0.0, 1.0)).round() as usize;
    let (_, x, _) = v.select_nth_unstable_by(i, |a, b| a.total_cmp(b));
    *x as f64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_ciede2000_pairs() {
        // Sharma, Wu & Dalal (2005), test data pairs 1 and 17.
        let d = delta_e00([50.0, 2.6772, -79.7751], [50.0, 0.0, -82.7485]);
        assert!((d - 2.0425).abs() < 1e-3, "{d}");
        let d = delta_e00([50.0, 2.5, 0.0], [73.0, 25.0, -18.0]);
        assert!((d - 27.1492).abs() < 1e-3, "{d}");
        // sRGB white is L* 100, a* = b* = 0.
        let w = lab_of_srgb255([255.0; 3]);
        assert!(
            (w[0] - 100.0).abs() < 0.05 && w[1].abs() < 0.05 && w[2].abs() < 0.05,
            "{w:?}"
        );
    }

    #[test]
    fn change_size_of_a_uniform_shift() {
        let a = RgbF32::from_fn(8, 4, |x, _| [100.0 + x as f32, 120.0, 140.0]);
        let b = RgbF32::from_fn(8, 4, |x, _| [110.0 + x as f32, 120.0, 130.0]);
        let s = change_size(&a, &b, None).unwrap();
        assert!(s.mean > 1.0 && s.p99 >= s.mean * 0.9);
        // Redder and yellower.
        assert!(s.mean_da > 0.0 && s.mean_db > 0.0);
        assert_eq!(change_size(&a, &a, None).unwrap().mean, 0.0);
        let none = Plane::filled(8, 4, 0.0);
        assert!(change_size(&a, &b, Some(&none)).is_none());
        assert!(chroma_quantile(&RgbF32::from_fn(4, 4, |_, _| [90.0; 3]), 0.99) < 0.01);
    }
}
