//! Finds operator strengths that move each edited region to its target level.
//!
//! The operators are pointwise, so the solver renders only the analysis proxy
//! (long side ~512) and measures it with the same metric code that verifies the
//! full-resolution output. Regions and attributes interact (brightening raises
//! measured contrast and colourfulness; a global edit shows inside named regions),
//! so each unknown is solved in turn with a bracketed secant (Illinois) search, and
//! the sweep is repeated until all targets hold together; no proxy render is
//! repeated for a measurement that still holds (see [`solve`]). Levels are read on the
//! extended scale (past +-1 beyond the level tables' ends), so a region at an end
//! can still be moved and measured.

use super::blend::{blend, pixel_strength, split_masks, Combinations, RegionStrength};
use super::ops::{PreparedCache, Strength};
use crate::color::linear_to_srgb_fast;
use crate::error::Result;
use crate::measure::{measure, LevelTables, RegionWeights};
use crate::params::Attribute;
use crate::plane::Plane;
use crate::raster::RgbF32;
use crate::render::Control;
use parking_lot::Mutex;
use rayon::prelude::*;

/// Level tolerance the solver aims for.
pub(crate) const TOLERANCE: f64 = 0.01;
const MAX_SWEEPS: usize = 5;
const MAX_EVALS_1D: usize = 14;

/// Strength limits per channel: colourfulness may go to near-grey, the rest are
/// limited to what still looks like a photo. White balance is in hundreds of
/// mireds, within the white-balance locus (`color::LOCUS_MIRED_RANGE`).
pub(crate) const LIMITS: [(f32, f32); 4] = [(-8.0, 3.0), (-6.0, 3.0), (-5.5, 6.4), (-6.0, 6.0)];
/// First-guess strength per level unit, per channel.
const GAIN: [f32; 4] = [2.0, 2.0, 2.0, 2.5];

/// One unknown: a region's attribute, with the weights its level is measured on.
pub(crate) struct Unknown<'a> {
    /// Index into the named regions, or `None` for global.
    pub region: Option<usize>,
    pub channel: usize,
    pub weights: Option<&'a Plane>,
    pub target: f64,
    /// Known already at the current strength (a re-plan after a slider moved).
    pub start: Option<Start>,
}

/// What a re-plan knows of an unknown before rendering anything.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Start {
    /// The level at the current strength.
    pub level: f64,
    /// Level change per unit strength, when known.
    pub slope: Option<f64>,
}

/// The analysis proxy and everything needed to render and measure it.
pub(crate) struct Proxy<'a> {
    pub rgb: &'a RgbF32,
    pub linear: &'a [[f32; 3]],
    /// Refined masks of the named regions at the proxy's size.
    pub masks: &'a [Plane],
    pub tables: &'a LevelTables,
    /// Proxy renders so far (for the debug log).
    pub evaluations: std::sync::atomic::AtomicUsize,
    /// The last render of the whole proxy, with the strengths it was made with:
    /// every group can be measured on it while those strengths stand.
    last_whole: Mutex<Option<WholeRender>>,
}

struct WholeRender {
    global: Strength,
    regions: Vec<RegionStrength>,
    image: RgbF32,
}

impl<'a> Proxy<'a> {
    /// The proxy `rgb` (0-255 sRGB) with its linear-light copy `linear`.
    pub fn with_linear(
        rgb: &'a RgbF32,
        linear: &'a [[f32; 3]],
        masks: &'a [Plane],
        tables: &'a LevelTables,
    ) -> Self {
        Proxy {
            rgb,
            linear,
            masks,
            tables,
            evaluations: Default::default(),
            last_whole: Mutex::new(None),
        }
    }

    /// Renders the proxy under the given strengths (only where `weights` > 0).
    pub fn render(
        &self,
        global: &Strength,
        regions: &[RegionStrength],
        weights: Option<&Plane>,
    ) -> RgbF32 {
        self.evaluations
            .fetch_add(1, std::sync::atomic::Ordering::Relaxed);
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
                        let lin = self.linear[k];
                        let c = blend(&split, |key| match combos.get(key) {
                            Some(p) => p.apply(lin),
                            None => lin,
                        });
                        *o = c.map(|v| linear_to_srgb_fast(v) * 255.0);
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
        self.render_then(global, regions, weights, |img| {
            let w = weights.map_or(RegionWeights::Whole, RegionWeights::Mask);
            measure(img, w).map(|m| {
                self.tables
                    .level_ext(Attribute::ALL[channel], m.to_array()[channel])
            })
        })
    }

