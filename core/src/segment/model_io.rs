//! Pre- and post-processing shared by the ONNX segmenters.
//!
//! Both directions resample with the same bilinear rule, the one PyTorch calls
//! `interpolate(mode="bilinear", align_corners=False)` without antialiasing: the
//! destination pixel centre `(x + 0.5)` maps to `(x + 0.5) * in / out - 0.5` in the
//! source, clamped at 0, and the two neighbours are blended. models/fixtures/
//! make_fixtures.py implements exactly this in NumPy; the parity tests hold the
//! two to 1e-4.

use crate::onnx::package::Normalisation;
use crate::onnx::TensorF32;
use crate::plane::Plane;
use crate::raster::RgbF32;
use rayon::prelude::*;

/// Source index pairs and weights of one axis.
fn axis_taps(input: usize, output: usize) -> Vec<(usize, usize, f32)> {
    let scale = input as f64 / output as f64;
    (0..output)
        .map(|o| {
            let s = ((o as f64 + 0.5) * scale - 0.5).max(0.0);
            let i0 = (s.floor() as usize).min(input - 1);
            let i1 = (i0 + 1).min(input - 1);
            (i0, i1, (s - i0 as f64) as f32)
        })
        .collect()
}

/// Resamples one row-major `width` x `height` channel to `out_w` x `out_h`.
pub fn resize_bilinear(
    src: &[f32],
    width: usize,
    height: usize,
    out_w: usize,
    out_h: usize,
) -> Vec<f32> {
    debug_assert_eq!(src.len(), width * height);
    let xs = axis_taps(width, out_w);
    let ys = axis_taps(height, out_h);
    let mut out = vec![0.0f32; out_w * out_h];
    out.par_chunks_mut(out_w.max(1))
        .zip(ys.par_iter())
        .for_each(|(row, &(y0, y1, ty))| {
            let r0 = &src[y0 * width..(y0 + 1) * width];
            let r1 = &src[y1 * width..(y1 + 1) * width];
            for (o, &(x0, x1, tx)) in row.iter_mut().zip(&xs) {
                let top = r0[x0] + (r0[x1] - r0[x0]) * tx;
                let bottom = r1[x0] + (r1[x1] - r1[x0]) * tx;
                *o = top + (bottom - top) * ty;
            }
        });
    out
}

/// The image as a `[batch, 3, height, width]` tensor: resampled to the model's
/// input size, then `(value / scale - mean) / std` per channel, repeated `batch`
/// times (a text-prompted model sees the image once per prompt).
pub fn image_tensor(
    image: &RgbF32,
    width: usize,
    height: usize,
    norm: &Normalisation,
    batch: usize,
) -> TensorF32 {
    let plane = width * height;
    let xs = axis_taps(image.width, width);
    let ys = axis_taps(image.height, height);
    // (v / scale - mean) / std as one multiply-add per channel.
    let mul: [f32; 3] = std::array::from_fn(|c| 1.0 / (norm.scale * norm.std[c]));
    let add: [f32; 3] = std::array::from_fn(|c| -norm.mean[c] / norm.std[c]);
    let mut data = vec![0.0f32; batch * 3 * plane];
    {
        let (r, rest) = data[..3 * plane].split_at_mut(plane);
        let (g, b) = rest.split_at_mut(plane);
        let src = &image.data;
        let sw = image.width;
        r.par_chunks_mut(width)
            .zip(g.par_chunks_mut(width))
            .zip(b.par_chunks_mut(width))
            .zip(ys.par_iter())
            .for_each(|(((rr, gr), br), &(y0, y1, ty))| {
                let r0 = &src[y0 * sw..(y0 + 1) * sw];
                let r1 = &src[y1 * sw..(y1 + 1) * sw];
                for (x, &(x0, x1, tx)) in xs.iter().enumerate() {
                    let mut out = [0.0f32; 3];
                    for (c, o) in out.iter_mut().enumerate() {
                        let top = r0[x0][c] + (r0[x1][c] - r0[x0][c]) * tx;
                        let bottom = r1[x0][c] + (r1[x1][c] - r1[x0][c]) * tx;
                        *o = (top + (bottom - top) * ty) * mul[c] + add[c];
                    }
                    rr[x] = out[0];
                    gr[x] = out[1];
                    br[x] = out[2];
                }
            });
    }
    let (first, rest) = data.split_at_mut(3 * plane);
    for copy in rest.chunks_exact_mut(3 * plane) {
        copy.copy_from_slice(first);
    }
    TensorF32 {
        shape: vec![batch, 3, height, width],
        data,
    }
}

/// Per pixel of `[1, classes, h, w]` logits: the softmax probability that the
/// pixel belongs to any class of each group in `groups` (class indices). One
/// `h` x `w` plane per group.
pub fn class_group_probabilities(
    logits: &[f32],
    classes: usize,
    h: usize,
    w: usize,
    groups: &[Vec<usize>],
) -> Vec<Vec<f32>> {
    let n = h * w;
    debug_assert_eq!(logits.len(), classes * n);
    // Which group (if any) each class adds to; a class may feed several groups.
    let mut member = vec![Vec::new(); classes];
    for (g, group) in groups.iter().enumerate() {
        for &c in group {
            member[c].push(g);
        }
    }
    let chunk = 1024;
    let mut out = vec![vec![0.0f32; n]; groups.len()];
    let parts: Vec<(usize, Vec<Vec<f32>>)> = (0..n.div_ceil(chunk))
        .into_par_iter()
        .map(|k| {
            let start = k * chunk;
            let len = chunk.min(n - start);
            let mut max = vec![f32::NEG_INFINITY; len];
            for c in 0..classes {
                let row = &logits[c * n + start..c * n + start + len];
                for (m, &v) in max.iter_mut().zip(row) {
                    *m = m.max(v);
                }
            }
            let mut total = vec![0.0f32; len];
            let mut sums = vec![vec![0.0f32; len]; groups.len()];
            // One class row at a time into a scratch row, so each loop is a
            // straight pass the compiler vectorises.
            let mut e = vec![0.0f32; len];
            for c in 0..classes {
                let row = &logits[c * n + start..c * n + start + len];
                for ((e, &v), &m) in e.iter_mut().zip(row).zip(&max) {
                    *e = exp_nonpositive(v - m);
                }
                for (t, &e) in total.iter_mut().zip(&e) {
                    *t += e;
                }
                for &g in &member[c] {
                    for (s, &e) in sums[g].iter_mut().zip(&e) {
                        *s += e;
                    }
                }
            }
            for s in &mut sums {
                for (v, t) in s.iter_mut().zip(&total) {
                    *v /= t;
                }
            }
            (start, sums)
        })
        .collect();
    for (start, sums) in parts {
        for (g, s) in sums.into_iter().enumerate() {
            out[g][start..start + s.len()].copy_from_slice(&s);
        }
    }
    out
}

