//! 3D lookup tables for 8-bit and float sources.
//!
//! Away from soft mask edges every pixel of a given combination of regions gets the
//! same colour transform, so that transform is baked once into a 65 x 65 x 65 table
//! over sRGB-encoded input, holding linear-light output (smooth even where gamut
//! fitting drives a channel to zero, where sRGB-encoded output is steepest), and
//! interpolated tetrahedrally — several times cheaper than
//! the exact per-pixel maths, and within 1/255 of it (tested below).
//!
//! Float pixels read a table of their own, holding sRGB-encoded output: the
//! transform from encoded input to encoded output is close to the identity for the
//! edits people make, so interpolating it is far more accurate than interpolating
//! linear output (whose curvature is the sRGB curve's), and a pixel fully inside
//! one combination is written without any transfer function. Where gamut fitting
//! puts a corner into the transform, interpolation still rounds it off by up to a
//! few hundredths; [`RoughCells`] marks the grid cells where the table misses the
//! exact transform by more than [`FLOAT_TOLERANCE`] (linear light) at probe points
//! inside the cell, and float pixels in those cells take the exact transform. The
//! float result stays within 1e-3 of the exact path in linear light (tested below
//! and in the renderer's tests).
//!
//! Previews use a coarser grid ([`PREVIEW_GRID`]): an eighth of the baking, for a
//! picture that is looked at, not delivered.

use super::blend::MAX_REGIONS;
use super::ops::Prepared;
#[cfg(test)]
use crate::color::srgb_u8_table;
use crate::color::{
    linear_to_srgb, linear_to_srgb_fast, srgb_to_linear, srgb_to_linear_fast, unit_or_zero,
    SrgbU8Table, SRGB_U8_TABLE_MAX,
};
use rayon::prelude::*;
use std::sync::OnceLock;

/// Grid points per axis of the tables full renders use.
pub const FULL_GRID: usize = 65;
/// Grid points per axis of preview tables.
pub const PREVIEW_GRID: usize = 33;

/// Largest difference, in linear light, a float pixel may take from a table cell
/// before the cell is marked rough (measured at the cell's probe points).
pub const FLOAT_TOLERANCE: f32 = 2e-4;

/// A baked transform from sRGB-encoded RGB to linear-light RGB in [0, 1].
#[derive(Clone)]
pub struct Lut3d {
    /// Grid points per axis ([`FULL_GRID`] or [`PREVIEW_GRID`]).
    n: usize,
    axes: &'static Axes,
    /// Outputs in 1/65535 steps: half the memory of floats, far finer than 8-bit output.
    data: Vec<[u16; 3]>,
}

impl std::fmt::Debug for Lut3d {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Lut3d({}^3)", self.n)
    }
}

/// Per channel and 8-bit value: offset of the grid cell's corner in the table, and
/// the position inside the cell in 1/256.
type Axes = [[(u32, u32); 256]; 3];

/// Fixed-point linear light: table entries in 1/65535 times weights in 1/256.
pub(crate) const FIXED_ONE: u32 = 65535 * 256;

/// Fixed-point linear light to an index of the 8-bit encode table (steps of
/// 1/16383): a division by ~1024 (65535 / 16383 = 4.0002), rounded.
#[inline]
pub(crate) fn fixed_to_index(v: u32) -> usize {
    ((v + 512) >> 10).min(SRGB_U8_TABLE_MAX) as usize
}

fn axes(n: usize) -> &'static Axes {
    static FULL: OnceLock<Axes> = OnceLock::new();
    static PREVIEW: OnceLock<Axes> = OnceLock::new();
    let make = || -> Axes {
        let stride = [n * n, n, 1];
        std::array::from_fn(|c| {
            std::array::from_fn(|v| {
                let f = v as f32 * (n - 1) as f32 / 255.0;
                let i = (f as usize).min(n - 2);
                let t = ((f - i as f32) * 256.0).round() as u32;
                ((i * stride[c]) as u32, t)
            })
        })
    };
    if n == PREVIEW_GRID {
        PREVIEW.get_or_init(make)
    } else {
        FULL.get_or_init(make)
    }
}

