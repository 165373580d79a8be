//! The embedded default renderer: deterministic, full resolution, no model files.
//!
//! [`ParametricRenderer::plan`] analyses the photo once (analysis proxy, refined
//! masks, current levels) and solves operator strengths; the resulting
//! [`RenderPlan`] is immutable, `Send + Sync`, and renders any tile at any scale
//! with [`RenderPlan::render_tile`]. Every output pixel depends only on its own
//! source value and its normalised position, so tiles and full frames agree exactly.

use super::blend::{blend, split_masks, Combinations, MaskSplit};
use super::lut3d::{fixed_to_index, Lut3d, LutSet, FIXED_ONE};
use super::ops::{lightness_of_luminance, PreparedCache, Strength};
use super::refine::{guide_value, RefineOptions, RefinedMask, RowEvaluator};
use super::report::RenderReport;
use super::solve::{pixel_strength, solve, Proxy, RegionStrength, Unknown};
use super::targets::{edit_targets, measure_targets, start_report, Target};
use super::{Control, Rect, RenderJob, RenderOutput, RenderRequest, Renderer};
use crate::color::{
    decode_lut_u16, decode_lut_u8, encode_u8, luminance, srgb_to_linear, srgb_u8_table,
};
use crate::error::{Error, Result};
use crate::measure::LevelTables;
use crate::params::Attribute;
use crate::plane::Plane;
use crate::raster::{Raster, RgbF32, Sample, Samples};
use rayon::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};

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
    /// Transforms of each combination of regions fully in or out.
    combos: Combinations,
    /// The same, baked into tables for 8-bit pixels.
    luts: LutSet,
    global: Strength,
    regions: Vec<RegionStrength>,
    targets: Vec<Target>,
    analysis_long_side: usize,
    report: RenderReport,
}

impl ParametricRenderer {
    /// A renderer with the given options.
    pub fn new(options: RenderOptions) -> Self {
        ParametricRenderer { options }
    }