    /// Renders (see [`Proxy::render`]) and reads the render with `read`; a render
    /// of the whole proxy is kept for [`Proxy::residuals_if_rendered`].
    fn render_then<T>(
        &self,
        global: &Strength,
        regions: &[RegionStrength],
        weights: Option<&Plane>,
        read: impl FnOnce(&RgbF32) -> T,
    ) -> T {
        let image = self.render(global, regions, weights);
        let value = read(&image);
        if weights.is_none() {
            *self.last_whole.lock() = Some(WholeRender {
                global: *global,
                regions: regions.to_vec(),
                image,
            });
        }
        value
    }

    /// Residuals of `group` measured on the last whole render, if it was made with
    /// exactly these strengths.
    fn residuals_if_rendered(
        &self,
        global: &Strength,
        regions: &[RegionStrength],
        group: &[&Unknown<'_>],
    ) -> Option<Vec<f64>> {
        let last = self.last_whole.lock();
        let r = last.as_ref()?;
        (r.global == *global && r.regions == regions).then(|| self.residuals_on(&r.image, group))
    }

    /// Residuals (level - target) of each of `group` measured on `img`, each on its
    /// own weights (measured once per distinct weights).
    fn residuals_on(&self, img: &RgbF32, group: &[&Unknown<'_>]) -> Vec<f64> {
        let mut measured: Vec<(Option<&Plane>, Option<[f64; 4]>)> = Vec::new();
        group
            .iter()
            .map(|u| {
                let m = match measured.iter().find(|(w, _)| same_weights(*w, u.weights)) {
                    Some((_, m)) => *m,
                    None => {
                        let w = u.weights.map_or(RegionWeights::Whole, RegionWeights::Mask);
                        let m = measure(img, w).map(|m| m.to_array());
                        measured.push((u.weights, m));
                        m
                    }
                };
                m.map_or(0.0, |m| {
                    self.tables
                        .level_ext(Attribute::ALL[u.channel], m[u.channel])
                        - u.target
                })
            })
            .collect()
    }
}

/// Outcome of solving one unknown.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Solved {
    pub predicted: f64,
    pub at_limit: bool,
    /// Level change per unit strength learnt on the way (solved alone only).
    pub slope: Option<f64>,
}

/// The strength `u` stands at now.
pub(crate) fn strength_of(global: &Strength, regions: &[RegionStrength], u: &Unknown<'_>) -> f32 {
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
///
/// Proxy renders are what the solve costs, so it renders as few as it can: each
/// group's residuals are kept with the version of the strengths they were measured
/// at, and a group nothing has moved since (no other group changed a strength after
/// its last render) is neither measured nor solved again; a render of the whole
/// proxy standing after a group moved measures every other group; a
/// multi-attribute group keeps its Jacobian from one sweep to the next.
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
            slope: None,
        };
        unknowns.len()
    ];
    // Level change per unit strength, learnt per unknown and reused by later sweeps.
    let mut slopes: Vec<f64> = unknowns
        .iter()
        .map(|u| {
            u.start
                .and_then(|s| s.slope)
                .unwrap_or(1.0 / GAIN[u.channel] as f64)
        })
        .collect();
    // Unknowns of one region are measured together and solved jointly.
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (i, u) in unknowns.iter().enumerate() {
        match groups.last_mut() {
            Some(g) if unknowns[g[0]].region == u.region => g.push(i),
            _ => groups.push(vec![i]),
        }
    }
    // Strengths change version by version; each group's residuals as last measured,
    // with the version they hold for. A re-plan's known start is version 0's.
    let mut version = 0u64;
    let mut known: Vec<Option<(u64, Vec<f64>)>> = groups
        .iter()
        .map(|g| match g[..] {
            [i] => unknowns[i]
                .start
                .map(|s| (0, vec![s.level - unknowns[i].target])),
            _ => None,
        })
        .collect();
    let mut jacobians: Vec<Option<Jacobian>> = vec![None; groups.len()];
    let mut converged = false;
    for sweep in 0..MAX_SWEEPS {
        // A sweep in which every unknown already sat near its target (its first
        // evaluation) means the later ones did not disturb the earlier: done.
        let mut all_held = true;
        for (gi, group) in groups.iter().enumerate() {
            ctl.check()?;
            let current = known[gi]
                .as_ref()
                .filter(|(v, _)| *v == version)
                .map(|(_, f)| f.clone());
            let before: Vec<f32> = group
                .iter()
                .map(|&i| strength_of(global, regions, &unknowns[i]))
                .collect();
            let residuals = if let [i] = group[..] {
                let (s, held) = solve_one(
                    proxy,
                    global,
                    regions,
                    &unknowns[i],
                    &mut slopes[i],
                    current.map(|f| f[0]),
                );
                solved[i] = Solved {
                    slope: Some(slopes[i]),
                    ..s
                };
                all_held &= held || s.at_limit;
                vec![s.predicted - unknowns[i].target]
            } else {
                let members: Vec<&Unknown<'_>> = group.iter().map(|&i| &unknowns[i]).collect();
                let (results, held) = solve_group(
                    proxy,
                    global,
                    regions,
                    &members,
                    current,
                    &mut jacobians[gi],
                );
                for (&i, s) in group.iter().zip(&results) {
                    solved[i] = *s;
                    all_held &= held || s.at_limit;
                }
                group
                    .iter()
                    .zip(&results)
                    .map(|(&i, s)| s.predicted - unknowns[i].target)
                    .collect()
            };
            let moved = group
                .iter()
                .zip(&before)
                .any(|(&i, &b)| strength_of(global, regions, &unknowns[i]) != b);
            if moved {
                version += 1;
                // A whole-proxy render of the strengths now standing (the global
                // edit's last) measures every other group too.
                for (gj, other) in groups.iter().enumerate().filter(|(gj, _)| *gj != gi) {
                    let members: Vec<&Unknown<'_>> = other.iter().map(|&i| &unknowns[i]).collect();
                    if let Some(f) = proxy.residuals_if_rendered(global, regions, &members) {
                        known[gj] = Some((version, f));
                    }
                }
            }
            known[gi] = Some((version, residuals));
            ctl.report(
                "solve",
                (sweep * groups.len() + gi + 1) as f32 / (MAX_SWEEPS * groups.len()) as f32,
            );
        }
        tracing::trace!(sweep, all_held, residuals = ?solved.iter().zip(unknowns).map(|(s, u)| s.predicted - u.target).collect::<Vec<_>>(), "solver sweep");
        if groups.len() == 1 || (all_held && sweep > 0) {
            converged = true;
            break;
        }
    }
    // A sweep in which everything held already measured the final state; otherwise
    // measure what moved since it was measured, with everything in place.
    if !converged {
        for (gi, group) in groups.iter().enumerate() {
            if known[gi].as_ref().is_some_and(|(v, _)| *v == version) {
                continue;
            }
            for &i in group {
                let u = &unknowns[i];
                if let Some(l) = proxy.level(global, regions, u.weights, u.channel) {
                    solved[i].predicted = l;
                }
            }
        }
    }
    ctl.report("solve", 1.0);
    Ok(solved)
}

