//! Single-channel float planes: masks, guides, coefficient grids, and the
//! resampling and box filtering they need.

use rayon::prelude::*;

/// A row-major single-channel float image.
#[derive(Debug, Clone, PartialEq)]
pub struct Plane {
    width: usize,
    height: usize,
    data: Vec<f32>,
}

impl Plane {
    /// A plane filled with `value`.
    pub fn filled(width: usize, height: usize, value: f32) -> Self {
        Plane {
            width,
            height,
            data: vec![value; width * height],
        }
    }

    /// Wraps row-major data; `None` when the length does not match.
    pub fn from_vec(width: usize, height: usize, data: Vec<f32>) -> Option<Self> {
        (data.len() == width * height).then_some(Plane {
            width,
            height,
            data,
        })
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }

    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }

    /// Row-major samples.
    pub fn data(&self) -> &[f32] {
        &self.data
    }

    /// Mutable row-major samples.
    pub fn data_mut(&mut self) -> &mut [f32] {
        &mut self.data
    }

    /// Sample at integer coordinates.
    pub fn at(&self, x: usize, y: usize) -> f32 {
        self.data[y * self.width + x]
    }

    /// One row.
    pub fn row(&self, y: usize) -> &[f32] {
        &self.data[y * self.width..(y + 1) * self.width]
    }

    /// Bilinear sample at normalised coordinates (u, v) in [0, 1], pixel centres at
    /// (i + 0.5) / size, edges clamped. Normalised coordinates make a plane usable at
    /// any render scale or tile.
    pub fn sample_normalized(&self, u: f32, v: f32) -> f32 {
        let fx = (u * self.width as f32 - 0.5).clamp(0.0, (self.width - 1) as f32);
        let fy = (v * self.height as f32 - 0.5).clamp(0.0, (self.height - 1) as f32);
        let x0 = fx as usize;
        let y0 = fy as usize;
        let x1 = (x0 + 1).min(self.width - 1);
        let y1 = (y0 + 1).min(self.height - 1);
        let tx = fx - x0 as f32;
        let ty = fy - y0 as f32;
        let r0 = &self.data[y0 * self.width..];
        let r1 = &self.data[y1 * self.width..];
        let a = r0[x0] + (r0[x1] - r0[x0]) * tx;
        let b = r1[x0] + (r1[x1] - r1[x0]) * tx;
        a + (b - a) * ty
    }

    /// Interpolates between the two rows around normalised height `v` (as
    /// [`Plane::sample_normalized`] does) into `out`, which must be `width` long.
    pub fn lerp_row_normalized(&self, v: f32, out: &mut [f32]) {
        let fy = (v * self.height as f32 - 0.5).clamp(0.0, (self.height - 1) as f32);
        let y0 = fy as usize;
        let y1 = (y0 + 1).min(self.height - 1);
        let t = fy - y0 as f32;
        let (r0, r1) = (self.row(y0), self.row(y1));
        for ((o, &a), &b) in out.iter_mut().zip(r0).zip(r1) {
            *o = a + (b - a) * t;
        }
    }

    /// The `width` x `height` window at (`x0`, `y0`) of this plane stretched over a
    /// `frame_width` x `frame_height` frame, sampled bilinearly at pixel centres: the
    /// same values for a tile as for that part of the whole frame, at any scale.
    pub fn frame_window(
        &self,
        frame_width: usize,
        frame_height: usize,
        x0: usize,
        y0: usize,
        width: usize,
        height: usize,
    ) -> Plane {
        let mut out = Plane::filled(width, height, 0.0);
        let (fw, fh) = (frame_width.max(1) as f32, frame_height.max(1) as f32);
        for (y, row) in out.data.chunks_mut(width.max(1)).enumerate() {
            let v = ((y0 + y) as f32 + 0.5) / fh;
            for (x, o) in row.iter_mut().enumerate() {
                *o = self.sample_normalized(((x0 + x) as f32 + 0.5) / fw, v);
            }
        }
        out
    }

    /// Resamples to `width` x `height`: area averaging when shrinking, bilinear when growing.
    pub fn resized(&self, width: usize, height: usize) -> Plane {
        if width == self.width && height == self.height {
            return self.clone();
        }
        if width <= self.width && height <= self.height {
            return self.area_downsample(width, height);
        }
        let mut out = Plane::filled(width, height, 0.0);
        out.data
            .par_chunks_mut(width)
            .enumerate()
            .for_each(|(y, row)| {
                let v = (y as f32 + 0.5) / height as f32;
                for (x, o) in row.iter_mut().enumerate() {
                    *o = self.sample_normalized((x as f32 + 0.5) / width as f32, v);
                }
            });
        out
    }

    fn area_downsample(&self, width: usize, height: usize) -> Plane {
        let data = area_downsample::<1>(self.width, self.height, width, height, |y, out| {
            out.copy_from_slice(self.row(y))
        });
        Plane::from_vec(width, height, data).expect("sizes match")
    }

    /// Mean over a (2r+1) x (2r+1) window, windows clipped at the borders
    /// (normalised by the count of pixels inside). O(1) per pixel.
    pub fn box_mean(&self, r: usize) -> Plane {
        let (w, h) = (self.width, self.height);
        // Horizontal pass with a running sum per row.
        let mut tmp = vec![0f32; w * h];
        tmp.par_chunks_mut(w).enumerate().for_each(|(y, out)| {
            let row = self.row(y);
            let mut prefix = Vec::with_capacity(w + 1);
            let mut acc = 0f64;
            prefix.push(0f64);
            for &v in row {
                acc += v as f64;
                prefix.push(acc);
            }
            for (x, o) in out.iter_mut().enumerate() {
                let a = x.saturating_sub(r);
                let b = (x + r + 1).min(w);
                *o = ((prefix[b] - prefix[a]) / (b - a) as f64) as f32;
            }
        });
        // Vertical pass over column prefix sums, computed band by band.
        let mut prefix = vec![0f64; w * (h + 1)];
        for y in 0..h {
            let (done, rest) = prefix.split_at_mut((y + 1) * w);
            let prev = &done[y * w..];
            let cur = &mut rest[..w];
            let src = &tmp[y * w..(y + 1) * w];
            for x in 0..w {
                cur[x] = prev[x] + src[x] as f64;
            }
        }
        let mut out = Plane::filled(w, h, 0.0);
        out.data.par_chunks_mut(w).enumerate().for_each(|(y, o)| {
            let a = y.saturating_sub(r);
            let b = (y + r + 1).min(h);
            let n = (b - a) as f64;
            let pa = &prefix[a * w..(a + 1) * w];
            let pb = &prefix[b * w..(b + 1) * w];
            for x in 0..w {
                o[x] = ((pb[x] - pa[x]) / n) as f32;
            }
        });
        out
    }

    /// Applies `f` to every sample.
    pub fn map(&self, f: impl Fn(f32) -> f32 + Sync) -> Plane {
        Plane {
            width: self.width,
            height: self.height,
            data: self.data.par_iter().map(|&v| f(v)).collect(),
        }
    }

    /// Combines two planes of the same size sample by sample.
    pub fn zip_map(&self, other: &Plane, f: impl Fn(f32, f32) -> f32 + Sync) -> Plane {
        debug_assert_eq!((self.width, self.height), (other.width, other.height));
        Plane {
            width: self.width,
            height: self.height,
            data: self
                .data
                .par_iter()
                .zip(other.data.par_iter())
                .map(|(&a, &b)| f(a, b))
                .collect(),
        }
    }

    /// Mean of all samples.
    pub fn mean(&self) -> f64 {
        if self.data.is_empty() {
            return 0.0;
        }
        self.data.iter().map(|&v| v as f64).sum::<f64>() / self.data.len() as f64
    }
}