/// Strides of the full grid's red and green axes.
const FULL_R: usize = FULL_GRID * FULL_GRID;
const FULL_G: usize = FULL_GRID;

/// Where an 8-bit colour falls on a grid of `grid` points: its tetrahedron and its
/// corners' weights in 1/256.
#[derive(Debug, Clone, Copy)]
pub(crate) struct U8Point {
    pub grid: usize,
    base: usize,
    offsets: [usize; 2],
    weights: [u32; 4],
}

/// Where a float colour falls on the full grid: its cell, tetrahedron and weights.
/// Tables on the same grid are all read at the same point, so a pixel blended
/// across a soft mask edge locates itself once.
#[derive(Debug, Clone, Copy)]
pub struct GridPoint {
    base: usize,
    offsets: [usize; 2],
    weights: [f32; 4],
    cell: usize,
}

impl GridPoint {
    /// Locates an sRGB-encoded colour (read clamped to [0, 1]; NaN reads as 0).
    #[inline(always)]
    pub fn of(rgb: [f32; 3]) -> Self {
        const TOP: f32 = (FULL_GRID - 1) as f32;
        let mut i = [0usize; 3];
        let mut t = [0f32; 3];
        for k in 0..3 {
            let f = unit_or_zero(rgb[k]) * TOP;
            i[k] = (f as usize).min(FULL_GRID - 2);
            t[k] = f - i[k] as f32;
        }
        let (o1, o2, [w1, w2, w3]) = tetrahedron(t, FULL_R, FULL_G);
        GridPoint {
            base: i[0] * FULL_R + i[1] * FULL_G + i[2],
            offsets: [o1, o2],
            weights: [1.0 - w1, w1 - w2, w2 - w3, w3],
            cell: (i[0] * (FULL_GRID - 1) + i[1]) * (FULL_GRID - 1) + i[2],
        }
    }
}

/// Offsets of the two middle corners of the tetrahedron holding a point whose
/// positions inside its cell are `t` (red, green, blue), and the order of those
/// positions (largest first). The cube is split into six tetrahedra along its grey
/// diagonal: four corners per lookup instead of trilinear's eight.
#[inline]
fn tetrahedron<T: PartialOrd + Copy>(t: [T; 3], r: usize, g: usize) -> (usize, usize, [T; 3]) {
    let [tr, tg, tb] = t;
    if tr >= tg {
        if tg >= tb {
            (r, r + g, [tr, tg, tb])
        } else if tr >= tb {
            (r, r + 1, [tr, tb, tg])
        } else {
            (1, r + 1, [tb, tr, tg])
        }
    } else if tb >= tg {
        (1, g + 1, [tb, tg, tr])
    } else if tb >= tr {
        (g, g + 1, [tg, tb, tr])
    } else {
        (g, r + g, [tg, tr, tb])
    }
}

impl Lut3d {
    /// Bakes `p` on a grid of `n` points per axis ([`FULL_GRID`] or [`PREVIEW_GRID`]).
    pub fn bake_grid(p: &Prepared, n: usize) -> Self {
        Self::bake_with(p, n, false)
    }

    /// Bakes `p` for float pixels: on the full grid, with sRGB-encoded output, and
    /// the cells where that table misses `p` (see [`RoughCells`]).
    pub fn bake_float(p: &Prepared) -> (Self, RoughCells) {
        let table = Self::bake_with(p, FULL_GRID, true);
        let rough = table.rough_cells(p);
        (table, rough)
    }