/// A multi-attribute group's Jacobian: level change of each attribute per unit
/// strength of each.
type Jacobian = Vec<Vec<f64>>;

/// Residuals (level - target) of all unknowns of one region after one proxy render.
/// Each is measured on its own weights: the global attributes of one group can be
/// measured on different parts of the photo (a global temperature where no named
/// region sets temperature, a global contrast on the whole frame), and measuring
/// them all on the first one's weights sent the solver after the wrong level.
fn group_residuals(
    proxy: &Proxy<'_>,
    global: &Strength,
    regions: &[RegionStrength],
    group: &[&Unknown<'_>],
) -> Vec<f64> {
    let shared = group
        .iter()
        .all(|u| same_weights(u.weights, group[0].weights));
    // One render serves every member: where the weights differ, the whole proxy.
    let weights = if shared { group[0].weights } else { None };
    proxy.render_then(global, regions, weights, |img| {
        proxy.residuals_on(img, group)
    })
}

/// Whether two targets are measured on the same weights. Targets hold their own
/// copies of a region's mask: equal values are the same weights (pointers alone
/// made every multi-attribute region render the whole proxy).
fn same_weights(a: Option<&Plane>, b: Option<&Plane>) -> bool {
    match (a, b) {
        (None, None) => true,
        (Some(a), Some(b)) => std::ptr::eq(a, b) || a == b,
        _ => false,
    }
}

/// Solves `a x = b` for a small square system (Gaussian elimination with partial
/// pivoting); `None` when it is (nearly) singular.
fn solve_linear(mut a: Vec<Vec<f64>>, mut b: Vec<f64>) -> Option<Vec<f64>> {
    let n = b.len();
    for c in 0..n {
        let p = (c..n).max_by(|&i, &j| a[i][c].abs().total_cmp(&a[j][c].abs()))?;
        if a[p][c].abs() < 1e-9 {
            return None;
        }
        a.swap(c, p);
        b.swap(c, p);
        for r in c + 1..n {
            let f = a[r][c] / a[c][c];
            let (top, rest) = a.split_at_mut(r);
            for (x, p) in rest[0][c..].iter_mut().zip(&top[c][c..]) {
                *x -= f * p;
            }
            b[r] -= f * b[c];
        }
    }
    let mut x = vec![0.0; n];
    for r in (0..n).rev() {
        let s: f64 = (r + 1..n).map(|k| a[r][k] * x[k]).sum();
        x[r] = (b[r] - s) / a[r][r];
    }
    Some(x)
}

/// Solves all attributes of one region jointly (they share one measurement and can
/// pull on each other hard: cooling a blue sky raises its colourfulness, saturating
/// it cools it): a Newton step from a finite-difference Jacobian, then Broyden
/// updates, one proxy render per step. Also says whether it already held.
fn solve_group(
    proxy: &Proxy<'_>,
    global: &mut Strength,
    regions: &mut [RegionStrength],
    group: &[&Unknown<'_>],
    known: Option<Vec<f64>>,
    learnt: &mut Option<Jacobian>,
) -> (Vec<Solved>, bool) {
    const MAX_STEPS: usize = 8;
    const PROBE: f32 = 0.3;
    let k = group.len();
    let worst = |f: &[f64]| f.iter().fold(0f64, |m, v| m.max(v.abs()));
    let set_all = |g: &mut Strength, r: &mut [RegionStrength], x: &[f32]| {
        for (u, &v) in group.iter().zip(x) {
            set(g, r, u, v);
        }
    };
    let mut x: Vec<f32> = group
        .iter()
        .map(|u| strength_of(global, regions, u))
        .collect();
    let mut f = known.unwrap_or_else(|| group_residuals(proxy, global, regions, group));
    let held = worst(&f) < 2.0 * TOLERANCE;
    let mut best = (x.clone(), f.clone());
    if worst(&f) >= TOLERANCE {
        // Jacobian by forward differences, probing toward the inside of the limits
        // (or the one an earlier sweep learnt).
        let probe = learnt.is_none();
        let mut jac = learnt.take().unwrap_or_else(|| vec![vec![0.0; k]; k]);
        for j in (0..k).filter(|_| probe) {
            let (lo, hi) = LIMITS[group[j].channel];
            let h = if x[j] + PROBE <= hi { PROBE } else { -PROBE };
            let mut xp = x.clone();
            xp[j] = (x[j] + h).clamp(lo, hi);
            set_all(global, regions, &xp);
            let fp = group_residuals(proxy, global, regions, group);
            for i in 0..k {
                jac[i][j] = (fp[i] - f[i]) / (xp[j] - x[j]) as f64;
            }
            if worst(&fp) < worst(&best.1) {
                best = (xp.clone(), fp);
            }
        }
        for _ in 0..MAX_STEPS {
            let neg: Vec<f64> = f.iter().map(|v| -v).collect();
            // Each attribute's own slope: the step when the coupled system is singular,
            // or nearly so (a Newton step far longer than every attribute's own says
            // the Jacobian has gone flat along some direction, and leaps off).
            let own: Vec<f64> = (0..k)
                .map(|i| {
                    if jac[i][i].abs() > 1e-6 {
                        neg[i] / jac[i][i]
                    } else {
                        0.0
                    }
                })
                .collect();
            let dx = match solve_linear(jac.clone(), neg.clone()) {
                Some(dx) if worst(&dx) <= 3.0 * worst(&own).max(0.1) => dx,
                _ => own,
            };
            let x1: Vec<f32> = (0..k)
                .map(|i| {
                    let (lo, hi) = LIMITS[group[i].channel];
                    (x[i] + (dx[i] as f32).clamp(-2.0, 2.0)).clamp(lo, hi)
                })
                .collect();
            set_all(global, regions, &x1);
            let f1 = group_residuals(proxy, global, regions, group);
            if worst(&f1) < worst(&best.1) {
                best = (x1.clone(), f1.clone());
            }
            if worst(&f1) < TOLERANCE {
                break;
            }
            // Broyden's update: J += ((df - J dx) dx^T) / |dx|^2.
            let step: Vec<f64> = (0..k).map(|i| (x1[i] - x[i]) as f64).collect();
            let norm: f64 = step.iter().map(|v| v * v).sum();
            if norm < 1e-12 {
                break;
            }
            for i in 0..k {
                let predicted: f64 = (0..k).map(|j| jac[i][j] * step[j]).sum();
                let err = (f1[i] - f[i]) - predicted;
                for j in 0..k {
                    jac[i][j] += err * step[j] / norm;
                }
            }
            x = x1;
            f = f1;
        }
        *learnt = Some(jac);
    }
    set_all(global, regions, &best.0);
    let results = group
        .iter()
        .zip(best.0.iter().zip(&best.1))
        .map(|(u, (&xi, &fi))| {
            let (lo, hi) = LIMITS[u.channel];
            Solved {
                predicted: fi + u.target,
                at_limit: (xi <= lo || xi >= hi) && fi.abs() >= TOLERANCE,
                slope: None,
            }
        })
        .collect();
    (results, held)
}

/// Solves one unknown with the others fixed; also says whether it already held.
fn solve_one(
    proxy: &Proxy<'_>,
    global: &mut Strength,
    regions: &mut [RegionStrength],
    u: &Unknown<'_>,
    slope: &mut f64,
    known: Option<f64>,
) -> (Solved, bool) {
    let (lo, hi) = LIMITS[u.channel];
    let eval = |x: f32, g: &mut Strength, r: &mut [RegionStrength]| -> f64 {
        set(g, r, u, x);
        proxy
            .level(g, r, u.weights, u.channel)
            .map_or(0.0, |l| l - u.target)
    };
    let x0 = strength_of(global, regions, u);
    let f0 = match known {
        Some(f) => f,
        None => eval(x0, global, regions),
    };
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
            slope: None,
        }
    };
    // Held: the others' moves left this one close enough that the sweep may stop.
    let held = f0.abs() < 2.0 * TOLERANCE;
    tracing::trace!(channel = u.channel, region = ?u.region, f0, held, "unknown start");
    if f0.abs() < TOLERANCE {
        return (finish(best, global, regions), held);
    }
    // Bracket the root, stepping against the error and growing the step.
    let mut a = (x0, f0);
    let mut step = (-f0 / *slope).clamp(-2.0, 2.0) as f32;
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
        let local = (fb - a.1) / (xb - a.0) as f64;
        if local > 1e-4 && local.is_finite() {
            *slope = local;
        }
        if fb.abs() < TOLERANCE {
            return (finish(best, global, regions), held);
        }
        if fb.signum() != a.1.signum() {
            b = Some((xb, fb));
            break;
        }
        if xb <= lo || xb >= hi {
            // The target lies beyond what the operator can do.
            return (finish(best, global, regions), held);
        }
        // Secant extrapolation when it points the right way, else double the step
        // (overshooting a little to bracket the root, unless the start was known:
        // then the secant is a good step).
        let overshoot = if u.start.is_some() { 1.0 } else { 1.3 };
        let next = if local > 1e-6 {
            (-fb / local) as f32 * overshoot
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
        return (finish(best, global, regions), held);
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
    (finish(best, global, regions), held)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::color::srgb_to_linear;

    /// A textured proxy: blue sky over green-brown ground, and the two halves' masks.
    fn proxy_parts() -> (RgbF32, Vec<[f32; 3]>, Vec<Plane>) {
        let (w, h) = (96, 64);
        let data: Vec<[f32; 3]> = (0..w * h)
            .map(|k| {
                let (x, y) = (k % w, k / w);
                let n = ((x * 7919 + y * 104_729) % 97) as f32 / 97.0;
                if y < h / 2 {
                    [90.0 + 30.0 * n, 140.0 + 25.0 * n, 220.0 + 20.0 * n]
                } else {
                    [80.0 + 60.0 * n, 110.0 + 50.0 * n, 40.0 + 30.0 * n]
                }
            })
            .collect();
        let linear = data
            .iter()
            .map(|p| p.map(|v| srgb_to_linear(v / 255.0)))
            .collect();
        let half = |top: bool| {
            Plane::from_vec(
                w,
                h,
                (0..w * h)
                    .map(|k| if (k / w < h / 2) == top { 1.0 } else { 0.0 })
                    .collect(),
            )
            .unwrap()
        };
        (
            RgbF32 {
                width: w,
                height: h,
                data,
            },
            linear,
            vec![half(true), half(false)],
        )
    }

    /// Every target is met; then solving again from the solved strengths renders the
    /// proxy once per region (the global edit's whole render measures the rest) and
    /// moves nothing: no sweep measures again what nothing moved.
    #[test]
    fn a_solved_state_is_measured_once_more_at_most() {
        let (rgb, linear, masks) = proxy_parts();
        let proxy = Proxy::with_linear(&rgb, &linear, &masks, LevelTables::builtin());
        let mut global = Strength::default();
        let mut regions = vec![
            RegionStrength {
                values: [Some(0.0), None, Some(0.0), None],
                pivot: 0.6,
            },
            RegionStrength {
                values: [None, None, None, Some(0.0)],
                pivot: 0.5,
            },
        ];
        // (region, channel): global contrast; sky temperature and colourfulness
        // (solved jointly); ground brightness.
        let asked = [
            (None, 1, -0.1),
            (Some(0), 2, 0.2),
            (Some(0), 0, -0.2),
            (Some(1), 3, -0.15),
        ];
        let unknowns: Vec<Unknown<'_>> = asked
            .iter()
            .map(|&(region, channel, change)| {
                let weights = region.map(|i: usize| &masks[i]);
                let before = proxy.level(&global, &regions, weights, channel).unwrap();
                Unknown {
                    region,
                    channel,
                    weights,
                    target: before + change,
                    start: None,
                }
            })
            .collect();
        let ctl = Control::default();
        let first = solve(&proxy, &mut global, &mut regions, &unknowns, &ctl).unwrap();
        for (s, u) in first.iter().zip(&unknowns) {
            assert!(
                (s.predicted - u.target).abs() < 2.0 * TOLERANCE,
                "{s:?} for {} {:?}",
                u.target,
                u.region
            );
        }
        let (g, r) = (global, regions.clone());
        let count = || proxy.evaluations.load(std::sync::atomic::Ordering::Relaxed);
        let before = count();
        let again = solve(&proxy, &mut global, &mut regions, &unknowns, &ctl).unwrap();
        assert_eq!(count() - before, 3, "one render per region");
        assert_eq!((global, &regions), (g, &r), "nothing moved");
        for (a, b) in again.iter().zip(&first) {
            assert!((a.predicted - b.predicted).abs() < 1e-9);
        }
    }

    #[test]
    fn small_linear_systems() {
        let x = solve_linear(vec![vec![0.0, 2.0], vec![3.0, 1.0]], vec![4.0, 5.0]).unwrap();
        assert!(
            (x[0] - 1.0).abs() < 1e-12 && (x[1] - 2.0).abs() < 1e-12,
            "{x:?}"
        );
        assert!(solve_linear(vec![vec![1.0, 2.0], vec![2.0, 4.0]], vec![1.0, 2.0]).is_none());
    }
}
