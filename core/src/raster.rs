//! Owned RGB/RGBA images in 8-bit, 16-bit or float samples, and the analysis
//! downscale every measurement starts from.

use crate::plane::{area_downsample, fit_long_side, Plane};

/// Sample storage; float samples are sRGB-encoded with 0..1 nominal range.
#[derive(Debug, Clone, PartialEq)]
pub enum Samples {
    U8(Vec<u8>),
    U16(Vec<u16>),
    F32(Vec<f32>),
}

/// Bit depth of a raster's samples.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Depth {
    U8,
    U16,
    F32,
}

impl Depth {
    /// Bytes per sample.
    pub fn bytes(self) -> usize {
        match self {
            Depth::U8 => 1,
            Depth::U16 => 2,
            Depth::F32 => 4,
        }
    }
}

/// An interleaved RGB (3 channels) or RGBA (4 channels) image.
#[derive(Debug, Clone, PartialEq)]
pub struct Raster {
    width: usize,
    height: usize,
    channels: usize,
    samples: Samples,
}

/// A sample type the renderer can read and write.
pub trait Sample: Copy + Send + Sync + 'static {
    /// Value in nominal [0, 1].
    fn to_unit(self) -> f32;
    /// From nominal [0, 1], rounded and clamped for integer types.
    fn from_unit(v: f32) -> Self;
    /// From a linear-light value in [0, 1], sRGB-encoded.
    #[inline]
    fn from_linear(v: f32) -> Self {
        Self::from_unit(crate::color::linear_to_srgb_fast(v))
    }
}

impl Sample for u8 {
    fn to_unit(self) -> f32 {
        self as f32 / 255.0
    }
    fn from_unit(v: f32) -> Self {
        (v * 255.0 + 0.5).clamp(0.0, 255.0) as u8
    }
    #[inline]
    fn from_linear(v: f32) -> Self {
        crate::color::linear_to_srgb_u8(v)
    }
}

impl Sample for u16 {
    fn to_unit(self) -> f32 {
        self as f32 / 65535.0
    }
    fn from_unit(v: f32) -> Self {
        (v * 65535.0 + 0.5).clamp(0.0, 65535.0) as u16
    }
}

impl Sample for f32 {
    fn to_unit(self) -> f32 {
        self
    }
    fn from_unit(v: f32) -> Self {
        v
    }
}

impl Raster {
    /// Wraps interleaved samples; `None` unless channels is 3 or 4 and the length fits.
    pub fn new(width: usize, height: usize, channels: usize, samples: Samples) -> Option<Self> {
        let len = match &samples {
            Samples::U8(v) => v.len(),
            Samples::U16(v) => v.len(),
            Samples::F32(v) => v.len(),
        };
        ((channels == 3 || channels == 4)
            && width > 0
            && height > 0
            && len == width * height * channels)
            .then_some(Raster {
                width,
                height,
                channels,
                samples,
            })
    }

    /// Makes this raster `width` x `height` x `channels` samples of `depth`,
    /// keeping its sample memory when the depth is the same (a buffer reused from
    /// tile to tile: no new pages to fault in). Sample values are left as they
    /// were (new ones zero): callers overwrite them. `false` (and unchanged) for a
    /// layout [`Raster::new`] refuses.
    pub fn reshape(&mut self, width: usize, height: usize, channels: usize, depth: Depth) -> bool {
        if !(channels == 3 || channels == 4) || width == 0 || height == 0 {
            return false;
        }
        let Some(len) = width
            .checked_mul(height)
            .and_then(|n| n.checked_mul(channels))
        else {
            return false;
        };
        match (&mut self.samples, depth) {
            (Samples::U8(v), Depth::U8) => v.resize(len, 0),
            (Samples::U16(v), Depth::U16) => v.resize(len, 0),
            (Samples::F32(v), Depth::F32) => v.resize(len, 0.0),
            (s, Depth::U8) => *s = Samples::U8(vec![0; len]),
            (s, Depth::U16) => *s = Samples::U16(vec![0; len]),
            (s, Depth::F32) => *s = Samples::F32(vec![0.0; len]),
        }
        (self.width, self.height, self.channels) = (width, height, channels);
        true
    }

    /// A raster of zero samples (memory the system hands out zeroed, touched only
    /// when written); `None` for a layout [`Raster::new`] refuses.
    pub fn zeroed(width: usize, height: usize, channels: usize, depth: Depth) -> Option<Self> {
        let len = width.checked_mul(height)?.checked_mul(channels)?;
        let samples = match depth {
            Depth::U8 => Samples::U8(vec![0; len]),
            Depth::U16 => Samples::U16(vec![0; len]),
            Depth::F32 => Samples::F32(vec![0.0; len]),
        };
        Raster::new(width, height, channels, samples)
    }

