//! The parametric renderer's per-pixel operators.
//!
//! Every operator is pointwise given the per-pixel strengths, which is what lets the
//! solver predict a full-resolution result from the analysis proxy, and lets hosts
//! render tiles and proxies that agree exactly with a full-frame render.
//!
//! Order, each the tool a retoucher would reach for:
//! - temperature: white balance, a chromatic adaptation (CAT16) from D65 to a
//!   white moved along the Planckian locus with D65's own Duv, in linear light, so
//!   warming and cooling add no green or magenta; luminance kept per pixel;
//! - brightness: an exposure curve on each pixel's largest channel, applied as one
//!   gain to all three, so hue and saturation stay and nothing clips; brightening
//!   then mixes in white up to the luminance the curve asks (highlight roll-off);
//! - contrast: a curve on perceptual lightness (cube root of luminance) that keeps
//!   chromaticity where it darkens and adds neutral light where it lightens;
//! - colourfulness: Oklab chroma scaling with gamut give-back (lightness and hue
//!   exact).

use crate::color::{
    cbrt_fast, linear_to_oklab, luminance, oklab_to_linear, white_balance_matrix_fast,
};

/// Operator strengths at one pixel. Zero everywhere is the identity.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Strength {
    /// log2 of the Oklab chroma gain.
    pub chroma: f32,
    /// log2 of the lightness slope at the pivot.
    pub contrast: f32,
    /// White-balance shift in hundreds of mireds along the Planckian locus
    /// (positive is warmer).
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
/// moves smoothly with the input (bisection, gain within 0.01%: smooth enough for float output to be tabulated, only for colours
/// that would leave the gamut). When the lightness was moved (contrast) the colour
/// may be outside even at its own chroma; then chroma is given back below 1, down
/// to grey, which is always inside.
#[inline]
fn scale_chroma_in_gamut(lab: [f32; 3], gain: f32) -> [f32; 3] {
    let at = |g: f32| oklab_to_linear([lab[0], lab[1] * g, lab[2] * g]);
    let inside = |c: [f32; 3]| c.iter().all(|v| (-1e-4..=1.0 + 1e-4).contains(v));
    let full = at(gain);
    if inside(full) {
        return full.map(|v| v.clamp(0.0, 1.0));
    }
    let (mut lo, mut hi) = (gain.min(1.0), gain.max(1.0));
    if !inside(at(lo)) {
        (lo, hi) = (0.0, lo);
    }
    for _ in 0..14 {
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

/// Brings a colour with a negative channel back into gamut by moving it toward the
/// grey of its own luminance (hue kept), then fits the peak: for white balance,
/// which can push a saturated colour's weakest channel below zero.
#[inline]
fn fit_balanced(c: [f32; 3]) -> [f32; 3] {
    let low = c[0].min(c[1]).min(c[2]);
    let c = if low < 0.0 {
        let y = luminance(c).max(0.0);
        let t = if y - low > 0.0 { y / (y - low) } else { 0.0 };
        [y + (c[0] - y) * t, y + (c[1] - y) * t, y + (c[2] - y) * t]
    } else {
        c
    };
    fit_peak(c)
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
    white_balance: [[f32; 3]; 3],
    exposure_gain: f32,
    contrast_slope: f32,
    pivot: f32,
    chroma_gain: f32,
}

impl Prepared {
    /// Prepares `s`.
    pub fn new(s: &Strength) -> Self {
        let white_balance = if s.temperature != 0.0 {
            white_balance_matrix_fast(s.temperature * 100.0)
        } else {
            [[1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, 1.0]]
        };
        Prepared {
            strength: *s,
            white_balance,
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
            // White balance, then the pixel's own luminance back: a pure change of
            // chromaticity, which keeps temperature apart from brightness.
            let y0 = luminance(c);
            let m = &self.white_balance;
            let mut w: [f32; 3] =
                std::array::from_fn(|r| m[r][0] * c[0] + m[r][1] * c[1] + m[r][2] * c[2]);
            let y1 = luminance(w);
            if y1 > 0.0 {
                let k = y0 / y1;
                w = [w[0] * k, w[1] * k, w[2] * k];
            }
            c = fit_balanced(w);
        }
        if s.exposure != 0.0 {
            // One gain per pixel from the curve on the largest channel (the "max
            // RGB" norm of raw developers' tone curves): chromaticity, so hue and
            // saturation, stays, and no channel can overflow. Per-channel curves
            // would twist hues (orange toward yellow). Brightening then lifts the
            // pixel to the luminance the curve gives its own luminance by mixing in
            // white: a colour too saturated to get that bright in the gamut gives
            // up a little saturation (hue kept), as highlights roll off on film.
            // (Darkening never needs it: the largest channel's gain is the larger.)
            let m = c[0].max(c[1]).max(c[2]);
            if m > 0.0 {
                let g = self.exposure_gain;
                let y0 = luminance(c);
                let k = exposure_curve(m, g) / m;
                c = [c[0] * k, c[1] * k, c[2] * k];
                if g > 1.0 {
                    let y = y0 * k;
                    let want = exposure_curve(y0, g);
                    if want > y && y < 1.0 {
                        let t = ((want - y) / (1.0 - y)).min(1.0);
                        c = [
                            c[0] + (1.0 - c[0]) * t,
                            c[1] + (1.0 - c[1]) * t,
                            c[2] + (1.0 - c[2]) * t,
                        ];
                    }
                }
            }
        }
        if s.contrast != 0.0 {
            // Curve on perceptual lightness. Darkening scales the colour
            // (chromaticity stays, as in shade); lightening adds neutral light, so
            // near-black noise is lifted as grey rather than amplified into
            // saturated colour. Both land on the new luminance exactly and meet
            // continuously; hue stays either way.
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
    fn white_balance_keeps_greys_on_the_locus_and_brightness_keeps_hue() {
        use crate::color::{d65_on_locus, mired_duv_of_xy};
        let (m65, duv65) = d65_on_locus();
        let xy = |c: [f32; 3]| {
            let x = 0.4124 * c[0] + 0.3576 * c[1] + 0.1805 * c[2];
            let y = 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
            let z = 0.0193 * c[0] + 0.1192 * c[1] + 0.9505 * c[2];
            [(x / (x + y + z)) as f64, (y / (x + y + z)) as f64]
        };
        for t in [-0.5f32, 0.3] {
            let grey = [0.2, 0.2, 0.2];
            let out = apply_linear(
                grey,
                &Strength {
                    temperature: t,
                    ..Default::default()
                },
            );
            let (m, duv) = mired_duv_of_xy(xy(out));
            assert!((m - m65 - 100.0 * t as f64).abs() < 1.0, "{t}: {m}");
            assert!((duv - duv65).abs() < 3e-4, "{t}: Duv {duv}");
            assert!((luminance(out) - 0.2).abs() < 1e-5);
        }
        // Darkening keeps chromaticity exactly (channel ratios); brightening keeps
        // the hue (Oklab hue angle) and follows the exposure curve on luminance.
        let c = [0.3, 0.15, 0.05];
        let dark = apply_linear(
            c,
            &Strength {
                exposure: -1.0,
                ..Default::default()
            },
        );
        assert!((dark[0] / dark[1] - 2.0).abs() < 1e-4 && (dark[1] / dark[2] - 3.0).abs() < 1e-3);
        assert!(dark[0] < c[0]);
        let bright = apply_linear(
            c,
            &Strength {
                exposure: 1.0,
                ..Default::default()
            },
        );
        let hue = |c: [f32; 3]| {
            let lab = linear_to_oklab(c);
            lab[2].atan2(lab[1])
        };
        assert!(
            (hue(bright) - hue(c)).abs() < 0.03,
            "{} vs {}",
            hue(bright),
            hue(c)
        );
        assert!((luminance(bright) - exposure_curve(luminance(c), 2.0)).abs() < 1e-4);
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