    fn bake_with(p: &Prepared, n: usize, encoded: bool) -> Self {
        let n = if n == PREVIEW_GRID { n } else { FULL_GRID };
        let grid: Vec<f32> = (0..n)
            .map(|i| srgb_to_linear(i as f32 / (n - 1) as f32))
            .collect();
        let mut data = vec![[0u16; 3]; n * n * n];
        data.par_chunks_mut(n * n)
            .enumerate()
            .for_each(|(ri, plane)| {
                for (gi, row) in plane.chunks_mut(n).enumerate() {
                    for (bi, o) in row.iter_mut().enumerate() {
                        *o = p.apply([grid[ri], grid[gi], grid[bi]]).map(|v| {
                            let v = v.clamp(0.0, 1.0);
                            let v = if encoded { linear_to_srgb(v) } else { v };
                            (v * 65535.0 + 0.5) as u16
                        });
                    }
                }
            });
        Lut3d {
            n,
            axes: axes(n),
            data,
        }
    }

    /// Bakes `p` on the full grid.
    pub fn bake(p: &Prepared) -> Self {
        Self::bake_grid(p, FULL_GRID)
    }

    /// Interpolated output in fixed-point linear light ([`FIXED_ONE`] is 1.0).
    #[inline]
    pub(crate) fn interpolate(&self, rgb: [u8; 3]) -> [u32; 3] {
        self.interpolate_u8_at(&self.locate_u8(rgb))
    }

    /// Where an 8-bit colour falls on this table's grid (the same for every table
    /// on that grid: a pixel blended across soft mask edges locates itself once).
    #[inline(always)]
    pub(crate) fn locate_u8(&self, rgb: [u8; 3]) -> U8Point {
        let ax = self.axes;
        let (or, tr) = ax[0][rgb[0] as usize];
        let (og, tg) = ax[1][rgb[1] as usize];
        let (ob, tb) = ax[2][rgb[2] as usize];
        let (r, g) = (self.n * self.n, self.n);
        let (o1, o2, [w1, w2, w3]) = tetrahedron([tr, tg, tb], r, g);
        U8Point {
            grid: self.n,
            base: (or + og + ob) as usize,
            offsets: [o1, o2],
            weights: [256 - w1, w1 - w2, w2 - w3, w3],
        }
    }

    /// Grid points per axis.
    #[inline]
    pub(crate) fn grid(&self) -> usize {
        self.n
    }

    /// Interpolated output in fixed-point linear light at a point located on this
    /// table's grid.
    #[inline(always)]
    pub(crate) fn interpolate_u8_at(&self, at: &U8Point) -> [u32; 3] {
        debug_assert_eq!(at.grid, self.n);
        let [c000, p1, p2, c111] = self.tetrahedron_values(at.base, at.offsets);
        let [a, b, c, d] = at.weights;
        std::array::from_fn(|k| {
            c000[k] as u32 * a + p1[k] as u32 * b + p2[k] as u32 * c + c111[k] as u32 * d
        })
    }

    /// Interpolated output (what the table holds: sRGB-encoded for float tables)
    /// at a point located on the full grid.
    #[inline(always)]
    fn interpolate_at(&self, at: &GridPoint) -> [f32; 3] {
        debug_assert_eq!(self.n, FULL_GRID);
        let [c000, p1, p2, c111] = self.tetrahedron_values(at.base, at.offsets);
        let [a, b, c, d] = at.weights;
        const UNIT: f32 = 1.0 / 65535.0;
        std::array::from_fn(|k| {
            (c000[k] as f32 * a + p1[k] as f32 * b + p2[k] as f32 * c + c111[k] as f32 * d) * UNIT
        })
    }

    /// The four corners of a tetrahedron: the cell's origin `base`, its two middle
    /// corners at `offsets` from it, and the far corner.
    #[inline(always)]
    fn tetrahedron_values(&self, base: usize, offsets: [usize; 2]) -> [[u16; 3]; 4] {
        let far = self.n * self.n + self.n + 1;
        let cell = &self.data[base..=base + far];
        [cell[0], cell[offsets[0]], cell[offsets[1]], cell[far]]
    }

