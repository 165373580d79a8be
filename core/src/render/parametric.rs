//! The embedded default renderer: deterministic, full resolution, no model files.
//!
//! [`ParametricRenderer::plan`] analyses the photo once (analysis proxy, refined
//! masks, current levels) and solves operator strengths; the resulting
//! [`RenderPlan`] is immutable, `Send + Sync`, and renders any tile at any scale
//! with [`FramePlan::render_tile`]. Every output pixel depends only on its own
//! source value and its normalised position, so tiles and full frames agree exactly.
//! The per-row pixel work is in [`rows`]; cutting and scaling frames in
//! `render::resize`.

mod rows;

use super::blend::{split_masks, Combinations, RegionStrength};
use super::lut3d::{LutSet, FULL_GRID, PREVIEW_GRID};
use super::ops::{lightness_of_luminance, Strength};
use super::refine::{guide_value, RefineOptions, RefinedMask};
use super::report::RenderReport;
use super::solve::{solve, strength_of, Proxy, Start, Unknown};
use super::targets::{edit_targets, measure_targets, start_report_extended, Target};
use super::{Control, FramePlan, RenderJob, Renderer};
use crate::color::{decode_lut_u16, luminance, srgb_to_linear};
use crate::error::{Error, Result};
use crate::measure::LevelTables;
use crate::params::Attribute;
use crate::plane::Plane;
use crate::raster::{Raster, RgbF32, Samples};
use rayon::prelude::*;
use rows::Geometry;
use std::sync::Arc;

/// Options of the parametric renderer.
#[derive(Debug, Clone)]
pub struct RenderOptions {
    /// Level tables (and the analysis resolution they imply).
    pub tables: LevelTables,
    /// Edge-aware mask refinement; `None` uses masks as given.
    pub refine: Option<RefineOptions>,
    /// Measure the full-resolution output and report achieved levels.
    pub verify: bool,
}

impl Default for RenderOptions {
    fn default() -> Self {
        RenderOptions {
            tables: LevelTables::builtin().clone(),
            refine: Some(RefineOptions::default()),
            verify: true,
        }
    }
}

/// The fast parametric renderer.
#[derive(Debug, Clone, Default)]
pub struct ParametricRenderer {
    pub options: RenderOptions,
}

/// Difference between proxy prediction and full-resolution result worth a note.
const PROXY_MISMATCH: f64 = 0.03;

/// A solved edit, ready to render tiles at any scale.
#[derive(Debug, Clone)]
pub struct RenderPlan {
    masks: Vec<RefinedMask>,
    /// Named regions, in the order of `masks` and `regions`.
    names: Vec<String>,
    /// Transforms of each combination of regions fully in or out.
    combos: Combinations,
    /// The same, baked into tables for 8-bit pixels.
    luts: LutSet,
    global: Strength,
    regions: Vec<RegionStrength>,
    targets: Vec<Target>,
    /// Each target's measurement before the edit (`None`: its mask is empty here).
    before: Vec<Option<crate::measure::RawMeasurement>>,
    /// Per report edit, the level change per unit strength its solve learnt.
    slopes: Vec<Option<f64>>,
    /// The tables levels were measured with (and the analysis size).
    tables: LevelTables,
    /// The frame's analysis, shared with re-plans.
    analysis: Arc<Analysis>,
    report: RenderReport,
}

impl ParametricRenderer {
    /// A renderer with the given options.
    pub fn new(options: RenderOptions) -> Self {
        ParametricRenderer { options }
    }

