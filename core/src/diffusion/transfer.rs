//! Carrying the model's edit over to the full-resolution photo.
//!
//! The diffusion model sees and returns a 512 x 512 picture. Resizing that back up
//! would replace the photo's detail and noise with the model's blurry guess of
//! them. Instead we fit, around every pixel of the model's input, the affine
//! colour transform (3 x 3 matrix plus offset) that maps the input's colours to the
//! output's there — the colour guided filter's local linear model — smooth the
//! coefficients, and apply them, bilinearly interpolated, to the full-resolution
//! pixels. Colour and tone move as the model moved them; edges, texture and grain
//! stay the photo's own.

use crate::error::{Error, Result};
use crate::plane::Plane;
use crate::raster::{Raster, RgbF32, Sample, Samples};
use crate::render::Control;
use rayon::prelude::*;

/// How tightly the local transforms follow the model's output.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct TransferOptions {
    /// Window radius in model pixels: the scale below which the output's colour
    /// changes are smoothed away (and above which they are kept).
    pub radius: usize,
    /// Regularisation (in [0, 1] colour units squared): larger values pull flat
    /// areas towards a plain offset instead of a contrast change.
    pub eps: f32,
}

impl Default for TransferOptions {
    fn default() -> Self {
        TransferOptions {
            radius: 4,
            eps: 1e-4,
        }
    }
}

/// Per-pixel affine colour transforms on the model's grid: for output channel c,
/// `out_c = a_c0 * r + a_c1 * g + a_c2 * b + b_c` in [0, 1] units.
#[derive(Debug, Clone)]
pub struct ColourTransfer {
    /// 12 planes: for each output channel, the three matrix entries then the offset.
    coef: Vec<Plane>,
}

/// Solves `(m + eps I) x = v` for a symmetric 3 x 3 `m` (6 entries: xx, xy, xz, yy, yz, zz).
fn solve3(m: [f64; 6], eps: f64, v: [f64; 3]) -> [f64; 3] {
    let [a, b, c, d, e, f] = m;
    let (a, d, f) = (a + eps, d + eps, f + eps);
    // Cofactors of [[a b c] [b d e] [c e f]].
    let c00 = d * f - e * e;
    let c01 = c * e - b * f;
    let c02 = b * e - c * d;
    let c11 = a * f - c * c;
    let c12 = b * c - a * e;
    let c22 = a * d - b * b;
    let det = a * c00 + b * c01 + c * c02;
    if det.abs() < 1e-30 {
        return [0.0; 3];
    }
    [
        (c00 * v[0] + c01 * v[1] + c02 * v[2]) / det,
        (c01 * v[0] + c11 * v[1] + c12 * v[2]) / det,
        (c02 * v[0] + c12 * v[1] + c22 * v[2]) / det,
    ]
}

impl ColourTransfer {
    /// Fits the transforms that take `input` (the model's input, 0..255 units) to
    /// `output` (its result, same size).
    pub fn fit(input: &RgbF32, output: &RgbF32, opts: &TransferOptions) -> Result<Self> {
        let (w, h) = (input.width, input.height);
        if w == 0 || h == 0 || output.width != w || output.height != h {
            return Err(Error::InvalidRequest(format!(
                "colour transfer needs two images of one size ({w} x {h} and {} x {})",
                output.width, output.height
            )));
        }
        if opts.eps.is_nan() || opts.eps < 0.0 {
            return Err(Error::InvalidRequest(format!(
                "colour transfer eps {} is not >= 0",
                opts.eps
            )));
        }
        let plane = |img: &RgbF32, c: usize| {
            Plane::from_vec(w, h, img.data.iter().map(|p| p[c] / 255.0).collect())
                .expect("size matches")
        };
        let i: Vec<Plane> = (0..3).map(|c| plane(input, c)).collect();
        let p: Vec<Plane> = (0..3).map(|c| plane(output, c)).collect();
        let r = opts.radius;
        // Window means: I (3), I I^T (6), p (3), I p (9): 21 box filters.
        let mut products: Vec<Plane> = Vec::with_capacity(21);
        products.extend(i.iter().cloned());
        for (x, y) in [(0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)] {
            products.push(i[x].zip_map(&i[y], |a, b| a * b));
        }
        products.extend(p.iter().cloned());
        for pc in &p {
            for ik in &i {
                products.push(ik.zip_map(pc, |a, b| a * b));
            }
        }
        let means: Vec<Plane> = products.par_iter().map(|pl| pl.box_mean(r)).collect();
        let n = w * h;
        let eps = opts.eps as f64;
        let mut coef = vec![vec![0.0f32; n]; 12];
        let mut rows: Vec<[f32; 12]> = vec![[0.0; 12]; n];
        rows.par_iter_mut().enumerate().for_each(|(k, out)| {
            let m = |j: usize| means[j].data()[k] as f64;
            let mi = [m(0), m(1), m(2)];
            let cov = [
                m(3) - mi[0] * mi[0],
                m(4) - mi[0] * mi[1],
                m(5) - mi[0] * mi[2],
                m(6) - mi[1] * mi[1],
                m(7) - mi[1] * mi[2],
                m(8) - mi[2] * mi[2],
            ];
            for c in 0..3 {
                let mp = m(9 + c);
                let cip = [
                    m(12 + 3 * c) - mi[0] * mp,
                    m(13 + 3 * c) - mi[1] * mp,
                    m(14 + 3 * c) - mi[2] * mp,
                ];
                let a = solve3(cov, eps, cip);
                let b = mp - a[0] * mi[0] - a[1] * mi[1] - a[2] * mi[2];
                out[4 * c] = a[0] as f32;
                out[4 * c + 1] = a[1] as f32;
                out[4 * c + 2] = a[2] as f32;
                out[4 * c + 3] = b as f32;
            }
        });
        for (k, row) in rows.iter().enumerate() {
            for (j, &v) in row.iter().enumerate() {
                coef[j][k] = v;
            }
        }
        let coef = coef
            .into_par_iter()
            .map(|v| Plane::from_vec(w, h, v).expect("size matches").box_mean(r))
            .collect();
        Ok(ColourTransfer { coef })
    }