    /// Marks the cells where this float table (baked from `p`, sRGB-encoded
    /// output) misses `p` by more than [`FLOAT_TOLERANCE`] in linear light at any
    /// of the cell's probe points: its centre and one point inside each of its six
    /// tetrahedra.
    fn rough_cells(&self, p: &Prepared) -> RoughCells {
        let cells = self.n - 1;
        const PROBES: [[f32; 3]; 7] = [
            [0.5, 0.5, 0.5],
            [0.75, 0.5, 0.25],
            [0.75, 0.25, 0.5],
            [0.5, 0.25, 0.75],
            [0.25, 0.5, 0.75],
            [0.25, 0.75, 0.5],
            [0.5, 0.75, 0.25],
        ];
        let top = cells as f32;
        let rough: Vec<Vec<bool>> = (0..cells)
            .into_par_iter()
            .map(|ri| {
                let mut plane = vec![false; cells * cells];
                for gi in 0..cells {
                    for bi in 0..cells {
                        plane[gi * cells + bi] = PROBES.iter().any(|q| {
                            let enc = [
                                (ri as f32 + q[0]) / top,
                                (gi as f32 + q[1]) / top,
                                (bi as f32 + q[2]) / top,
                            ];
                            let exact = p.apply(enc.map(srgb_to_linear));
                            let got = self
                                .interpolate_at(&GridPoint::of(enc))
                                .map(srgb_to_linear_fast);
                            (0..3).any(|k| (exact[k] - got[k]).abs() > FLOAT_TOLERANCE)
                        });
                    }
                }
                plane
            })
            .collect();
        let mut bits = vec![0u64; (cells * cells * cells).div_ceil(64)];
        let mut count = 0;
        for (k, _) in rough.iter().flatten().enumerate().filter(|(_, &r)| r) {
            bits[k / 64] |= 1 << (k % 64);
            count += 1;
        }
        RoughCells { bits, count }
    }

    /// Transformed colour of an 8-bit sRGB pixel, in linear light.
    #[inline]
    pub fn lookup(&self, rgb: [u8; 3]) -> [f32; 3] {
        self.interpolate(rgb)
            .map(|v| v as f32 * (1.0 / FIXED_ONE as f32))
    }

    /// Transformed colour of an 8-bit sRGB pixel as 8-bit sRGB, through `encode`
    /// (the table of [`srgb_u8_table`]): no floating point at all.
    #[inline]
    pub fn lookup_u8(&self, rgb: [u8; 3], encode: &SrgbU8Table) -> [u8; 3] {
        self.interpolate(rgb).map(|v| encode[fixed_to_index(v)])
    }
}

/// The grid cells of a float table where pixels take the exact transform (made
/// by [`Lut3d::bake_float`]).
#[derive(Debug, Clone)]
pub struct RoughCells {
    bits: Vec<u64>,
    count: usize,
}

impl RoughCells {
    /// True when cell `index` (from [`Lut3d::interpolate_f32`]) is rough.
    #[inline]
    pub fn contains(&self, index: usize) -> bool {
        self.bits
            .get(index / 64)
            .is_some_and(|w| w >> (index % 64) & 1 == 1)
    }

    /// How many cells are rough.
    pub fn count(&self) -> usize {
        self.count
    }
}

/// One combination's table, baked on first use.
#[derive(Debug, Default)]
struct Slot {
    table: OnceLock<Option<Lut3d>>,
    /// The encoded-output table for float pixels, with its rough cells.
    float: OnceLock<(Lut3d, RoughCells)>,
}

/// Lazily baked tables, one per combination of fully-in / fully-out named regions.
/// Slots are shared: a re-plan whose combination is unchanged reuses the table.
#[derive(Debug, Clone)]
pub struct LutSet {
    grid: usize,
    slots: Vec<std::sync::Arc<Slot>>,
}

