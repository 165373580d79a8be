//! The parametric renderer's per-pixel operators.
//!
//! Every operator is pointwise given the per-pixel strengths, which is what lets the
//! solver predict a full-resolution result from the analysis proxy, and lets hosts
//! render tiles and proxies that agree exactly with a full-frame render.
//!
//! Order: white balance and exposure in linear light; contrast on perceptual
//! lightness (cube root of luminance); chroma scaling in
//! Oklab; gamut fitting toward equal-luminance grey.

use crate::color::{cbrt_fast, fit_gamut, linear_to_oklab, luminance, oklab_to_linear};

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
    /// Lightness (cube root of luminance) about which contrast pivots.
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

/// Scales an Oklab colour's chroma by `gain`, giving back as much of the gain as
/// needed to stay inside the sRGB gamut: lightness and hue stay exact, and the result
/// moves smoothly with the input (seven bisection steps, gain within 1%, only for colours that would
/// leave the gamut).
#[inline]
fn scale_chroma_in_gamut(lab: [f32; 3], gain: f32) -> [f32; 3] {
    let at = |g: f32| oklab_to_linear([lab[0], lab[1] * g, lab[2] * g]);
    let inside = |c: [f32; 3]| c.iter().all(|v| (-1e-4..=1.0 + 1e-4).contains(v));
    let full = at(gain);
    if inside(full) {
        return full.map(|v| v.clamp(0.0, 1.0));
    }
    // The source colour itself may sit just outside (rounding): clamp it in that case.
    let (mut lo, mut hi) = (gain.min(1.0), gain.max(1.0));
    if !inside(at(lo)) {
        return fit_gamut(at(lo));
    }
    for _ in 0..7 {
        let mid = 0.5 * (lo + hi);
        if inside(at(mid)) {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    at(lo).map(|v| v.clamp(0.0, 1.0))
}

/// Scales a non-negative colour down until its largest channel fits in [0, 1]:
/// hue and saturation stay, only the excess brightness of the brightest colours is
/// given up. Smooth, unlike moving toward grey, which makes a zero channel jump.
#[inline]
fn fit_peak(c: [f32; 3]) -> [f32; 3] {
    let peak = c[0].max(c[1]).max(c[2]);
    if peak > 1.0 {
        [c[0] / peak, c[1] / peak, c[2] / peak]
    } else {
        c
    }
}

/// Perceptual lightness in [0, 1] of a linear luminance: its cube root (as in CIELAB
/// and Oklab, without the linear toe). The contrast operator pivots on this scale.
#[inline]
pub fn lightness_of_luminance(y: f32) -> f32 {
    cbrt_fast(y.clamp(0.0, 1.0))
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

/// Strengths turned into the gains and curve parameters the operators use, so the
/// `exp2`s are paid once per distinct strength rather than once per pixel.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Prepared {
    /// The strengths this was prepared from.
    pub strength: Strength,
    red_gain: f32,
    blue_gain: f32,
    exposure_gain: f32,
    contrast_slope: f32,
    pivot: f32,
    chroma_gain: f32,
}

impl Prepared {
    /// Prepares `s`.
    pub fn new(s: &Strength) -> Self {
        let red_gain = (s.temperature * 0.5).exp2();
        Prepared {
            strength: *s,
            red_gain,
            blue_gain: 1.0 / red_gain,
            exposure_gain: s.exposure.exp2(),
            contrast_slope: s.contrast.exp2(),
            pivot: s.pivot.clamp(0.05, 0.95),
            chroma_gain: s.chroma.exp2(),
        }
    }

    /// Applies the operators to a linear-light RGB colour; returns linear RGB in [0, 1].
    #[inline]
    pub fn apply(&self, c: [f32; 3]) -> [f32; 3] {
        let s = &self.strength;
        let mut c = c;
        if s.temperature != 0.0 {
            let y0 = luminance(c);
            let mut w = [c[0] * self.red_gain, c[1], c[2] * self.blue_gain];
            let y1 = luminance(w);
            if y1 > 0.0 {
                let k = y0 / y1;
                w = [w[0] * k, w[1] * k, w[2] * k];
            }
            c = fit_peak(w);
        }
        if s.exposure != 0.0 {
            let g = self.exposure_gain;
            c = [
                exposure_curve(c[0], g),
                exposure_curve(c[1], g),
                exposure_curve(c[2], g),
            ];
        }
        if s.contrast != 0.0 {
            // Curve on perceptual lightness. Darkening scales the colour (chromaticity
            // stays); lightening adds neutral light, so near-black noise is lifted
            // as grey rather than amplified into saturated colour. Both land on the
            // new luminance exactly and meet continuously.
            let y = luminance(c);
            let l = lightness_of_luminance(y);
            let l2 = contrast_curve(l, self.pivot, self.contrast_slope);
            let y2 = l2 * l2 * l2;
            c = if y2 <= y {
                let k = if y > 0.0 { y2 / y } else { 0.0 };
                [c[0] * k, c[1] * k, c[2] * k]
            } else {
                let d = y2 - y;
                fit_peak([c[0] + d, c[1] + d, c[2] + d])
            };
        }
        if s.chroma != 0.0 {
            let lab = linear_to_oklab(c);
            c = scale_chroma_in_gamut(lab, self.chroma_gain);
        }
        c
    }
}

/// Applies `s` to a linear-light RGB colour and returns linear RGB in [0, 1].
#[inline]
pub fn apply_linear(c: [f32; 3], s: &Strength) -> [f32; 3] {
    Prepared::new(s).apply(c)
}

/// Remembers the last prepared strength: neighbouring pixels almost always share one.
#[derive(Debug, Default)]
pub struct PreparedCache {
    last: Option<Prepared>,
}

impl PreparedCache {
    /// The prepared form of `s`, reusing the previous one when `s` is unchanged.
    #[inline]
    pub fn get(&mut self, s: &Strength) -> &Prepared {
        if self.last.as_ref().is_none_or(|p| p.strength != *s) {
            self.last = Some(Prepared::new(s));
        }
        self.last.as_ref().expect("just set")
    }
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
