//! Edge-aware mask refinement with the fast guided filter (He & Sun 2015).
//!
//! Linear coefficients (a, b) are fitted on a small grid between the guide's
//! lightness and the rough mask, smoothed, and kept. A refined mask value anywhere,
//! at any resolution, is then `a(u, v) * I + b(u, v)` with the pixel's own guide
//! value I, so transitions snap to the photo's edges at full resolution, and tiles
//! or proxies of the same frame get the same mask.

use crate::plane::{fit_long_side, Plane};

/// Options for refinement.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RefineOptions {
    /// Long side of the coefficient grid, in pixels.
    pub grid_long_side: usize,
    /// Filter radius as a fraction of the grid's long side.
    pub radius_fraction: f32,
    /// Regularisation: larger smooths more across weak edges.
    pub epsilon: f32,
}

impl Default for RefineOptions {
    fn default() -> Self {
        RefineOptions {
            grid_long_side: 512,
            radius_fraction: 0.02,
            epsilon: 2e-3,
        }
    }
}

/// Mask values below this are treated as outside, above `1 - SNAP` as inside:
/// pixels clearly outside a region are left exactly untouched.
const SNAP: f32 = 0.02;

/// Guide value of an sRGB-encoded colour in [0, 1]: its luma.
#[inline]
pub fn guide_value(rgb_unit: [f32; 3]) -> f32 {
    0.299 * rgb_unit[0] + 0.587 * rgb_unit[1] + 0.114 * rgb_unit[2]
}

/// A refined region mask, evaluable at any pixel of any scale.
#[derive(Debug, Clone, PartialEq)]
pub struct RefinedMask {
    a: Plane,
    b: Plane,
}

impl RefinedMask {
    /// Refines `rough` (any size with the image's aspect) against `guide`
    /// (guide values of the image at any size with the same aspect).
    pub fn refine(rough: &Plane, guide: &Plane, opts: &RefineOptions) -> RefinedMask {
        let (gw, gh) = fit_long_side(guide.width(), guide.height(), opts.grid_long_side);
        let i = guide.resized(gw, gh);
        let p = rough.resized(gw, gh).map(|v| v.clamp(0.0, 1.0));
        let r = ((gw.max(gh) as f32 * opts.radius_fraction).round() as usize).max(1);
        let mean_i = i.box_mean(r);
        let mean_p = p.box_mean(r);
        let corr_ii = i.zip_map(&i, |x, y| x * y).box_mean(r);
        let corr_ip = i.zip_map(&p, |x, y| x * y).box_mean(r);
        let eps = opts.epsilon;
        let n = gw * gh;
        let mut a = Vec::with_capacity(n);
        let mut b = Vec::with_capacity(n);
        for k in 0..n {
            let mi = mean_i.data()[k];
            let mp = mean_p.data()[k];
            let var = corr_ii.data()[k] - mi * mi;
            let cov = corr_ip.data()[k] - mi * mp;
            let ak = cov / (var + eps);
            a.push(ak);
            b.push(mp - ak * mi);
        }
        let a = Plane::from_vec(gw, gh, a).expect("sizes match").box_mean(r);
        let b = Plane::from_vec(gw, gh, b).expect("sizes match").box_mean(r);
        RefinedMask { a, b }
    }

    /// A mask used as given, without refinement (still evaluable at any scale).
    pub fn unrefined(rough: &Plane, opts: &RefineOptions) -> RefinedMask {
        let (gw, gh) = fit_long_side(rough.width(), rough.height(), opts.grid_long_side.max(1024));
        RefinedMask {
            a: Plane::filled(gw, gh, 0.0),
            b: rough.resized(gw, gh).map(|v| v.clamp(0.0, 1.0)),
        }
    }

    /// Mask value at normalised position (u, v) for a pixel whose guide value is `guide`.
    #[inline]
    pub fn value(&self, u: f32, v: f32, guide: f32) -> f32 {
        snap(self.a.sample_normalized(u, v) * guide + self.b.sample_normalized(u, v))
    }

    /// Prepares fast evaluation along one row: the coefficients interpolated at
    /// normalised height `v`, and per-column interpolation positions for a row of
    /// `width` pixels starting at `x0` in a frame `frame_width` wide.
    pub fn row_evaluator(&self, x0: usize, width: usize, frame_width: usize) -> RowEvaluator {
        let gw = self.a.width();
        let columns = (0..width)
            .map(|x| {
                let u = ((x0 + x) as f32 + 0.5) / frame_width as f32;
                let fx = (u * gw as f32 - 0.5).clamp(0.0, (gw - 1) as f32);
                let i0 = fx as usize;
                (i0 as u32, (i0 + 1).min(gw - 1) as u32, fx - i0 as f32)
            })
            .collect();
        RowEvaluator {
            columns,
            a: vec![0.0; gw],
            b: vec![0.0; gw],
            constant: None,
        }
    }