    /// Analyses `job` and solves strengths. Cheap relative to a full render: all of it
    /// runs on the analysis proxy.
    pub fn plan(&self, job: &RenderJob<'_>, ctl: &Control<'_>) -> Result<RenderPlan> {
        let src = job.source;
        let tables = &self.options.tables;
        job.masks.check_fits(src.width(), src.height())?;
        // Every named region must have a mask: never a silent empty edit.
        let named: Vec<(&str, &crate::params::AttributeValues)> = job
            .state
            .named_regions()
            .filter(|(_, v)| !v.is_empty())
            .collect();
        for (name, _) in &named {
            if job.masks.get(name).is_none() {
                return Err(Error::MissingRegion {
                    region: name.to_string(),
                    available: job.masks.available(),
                });
            }
        }
        ctl.report("analyse", 0.0);
        let t0 = std::time::Instant::now();
        let proxy_rgb = src.analysis_rgb(tables.analysis_long_side);
        tracing::debug!(elapsed = ?t0.elapsed(), "analysis proxy");
        let guide = Plane::from_vec(
            proxy_rgb.width,
            proxy_rgb.height,
            proxy_rgb
                .data
                .iter()
                .map(|p| guide_value(p.map(|v| v / 255.0)))
                .collect(),
        )
        .expect("sizes match");
        ctl.check()?;
        // Masks are refined in parallel with one another and with the proxy's
        // linear-light copy.
        let done = std::sync::atomic::AtomicUsize::new(0);
        let (refined, linear): (Vec<(RefinedMask, Plane)>, Vec<[f32; 3]>) = rayon::join(
            || {
                named
                    .par_iter()
                    .map(|(name, _)| {
                        let rough = job.masks.get(name).expect("checked above");
                        let refined = match &self.options.refine {
                            Some(o) => RefinedMask::refine(rough, &guide, o),
                            None => RefinedMask::unrefined(rough, &RefineOptions::default()),
                        };
                        let n = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                        ctl.report("refine masks", n as f32 / named.len() as f32);
                        let proxy_mask = refined.to_plane(&guide);
                        (refined, proxy_mask)
                    })
                    .collect()
            },
            || {
                proxy_rgb
                    .data
                    .par_iter()
                    .map(|p| p.map(|v| srgb_to_linear(v / 255.0)))
                    .collect()
            },
        );
        ctl.check()?;
        let (masks, proxy_masks): (Vec<RefinedMask>, Vec<Plane>) = refined.into_iter().unzip();
        let analysis = Arc::new(Analysis {
            global_pivot: mean_lightness(&linear, None),
            proxy_rgb,
            linear,
            names: named.iter().map(|(n, _)| n.to_string()).collect(),
            masks,
            proxy_masks,
        });
        let all: Vec<usize> = (0..named.len()).collect();
        let plan = solve_state(tables, &analysis, job.state, &all, None, FULL_GRID, ctl)?;
        match src.samples() {
            Samples::U8(_) => plan.bake_tables(false),
            Samples::F32(_) => plan.bake_tables(true),
            Samples::U16(_) => {}
        }
        Ok(plan)
    }
}

