//! Finds operator strengths that move each edited region to its target level.
//!
//! The operators are pointwise, so the solver renders only the analysis proxy
//! (long side ~512) and measures it with the same metric code that verifies the
//! full-resolution output. Regions and attributes interact (brightening raises
//! measured contrast and colourfulness; a global edit shows inside named regions),
//! so each unknown is solved in turn with a bracketed secant (Illinois) search, and
//! the sweep is repeated until all targets hold together.

use super::blend::{blend, split_masks, Combinations};
use super::ops::{PreparedCache, Strength};
use crate::color::{linear_to_srgb_fast, srgb_to_linear};
use crate::error::Result;
use crate::measure::{measure, LevelTables, RegionWeights};
use crate::params::Attribute;
use crate::plane::Plane;
use crate::raster::RgbF32;
use crate::render::Control;
use rayon::prelude::*;

/// Level tolerance the solver aims for.
pub(crate) const TOLERANCE: f64 = 0.004;
const MAX_SWEEPS: usize = 5;
const MAX_EVALS_1D: usize = 14;

/// Strength limits per channel: colourfulness may go to near-grey, the rest are
/// limited to what still looks like a photo.
pub(crate) const LIMITS: [(f32, f32); 4] = [(-8.0, 3.0), (-6.0, 3.0), (-4.0, 4.0), (-6.0, 6.0)];
/// First-guess strength per level unit, per channel.
const GAIN: [f32; 4] = [2.0, 2.0, 3.0, 2.5];

/// Per-region strengths as painted into the per-pixel strength map.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RegionStrength {
    /// Strength per channel where the region sets the attribute.
    pub values: [Option<f32>; 4],
    /// Oklab lightness the region's contrast pivots about.
    pub pivot: f32,
}

/// Rasterises strengths at one pixel exactly as parameter maps are rasterised:
/// start from the global values, then blend each named region by its mask value.
#[inline]
pub(crate) fn pixel_strength(
    global: &Strength,
    regions: &[RegionStrength],
    mask_values: &[f32],
) -> Strength {
    let mut s = *global;
    for (r, &m) in regions.iter().zip(mask_values) {
        if m <= 0.0 {
            continue;
        }
        for (c, v) in r.values.iter().enumerate() {
            if let Some(v) = v {
                s.set(c, s.get(c) * (1.0 - m) + v * m);
            }
        }
        if r.values[1].is_some() {
            s.pivot = s.pivot * (1.0 - m) + r.pivot * m;
        }
    }
    s
}

/// One unknown: a region's attribute, with the weights its level is measured on.
pub(crate) struct Unknown<'a> {
    /// Index into the named regions, or `None` for global.
    pub region: Option<usize>,
    pub channel: usize,
    pub weights: Option<&'a Plane>,
    pub target: f64,
}

/// The analysis proxy and everything needed to render and measure it.
pub(crate) struct Proxy<'a> {
    pub rgb: &'a RgbF32,
    pub linear: Vec<[f32; 3]>,
    /// Refined masks of the named regions at the proxy's size.
    pub masks: &'a [Plane],
    pub tables: &'a LevelTables,
}

impl<'a> Proxy<'a> {
    pub fn new(rgb: &'a RgbF32, masks: &'a [Plane], tables: &'a LevelTables) -> Self {
        let linear = rgb
            .data
            .par_iter()
            .map(|p| p.map(|v| srgb_to_linear(v / 255.0)))
            .collect();
        Proxy {
            rgb,
            linear,
            masks,
            tables,
        }
    }

    /// Renders the proxy under the given strengths (only where `weights` > 0).
    pub fn render(
        &self,
        global: &Strength,
        regions: &[RegionStrength],
        weights: Option<&Plane>,
    ) -> RgbF32 {
        let n = self.rgb.data.len();
        let combos = Combinations::new(global, regions);
        let mut out = self.rgb.clone();
        out.data
            .par_chunks_mut(4096)
            .enumerate()
            .for_each(|(chunk, px)| {
                let mut mv = vec![0f32; self.masks.len()];
                let mut cache = PreparedCache::default();
                for (j, o) in px.iter_mut().enumerate() {
                    let k = chunk * 4096 + j;
                    if k >= n {
                        break;
                    }
                    if let Some(w) = weights {
                        if w.data()[k] <= 0.0 {
                            continue;
                        }
                    }
                    for (v, m) in mv.iter_mut().zip(self.masks) {
                        *v = m.data()[k];
                    }
                    if let Some(split) = split_masks(&mv) {
                        // The renderer's blending model, with exact transforms.
                        let unit = self.rgb.data[k].map(|v| v / 255.0);
                        let c = blend(&split, |key| match combos.get(key) {
                            Some(p) => p.apply(self.linear[k]).map(linear_to_srgb_fast),
                            None => unit,
                        });
                        *o = c.map(|v| v * 255.0);
                        continue;
                    }
                    let s = pixel_strength(global, regions, &mv);
                    if s.is_identity() {
                        continue;
                    }
                    let c = cache.get(&s).apply(self.linear[k]);
                    *o = c.map(|v| linear_to_srgb_fast(v) * 255.0);
                }
            });
        out
    }

    /// Level of one channel on `weights` after rendering with the given strengths.
    pub fn level(
        &self,
        global: &Strength,
        regions: &[RegionStrength],
        weights: Option<&Plane>,
        channel: usize,
    ) -> Option<f64> {
        let img = self.render(global, regions, weights);
        let w = weights.map_or(RegionWeights::Whole, RegionWeights::Mask);
        measure(&img, w).map(|m| {
            self.tables
                .table(Attribute::ALL[channel])
                .level(m.to_array()[channel])
        })
    }
}