/// `e^x` for `x <= 0` (softmax after subtracting the maximum), to 2e-7 relative
/// near 0 and 5e-6 near `e^-87` (0 below): `2^t` split into an integer power, set directly in
/// the exponent bits, and `2^f` for `f` in [-0.5, 0.5] from its degree-6 Taylor
/// polynomial. Branch-free, so it vectorises where `f32::exp` does not.
#[inline]
pub fn exp_nonpositive(x: f32) -> f32 {
    const ROUND: f32 = 12_582_912.0; // 1.5 * 2^23: adding it rounds to an integer
    let t = (x * std::f32::consts::LOG2_E).max(-127.0);
    let i = (t + ROUND) - ROUND;
    let f = t - i;
    let p = 1.0
        + f * (std::f32::consts::LN_2
            + f * (0.240_226_5
                + f * (0.055_504_11
                    + f * (0.009_618_129 + f * (0.001_333_355_8 + f * 0.000_154_035_3)))));
    let scale = f32::from_bits(((i as i32 + 127).max(0) as u32) << 23);
    if t > -126.0 {
        p * scale
    } else {
        0.0
    }
}

/// The logistic function, the probability a text-prompted model's logit stands for.
pub fn sigmoid(v: f32) -> f32 {
    1.0 / (1.0 + (-v).exp())
}

/// A model-resolution probability map brought to the analysis image's size.
pub fn to_image_size(values: &[f32], w: usize, h: usize, image: &RgbF32) -> Plane {
    let data = resize_bilinear(values, w, h, image.width, image.height);
    Plane::from_vec(image.width, image.height, data).expect("resize returns the asked size")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resize_matches_pytorch_half_pixel_rule() {
        // 2 -> 4 along x: PyTorch gives [a, a+.25d, a+.75d, b].
        let out = resize_bilinear(&[0.0, 4.0], 2, 1, 4, 1);
        assert_eq!(out, vec![0.0, 1.0, 3.0, 4.0]);
        // Same size is the identity.
        let src: Vec<f32> = (0..12).map(|v| v as f32).collect();
        assert_eq!(resize_bilinear(&src, 4, 3, 4, 3), src);
        // 4 -> 2 samples between pixel pairs.
        assert_eq!(
            resize_bilinear(&[0.0, 2.0, 4.0, 6.0], 4, 1, 2, 1),
            vec![1.0, 5.0]
        );
    }

    #[test]
    fn fast_exp_is_close_to_exp() {
        let mut worst = 0.0f32;
        for k in 0..=17_000 {
            let x = -(k as f32) * 0.005;
            let rel = (exp_nonpositive(x) - x.exp()).abs() / x.exp().max(f32::MIN_POSITIVE);
            worst = worst.max(rel);
        }
        // Range reduction in f32 loses up to ~5e-6 relative near e^-87.
        assert!(worst < 1e-5, "worst relative error {worst}");
        assert_eq!(exp_nonpositive(0.0), 1.0);
        assert_eq!(exp_nonpositive(-200.0), 0.0);
        assert_eq!(exp_nonpositive(f32::NEG_INFINITY), 0.0);
    }

    #[test]
    fn group_probabilities_are_softmax_sums() {
        // 3 classes, 2 pixels.
        let logits = [
            0.0, 10.0, /* class 1 */ 0.0, 0.0, /* class 2 */ 0.0, 0.0,
        ];
        let p = class_group_probabilities(&logits, 3, 1, 2, &[vec![0], vec![1, 2], vec![]]);
        assert!((p[0][0] - 1.0 / 3.0).abs() < 1e-6);
        assert!((p[1][0] - 2.0 / 3.0).abs() < 1e-6);
        assert!(p[0][1] > 0.999);
        assert!(p[1][1] < 0.001);
        assert_eq!(p[2], vec![0.0, 0.0]);
    }

    #[test]
    fn image_tensor_normalises_each_channel() {
        let img = RgbF32 {
            width: 1,
            height: 1,
            data: vec![[255.0, 0.0, 127.5]],
        };
        let norm = Normalisation {
            scale: 255.0,
            mean: vec![0.5, 0.5, 0.5],
            std: vec![0.5, 0.25, 0.5],
        };
        let t = image_tensor(&img, 2, 2, &norm, 2);
        assert_eq!(t.shape, vec![2, 3, 2, 2]);
        assert_eq!(&t.data[0..4], &[1.0; 4]);
        assert_eq!(&t.data[4..8], &[-2.0; 4]);
        assert_eq!(&t.data[8..12], &[0.0; 4]);
        assert_eq!(&t.data[..12], &t.data[12..]);
    }
}