impl LutSet {
    /// Room for every combination of `regions` named regions (none beyond the limit),
    /// on a grid of `grid` points per axis.
    pub fn new(regions: usize, grid: usize) -> Self {
        let n = if regions <= MAX_REGIONS {
            1usize << regions
        } else {
            0
        };
        LutSet {
            grid,
            slots: (0..n).map(|_| Default::default()).collect(),
        }
    }

    /// Grid points per axis of these tables.
    pub fn grid(&self) -> usize {
        self.grid
    }

    /// Shares `other`'s tables of combination `from` as this set's `key` (the
    /// combination's transform unchanged), on whatever grid they were baked.
    pub fn share(&mut self, key: usize, other: &LutSet, from: usize) {
        if let (Some(slot), Some(src)) = (self.slots.get_mut(key), other.slots.get(from)) {
            *slot = src.clone();
        }
    }

    /// The table for `key`, baked on first use from `prepare()`; `None` for the
    /// identity.
    pub fn get(&self, key: usize, prepare: impl FnOnce() -> Option<Prepared>) -> Option<&Lut3d> {
        self.get_on(key, self.grid, prepare)
    }

    /// The table for `key` as [`LutSet::get`] gives it, baked on the preview grid
    /// if it is not baked yet (for combinations met only blended with others).
    pub fn get_coarse(
        &self,
        key: usize,
        prepare: impl FnOnce() -> Option<Prepared>,
    ) -> Option<&Lut3d> {
        self.get_on(key, self.grid.min(PREVIEW_GRID), prepare)
    }

    /// The table for `key`, baked on a grid of `grid` points if not baked yet.
    fn get_on(
        &self,
        key: usize,
        grid: usize,
        prepare: impl FnOnce() -> Option<Prepared>,
    ) -> Option<&Lut3d> {
        self.slots[key]
            .table
            .get_or_init(|| {
                prepare().map(|p| {
                    let t = std::time::Instant::now();
                    let table = Lut3d::bake_grid(&p, grid);
                    tracing::debug!(key, grid, elapsed = ?t.elapsed(), "baked colour table");
                    table
                })
            })
            .as_ref()
    }

    /// The float table for `key` (the transform `p`, `None` for the identity) with
    /// its rough cells, made on first use. Preview sets have none (their float
    /// pixels take the exact transform).
    pub fn get_float<'a>(&'a self, key: usize, p: Option<&'a Prepared>) -> Option<FloatTable<'a>> {
        let p = p?;
        let (table, rough) = self.slots.get(key)?.float.get_or_init(|| {
            let t = std::time::Instant::now();
            let (table, rough) = Lut3d::bake_float(p);
            tracing::debug!(key, rough = rough.count(), elapsed = ?t.elapsed(), "baked colour table for float pixels");
            (table, rough)
        });
        Some(FloatTable {
            table,
            rough,
            exact: p,
        })
    }
}

/// A table, its rough cells and the exact transform those fall back to.
#[derive(Debug, Clone, Copy)]
pub struct FloatTable<'a> {
    table: &'a Lut3d,
    rough: &'a RoughCells,
    exact: &'a Prepared,
}