/// Solves the strengths of `state` (whose named regions are `analysis`'s
/// regions `regions`, in the state's order) into a plan with tables on a grid
/// of `grid` points. With `warm`, a plan of the same analysis: its strengths
/// are the start, its measurements before the edit are reused, and only the
/// edits whose target changed (or that it did not have) are solved again.
fn solve_state(
    tables: &LevelTables,
    analysis: &Arc<Analysis>,
    state: &crate::params::RegionState,
    regions: &[usize],
    warm: Option<&RenderPlan>,
    grid: usize,
    ctl: &Control<'_>,
) -> Result<RenderPlan> {
    let named: Vec<(&str, &crate::params::AttributeValues)> = state
        .named_regions()
        .filter(|(_, v)| !v.is_empty())
        .collect();
    let proxy_rgb = &analysis.proxy_rgb;
    let masks: Vec<RefinedMask> = regions.iter().map(|&i| analysis.masks[i].clone()).collect();
    let proxy_masks: Vec<Plane> = regions
        .iter()
        .map(|&i| analysis.proxy_masks[i].clone())
        .collect();

    // Where each edit is measured, and its current level: all targets in one
    // pass (a warm plan's measurements of the same weights reused).
    let targets = edit_targets(
        state,
        &named,
        &proxy_masks,
        proxy_rgb.width,
        proxy_rgb.height,
    );
    let known = |t: &Target| {
        warm.and_then(|w| {
            w.targets
                .iter()
                .position(|o| {
                    o.region == t.region && o.channel == t.channel && o.weights == t.weights
                })
                .map(|j| w.before[j])
        })
    };
    let mut before: Vec<Option<Option<crate::measure::RawMeasurement>>> =
        targets.iter().map(known).collect();
    let missing: Vec<Target> = targets
        .iter()
        .zip(&before)
        .filter(|(_, b)| b.is_none())
        .map(|(t, _)| t.clone())
        .collect();
    let mut measured = measure_targets(proxy_rgb, &missing).into_iter();
    for b in before.iter_mut().filter(|b| b.is_none()) {
        *b = Some(measured.next().flatten());
    }
    let before: Vec<Option<crate::measure::RawMeasurement>> =
        before.into_iter().map(Option::flatten).collect();

    // Starting strengths: zero, or the warm plan's; contrast pivots: mean
    // lightness of each region.
    let warm_region = |name: &str| {
        warm.and_then(|w| {
            w.names
                .iter()
                .position(|n| n == name)
                .map(|i| &w.regions[i])
        })
    };
    let mut global = Strength {
        pivot: analysis.global_pivot,
        ..Strength::default()
    };
    if let (Some(w), Some(g)) = (warm, state.region(crate::params::GLOBAL)) {
        for (attr, _) in g.iter() {
            global.set(attr.channel(), w.global.get(attr.channel()));
        }
    }
    let mut regions: Vec<RegionStrength> = named
        .iter()
        .zip(&proxy_masks)
        .map(|((name, v), m)| {
            let old = warm_region(name);
            RegionStrength {
                values: std::array::from_fn(|c| {
                    v.get(Attribute::ALL[c])
                        .map(|_| old.and_then(|o| o.values[c]).unwrap_or(0.0))
                }),
                pivot: match old {
                    Some(o) if o.values[1].is_some() => o.pivot,
                    _ if v.get(Attribute::Contrast).is_some() => {
                        mean_lightness(&analysis.linear, Some(m))
                    }
                    _ => 0.5,
                },
            }
        })
        .collect();

    // A slider moved (the same edits, other targets): the edits whose target did
    // not change keep their strengths. A changed set of edits is solved whole,
    // from the warm plan's strengths.
    let edit_set = |ts: &[Target]| {
        let mut v: Vec<(String, usize)> =
            ts.iter().map(|t| (t.region.clone(), t.channel)).collect();
        v.sort();
        v
    };
    let warm_edits = warm.filter(|w| edit_set(&w.targets) == edit_set(&targets));
    let mut edits = Vec::new();
    // Per edit, the slope its solve learnt (kept for the next re-plan).
    let mut slopes: Vec<Option<f64>> = Vec::new();
    let mut unknowns = Vec::new();
    for (t, before) in targets.iter().zip(&before) {
        let region_index = named.iter().position(|(n, _)| *n == t.region);
        let level = before.map(|b| tables.level_ext(t.attribute(), b.to_array()[t.channel]));
        let mut report = start_report_extended(t, level, tables);
        let target = report.target;
        if level.is_none() {
            // Nothing of this region is in the photo: leave it untouched and say so.
            if let Some(i) = region_index {
                regions[i].values[t.channel] = None;
            }
            edits.push(report);
            slopes.push(None);
            continue;
        }
        // A warm plan's edit with the same target keeps its solved strength.
        let held = warm_edits.and_then(|w| {
            let j = w.report.edits.iter().position(|e| {
                e.region == t.region
                    && e.attribute == t.attribute()
                    && e.target == target
                    && e.before == report.before
            })?;
            Some((&w.report.edits[j], w.slopes.get(j).copied().flatten()))
        });
        if let Some((old, slope)) = held {
            report.predicted = old.predicted;
            report.note = old.note.clone();
            edits.push(report);
            slopes.push(slope);
            continue;
        }
        edits.push(report);
        slopes.push(None);
        unknowns.push((
            edits.len() - 1,
            Unknown {
                region: region_index,
                channel: t.channel,
                weights: t.weights.as_ref(),
                target,
                start: None,
            },
        ));
    }
    // One slider moved: where its edit stood is known (the level the warm plan
    // solved it to, nothing else having changed), and how fast its level moves
    // with strength is the warm plan's secant; the solve starts from there.
    if let ([(edit_index, u)], Some(w)) = (&mut unknowns[..], warm_edits) {
        let e = &edits[*edit_index];
        if let Some(j) = w.report.edits.iter().position(|o| {
            o.region == e.region && o.attribute == e.attribute && o.before == e.before
        }) {
            let old = &w.report.edits[j];
            let x = strength_of(&global, &regions, u) as f64;
            let secant = (old.predicted - old.before) / x;
            let slope = w
                .slopes
                .get(j)
                .copied()
                .flatten()
                .or((x.abs() >= 0.05 && secant.is_finite() && secant > 1e-3).then_some(secant));
            u.start = Some(Start {
                level: old.predicted,
                slope,
            });
        }
    }
    // Solve order: region by region (global first); inside a region the
    // attributes that move the others most go first, colourfulness last
    // (cooling a blue sky raises its colourfulness; saturating barely shifts
    // brightness or temperature), so each sweep disturbs little of what it fixed.
    const ORDER: [usize; 4] = [3, 1, 2, 0];
    unknowns.sort_by_key(|(_, u)| {
        (
            u.region.map_or(0, |i| i + 1),
            ORDER.iter().position(|&c| c == u.channel),
        )
    });
    let proxy = Proxy::with_linear(proxy_rgb, &analysis.linear, &proxy_masks, tables);
    let list: Vec<Unknown<'_>> = unknowns
        .iter()
        .map(|(_, u)| Unknown {
            region: u.region,
            channel: u.channel,
            weights: u.weights,
            target: u.target,
            start: u.start,
        })
        .collect();
    let t1 = std::time::Instant::now();
    let solved = if list.is_empty() {
        Vec::new()
    } else {
        solve(&proxy, &mut global, &mut regions, &list, ctl)?
    };
    tracing::debug!(elapsed = ?t1.elapsed(), unknowns = list.len(), evaluations = proxy.evaluations.load(std::sync::atomic::Ordering::Relaxed), "solved");
    for ((edit_index, _), s) in unknowns.iter().zip(&solved) {
        slopes[*edit_index] = s.slope;
        let e = &mut edits[*edit_index];
        e.predicted = s.predicted;
        if e.note.is_none() {
            if s.at_limit {
                e.note = Some(format!(
                    "the {} operator reached its limit at level {:+.3}",
                    e.attribute, s.predicted
                ));
            } else if (s.predicted - e.target).abs() > 2.0 * super::solve::TOLERANCE {
                e.note = Some(format!(
                    "the closest level the {} operator reaches here is {:+.3}",
                    e.attribute, s.predicted
                ));
            }
        }
    }
    Ok(RenderPlan {
        luts: LutSet::new(masks.len(), grid),
        combos: Combinations::new(&global, &regions),
        masks,
        names: named.iter().map(|(n, _)| n.to_string()).collect(),
        global,
        regions,
        targets,
        before,
        slopes,
        tables: tables.clone(),
        analysis: analysis.clone(),
        report: RenderReport {
            renderer: "parametric".into(),
            edits,
        },
    })
}