    /// Measures the full-frame `image` rendered from `plan` into its report, when
    /// the options ask for verification (progress stage "verify").
    pub(crate) fn verify_plan(&self, plan: &mut RenderPlan, image: &Raster, ctl: &Control<'_>) {
        if !self.options.verify {
            return;
        }
        ctl.report("verify", 0.0);
        let t = std::time::Instant::now();
        plan.verify(image, &self.options.tables);
        tracing::debug!(elapsed = ?t.elapsed(), "verified");
        ctl.report("verify", 1.0);
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
        let mut masks = Vec::with_capacity(named.len());
        let mut proxy_masks = Vec::with_capacity(named.len());
        for (i, (name, _)) in named.iter().enumerate() {
            let rough = job.masks.get(name).expect("checked above");
            let refined = match &self.options.refine {
                Some(o) => RefinedMask::refine(rough, &guide, o),
                None => RefinedMask::unrefined(rough, &RefineOptions::default()),
            };
            proxy_masks.push(refined.to_plane(&guide));
            masks.push(refined);
            ctl.check()?;
            ctl.report("refine masks", (i + 1) as f32 / named.len() as f32);
        }

        // Where each edit is measured, and its current level: all targets in one pass.
        let targets = edit_targets(
            job.state,
            &named,
            &proxy_masks,
            proxy_rgb.width,
            proxy_rgb.height,
        );
        let before = measure_targets(&proxy_rgb, &targets);

        // Contrast pivots: mean lightness of each region.
        let mean_l = |w: Option<&Plane>| -> f32 {
            let mut acc = 0f64;
            let mut n = 0f64;
            for (k, p) in proxy_rgb.data.iter().enumerate() {
                let wk = w.map_or(1.0, |w| w.data()[k] as f64);
                if wk > 0.0 {
                    acc += wk
                        * lightness_of_luminance(luminance(p.map(|v| srgb_to_linear(v / 255.0))))
                            as f64;
                    n += wk;
                }
            }
            if n > 0.0 {
                (acc / n) as f32
            } else {
                0.5
            }
        };
        let mut global = Strength {
            pivot: mean_l(None),
            ..Strength::default()
        };
        let mut regions: Vec<RegionStrength> = named
            .iter()
            .zip(&proxy_masks)
            .map(|((_, v), m)| RegionStrength {
                values: std::array::from_fn(|c| v.get(Attribute::ALL[c]).map(|_| 0.0)),
                pivot: if v.get(Attribute::Contrast).is_some() {
                    mean_l(Some(m))
                } else {
                    0.5
                },
            })
            .collect();

        let mut edits = Vec::new();
        let mut unknowns = Vec::new();
        for (t, before) in targets.iter().zip(&before) {
            let region_index = named.iter().position(|(n, _)| *n == t.region);
            let level = before.map(|b| tables.table(t.attribute()).level(b.to_array()[t.channel]));
            let report = start_report(t, level);
            let target = report.target;
            edits.push(report);
            if level.is_none() {
                // Nothing of this region is in the photo: leave it untouched and say so.
                if let Some(i) = region_index {
                    regions[i].values[t.channel] = None;
                }
                continue;
            }
            unknowns.push((
                edits.len() - 1,
                Unknown {
                    region: region_index,
                    channel: t.channel,
                    weights: t.weights.as_ref(),
                    target,
                },
            ));
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
        let proxy = Proxy::new(&proxy_rgb, &proxy_masks, tables);
        let list: Vec<Unknown<'_>> = unknowns
            .iter()
            .map(|(_, u)| Unknown {
                region: u.region,
                channel: u.channel,
                weights: u.weights,
                target: u.target,
            })
            .collect();
        let t1 = std::time::Instant::now();
        let solved = solve(&proxy, &mut global, &mut regions, &list, ctl)?;
        tracing::debug!(elapsed = ?t1.elapsed(), unknowns = list.len(), evaluations = proxy.evaluations.load(std::sync::atomic::Ordering::Relaxed), "solved");
        for ((edit_index, _), s) in unknowns.iter().zip(&solved) {
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
        let plan = RenderPlan {
            luts: LutSet::new(masks.len()),
            combos: Combinations::new(&global, &regions),
            masks,
            global,
            regions,
            targets,
            analysis_long_side: tables.analysis_long_side,
            report: RenderReport {
                renderer: "parametric".into(),
                edits,
            },
        };
        if matches!(src.samples(), Samples::U8(_)) {
            plan.bake_tables(&proxy_masks);
        }
        Ok(plan)
    }
}

impl RenderPlan {
    /// Bakes, all at once and in parallel, the colour tables of the region
    /// combinations the proxy's masks show; any that only full resolution reaches
    /// are baked when first met.
    fn bake_tables(&self, proxy_masks: &[Plane]) {
        let t = std::time::Instant::now();
        let mut used = 0u64;
        let mut mv = vec![0f32; proxy_masks.len()];
        let n = proxy_masks.first().map_or(1, |m| m.data().len());
        for k in 0..n {
            for (v, m) in mv.iter_mut().zip(proxy_masks) {
                *v = m.data()[k];
            }
            match split_masks(&mv) {
                Some(split) => used |= split.combinations(),
                None => return,
            }
        }
        let keys: Vec<usize> = (0..64)
            .filter(|&k| used >> k & 1 == 1 && self.combos.get(k).is_some())
            .collect();
        keys.par_iter().for_each(|&k| {
            self.luts.get(k, || self.combos.get(k).copied());
        });
        tracing::debug!(tables = keys.len(), elapsed = ?t.elapsed(), "baked colour tables");
    }

    /// The plan's report (predicted levels; achieved levels once verified).
    pub fn report(&self) -> &RenderReport {
        &self.report
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

    /// Renders a tile. `tile` holds the source pixels of the rectangle at (`x0`, `y0`)
    /// inside a frame of `frame_width` x `frame_height` at whatever scale the host
    /// renders; the output has the tile's size, depth and channels (alpha copied).
    pub fn render_tile(
        &self,
        tile: &Raster,
        x0: usize,
        y0: usize,
        frame_width: usize,
        frame_height: usize,
        ctl: &Control<'_>,
    ) -> Result<Raster> {
        super::check_tile(tile, (x0, y0), (frame_width, frame_height))?;
        let mut out = tile.clone();
        if self.is_identity() {
            return Ok(out);
        }
        let geom = Geometry {
            x0,
            y0,
            fw: frame_width as f32,
            fh: frame_height as f32,
            width: tile.width(),
            channels: tile.channels(),
        };
        match (tile.samples(), out.samples_mut()) {
            (Samples::U8(s), Samples::U8(d)) => self.render_rows_u8(s, d, &geom, ctl)?,
            (Samples::U16(s), Samples::U16(d)) => {
                self.render_rows_exact(s, d, &geom, |v: u16| decode_lut_u16()[v as usize], ctl)?
            }
            (Samples::F32(s), Samples::F32(d)) => self.render_rows_exact(
                s,
                d,
                &geom,
                |v: f32| srgb_to_linear(v.clamp(0.0, 1.0)),
                ctl,
            )?,
            _ => unreachable!("clone has the same sample type"),
        }
        Ok(out)
    }

    /// Runs `row` on every row of `dst` (a tile of `g`'s geometry), in parallel bands,
    /// with each mask's coefficients loaded for that row; checks for cancellation and
    /// reports progress per band.
    fn for_each_row<T: Send>(
        &self,
        dst: &mut [T],
        g: &Geometry,
        ctl: &Control<'_>,
        row: impl Fn(usize, &mut [T], &[RowEvaluator], &mut Scratch) + Sync,
    ) -> Result<()> {
        let row_len = g.width * g.channels;
        let rows = dst.len() / row_len.max(1);
        const BAND: usize = 32;
        let bands = rows.div_ceil(BAND);
        let done = AtomicUsize::new(0);
        dst.par_chunks_mut(row_len * BAND)
            .enumerate()
            .try_for_each(|(band, out)| -> Result<()> {
                ctl.check()?;
                let mut evaluators: Vec<_> = self
                    .masks
                    .iter()
                    .map(|m| m.row_evaluator(g.x0, g.width, g.fw as usize))
                    .collect();
                let mut scratch = Scratch {
                    mask_values: vec![0.0; self.masks.len()],
                    cache: PreparedCache::default(),
                };
                for (r, orow) in out.chunks_mut(row_len).enumerate() {
                    let y = band * BAND + r;
                    let v = ((g.y0 + y) as f32 + 0.5) / g.fh;
                    for (m, e) in self.masks.iter().zip(evaluators.iter_mut()) {
                        m.load_row(v, e);
                    }
                    row(y, orow, &evaluators, &mut scratch);
                }
                let n = done.fetch_add(1, Ordering::Relaxed) + 1;
                ctl.report("render", n as f32 / bands as f32);
                Ok(())
            })
    }

    /// 8-bit rows: each combination's baked table, blended in fixed point where masks
    /// are soft; the exact per-pixel transform only where three or more are.
    fn render_rows_u8(
        &self,
        src: &[u8],
        dst: &mut [u8],
        g: &Geometry,
        ctl: &Control<'_>,
    ) -> Result<()> {
        let encode = srgb_u8_table();
        let ch = g.channels;
        let row_len = g.width * ch;
        let put = |o: &mut [u8], c: [u32; 3]| {
            for k in 0..3 {
                o[k] = encode[fixed_to_index(c[k])];
            }
        };
        self.for_each_row(dst, g, ctl, |y, orow, rows, scratch| {
            let irow = &src[y * row_len..(y + 1) * row_len];
            // Every mask constant along the row (wholly inside or outside each
            // region, as most rows are): one table for the whole row.
            let constant: Option<Vec<f32>> = rows.iter().map(|r| r.constant()).collect();
            if let Some(split) = constant.as_deref().and_then(split_masks) {
                if split.soft_count == 0 {
                    if let Some(table) = self.table(split.key) {
                        for (o, p) in orow.chunks_exact_mut(ch).zip(irow.chunks_exact(ch)) {
                            o[..3].copy_from_slice(&table.lookup_u8([p[0], p[1], p[2]], encode));
                        }
                    }
                    return; // or the identity: the row stays as copied
                }
            }
            for (x, (o, p)) in orow
                .chunks_exact_mut(ch)
                .zip(irow.chunks_exact(ch))
                .enumerate()
            {
                let rgb = [p[0], p[1], p[2]];
                let mv = &mut scratch.mask_values;
                if !mv.is_empty() {
                    let gv = guide_value(rgb.map(|v| v as f32 / 255.0));
                    for (m, row) in mv.iter_mut().zip(rows) {
                        *m = row.value(x, gv);
                    }
                }
                match split_masks(mv) {
                    Some(split) if split.soft_count == 0 => {
                        if let Some(table) = self.table(split.key) {
                            o[..3].copy_from_slice(&table.lookup_u8(rgb, encode));
                        }
                    }
                    Some(split) => put(o, blend_fixed(&split, |key| self.fixed(key, rgb))),
                    None => {
                        let s = pixel_strength(&self.global, &self.regions, mv);
                        if !s.is_identity() {
                            let lin = rgb.map(|v| decode_lut_u8()[v as usize]);
                            let c = scratch.cache.get(&s).apply(lin);
                            for k in 0..3 {
                                o[k] = encode_u8(encode, c[k]);
                            }
                        }
                    }
                }
            }
        })
    }

    /// 16-bit and float rows: each combination's exact transform.
    fn render_rows_exact<T: Sample>(
        &self,
        src: &[T],
        dst: &mut [T],
        g: &Geometry,
        decode: impl Fn(T) -> f32 + Sync,
        ctl: &Control<'_>,
    ) -> Result<()> {
        let ch = g.channels;
        let row_len = g.width * ch;
        self.for_each_row(dst, g, ctl, |y, orow, rows, scratch| {
            let irow = &src[y * row_len..(y + 1) * row_len];
            for (x, (o, px)) in orow
                .chunks_exact_mut(ch)
                .zip(irow.chunks_exact(ch))
                .enumerate()
            {
                let mv = &mut scratch.mask_values;
                if !mv.is_empty() {
                    let gv = guide_value([px[0].to_unit(), px[1].to_unit(), px[2].to_unit()]);
                    for (m, row) in mv.iter_mut().zip(rows) {
                        *m = row.value(x, gv);
                    }
                }
                let lin = [decode(px[0]), decode(px[1]), decode(px[2])];
                let c = match split_masks(mv) {
                    Some(split) => {
                        if split.soft_count == 0 && self.combos.get(split.key).is_none() {
                            continue;
                        }
                        blend(&split, |key| match self.combos.get(key) {
                            Some(p) => p.apply(lin),
                            None => lin,
                        })
                    }
                    None => {
                        let s = pixel_strength(&self.global, &self.regions, mv);
                        if s.is_identity() {
                            continue;
                        }
                        scratch.cache.get(&s).apply(lin)
                    }
                };
                for k in 0..3 {
                    o[k] = T::from_linear(c[k]);
                }
            }
        })
    }

    /// The baked table of combination `key` (baked now if the plan did not foresee
    /// it); `None` for the identity.
    #[inline]
    fn table(&self, key: usize) -> Option<&Lut3d> {
        self.luts.get(key, || self.combos.get(key).copied())
    }

    /// Output of combination `key` for an 8-bit pixel in fixed-point linear light
    /// (see [`Lut3d::interpolate`]).
    #[inline]
    fn fixed(&self, key: usize, rgb: [u8; 3]) -> [u32; 3] {
        match self.table(key) {
            Some(t) => t.interpolate(rgb),
            None => {
                let d = decode_fixed_u8();
                rgb.map(|v| d[v as usize])
            }
        }
    }

    /// Measures `output` (the full frame rendered from this plan) and records achieved
    /// levels in the report.
    pub fn verify(&mut self, output: &Raster, tables: &LevelTables) {
        let rgb: RgbF32 = output.analysis_rgb(self.analysis_long_side);
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
                let achieved = tables.table(attr).level(m.to_array()[t.channel]);
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

/// Per-band working memory of the row renderers.
struct Scratch {
    mask_values: Vec<f32>,
    cache: PreparedCache,
}

/// 8-bit sRGB to fixed-point linear light, the identity's "table".
fn decode_fixed_u8() -> &'static [u32; 256] {
    static T: std::sync::OnceLock<[u32; 256]> = std::sync::OnceLock::new();
    T.get_or_init(|| {
        std::array::from_fn(|v| (decode_lut_u8()[v] as f64 * FIXED_ONE as f64).round() as u32)
    })
}

/// Multilinear blend of [`blend`] on fixed-point colours.
#[inline]
fn blend_fixed(split: &MaskSplit, look: impl FnMut(usize) -> [u32; 3]) -> [u32; 3] {
    let mut look = look;
    blend(split, |key| look(key).map(|v| v as f32)).map(|v| (v + 0.5) as u32)
}

struct Geometry {
    x0: usize,
    y0: usize,
    fw: f32,
    fh: f32,
    width: usize,
    channels: usize,
}

/// Area-resamples a raster to `width` x `height` (for render scales below 1).
pub fn resample(src: &Raster, width: usize, height: usize) -> Raster {
    if (width, height) == (src.width(), src.height()) {
        return src.clone();
    }
    let img = crate::image_io::raster_to_dynamic(src);
    let resized = img.resize_exact(
        width as u32,
        height as u32,
        image::imageops::FilterType::Triangle,
    );
    crate::image_io::raster_from_dynamic(resized)
}

/// Copies a rectangle out of a raster.
pub fn crop(src: &Raster, r: Rect) -> Result<Raster> {
    if r.width == 0 || r.height == 0 || r.x + r.width > src.width() || r.y + r.height > src.height()
    {
        return Err(Error::InvalidRequest(format!(
            "region of interest {}x{} at ({}, {}) is outside the {}x{} frame",
            r.width,
            r.height,
            r.x,
            r.y,
            src.width(),
            src.height()
        )));
    }
    let ch = src.channels();
    fn cut<T: Copy>(v: &[T], w: usize, ch: usize, r: Rect) -> Vec<T> {
        let mut out = Vec::with_capacity(r.width * r.height * ch);
        for y in r.y..r.y + r.height {
            out.extend_from_slice(&v[(y * w + r.x) * ch..(y * w + r.x + r.width) * ch]);
        }
        out
    }
    let samples = match src.samples() {
        Samples::U8(v) => Samples::U8(cut(v, src.width(), ch, r)),
        Samples::U16(v) => Samples::U16(cut(v, src.width(), ch, r)),
        Samples::F32(v) => Samples::F32(cut(v, src.width(), ch, r)),
    };
    Ok(Raster::new(r.width, r.height, ch, samples).expect("crop keeps invariants"))
}

impl Renderer for ParametricRenderer {
    fn name(&self) -> &'static str {
        "parametric"
    }

    fn render(
        &self,
        job: &RenderJob<'_>,
        request: &RenderRequest,
        ctl: &Control<'_>,
    ) -> Result<RenderOutput> {
        let framed = request.frame(job.source)?;
        let t0 = std::time::Instant::now();
        let mut plan = self.plan(job, ctl)?;
        tracing::debug!(elapsed = ?t0.elapsed(), "planned");
        let t1 = std::time::Instant::now();
        let image = plan.render_tile(
            &framed.tile,
            framed.roi.x,
            framed.roi.y,
            framed.frame_width,
            framed.frame_height,
            ctl,
        )?;
        tracing::debug!(elapsed = ?t1.elapsed(), "rendered");
        if framed.full_frame {
            self.verify_plan(&mut plan, &image, ctl);
        }
        Ok(RenderOutput {
            image,
            report: plan.report,
        })
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::mask::MaskSet;
    use crate::params::RegionState;
    use crate::render::CancelToken;

    /// A textured synthetic photo: bright blue "sky" on top, green-brown texture below.
    pub(crate) fn photo(w: usize, h: usize) -> Raster {
        let mut v = Vec::with_capacity(w * h * 4);
        for y in 0..h {
            for x in 0..w {
                let n = ((x * 7919 + y * 104_729) % 97) as f32 / 97.0;
                let (r, g, b) = if y < h / 3 {
                    (90.0 + 20.0 * n, 140.0 + 20.0 * n, 220.0 + 20.0 * n)
                } else {
                    (80.0 + 60.0 * n, 110.0 + 50.0 * n, 40.0 + 30.0 * n)
                };
                v.extend_from_slice(&[r as u8, g as u8, b as u8, ((x + y) % 256) as u8]);
            }
        }
        Raster::new(w, h, 4, Samples::U8(v)).unwrap()
    }

    pub(crate) fn sky_mask(w: usize, h: usize) -> MaskSet {
        let mut m = MaskSet::new();
        m.insert(
            "sky",
            Plane::from_vec(
                w,
                h,
                (0..w * h)
                    .map(|k| if k / w < h / 3 { 1.0 } else { 0.0 })
                    .collect(),
            )
            .unwrap(),
        );
        m
    }

    fn u8s(r: &Raster) -> &[u8] {
        match r.samples() {
            Samples::U8(v) => v,
            _ => panic!("8-bit expected"),
        }
    }

    #[test]
    fn empty_state_is_the_identity() {
        let img = photo(64, 48);
        let state = RegionState::new();
        let job = RenderJob {
            source: &img,
            masks: &MaskSet::new(),
            state: &state,
        };
        let out = ParametricRenderer::default()
            .render(&job, &RenderRequest::default(), &Control::default())
            .unwrap();
        assert_eq!(out.image, img);
        assert!(out.report.edits.is_empty());
    }

    #[test]
    fn renders_are_deterministic_and_keep_alpha() {
        let img = photo(96, 64);
        let masks = sky_mask(96, 64);
        let state = RegionState::from_json(
            r#"{"global": {"contrast": 0.2}, "sky": {"temperature": -0.3, "brightness": 0.2}}"#,
        )
        .unwrap();
        let job = RenderJob {
            source: &img,
            masks: &masks,
            state: &state,
        };
        let r = ParametricRenderer::default();
        let a = r
            .render(&job, &RenderRequest::default(), &Control::default())
            .unwrap();
        let b = r
            .render(&job, &RenderRequest::default(), &Control::default())
            .unwrap();
        assert_eq!(a.image, b.image);
        assert_ne!(a.image, img);
        let (s, d) = (u8s(&img), u8s(&a.image));
        assert!(
            s.iter().skip(3).step_by(4).eq(d.iter().skip(3).step_by(4)),
            "alpha untouched"
        );
        for e in &a.report.edits {
            assert!(e.error() < 0.05, "{e:?}");
        }
    }

    #[test]
    fn tiles_match_the_full_frame_exactly() {
        let (w, h) = (90, 70);
        let img = photo(w, h);
        let masks = sky_mask(w, h);
        let state = RegionState::from_json(
            r#"{"sky": {"colorfulness": 0.3}, "global": {"brightness": -0.2}}"#,
        )
        .unwrap();
        let job = RenderJob {
            source: &img,
            masks: &masks,
            state: &state,
        };
        let plan = ParametricRenderer::default()
            .plan(&job, &Control::default())
            .unwrap();
        let full = plan
            .render_tile(&img, 0, 0, w, h, &Control::default())
            .unwrap();
        for (tx, ty, tw, th) in [
            (0, 0, 45, 35),
            (45, 0, 45, 35),
            (0, 35, 45, 35),
            (45, 35, 45, 35),
            (13, 7, 31, 50),
        ] {
            let rect = Rect {
                x: tx,
                y: ty,
                width: tw,
                height: th,
            };
            let tile = plan
                .render_tile(
                    &crop(&img, rect).unwrap(),
                    tx,
                    ty,
                    w,
                    h,
                    &Control::default(),
                )
                .unwrap();
            assert_eq!(tile, crop(&full, rect).unwrap(), "tile at ({tx}, {ty})");
        }
    }

    #[test]
    fn half_scale_render_matches_full_render_downscaled() {
        let (w, h) = (128, 96);
        let img = photo(w, h);
        let masks = sky_mask(w, h);
        let state = RegionState::from_json(r#"{"sky": {"brightness": 0.3}}"#).unwrap();
        let job = RenderJob {
            source: &img,
            masks: &masks,
            state: &state,
        };
        let r = ParametricRenderer::default();
        let full = r
            .render(&job, &RenderRequest::default(), &Control::default())
            .unwrap()
            .image;
        let half = r
            .render(
                &job,
                &RenderRequest {
                    scale: 0.5,
                    roi: None,
                },
                &Control::default(),
            )
            .unwrap()
            .image;
        assert_eq!((half.width(), half.height()), (64, 48));
        // A proxy of the edit, not of the source: the mean levels agree closely.
        let a = full.analysis_rgb(64);
        let b = half.analysis_rgb(64);
        let diff: f32 = a
            .data
            .iter()
            .zip(&b.data)
            .map(|(p, q)| (0..3).map(|c| (p[c] - q[c]).abs()).sum::<f32>())
            .sum::<f32>()
            / (a.data.len() * 3) as f32;
        assert!(diff < 3.0, "mean difference {diff}/255");
    }

    #[test]
    fn sixteen_bit_and_float_render_like_eight_bit() {
        let img8 = photo(64, 48);
        let to16 = Raster::new(
            64,
            48,
            4,
            Samples::U16(u8s(&img8).iter().map(|&v| v as u16 * 257).collect()),
        )
        .unwrap();
        let tof = Raster::new(
            64,
            48,
            4,
            Samples::F32(u8s(&img8).iter().map(|&v| v as f32 / 255.0).collect()),
        )
        .unwrap();
        let state = RegionState::from_json(r#"{"global": {"temperature": 0.3}}"#).unwrap();
        let masks = MaskSet::new();
        let r = ParametricRenderer::default();
        let render = |src: &Raster| {
            r.render(
                &RenderJob {
                    source: src,
                    masks: &masks,
                    state: &state,
                },
                &RenderRequest::default(),
                &Control::default(),
            )
            .unwrap()
            .image
        };
        let o8 = render(&img8);
        let o16 = render(&to16);
        let of = render(&tof);
        for k in 0..64 * 48 {
            let (x, y) = (k % 64, k / 64);
            let (a, b, c) = (o8.rgb255(x, y), o16.rgb255(x, y), of.rgb255(x, y));
            for ch in 0..3 {
                assert!(
                    (a[ch] - b[ch]).abs() <= 1.0 && (a[ch] - c[ch]).abs() <= 1.0,
                    "pixel {k}"
                );
            }
        }
        assert!(matches!(o16.samples(), Samples::U16(_)));
    }

    #[test]
    fn missing_region_is_a_clear_error() {
        let img = photo(32, 32);
        let state = RegionState::from_json(r#"{"face": {"brightness": 0.3}}"#).unwrap();
        let job = RenderJob {
            source: &img,
            masks: &sky_mask(32, 32),
            state: &state,
        };
        let err = ParametricRenderer::default()
            .plan(&job, &Control::default())
            .unwrap_err()
            .to_string();
        assert!(err.contains("\"face\"") && err.contains("sky"), "{err}");
    }

    #[test]
    fn empty_region_is_reported_not_rendered() {
        let img = photo(32, 32);
        let mut masks = MaskSet::new();
        masks.insert("lake", Plane::filled(32, 32, 0.0));
        let state = RegionState::from_json(r#"{"lake": {"brightness": 0.3}}"#).unwrap();
        let job = RenderJob {
            source: &img,
            masks: &masks,
            state: &state,
        };
        let out = ParametricRenderer::default()
            .render(&job, &RenderRequest::default(), &Control::default())
            .unwrap();
        assert_eq!(out.image, img);
        assert!(out.report.edits[0]
            .note
            .as_deref()
            .is_some_and(|n| n.contains("empty")));
    }

    #[test]
    fn cancellation_stops_the_render() {
        let img = photo(64, 64);
        let state = RegionState::from_json(r#"{"global": {"brightness": 0.3}}"#).unwrap();
        let job = RenderJob {
            source: &img,
            masks: &MaskSet::new(),
            state: &state,
        };
        let token = CancelToken::new();
        token.cancel();
        let ctl = Control {
            cancel: Some(&token),
            progress: None,
        };
        let err = ParametricRenderer::default()
            .render(&job, &RenderRequest::default(), &ctl)
            .unwrap_err();
        assert!(matches!(err, Error::Cancelled));
    }

    #[test]
    fn progress_reaches_the_end_of_each_stage() {
        let img = photo(64, 64);
        let state = RegionState::from_json(r#"{"global": {"brightness": 0.3}}"#).unwrap();
        let job = RenderJob {
            source: &img,
            masks: &MaskSet::new(),
            state: &state,
        };
        let seen = std::sync::Mutex::new(Vec::<(String, f32)>::new());
        let cb = |s: &str, f: f32| seen.lock().unwrap().push((s.to_string(), f));
        let ctl = Control {
            cancel: None,
            progress: Some(&cb),
        };
        ParametricRenderer::default()
            .render(&job, &RenderRequest::default(), &ctl)
            .unwrap();
        let seen = seen.into_inner().unwrap();
        for stage in ["solve", "render", "verify"] {
            assert!(
                seen.iter().any(|(s, f)| s == stage && *f == 1.0),
                "{stage} completes: {seen:?}"
            );
        }
    }

    #[test]
    fn bad_requests_are_errors() {
        let img = photo(32, 32);
        let state = RegionState::new();
        let job = RenderJob {
            source: &img,
            masks: &MaskSet::new(),
            state: &state,
        };
        let r = ParametricRenderer::default();
        assert!(r
            .render(
                &job,
                &RenderRequest {
                    scale: 0.0,
                    roi: None
                },
                &Control::default()
            )
            .is_err());
        let roi = Some(Rect {
            x: 30,
            y: 0,
            width: 10,
            height: 10,
        });
        assert!(r
            .render(
                &job,
                &RenderRequest { scale: 1.0, roi },
                &Control::default()
            )
            .is_err());
        let plan = r.plan(&job, &Control::default()).unwrap();
        assert!(plan
            .render_tile(&img, 10, 10, 32, 32, &Control::default())
            .is_err());
    }
}