    /// A one-pixel raster for a buffer that is reshaped ([`Raster::reshape`])
    /// before each use: a band or tile buffer reused from band to band.
    pub fn scratch() -> Self {
        Raster {
            width: 1,
            height: 1,
            channels: 3,
            samples: Samples::U8(vec![0; 3]),
        }
    }

    /// Makes this raster a copy of `src`, keeping its memory where it can
    /// ([`Raster::reshape`]).
    pub fn copy_from(&mut self, src: &Raster) {
        if !self.reshape(src.width, src.height, src.channels, src.depth()) {
            unreachable!("a raster's own layout is valid");
        }
        match (&mut self.samples, &src.samples) {
            (Samples::U8(d), Samples::U8(s)) => d.copy_from_slice(s),
            (Samples::U16(d), Samples::U16(s)) => d.copy_from_slice(s),
            (Samples::F32(d), Samples::F32(s)) => d.copy_from_slice(s),
            _ => unreachable!("reshaped to the source's depth"),
        }
    }

    /// Width in pixels.
    pub fn width(&self) -> usize {
        self.width
    }
    /// Height in pixels.
    pub fn height(&self) -> usize {
        self.height
    }
    /// 3 (RGB) or 4 (RGBA).
    pub fn channels(&self) -> usize {
        self.channels
    }
    /// True when the raster has an alpha channel.
    pub fn has_alpha(&self) -> bool {
        self.channels == 4
    }
    /// The samples.
    pub fn samples(&self) -> &Samples {
        &self.samples
    }
    /// The samples, mutably.
    pub fn samples_mut(&mut self) -> &mut Samples {
        &mut self.samples
    }
    /// Sample depth.
    pub fn depth(&self) -> Depth {
        match self.samples {
            Samples::U8(_) => Depth::U8,
            Samples::U16(_) => Depth::U16,
            Samples::F32(_) => Depth::F32,
        }
    }

    /// Every sample in nominal [0, 1] ([`Sample::to_unit`]), interleaved as stored.
    pub fn unit_samples(&self) -> Vec<f32> {
        fn units<T: Sample>(s: &[T]) -> Vec<f32> {
            s.iter().map(|v| v.to_unit()).collect()
        }
        match &self.samples {
            Samples::U8(s) => units(s),
            Samples::U16(s) => units(s),
            Samples::F32(s) => s.clone(),
        }
    }

    /// The same pixels with samples of `depth` ([`Sample::from_unit`]: integer
    /// samples rounded and clamped).
    pub fn with_depth(&self, depth: Depth) -> Raster {
        let unit = self.unit_samples();
        let samples = match depth {
            Depth::U8 => Samples::U8(unit.iter().map(|&v| u8::from_unit(v)).collect()),
            Depth::U16 => Samples::U16(unit.iter().map(|&v| u16::from_unit(v)).collect()),
            Depth::F32 => Samples::F32(unit),
        };
        Raster { samples, ..*self }
    }

    /// RGB of one pixel in 8-bit sRGB units (0..255, not rounded).
    pub fn rgb255(&self, x: usize, y: usize) -> [f32; 3] {
        let i = (y * self.width + x) * self.channels;
        match &self.samples {
            Samples::U8(v) => [v[i] as f32, v[i + 1] as f32, v[i + 2] as f32],
            Samples::U16(v) => [
                v[i] as f32 / 257.0,
                v[i + 1] as f32 / 257.0,
                v[i + 2] as f32 / 257.0,
            ],
            Samples::F32(v) => [
                v[i].clamp(0.0, 1.0) * 255.0,
                v[i + 1].clamp(0.0, 1.0) * 255.0,
                v[i + 2].clamp(0.0, 1.0) * 255.0,
            ],
        }
    }

    /// Area-averaged RGB (8-bit sRGB units) at the analysis size: long side at most
    /// `long_side`. Levels are measured here so that a level means the same thing at
    /// every resolution, render scale and tile of the same photo.
    pub fn analysis_rgb(&self, long_side: usize) -> RgbF32 {
        let (w, h) = fit_long_side(self.width, self.height, long_side);
        self.rgb_resized(w, h)
    }