    /// Applies the transforms to `tile`, the part of a `frame_w` x `frame_h` frame
    /// whose top-left pixel is (`x0`, `y0`); the transforms are stretched over the
    /// whole frame. Depth and alpha are kept.
    pub fn apply(
        &self,
        tile: &Raster,
        x0: usize,
        y0: usize,
        frame_w: usize,
        frame_h: usize,
        ctl: &Control<'_>,
    ) -> Result<Raster> {
        crate::render::check_tile(tile, (x0, y0), (frame_w, frame_h))?;
        let (w, h, ch) = (tile.width(), tile.height(), tile.channels());
        let samples = match tile.samples() {
            Samples::U8(v) => {
                Samples::U8(self.apply_samples(v, w, h, ch, x0, y0, frame_w, frame_h, ctl)?)
            }
            Samples::U16(v) => {
                Samples::U16(self.apply_samples(v, w, h, ch, x0, y0, frame_w, frame_h, ctl)?)
            }
            Samples::F32(v) => {
                Samples::F32(self.apply_samples(v, w, h, ch, x0, y0, frame_w, frame_h, ctl)?)
            }
        };
        Raster::new(w, h, ch, samples)
            .ok_or_else(|| Error::InvalidRequest("tile layout changed".into()))
    }

    /// Applies the transforms to an image of the model's grid or any other size
    /// (0..255 units), for previews and tests.
    pub fn apply_rgb(&self, rgb: &RgbF32) -> RgbF32 {
        let (w, h) = (rgb.width, rgb.height);
        let mut data = vec![[0.0f32; 3]; w * h];
        let taps = self.taps(0, w, w);
        let mut lerped = vec![vec![0.0f32; self.grid_width()]; 12];
        for (y, row) in data.chunks_exact_mut(w.max(1)).enumerate() {
            self.load_row((y as f32 + 0.5) / h as f32, &mut lerped);
            for (x, o) in row.iter_mut().enumerate() {
                let c = self.at(&lerped, taps[x]);
                let p = rgb.data[y * w + x].map(|v| v / 255.0);
                *o = transform(&c, p).map(|v| v * 255.0);
            }
        }
        RgbF32 {
            width: w,
            height: h,
            data,
        }
    }

    fn grid_width(&self) -> usize {
        self.coef[0].width()
    }

    /// Horizontal taps on the coefficient grid for `width` pixels from `x0` of a
    /// `frame_w`-wide frame: (left column, right column, weight of the right).
    fn taps(&self, x0: usize, width: usize, frame_w: usize) -> Vec<(usize, usize, f32)> {
        let gw = self.grid_width();
        (0..width)
            .map(|x| {
                let u = (x0 + x) as f32 + 0.5;
                let fx = (u / frame_w as f32 * gw as f32 - 0.5).clamp(0.0, (gw - 1) as f32);
                let a = fx as usize;
                (a, (a + 1).min(gw - 1), fx - a as f32)
            })
            .collect()
    }

    fn load_row(&self, v: f32, lerped: &mut [Vec<f32>]) {
        for (plane, out) in self.coef.iter().zip(lerped.iter_mut()) {
            plane.lerp_row_normalized(v, out);
        }
    }

