//! The parametric plan's row kernels: every row of a tile rendered with each
//! mask's coefficients loaded for that row, through the baked 8-bit tables or the
//! exact transforms (16-bit and float), in parallel bands with cancellation and
//! progress per band.

use super::RenderPlan;
use crate::color::{
    decode_lut_u8, encode_u8, linear_to_srgb_fast, srgb_to_linear_fast, srgb_u8_table, unit_or_zero,
};
use crate::error::Result;
use crate::raster::Sample;
use crate::render::blend::{blend, pixel_strength, split_masks, MaskSplit};
use crate::render::lut3d::{
    fixed_to_index, FloatTable, GridPoint, Lut3d, U8Point, FIXED_ONE, FULL_GRID,
};
use crate::render::ops::PreparedCache;
use crate::render::refine::{guide_value, RowEvaluator};
use crate::render::Control;
use rayon::prelude::*;
use std::sync::atomic::{AtomicUsize, Ordering};

impl RenderPlan {
    /// Runs `row` on every row of `dst` (a tile of `g`'s geometry), in parallel bands,
    /// with each mask's coefficients loaded for that row; checks for cancellation and
    /// reports progress per band. `dst` need not hold anything: each kernel copies
    /// the source row in (alpha, pixels the edit leaves alone) before it renders
    /// it, while the row is in cache.
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
    pub(super) fn render_rows_u8(
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
            orow.copy_from_slice(irow);
            if let Some(split) = constant_split(rows) {
                if split.soft_count == 0 {
                    if let Some(table) = self.table(split.key) {
                        // Neighbours often share a colour (smooth skies, clipped
                        // highlights, a third to a half of many photos' pixels):
                        // the last lookup is kept.
                        let mut last: Option<([u8; 3], [u8; 3])> = None;
                        for (o, p) in orow.chunks_exact_mut(ch).zip(irow.chunks_exact(ch)) {
                            let rgb = [p[0], p[1], p[2]];
                            let out = match last {
                                Some((seen, out)) if seen == rgb => out,
                                _ => {
                                    let out = table.lookup_u8(rgb, encode);
                                    last = Some((rgb, out));
                                    out
                                }
                            };
                            o[..3].copy_from_slice(&out);
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
                let mv = scratch.load_masks(rows, x, || rgb.map(|v| v as f32 / 255.0));
                match split_masks(mv) {
                    Some(split) if split.soft_count == 0 => {
                        if let Some(table) = self.table(split.key) {
                            o[..3].copy_from_slice(&table.lookup_u8(rgb, encode));
                        }
                    }
                    Some(split) => {
                        // Tables on one grid are all read at the same point: the
                        // pixel is located once on the full grid and once on the
                        // coarse one (blend-only combinations), whatever the order.
                        let mut at: [Option<U8Point>; 2] = [None, None];
                        put(
                            o,
                            blend_fixed(&split, |key| match self.table(key) {
                                Some(t) => {
                                    let slot = &mut at[usize::from(t.grid() != FULL_GRID)];
                                    let p = *slot.get_or_insert_with(|| t.locate_u8(rgb));
                                    t.interpolate_u8_at(&p)
                                }
                                None => {
                                    let d = decode_fixed_u8();
                                    rgb.map(|v| d[v as usize])
                                }
                            }),
                        )
                    }
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

    /// Float rows: each combination's float table (sRGB-encoded output, written
    /// as is where a pixel is fully inside one combination), blended in linear
    /// light where masks are soft; the exact per-pixel transform only in a table's
    /// rough cells and where three or more masks are soft. Within 1e-3 of
    /// [`RenderPlan::render_rows_exact`] in linear light (tested).
    pub(super) fn render_rows_f32(
        &self,
        src: &[f32],
        dst: &mut [f32],
        g: &Geometry,
        ctl: &Control<'_>,
    ) -> Result<()> {
        let ch = g.channels;
        let row_len = g.width * ch;
        self.for_each_row(dst, g, ctl, |y, orow, rows, scratch| {
            let irow = &src[y * row_len..(y + 1) * row_len];
            orow.copy_from_slice(irow);
            let row_split = constant_split(rows);
            if let Some(split) = row_split.filter(|s| s.soft_count == 0) {
                // One combination for the whole row (or the identity: left as copied).
                if let Some(table) = self.float_table(split.key) {
                    for (o, p) in orow.chunks_exact_mut(ch).zip(irow.chunks_exact(ch)) {
                        o[..3].copy_from_slice(&table.encoded([p[0], p[1], p[2]]));
                    }
                }
                return;
            }
            for (x, (o, px)) in orow
                .chunks_exact_mut(ch)
                .zip(irow.chunks_exact(ch))
                .enumerate()
            {
                let rgb = [px[0], px[1], px[2]];
                let split = match row_split {
                    Some(split) => Some(split),
                    None => split_masks(scratch.load_masks(rows, x, || rgb.map(unit_or_zero))),
                };
                let c = match split {
                    Some(split) if split.soft_count == 0 => {
                        if let Some(table) = self.float_table(split.key) {
                            o[..3].copy_from_slice(&table.encoded(rgb));
                        }
                        continue;
                    }
                    Some(split) => {
                        // Every table is read at the same place of its grid.
                        let at = GridPoint::of(rgb);
                        blend(&split, |key| match self.float_table(key) {
                            Some(t) => t.linear_at(&at, rgb),
                            None => rgb.map(srgb_to_linear_fast),
                        })
                    }
                    None => {
                        let s = pixel_strength(&self.global, &self.regions, &scratch.mask_values);
                        if s.is_identity() {
                            continue;
                        }
                        scratch.cache.get(&s).apply(rgb.map(srgb_to_linear_fast))
                    }
                };
                for k in 0..3 {
                    o[k] = linear_to_srgb_fast(c[k]);
                }
            }
        })
    }

    /// 16-bit rows (and float rows in tests): each combination's exact transform.
    pub(super) fn render_rows_exact<T: Sample>(
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
            orow.copy_from_slice(irow);
            for (x, (o, px)) in orow
                .chunks_exact_mut(ch)
                .zip(irow.chunks_exact(ch))
                .enumerate()
            {
                let mv = scratch.load_masks(rows, x, || {
                    [px[0].to_unit(), px[1].to_unit(), px[2].to_unit()]
                });
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

    /// The float table of combination `key` (made now if the plan did not foresee
    /// it); `None` for the identity.
    #[inline]
    fn float_table(&self, key: usize) -> Option<FloatTable<'_>> {
        self.luts.get_float(key, self.combos.get(key))
    }

    /// The baked table of combination `key` (baked now if the plan did not foresee
    /// it); `None` for the identity.
    #[inline]
    fn table(&self, key: usize) -> Option<&Lut3d> {
        self.luts.get(key, || self.combos.get(key).copied())
    }
}

/// Per-band working memory of the row renderers.
struct Scratch {
    mask_values: Vec<f32>,
    cache: PreparedCache,
}

impl Scratch {
    /// Each mask's value at column `x` of the row `rows` were loaded for, for a
    /// pixel whose colour in [0, 1] is `unit()` (not asked without masks).
    #[inline]
    fn load_masks(
        &mut self,
        rows: &[RowEvaluator],
        x: usize,
        unit: impl FnOnce() -> [f32; 3],
    ) -> &[f32] {
        if !self.mask_values.is_empty() {
            let gv = guide_value(unit());
            for (m, row) in self.mask_values.iter_mut().zip(rows) {
                *m = row.value(x, gv);
            }
        }
        &self.mask_values
    }
}

/// The split of a row on which every mask is constant (wholly inside or outside
/// each region, as most rows are): one combination, or one blend, for the whole
/// row; `None` when some mask varies along it.
fn constant_split(rows: &[RowEvaluator]) -> Option<MaskSplit> {
    let constant: Option<Vec<f32>> = rows.iter().map(|r| r.constant()).collect();
    constant.as_deref().and_then(split_masks)
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

/// Where a tile sits in its frame, and its row layout.
pub(in crate::render::parametric) struct Geometry {
    pub x0: usize,
    pub y0: usize,
    pub fw: f32,
    pub fh: f32,
    pub width: usize,
    pub channels: usize,
}