    /// Area-averaged RGB (8-bit sRGB units) at exactly `w` x `h`, whatever the
    /// aspect ratio (a square model input stretches the photo). Growing repeats
    /// pixels.
    pub fn rgb_resized(&self, w: usize, h: usize) -> RgbF32 {
        let (w, h) = (w.max(1), h.max(1));
        let ch = self.channels;
        let n = self.width;
        let flat = area_downsample::<3>(self.width, self.height, w, h, |y, out| {
            let at = y * n * ch;
            match &self.samples {
                Samples::U8(v) => {
                    for (o, p) in out
                        .chunks_exact_mut(3)
                        .zip(v[at..at + n * ch].chunks_exact(ch))
                    {
                        o.copy_from_slice(&[p[0] as f32, p[1] as f32, p[2] as f32]);
                    }
                }
                Samples::U16(v) => {
                    for (o, p) in out
                        .chunks_exact_mut(3)
                        .zip(v[at..at + n * ch].chunks_exact(ch))
                    {
                        o.copy_from_slice(&[
                            p[0] as f32 / 257.0,
                            p[1] as f32 / 257.0,
                            p[2] as f32 / 257.0,
                        ]);
                    }
                }
                Samples::F32(v) => {
                    for (o, p) in out
                        .chunks_exact_mut(3)
                        .zip(v[at..at + n * ch].chunks_exact(ch))
                    {
                        for k in 0..3 {
                            o[k] = p[k].clamp(0.0, 1.0) * 255.0;
                        }
                    }
                }
            }
        });
        RgbF32 {
            width: w,
            height: h,
            data: flat.chunks_exact(3).map(|p| [p[0], p[1], p[2]]).collect(),
        }
    }
}

/// A small RGB float image in 8-bit sRGB units (0..255): the analysis proxy.
#[derive(Debug, Clone, PartialEq)]
pub struct RgbF32 {
    pub width: usize,
    pub height: usize,
    pub data: Vec<[f32; 3]>,
}

impl RgbF32 {
    /// A `width` x `height` image whose pixel (x, y) is `f(x, y)`.
    pub fn from_fn(width: usize, height: usize, f: impl Fn(usize, usize) -> [f32; 3]) -> Self {
        RgbF32 {
            width,
            height,
            data: (0..width * height)
                .map(|i| f(i % width, i / width))
                .collect(),
        }
    }

    /// Resampled to `width` x `height` channel by channel, as [`Plane::resized`]
    /// does (area averaging when shrinking, bilinear when growing).
    pub fn resized(&self, width: usize, height: usize) -> RgbF32 {
        let planes: Vec<Plane> = (0..3)
            .map(|k| {
                Plane::from_vec(
                    self.width,
                    self.height,
                    self.data.iter().map(|p| p[k]).collect(),
                )
                .expect("sizes match")
                .resized(width, height)
            })
            .collect();
        RgbF32 {
            width,
            height,
            data: (0..width * height)
                .map(|i| std::array::from_fn(|k| planes[k].data()[i]))
                .collect(),
        }
    }

    /// Converts 8-bit RGB pixels.
    pub fn from_rgb8(width: usize, height: usize, rgb: &[u8]) -> Option<Self> {
        (rgb.len() == width * height * 3).then(|| RgbF32 {
            width,
            height,
            data: rgb
                .chunks_exact(3)
                .map(|p| [p[0] as f32, p[1] as f32, p[2] as f32])
                .collect(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A reshape to the same depth keeps the memory (no new pages for a reused
    /// band buffer); another depth replaces it; an impossible layout is refused.
    #[test]
    fn reshaping_keeps_memory_of_the_same_depth() {
        let mut r = Raster::zeroed(64, 32, 4, Depth::F32).unwrap();
        let Samples::F32(v) = r.samples() else {
            panic!("float samples")
        };
        let at = v.as_ptr();
        assert!(r.reshape(32, 16, 3, Depth::F32));
        assert!(r.reshape(64, 32, 4, Depth::F32));
        let Samples::F32(v) = r.samples() else {
            panic!("float samples")
        };
        assert_eq!((v.as_ptr(), v.len()), (at, 64 * 32 * 4));
        assert!(r.reshape(2, 3, 3, Depth::U16));
        assert_eq!(
            (r.width(), r.height(), r.channels(), r.depth()),
            (2, 3, 3, Depth::U16)
        );
        for (w, h, c) in [(0, 3, 3), (2, 0, 3), (2, 3, 2), (usize::MAX, 3, 3)] {
            assert!(!r.reshape(w, h, c, Depth::U8), "{w} x {h} x {c}");
        }
        assert_eq!((r.width(), r.height(), r.depth()), (2, 3, Depth::U16));
    }

    /// A copy into a raster of another layout is the source.
    #[test]
    fn copying_into_any_raster_gives_the_source() {
        let src = Raster::new(3, 2, 3, Samples::U16((0..18).collect())).unwrap();
        let mut dst = Raster::zeroed(9, 9, 4, Depth::F32).unwrap();
        dst.copy_from(&src);
        assert_eq!(dst, src);
    }
}