/// Mean perceptual lightness of linear-light pixels, weighted by `weights` (all
/// pixels when `None`); 0.5 when nothing is weighted. Contrast pivots on it.
fn mean_lightness(linear: &[[f32; 3]], weights: Option<&Plane>) -> f32 {
    let mut acc = 0f64;
    let mut n = 0f64;
    for (k, p) in linear.iter().enumerate() {
        let wk = weights.map_or(1.0, |w| w.data()[k] as f64);
        if wk > 0.0 {
            acc += wk * lightness_of_luminance(luminance(*p)) as f64;
            n += wk;
        }
    }
    if n > 0.0 {
        (acc / n) as f32
    } else {
        0.5
    }
}

/// What planning learnt of a frame that does not depend on the edit: the
/// analysis proxy (and its linear-light copy the solver renders) and each named
/// region's refined mask. Re-plans of the same frame (previews) share it.
#[derive(Debug)]
pub(crate) struct Analysis {
    proxy_rgb: RgbF32,
    linear: Vec<[f32; 3]>,
    /// Named regions analysed, in the order of `masks` and `proxy_masks`.
    names: Vec<String>,
    masks: Vec<RefinedMask>,
    proxy_masks: Vec<Plane>,
    /// Mean lightness of the whole proxy (the global contrast pivot).
    global_pivot: f32,
}