    /// Loads the coefficients of normalised height `v` into `row`, and notes when the
    /// mask is the same (0 or 1) for every pixel of the row whatever its guide value.
    pub fn load_row(&self, v: f32, row: &mut RowEvaluator) {
        self.a.lerp_row_normalized(v, &mut row.a);
        self.b.lerp_row_normalized(v, &mut row.b);
        // q = a * guide + b with guide in [0, 1]: its extremes are b and a + b.
        let (mut lo, mut hi) = (f32::INFINITY, f32::NEG_INFINITY);
        for (&a, &b) in row.a.iter().zip(&row.b) {
            lo = lo.min(b).min(a + b);
            hi = hi.max(b).max(a + b);
        }
        row.constant = if hi <= SNAP {
            Some(0.0)
        } else if lo >= 1.0 - SNAP {
            Some(1.0)
        } else {
            None
        };
    }
}

/// A refined mask prepared for one row of a tile (see [`RefinedMask::row_evaluator`]).
#[derive(Debug, Clone)]
pub struct RowEvaluator {
    columns: Vec<(u32, u32, f32)>,
    a: Vec<f32>,
    b: Vec<f32>,
    /// The mask's value along the whole row, when it does not vary.
    constant: Option<f32>,
}

impl RowEvaluator {
    /// The mask's value along the whole row, when it does not vary.
    pub fn constant(&self) -> Option<f32> {
        self.constant
    }

    /// Mask value at column `x` of the row for a pixel with guide value `guide`.
    #[inline]
    pub fn value(&self, x: usize, guide: f32) -> f32 {
        if let Some(c) = self.constant {
            return c;
        }
        let (i0, i1, t) = self.columns[x];
        let (i0, i1) = (i0 as usize, i1 as usize);
        let a = self.a[i0] + (self.a[i1] - self.a[i0]) * t;
        let b = self.b[i0] + (self.b[i1] - self.b[i0]) * t;
        snap(a * guide + b)
    }
}

#[inline]
fn snap(q: f32) -> f32 {
    ((q - SNAP) / (1.0 - 2.0 * SNAP)).clamp(0.0, 1.0)
}

impl RefinedMask {
    /// The mask rasterised at `guide`'s size.
    pub fn to_plane(&self, guide: &Plane) -> Plane {
        let (w, h) = (guide.width(), guide.height());
        let data = (0..w * h)
            .map(|k| {
                let (x, y) = (k % w, k / w);
                self.value(
                    (x as f32 + 0.5) / w as f32,
                    (y as f32 + 0.5) / h as f32,
                    guide.data()[k],
                )
            })
            .collect();
        Plane::from_vec(w, h, data).expect("sizes match")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A guide with a sharp vertical edge at x = 60 of 100, and a rough mask whose
    /// edge is off by 8 pixels: the refined mask must follow the guide's edge.
    #[test]
    fn refined_edge_snaps_to_the_guide_edge() {
        let (w, h) = (100, 40);
        let guide = Plane::from_vec(
            w,
            h,
            (0..w * h)
                .map(|k| if k % w < 60 { 0.8 } else { 0.2 })
                .collect(),
        )
        .unwrap();
        let rough = Plane::from_vec(
            w,
            h,
            (0..w * h)
                .map(|k| if k % w < 52 { 1.0 } else { 0.0 })
                .collect(),
        )
        .unwrap();
        let opts = RefineOptions {
            grid_long_side: 100,
            radius_fraction: 0.1,
            epsilon: 1e-3,
        };
        let m = RefinedMask::refine(&rough, &guide, &opts).to_plane(&guide);
        let y = h / 2;
        // The selection stops exactly at the photo's edge: a step there, nothing past it.
        assert!(m.at(59, y) > 0.2, "{}", m.at(59, y));
        assert!(
            (60..w).all(|x| m.at(x, y) == 0.0),
            "no spill past the guide edge"
        );
        // Between the rough edge and the true edge the mask ramps down, never up.
        assert!((40..60).all(|x| m.at(x, y) >= m.at(x + 1, y)));
        assert!(m.at(56, y) > m.at(59, y));
        // Deep inside: fully selected.
        assert_eq!(m.at(5, y), 1.0);
    }

    #[test]
    fn same_value_at_any_scale_for_flat_regions() {
        let guide = Plane::filled(64, 32, 0.5);
        let rough = Plane::from_vec(
            64,
            32,
            (0..64 * 32)
                .map(|k| if k % 64 < 32 { 1.0 } else { 0.0 })
                .collect(),
        )
        .unwrap();
        let m = RefinedMask::refine(&rough, &guide, &RefineOptions::default());
        let full = m.to_plane(&guide);
        let half = m.to_plane(&guide.resized(32, 16));
        assert!((full.at(10, 10) - half.at(5, 5)).abs() < 1e-3);
    }
}