/// One output column's span of source columns: first, last (inclusive) and the
/// fractional coverage of the two end pixels.
#[derive(Clone, Copy)]
struct Span {
    first: usize,
    last: usize,
    w_first: f32,
    w_last: f32,
}

fn spans(src: usize, dst: usize) -> Vec<Span> {
    let s = src as f64 / dst as f64;
    (0..dst)
        .map(|o| {
            let a = o as f64 * s;
            let b = ((o + 1) as f64 * s).min(src as f64);
            let first = a.floor() as usize;
            let last = ((b.ceil() as usize).max(first + 1) - 1).min(src - 1);
            let w_first = ((first + 1) as f64).min(b) - a;
            let w_last = if last > first {
                b - last as f64
            } else {
                w_first
            };
            Span {
                first,
                last,
                w_first: w_first as f32,
                w_last: w_last as f32,
            }
        })
        .collect()
}

/// Exact area-averaging downsample of a `C`-channel image, `fetch_row(y, buf)` filling
/// `buf` with source row `y` (`src_w * C` floats). Separable and O(source pixels):
/// each output row accumulates its few weighted source rows, each output column its
/// weighted span of source columns. Output rows are computed in parallel.
pub(crate) fn area_downsample<const C: usize>(
    src_w: usize,
    src_h: usize,
    dst_w: usize,
    dst_h: usize,
    fetch_row: impl Fn(usize, &mut [f32]) + Sync,
) -> Vec<f32> {
    let cols = spans(src_w, dst_w);
    let rows = spans(src_h, dst_h);
    let area = (src_w as f64 / dst_w as f64 * src_h as f64 / dst_h as f64) as f32;
    let mut out = vec![0f32; dst_w * dst_h * C];
    out.par_chunks_mut(dst_w * C)
        .zip(rows.par_iter())
        .for_each(|(orow, r)| {
            let mut buf = vec![0f32; src_w * C];
            let mut acc = vec![0f32; src_w * C];
            for y in r.first..=r.last {
                let wy = if y == r.first {
                    r.w_first
                } else if y == r.last {
                    r.w_last
                } else {
                    1.0
                };
                fetch_row(y, &mut buf);
                for (a, &v) in acc.iter_mut().zip(&buf) {
                    *a += wy * v;
                }
            }
            for (o, c) in orow.chunks_exact_mut(C).zip(&cols) {
                for (k, ok) in o.iter_mut().enumerate() {
                    let mut sum = c.w_first * acc[c.first * C + k];
                    if c.last > c.first {
                        for x in c.first + 1..c.last {
                            sum += acc[x * C + k];
                        }
                        sum += c.w_last * acc[c.last * C + k];
                    }
                    *ok = sum / area;
                }
            }
        });
    out
}