impl RenderPlan {
    /// A plan of `state` for previews of the frame this plan was made for: its
    /// analysis (proxy and refined masks) reused, only the edits whose target
    /// changed solved again (from this plan's strengths), tables on the preview
    /// grid. `None` when `state` edits a region this plan did not analyse.
    pub fn replan_preview(
        &self,
        state: &crate::params::RegionState,
        ctl: &Control<'_>,
    ) -> Result<Option<RenderPlan>> {
        let analysis = &self.analysis;
        let regions: Option<Vec<usize>> = state
            .named_regions()
            .filter(|(_, v)| !v.is_empty())
            .map(|(name, _)| analysis.names.iter().position(|n| n == name))
            .collect();
        let Some(regions) = regions else {
            return Ok(None);
        };
        let mut plan = solve_state(
            &self.tables,
            analysis,
            state,
            &regions,
            Some(self),
            PREVIEW_GRID,
            ctl,
        )?;
        // Combinations the change left alone keep this plan's tables.
        if plan.names == self.names {
            for key in 0..plan.combos.count() {
                let same = match (plan.combos.get(key), self.combos.get(key)) {
                    (Some(a), Some(b)) => a.strength == b.strength,
                    (None, None) => true,
                    _ => false,
                };
                if same {
                    plan.luts.share(key, &self.luts, key);
                }
            }
        }
        plan.bake_tables(false);
        Ok(Some(plan))
    }

    /// Bakes, all at once and in parallel, the colour tables (8-bit or `float`)
    /// of the region combinations the proxy's masks show; any that only full
    /// resolution reaches are baked when first met. An 8-bit combination the proxy
    /// shows only blended across soft edges, never alone (both of two regions
    /// that meet, neither of them), is baked on the preview grid: an eighth of the
    /// baking and a table that stays in cache, while its share of a blended pixel
    /// carries a fraction of that grid's error (within 1/255 alone).
    fn bake_tables(&self, float: bool) {
        let t = std::time::Instant::now();
        let proxy_masks: Vec<&Plane> = self
            .names
            .iter()
            .filter_map(|n| {
                let i = self.analysis.names.iter().position(|a| a == n)?;
                self.analysis.proxy_masks.get(i)
            })
            .collect();
        let (mut used, mut alone) = (0u64, 0u64);
        let mut mv = vec![0f32; proxy_masks.len()];
        let n = proxy_masks.first().map_or(1, |m| m.data().len());
        for k in 0..n {
            for (v, m) in mv.iter_mut().zip(&proxy_masks) {
                *v = m.data()[k];
            }
            match split_masks(&mv) {
                Some(split) => {
                    used |= split.combinations();
                    if split.soft_count == 0 {
                        alone |= 1 << split.key;
                    }
                }
                None => return,
            }
        }
        let keys: Vec<usize> = (0..64)
            .filter(|&k| used >> k & 1 == 1 && self.combos.get(k).is_some())
            .collect();
        keys.par_iter().for_each(|&k| {
            let prepare = || self.combos.get(k).copied();
            if float {
                self.luts.get_float(k, self.combos.get(k));
            } else if alone >> k & 1 == 1 {
                self.luts.get(k, prepare);
            } else {
                self.luts.get_coarse(k, prepare);
            }
        });
        tracing::debug!(tables = keys.len(), elapsed = ?t.elapsed(), "baked colour tables");
    }

    /// True when rendering changes nothing.
    pub fn is_identity(&self) -> bool {
        self.global.is_identity()
            && self
                .regions
                .iter()
                .all(|r| r.values.iter().all(|v| v.is_none_or(|x| x == 0.0)))
    }

    /// Mask value of named region `index` (paint order) for a pixel; for inspection views.
    pub fn mask_value(&self, index: usize, u: f32, v: f32, rgb_unit: [f32; 3]) -> Option<f32> {
        self.masks
            .get(index)
            .map(|m| m.value(u, v, guide_value(rgb_unit)))
    }