impl FloatTable<'_> {
    /// The transformed colour of a float pixel (sRGB-encoded, read clamped to
    /// [0, 1]), sRGB-encoded: the table's, or the exact transform's in a rough cell.
    #[inline(always)]
    pub fn encoded(&self, rgb: [f32; 3]) -> [f32; 3] {
        let at = GridPoint::of(rgb);
        if self.rough.contains(at.cell) {
            self.exact_linear(rgb).map(linear_to_srgb_fast)
        } else {
            self.table.interpolate_at(&at)
        }
    }

    /// The same in linear light (for blending across soft mask edges).
    #[inline]
    pub fn linear(&self, rgb: [f32; 3]) -> [f32; 3] {
        self.linear_at(&GridPoint::of(rgb), rgb)
    }

    /// [`FloatTable::linear`] of `rgb`, located at `at` already.
    #[inline(always)]
    pub fn linear_at(&self, at: &GridPoint, rgb: [f32; 3]) -> [f32; 3] {
        if self.rough.contains(at.cell) {
            self.exact_linear(rgb)
        } else {
            self.table.interpolate_at(at).map(srgb_to_linear_fast)
        }
    }

    #[inline]
    fn exact_linear(&self, rgb: [f32; 3]) -> [f32; 3] {
        self.exact.apply(rgb.map(srgb_to_linear_fast))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::color::linear_to_oklab;
    use crate::render::ops::Strength;

    /// Share over 1/255, worst code-value difference, worst Oklab distance, share
    /// over Oklab 0.01.
    fn compare(p: &Prepared) -> (f64, f32, f32, f64) {
        let lut = Lut3d::bake(p);
        let (mut over, mut n, mut worst_code, mut worst_ok, mut over_ok) =
            (0usize, 0usize, 0f32, 0f32, 0usize);
        for r in (0..256).step_by(5) {
            for g in (0..256).step_by(7) {
                for b in (0..256).step_by(3) {
                    let exact = p.apply([r, g, b].map(|v| srgb_to_linear(v as f32 / 255.0)));
                    let got = lut.lookup([r as u8, g as u8, b as u8]);
                    let code = (0..3)
                        .map(|k| (linear_to_srgb(exact[k]) - linear_to_srgb(got[k])).abs() * 255.0)
                        .fold(0.0, f32::max);
                    let (a, c) = (linear_to_oklab(exact), linear_to_oklab(got));
                    let de =
                        ((a[0] - c[0]).powi(2) + (a[1] - c[1]).powi(2) + (a[2] - c[2]).powi(2))
                            .sqrt();
                    worst_code = worst_code.max(code);
                    worst_ok = worst_ok.max(de);
                    over += (code > 1.0) as usize;
                    over_ok += (de > 0.01) as usize;
                    n += 1;
                }
            }
        }
        (
            over as f64 / n as f64,
            worst_code,
            worst_ok,
            over_ok as f64 / n as f64,
        )
    }

    /// The all-integer 8-bit lookup gives the code of the float lookup, give or take
    /// one where the float sits on a rounding boundary.
    #[test]
    fn eight_bit_lookup_matches_the_float_lookup() {
        let lut = Lut3d::bake(&Prepared::new(&Strength {
            temperature: 1.0,
            chroma: 0.5,
            contrast: 0.5,
            pivot: 0.5,
            ..Default::default()
        }));
        let table = srgb_u8_table();
        let (mut off, mut n) = (0, 0);
        for r in (0..256).step_by(3) {
            for g in (0..256).step_by(5) {
                for b in (0..256).step_by(7) {
                    let rgb = [r as u8, g as u8, b as u8];
                    let fast = lut.lookup_u8(rgb, table);
                    let slow = lut.lookup(rgb).map(crate::color::linear_to_srgb_u8);
                    for k in 0..3 {
                        let d = fast[k].abs_diff(slow[k]);
                        assert!(d <= 1, "{rgb:?}: {fast:?} vs {slow:?}");
                        off += (d > 0) as usize;
                        n += 1;
                    }
                }
            }
        }
        assert!(off * 100 < n, "{off} of {n} off by one");
    }

    /// Over a dense grid of colours the table matches the exact transform within
    /// 1/255 for all but a sliver (< 1%) of saturated colours at the gamut boundary,
    /// where fitting puts a corner in the transform that interpolation rounds off
    /// (worst seen: about 6/255 for contrast +1).
    /// Strong edits, one operator leading each, that put corners into the transform.
    fn strong_edits() -> [Strength; 4] {
        [
            Strength {
                contrast: 1.0,
                pivot: 0.5,
                ..Default::default()
            },
            Strength {
                contrast: -1.5,
                exposure: 1.5,
                pivot: 0.4,
                ..Default::default()
            },
            Strength {
                temperature: 1.5,
                exposure: -0.5,
                ..Default::default()
            },
            Strength {
                chroma: -3.0,
                exposure: -1.0,
                temperature: -2.0,
                contrast: 0.7,
                pivot: 0.6,
            },
        ]
    }

    #[test]
    fn lookup_matches_the_exact_transform() {
        for s in strong_edits() {
            let (share, worst, _, _) = compare(&Prepared::new(&s));
            assert!(
                share < 0.01 && worst < 8.0,
                "{s:?}: {:.3}% over 1/255, worst {worst}/255",
                share * 100.0
            );
        }
    }

    /// Float pixels: through the table, the rough cells taking the exact transform,
    /// the result stays within 1e-3 of the exact transform in linear light, over a
    /// dense random sample of colours and edits from gentle to extreme.
    #[test]
    fn float_lookup_matches_the_exact_transform_within_1e3() {
        let gentle = Strength {
            temperature: -0.6,
            exposure: 0.3,
            contrast: 0.2,
            pivot: 0.45,
            ..Default::default()
        };
        let chroma_boost = Strength {
            chroma: 1.0,
            temperature: 1.5,
            ..Default::default()
        };
        let strengths = std::iter::once(gentle)
            .chain(strong_edits())
            .chain([chroma_boost]);
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut unit = move || {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed >> 40) as f32 / (1u64 << 24) as f32
        };
        for s in strengths {
            let p = Prepared::new(&s);
            let (lut, rough) = Lut3d::bake_float(&p);
            let table = FloatTable {
                table: &lut,
                rough: &rough,
                exact: &p,
            };
            let mut worst = 0f32;
            for i in 0..200_000 {
                // Mostly anywhere; every fourth colour near a face of the cube (the
                // saturated colours gamut fitting bends).
                let mut enc = [unit(), unit(), unit()];
                if i % 4 == 0 {
                    enc[i % 3] *= 0.05;
                }
                let exact = p.apply(enc.map(srgb_to_linear));
                let got = table.linear(enc);
                let written = table.encoded(enc).map(srgb_to_linear);
                for k in 0..3 {
                    worst = worst
                        .max((exact[k] - got[k]).abs())
                        .max((exact[k] - written[k]).abs());
                }
            }
            let share = rough.count() as f64 / 64f64.powi(3);
            eprintln!(
                "{s:?}: worst {worst:.2e} in linear light, {:.2}% of cells rough",
                share * 100.0
            );
            assert!(worst <= 1e-3, "{s:?}: worst {worst}");
            assert!(share < 0.25, "{s:?}: {:.1}% rough", share * 100.0);
        }
    }

    /// Chroma boosts drive colours onto the gamut boundary, where a channel clipped to
    /// zero sits on the steepest part of the sRGB curve: code values of that channel
    /// can differ there, so the fair measure is perceptual. Under 0.5% of a dense
    /// colour grid is more than Oklab 0.01 off (half a just-noticeable difference);
    /// the worst colour of an extreme edit (warming +1.5 with chroma doubled) is 0.034.
    #[test]
    fn chroma_boosts_match_perceptually() {
        for s in [
            Strength {
                chroma: 1.0,
                temperature: 1.5,
                ..Default::default()
            },
            Strength {
                chroma: 0.5,
                contrast: 0.5,
                pivot: 0.5,
                ..Default::default()
            },
        ] {
            let (_, _, worst_ok, over_ok) = compare(&Prepared::new(&s));
            assert!(
                over_ok < 0.005 && worst_ok < 0.05,
                "{s:?}: {:.3}% over Oklab 0.01, worst {worst_ok}",
                over_ok * 100.0
            );
            eprintln!(
                "{s:?}: {:.3}% over Oklab 0.01, worst {worst_ok:.4}",
                over_ok * 100.0
            );
        }
    }
}