/// Size that fits `width` x `height` into `long_side` keeping the aspect ratio; never enlarges.
pub fn fit_long_side(width: usize, height: usize, long_side: usize) -> (usize, usize) {
    let long = width.max(height);
    if long <= long_side || long == 0 {
        return (width.max(1), height.max(1));
    }
    let s = long_side as f64 / long as f64;
    (
        ((width as f64 * s).round() as usize).max(1),
        ((height as f64 * s).round() as usize).max(1),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn box_mean_matches_brute_force() {
        let w = 7;
        let h = 5;
        let data: Vec<f32> = (0..w * h).map(|i| ((i * 37) % 11) as f32).collect();
        let p = Plane::from_vec(w, h, data).unwrap();
        let r = 2;
        let m = p.box_mean(r);
        for y in 0..h {
            for x in 0..w {
                let mut s = 0.0;
                let mut n = 0.0;
                for yy in y.saturating_sub(r)..(y + r + 1).min(h) {
                    for xx in x.saturating_sub(r)..(x + r + 1).min(w) {
                        s += p.at(xx, yy);
                        n += 1.0;
                    }
                }
                assert!((m.at(x, y) - s / n).abs() < 1e-4);
            }
        }
    }

    #[test]
    fn area_downsample_preserves_the_mean() {
        let p = Plane::from_vec(6, 4, (0..24).map(|i| i as f32).collect()).unwrap();
        let d = p.resized(4, 3);
        assert!((d.mean() - p.mean()).abs() < 1e-4);
        let d2 = p.resized(3, 2);
        assert_eq!(d2.at(0, 0), (0.0 + 1.0 + 6.0 + 7.0) / 4.0);
    }

    #[test]
    fn normalized_sampling_hits_pixel_centres() {
        let p = Plane::from_vec(2, 1, vec![0.0, 1.0]).unwrap();
        assert_eq!(p.sample_normalized(0.25, 0.5), 0.0);
        assert_eq!(p.sample_normalized(0.75, 0.5), 1.0);
        assert!((p.sample_normalized(0.5, 0.5) - 0.5).abs() < 1e-6);
    }

    #[test]
    fn fit_long_side_never_enlarges() {
        assert_eq!(fit_long_side(100, 50, 512), (100, 50));
        assert_eq!(fit_long_side(2000, 1000, 500), (500, 250));
    }
}