    /// Measures `output` (the full frame rendered from this plan) and records achieved
    /// levels in the report.
    pub fn verify(&mut self, output: &Raster, tables: &LevelTables) {
        let rgb: RgbF32 = output.analysis_rgb(self.tables.analysis_long_side);
        let after = measure_targets(&rgb, &self.targets);
        for (t, m) in self.targets.iter().zip(after) {
            let attr = Attribute::ALL[t.channel];
            if let (Some(m), Some(e)) = (
                m,
                self.report
                    .edits
                    .iter_mut()
                    .find(|e| e.region == t.region && e.attribute == attr),
            ) {
                if e.note.as_deref().is_some_and(|n| n.contains("empty")) {
                    continue;
                }
                let achieved = tables.level_ext(attr, m.to_array()[t.channel]);
                e.achieved = Some(achieved);
                if e.note.is_none() && (achieved - e.predicted).abs() > PROXY_MISMATCH {
                    e.note = Some(format!(
                        "the full-resolution result ({achieved:+.3}) differs from the analysis proxy's prediction ({:+.3}): fine texture responds differently",
                        e.predicted
                    ));
                }
            }
        }
    }
}

impl FramePlan for RenderPlan {
    fn report(&self) -> &RenderReport {
        &self.report
    }

    /// Alpha is copied; 8-bit pixels go through the baked tables.
    fn render_tile(
        &self,
        tile: &Raster,
        x0: usize,
        y0: usize,
        frame_width: usize,
        frame_height: usize,
        ctl: &Control<'_>,
    ) -> Result<Raster> {
        // Rows are copied band by band as they render (while in cache): a
        // whole-tile copy first would read and write the largest tiles twice.
        let mut out = Raster::zeroed(tile.width(), tile.height(), tile.channels(), tile.depth())
            .expect("the tile's own layout");
        self.render_tile_into(tile, (x0, y0), (frame_width, frame_height), &mut out, ctl)?;
        Ok(out)
    }

    fn render_tile_into(
        &self,
        tile: &Raster,
        (x0, y0): (usize, usize),
        (frame_width, frame_height): (usize, usize),
        out: &mut Raster,
        ctl: &Control<'_>,
    ) -> Result<()> {
        super::check_tile(tile, (x0, y0), (frame_width, frame_height))?;
        let (w, h, ch) = (tile.width(), tile.height(), tile.channels());
        if !out.reshape(w, h, ch, tile.depth()) {
            unreachable!("the tile's own layout");
        }
        let geom = Geometry {
            x0,
            y0,
            fw: frame_width as f32,
            fh: frame_height as f32,
            width: w,
            channels: ch,
        };
        if self.is_identity() {
            out.copy_from(tile);
            return Ok(());
        }
        match (tile.samples(), out.samples_mut()) {
            (Samples::U8(s), Samples::U8(d)) => self.render_rows_u8(s, d, &geom, ctl)?,
            (Samples::U16(s), Samples::U16(d)) => {
                self.render_rows_exact(s, d, &geom, |v: u16| decode_lut_u16()[v as usize], ctl)?
            }
            (Samples::F32(s), Samples::F32(d)) => self.render_rows_f32(s, d, &geom, ctl)?,
            _ => unreachable!("reshaped to the tile's depth"),
        }
        Ok(())
    }

    fn verify_output(&mut self, output: &Raster) {
        let tables = self.tables.clone();
        self.verify(output, &tables);
    }

    fn plan_preview(
        &self,
        state: &crate::params::RegionState,
        ctl: &Control<'_>,
    ) -> Result<Option<Box<dyn FramePlan>>> {
        Ok(self
            .replan_preview(state, ctl)?
            .map(|p| Box::new(p) as Box<dyn FramePlan>))
    }
}

impl Renderer for ParametricRenderer {
    fn name(&self) -> &'static str {
        "parametric"
    }

    fn plan_frame(&self, job: &RenderJob<'_>, ctl: &Control<'_>) -> Result<Box<dyn FramePlan>> {
        Ok(Box::new(self.plan(job, ctl)?))
    }

    fn verifies(&self) -> bool {
        self.options.verify
    }
}

#[cfg(test)]
pub(crate) mod tests;
