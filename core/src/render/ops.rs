//! The parametric renderer's per-pixel operators.
//!
//! Every operator is pointwise given the per-pixel strengths, which is what lets the
//! solver predict a full-resolution result from the analysis proxy, and lets hosts
//! render tiles and proxies that agree exactly with a full-frame render.
//!
//! Order: white balance and exposure in linear light; contrast on Oklab lightness;
//! chroma scaling in Oklab; gamut fitting toward equal-luminance grey.

use crate::color::{fit_gamut, linear_to_oklab, luminance, oklab_to_linear};

/// Operator strengths at one pixel. Zero everywhere is the identity.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Strength {
    /// log2 of the Oklab chroma gain.
    pub chroma: f32,
    /// log2 of the lightness slope at the pivot.
    pub contrast: f32,
    /// log2 of the red/blue white-balance gain ratio, halved per channel.
    pub temperature: f32,
    /// Exposure in stops (applied with a highlight-preserving curve).
    pub exposure: f32,
    /// Oklab lightness about which contrast pivots.
    pub pivot: f32,
}

impl Strength {
    /// Component by attribute channel (0 colourfulness .. 3 brightness).
    pub fn get(&self, channel: usize) -> f32 {
        match channel {
            0 => self.chroma,
            1 => self.contrast,
            2 => self.temperature,
            _ => self.exposure,
        }
    }

    /// Sets a component by attribute channel.
    pub fn set(&mut self, channel: usize, v: f32) {
        match channel {
            0 => self.chroma = v,
            1 => self.contrast = v,
            2 => self.temperature = v,
            _ => self.exposure = v,
        }
    }

    /// True when applying it changes nothing.
    pub fn is_identity(&self) -> bool {
        self.chroma == 0.0
            && self.contrast == 0.0
            && self.temperature == 0.0
            && self.exposure == 0.0
    }
}

/// Exposure curve on [0, 1]: slope `g` at black, 1 -> 1, identity at g = 1.
/// Brightening lifts shadows and midtones like exposure without clipping highlights.
#[inline]
fn exposure_curve(x: f32, g: f32) -> f32 {
    let x = x.clamp(0.0, 1.0);
    g * x / (1.0 + (g - 1.0) * x)
}

/// Contrast curve on [0, 1] through the pivot with slope `a` there; identity at a = 1.
/// Raising contrast (a > 1) uses two power segments that keep 0 -> 0 and 1 -> 1, so
/// nothing clips; lowering it (a < 1) compresses linearly toward the pivot, which
/// scales every local difference by the same factor (power curves would steepen the
/// ends while flattening the middle).
#[inline]
fn contrast_curve(l: f32, pivot: f32, a: f32) -> f32 {
    let l = l.clamp(0.0, 1.0);
    if a <= 1.0 {
        pivot + (l - pivot) * a
    } else if l < pivot {
        pivot * (l / pivot).powf(a)
    } else {
        1.0 - (1.0 - pivot) * ((1.0 - l) / (1.0 - pivot)).powf(a)
    }
}

/// Applies `s` to a linear-light RGB colour and returns linear RGB in [0, 1].
#[inline]
pub fn apply_linear(c: [f32; 3], s: &Strength) -> [f32; 3] {
    let mut c = c;
    if s.temperature != 0.0 {
        let y0 = luminance(c);
        let gr = (s.temperature * 0.5).exp2();
        let gb = 1.0 / gr;
        let mut w = [c[0] * gr, c[1], c[2] * gb];
        let y1 = luminance(w);
        if y1 > 0.0 {
            let k = y0 / y1;
            w = [w[0] * k, w[1] * k, w[2] * k];
        }
        c = fit_gamut(w);
    }
    if s.exposure != 0.0 {
        let g = s.exposure.exp2();
        c = [
            exposure_curve(c[0], g),
            exposure_curve(c[1], g),
            exposure_curve(c[2], g),
        ];
    }
    if s.contrast != 0.0 || s.chroma != 0.0 {
        let mut lab = linear_to_oklab(c);
        if s.contrast != 0.0 {
            let p = s.pivot.clamp(0.05, 0.95);
            lab[0] = contrast_curve(lab[0], p, s.contrast.exp2());
        }
        if s.chroma != 0.0 {
            let k = s.chroma.exp2();
            lab[1] *= k;
            lab[2] *= k;
        }
        c = fit_gamut(oklab_to_linear(lab));
    }
    c
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn zero_strength_is_identity() {
        let c = [0.2, 0.5, 0.7];
        assert_eq!(apply_linear(c, &Strength::default()), c);
    }

    #[test]
    fn curves_fix_the_ends_and_are_monotone() {
        for g in [0.1f32, 0.5, 1.0, 2.0, 8.0] {
            assert_eq!(exposure_curve(0.0, g), 0.0);
            assert!((exposure_curve(1.0, g) - 1.0).abs() < 1e-6);
            let mut prev = -1.0;
            for i in 0..=100 {
                let v = exposure_curve(i as f32 / 100.0, g);
                assert!(v >= prev);
                prev = v;
            }
        }
        for a in [0.3f32, 1.0, 3.0] {
            assert!(
                (contrast_curve(0.4, 0.4, a) - 0.4).abs() < 1e-6,
                "pivot is fixed"
            );
            let mut prev = -1.0;
            for i in 0..=100 {
                let v = contrast_curve(i as f32 / 100.0, 0.4, a);
                assert!(v >= prev && (0.0..=1.0).contains(&v));
                prev = v;
            }
        }
        // Raising contrast keeps the ends; lowering it scales differences uniformly.
        assert_eq!(contrast_curve(0.0, 0.4, 3.0), 0.0);
        assert!((contrast_curve(1.0, 0.4, 3.0) - 1.0).abs() < 1e-6);
        let d = contrast_curve(0.9, 0.4, 0.5) - contrast_curve(0.8, 0.4, 0.5);
        assert!((d - 0.05).abs() < 1e-6);
    }

    #[test]
    fn each_operator_moves_its_attribute_the_right_way() {
        let c = [0.3, 0.2, 0.1];
        let warm = apply_linear(
            c,
            &Strength {
                temperature: 0.5,
                ..Default::default()
            },
        );
        assert!(warm[0] / warm[2] > c[0] / c[2]);
        assert!((luminance(warm) - luminance(c)).abs() < 1e-5);
        let bright = apply_linear(
            c,
            &Strength {
                exposure: 1.0,
                ..Default::default()
            },
        );
        assert!(luminance(bright) > luminance(c));
        let grey = [0.18, 0.18, 0.18];
        let still_grey = apply_linear(
            grey,
            &Strength {
                chroma: 1.0,
                ..Default::default()
            },
        );
        assert!((still_grey[0] - still_grey[2]).abs() < 1e-4);
        let vivid = apply_linear(
            c,
            &Strength {
                chroma: 1.0,
                ..Default::default()
            },
        );
        assert!(vivid[0] - vivid[2] > c[0] - c[2]);
    }
}