/// Outcome of solving one unknown.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Solved {
    pub predicted: f64,
    pub at_limit: bool,
}

fn get(global: &Strength, regions: &[RegionStrength], u: &Unknown<'_>) -> f32 {
    match u.region {
        None => global.get(u.channel),
        Some(i) => regions[i].values[u.channel].unwrap_or(0.0),
    }
}

fn set(global: &mut Strength, regions: &mut [RegionStrength], u: &Unknown<'_>, v: f32) {
    match u.region {
        None => global.set(u.channel, v),
        Some(i) => regions[i].values[u.channel] = Some(v),
    }
}

/// Solves all unknowns jointly by repeated 1-D solves; returns the predicted level of each.
pub(crate) fn solve(
    proxy: &Proxy<'_>,
    global: &mut Strength,
    regions: &mut [RegionStrength],
    unknowns: &[Unknown<'_>],
    ctl: &Control<'_>,
) -> Result<Vec<Solved>> {
    let mut solved = vec![
        Solved {
            predicted: 0.0,
            at_limit: false,
        };
        unknowns.len()
    ];
    for sweep in 0..MAX_SWEEPS {
        // A sweep in which every unknown already sat on its target (its first
        // evaluation) means the later ones did not disturb the earlier: done.
        let mut all_held = true;
        for (i, u) in unknowns.iter().enumerate() {
            ctl.check()?;
            let (s, held) = solve_one(proxy, global, regions, u);
            solved[i] = s;
            all_held &= held || s.at_limit;
            ctl.report(
                "solve",
                (sweep * unknowns.len() + i + 1) as f32 / (MAX_SWEEPS * unknowns.len()) as f32,
            );
        }
        if unknowns.len() == 1 || (all_held && sweep > 0) {
            break;
        }
    }
    // Final predictions with everything in place.
    if unknowns.len() > 1 {
        for (i, u) in unknowns.iter().enumerate() {
            if let Some(l) = proxy.level(global, regions, u.weights, u.channel) {
                solved[i].predicted = l;
            }
        }
    }
    ctl.report("solve", 1.0);
    Ok(solved)
}

/// Solves one unknown with the others fixed; also says whether it already held.
fn solve_one(
    proxy: &Proxy<'_>,
    global: &mut Strength,
    regions: &mut [RegionStrength],
    u: &Unknown<'_>,
) -> (Solved, bool) {
    let (lo, hi) = LIMITS[u.channel];
    let eval = |x: f32, g: &mut Strength, r: &mut [RegionStrength]| -> f64 {
        set(g, r, u, x);
        proxy
            .level(g, r, u.weights, u.channel)
            .map_or(0.0, |l| l - u.target)
    };
    let x0 = get(global, regions, u);
    let f0 = eval(x0, global, regions);
    let mut best = (x0, f0);
    let consider = |x: f32, f: f64, best: &mut (f32, f64)| {
        if f.abs() < best.1.abs() {
            *best = (x, f);
        }
    };
    let finish = |best: (f32, f64), g: &mut Strength, r: &mut [RegionStrength]| {
        set(g, r, u, best.0);
        Solved {
            predicted: best.1 + u.target,
            at_limit: (best.0 <= lo || best.0 >= hi) && best.1.abs() >= TOLERANCE,
        }
    };
    if f0.abs() < TOLERANCE {
        return (finish(best, global, regions), true);
    }
    // Bracket the root, stepping against the error and growing the step.
    let mut a = (x0, f0);
    let mut step = (-(f0 as f32) * GAIN[u.channel]).clamp(-2.0, 2.0);
    if step.abs() < 0.02 {
        step = 0.02 * -(f0.signum() as f32);
    }
    let mut b = None;
    let mut evals = 1;
    while evals < MAX_EVALS_1D {
        let xb = (a.0 + step).clamp(lo, hi);
        let fb = eval(xb, global, regions);
        evals += 1;
        consider(xb, fb, &mut best);
        if fb.abs() < TOLERANCE {
            return (finish(best, global, regions), false);
        }
        if fb.signum() != a.1.signum() {
            b = Some((xb, fb));
            break;
        }
        if xb <= lo || xb >= hi {
            // The target lies beyond what the operator can do.
            return (finish(best, global, regions), false);
        }
        // Secant extrapolation when it points the right way, else double the step.
        let slope = (fb - a.1) / (xb - a.0) as f64;
        let next = if slope > 1e-6 {
            (-fb / slope) as f32 * 1.3
        } else {
            step * 2.0
        };
        step = if next.signum() == step.signum() {
            next.clamp(-4.0, 4.0)
        } else {
            step * 2.0
        };
        a = (xb, fb);
    }
    let Some(mut b) = b else {
        return (finish(best, global, regions), false);
    };
    // Illinois false position inside the bracket.
    let mut side = 0;
    while evals < MAX_EVALS_1D {
        let denom = b.1 - a.1;
        let xc = if denom.abs() > 1e-12 {
            ((a.0 as f64 * b.1 - b.0 as f64 * a.1) / denom) as f32
        } else {
            0.5 * (a.0 + b.0)
        };
        let fc = eval(xc, global, regions);
        evals += 1;
        consider(xc, fc, &mut best);
        if fc.abs() < TOLERANCE {
            break;
        }
        if fc.signum() == b.1.signum() {
            b = (xc, fc);
            if side == -1 {
                a.1 /= 2.0;
            }
            side = -1;
        } else {
            a = (xc, fc);
            if side == 1 {
                b.1 /= 2.0;
            }
            side = 1;
        }
    }
    (finish(best, global, regions), false)
}