    fn at(&self, lerped: &[Vec<f32>], (a, b, t): (usize, usize, f32)) -> [f32; 12] {
        std::array::from_fn(|j| {
            let row = &lerped[j];
            row[a] + (row[b] - row[a]) * t
        })
    }

    #[allow(clippy::too_many_arguments)]
    fn apply_samples<T: Sample>(
        &self,
        src: &[T],
        w: usize,
        h: usize,
        ch: usize,
        x0: usize,
        y0: usize,
        frame_w: usize,
        frame_h: usize,
        ctl: &Control<'_>,
    ) -> Result<Vec<T>> {
        const BAND: usize = 64;
        let taps = self.taps(x0, w, frame_w);
        let gw = self.grid_width();
        let mut out = src.to_vec();
        let row_len = w * ch;
        let bands = h.div_ceil(BAND).max(1);
        for (k, band) in out.chunks_mut(row_len * BAND).enumerate() {
            ctl.check()?;
            let first = k * BAND;
            band.par_chunks_mut(row_len).enumerate().for_each_init(
                || vec![vec![0.0f32; gw]; 12],
                |lerped, (dy, row)| {
                    let y = first + dy;
                    let v = ((y0 + y) as f32 + 0.5) / frame_h as f32;
                    self.load_row(v, lerped);
                    for (px, &tap) in row.chunks_exact_mut(ch).zip(&taps) {
                        let c = self.at(lerped, tap);
                        let p = [px[0].to_unit(), px[1].to_unit(), px[2].to_unit()];
                        let q = transform(&c, p);
                        px[0] = T::from_unit(q[0]);
                        px[1] = T::from_unit(q[1]);
                        px[2] = T::from_unit(q[2]);
                    }
                },
            );
            ctl.report("transfer", (k + 1) as f32 / bands as f32);
        }
        Ok(out)
    }
}

#[inline]
fn transform(c: &[f32; 12], p: [f32; 3]) -> [f32; 3] {
    std::array::from_fn(|k| {
        c[4 * k] * p[0] + c[4 * k + 1] * p[1] + c[4 * k + 2] * p[2] + c[4 * k + 3]
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_global_affine_colour_change_is_recovered_exactly() {
        let input = RgbF32::from_fn(48, 32, |x, y| {
            [
                (x * 5 % 256) as f32,
                (y * 7 % 256) as f32,
                ((x * y) % 256) as f32,
            ]
        });
        // out = M in + b, with cross-channel terms (a saturation-like mix).
        let m = [[1.1, -0.05, 0.0], [0.02, 0.9, 0.03], [0.0, 0.1, 0.85]];
        let b = [8.0, -4.0, 12.0];
        let f = |p: [f32; 3]| -> [f32; 3] {
            std::array::from_fn(|k| m[k][0] * p[0] + m[k][1] * p[1] + m[k][2] * p[2] + b[k])
        };
        let output = RgbF32 {
            data: input.data.iter().map(|&p| f(p)).collect(),
            ..input.clone()
        };
        let t = ColourTransfer::fit(
            &input,
            &output,
            &TransferOptions {
                radius: 3,
                eps: 1e-8,
            },
        )
        .unwrap();
        let back = t.apply_rgb(&input);
        let worst = back
            .data
            .iter()
            .zip(&output.data)
            .flat_map(|(a, b)| (0..3).map(move |k| (a[k] - b[k]).abs()))
            .fold(0.0f32, f32::max);
        assert!(worst < 0.05, "worst {worst} (0..255 units)");
    }

    #[test]
    fn solve3_inverts() {
        let m = [2.0, 0.5, 0.1, 1.5, 0.2, 1.0];
        let x = solve3(m, 0.0, [1.0, 2.0, 3.0]);
        let back = [
            m[0] * x[0] + m[1] * x[1] + m[2] * x[2],
            m[1] * x[0] + m[3] * x[1] + m[4] * x[2],
            m[2] * x[0] + m[4] * x[1] + m[5] * x[2],
        ];
        for (a, b) in back.iter().zip([1.0, 2.0, 3.0]) {
            assert!((a - b).abs() < 1e-12);
        }
        assert_eq!(solve3([0.0; 6], 0.0, [1.0, 1.0, 1.0]), [0.0; 3]);
    }

    #[test]
    fn mismatched_sizes_are_refused() {
        let a = RgbF32::from_fn(4, 4, |_, _| [0.0; 3]);
        let b = RgbF32::from_fn(4, 5, |_, _| [0.0; 3]);
        assert!(ColourTransfer::fit(&a, &b, &TransferOptions::default()).is_err());
    }
}
