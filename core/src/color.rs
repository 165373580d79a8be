//! Colour conversions: sRGB transfer, linear-light RGB, Oklab, CIE XYZ and
//! correlated colour temperature.

use std::sync::OnceLock;

/// sRGB-encoded [0, 1] to linear light.
#[inline]
pub fn srgb_to_linear(v: f32) -> f32 {
    if v <= 0.04045 {
        v / 12.92
    } else {
        ((v + 0.055) / 1.055).powf(2.4)
    }
}

/// Linear light to sRGB-encoded [0, 1] (exact, uses `powf`).
#[inline]
pub fn linear_to_srgb(v: f32) -> f32 {
    if v <= 0.003_130_8 {
        v * 12.92
    } else {
        1.055 * v.powf(1.0 / 2.4) - 0.055
    }
}

const ENCODE_LUT_SIZE: usize = 8192;

fn encode_lut() -> &'static [f32] {
    static LUT: OnceLock<Vec<f32>> = OnceLock::new();
    LUT.get_or_init(|| {
        // Sampled on sqrt(v) so the steep part near black gets more entries.
        (0..=ENCODE_LUT_SIZE)
            .map(|i| {
                let s = i as f32 / ENCODE_LUT_SIZE as f32;
                linear_to_srgb(s * s)
            })
            .collect()
    })
}

/// Linear light to sRGB-encoded [0, 1] through a table; error below 1e-5, clamped to [0, 1].
#[inline]
pub fn linear_to_srgb_fast(v: f32) -> f32 {
    let v = v.clamp(0.0, 1.0);
    let lut = encode_lut();
    let f = v.sqrt() * ENCODE_LUT_SIZE as f32;
    let i = (f as usize).min(ENCODE_LUT_SIZE - 1);
    let t = f - i as f32;
    lut[i] + (lut[i + 1] - lut[i]) * t
}

/// Entries of the 8-bit encode table: small enough to stay in L1 cache.
const ENCODE_U8_SIZE: usize = 16384;

/// Linear light in [0, 1] to an 8-bit sRGB code through a 16 K table indexed by the
/// linear value: the nearest code, or its neighbour for values within a fraction of a
/// code of a rounding boundary (at most 0.75 of a code off; exact at every code).
#[inline]
pub fn linear_to_srgb_u8(v: f32) -> u8 {
    encode_u8(srgb_u8_table(), v)
}

/// The 8-bit encode table: entry `i` is the sRGB code of linear value `i / 16383`.
pub type SrgbU8Table = [u8; ENCODE_U8_SIZE];

/// Largest index of [`SrgbU8Table`].
pub const SRGB_U8_TABLE_MAX: u32 = ENCODE_U8_SIZE as u32 - 1;

/// The shared 8-bit encode table (fetch it once outside a pixel loop).
pub fn srgb_u8_table() -> &'static SrgbU8Table {
    static LUT: OnceLock<Box<SrgbU8Table>> = OnceLock::new();
    LUT.get_or_init(|| {
        Box::new(std::array::from_fn(|i| {
            (linear_to_srgb(i as f32 / SRGB_U8_TABLE_MAX as f32) * 255.0 + 0.5) as u8
        }))
    })
}

/// [`linear_to_srgb_u8`] through a table already fetched.
#[inline]
pub fn encode_u8(table: &SrgbU8Table, v: f32) -> u8 {
    let i = (v.clamp(0.0, 1.0) * SRGB_U8_TABLE_MAX as f32 + 0.5) as usize;
    table[i.min(ENCODE_U8_SIZE - 1)]
}

/// Decode table for 8-bit sRGB samples.
pub fn decode_lut_u8() -> &'static [f32; 256] {
    static LUT: OnceLock<[f32; 256]> = OnceLock::new();
    LUT.get_or_init(|| std::array::from_fn(|i| srgb_to_linear(i as f32 / 255.0)))
}

/// Decode table for 16-bit sRGB samples.
pub fn decode_lut_u16() -> &'static [f32] {
    static LUT: OnceLock<Vec<f32>> = OnceLock::new();
    LUT.get_or_init(|| {
        (0..65536)
            .map(|i| srgb_to_linear(i as f32 / 65535.0))
            .collect()
    })
}

/// Rec. 709 / sRGB luminance of linear RGB.
#[inline]
pub fn luminance(rgb: [f32; 3]) -> f32 {
    0.2126 * rgb[0] + 0.7152 * rgb[1] + 0.0722 * rgb[2]
}

/// Cube root of a non-negative value (negative input gives 0): a bit-level first
/// guess refined by two Newton steps, relative error below 1e-6 — several times faster
/// than libm's `cbrt`, which dominated the Oklab conversion.
#[inline]
pub fn cbrt_fast(x: f32) -> f32 {
    if x <= 0.0 {
        return 0.0;
    }
    let mut y = f32::from_bits(x.to_bits() / 3 + 0x2a51_4067);
    y = (2.0 * y + x / (y * y)) * (1.0 / 3.0);
    y = (2.0 * y + x / (y * y)) * (1.0 / 3.0);
    y
}

/// Linear sRGB to Oklab (L, a, b).
#[inline]
pub fn linear_to_oklab(c: [f32; 3]) -> [f32; 3] {
    let l = 0.412_221_46 * c[0] + 0.536_332_55 * c[1] + 0.051_445_995 * c[2];
    let m = 0.211_903_5 * c[0] + 0.680_699_5 * c[1] + 0.107_396_96 * c[2];
    let s = 0.088_302_46 * c[0] + 0.281_718_85 * c[1] + 0.629_978_7 * c[2];
    let l = cbrt_fast(l);
    let m = cbrt_fast(m);
    let s = cbrt_fast(s);
    [
        0.210_454_26 * l + 0.793_617_8 * m - 0.004_072_047 * s,
        1.977_998_5 * l - 2.428_592_2 * m + 0.450_593_7 * s,
        0.025_904_037 * l + 0.782_771_77 * m - 0.808_675_77 * s,
    ]
}

/// Oklab to linear sRGB (may fall outside [0, 1]).
#[inline]
pub fn oklab_to_linear(c: [f32; 3]) -> [f32; 3] {
    let l = c[0] + 0.396_337_78 * c[1] + 0.215_803_76 * c[2];
    let m = c[0] - 0.105_561_346 * c[1] - 0.063_854_17 * c[2];
    let s = c[0] - 0.089_484_18 * c[1] - 1.291_485_5 * c[2];
    let (l, m, s) = (l * l * l, m * m * m, s * s * s);
    [
        4.076_741_7 * l - 3.307_711_6 * m + 0.230_969_94 * s,
        -1.268_438 * l + 2.609_757_4 * m - 0.341_319_38 * s,
        -0.004_196_086_3 * l - 0.703_418_6 * m + 1.707_614_7 * s,
    ]
}

/// Brings linear RGB into [0, 1] by moving it toward the grey of equal luminance,
/// keeping luminance and hue where possible instead of clipping channels apart.
#[inline]
pub fn fit_gamut(c: [f32; 3]) -> [f32; 3] {
    let inside = |v: f32| (0.0..=1.0).contains(&v);
    if inside(c[0]) && inside(c[1]) && inside(c[2]) {
        return c;
    }
    let y = luminance(c).clamp(0.0, 1.0);
    let mut t = 1.0f32;
    for &v in &c {
        let d = v - y;
        if v > 1.0 && d > 0.0 {
            t = t.min((1.0 - y) / d);
        } else if v < 0.0 && d < 0.0 {
            t = t.min(-y / d);
        }
    }
    let t = t.clamp(0.0, 1.0);
    [
        (y + (c[0] - y) * t).clamp(0.0, 1.0),
        (y + (c[1] - y) * t).clamp(0.0, 1.0),
        (y + (c[2] - y) * t).clamp(0.0, 1.0),
    ]
}

/// Correlated colour temperature (kelvin) of an sRGB colour given in [0, 1],
/// after Hernandez-Andres, Lee & Romero (1999). Channels are clipped to
/// [0.001, 0.999] as in the reference; the result is limited to [1000, 100000] K
/// because the fit is meaningless beyond that.
pub fn cct_of_srgb(rgb: [f64; 3]) -> f64 {
    let lin = rgb.map(|v| {
        let v = v.clamp(0.001, 0.999);
        if v <= 0.04045 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        }
    });
    let x_ = 0.4124 * lin[0] + 0.3576 * lin[1] + 0.1805 * lin[2];
    let y_ = 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
    let z_ = 0.0193 * lin[0] + 0.1192 * lin[1] + 0.9505 * lin[2];
    let sum = x_ + y_ + z_;
    let (x, y) = (x_ / sum, y_ / sum);
    cct_of_xy(x, y)
}

/// Hernandez-Andres 1999 CCT from CIE 1931 chromaticity, limited to [1000, 100000] K.
pub fn cct_of_xy(x: f64, y: f64) -> f64 {
    const LO: f64 = 1000.0;
    const HI: f64 = 100_000.0;
    let n = (x - 0.3366) / (y - 0.1735);
    let mut cct = -949.86315
        + 6253.80338 * (-n / 0.92159).exp()
        + 28.70599 * (-n / 0.20039).exp()
        + 0.00004 * (-n / 0.07125).exp();
    if cct > 50_000.0 {
        let n = (x - 0.3356) / (y - 0.1691);
        cct = 36284.48953 + 0.00228 * (-n / 0.07861).exp() + 5.4535e-36 * (-n / 0.01543).exp();
    }
    if cct.is_nan() {
        return HI;
    }
    cct.clamp(LO, HI)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn srgb_round_trip_and_fast_encoder() {
        for i in 0..=1000 {
            let v = i as f32 / 1000.0;
            assert!((linear_to_srgb(srgb_to_linear(v)) - v).abs() < 1e-5);
            assert!(
                (linear_to_srgb_fast(v) - linear_to_srgb(v)).abs() < 2e-5,
                "{v}"
            );
        }
    }

    #[test]
    fn eight_bit_encoding_rounds_like_the_exact_curve() {
        let mut off = 0;
        for i in 0..=100_000 {
            let v = i as f32 / 100_000.0;
            let exact = linear_to_srgb(v) * 255.0;
            let got = linear_to_srgb_u8(v) as f32;
            assert!((got - exact).abs() <= 0.75, "{v}: {got} vs {exact}");
            off += (got != (exact + 0.5).floor()) as usize;
        }
        assert!(
            off < 500,
            "{off} of 100001 round differently from the exact curve"
        );
        for code in 0..=255u8 {
            assert_eq!(linear_to_srgb_u8(srgb_to_linear(code as f32 / 255.0)), code);
        }
    }

    #[test]
    fn fast_cube_root_is_accurate() {
        for i in 0..10_000 {
            let x = i as f32 / 5000.0;
            let want = x.cbrt();
            assert!((cbrt_fast(x) - want).abs() <= 2e-6 * want.max(1e-3), "{x}");
        }
        assert_eq!(cbrt_fast(-1.0), 0.0);
    }

    #[test]
    fn oklab_round_trip_and_white() {
        let w = linear_to_oklab([1.0, 1.0, 1.0]);
        assert!((w[0] - 1.0).abs() < 1e-3 && w[1].abs() < 1e-3 && w[2].abs() < 1e-3);
        for c in [[0.2, 0.5, 0.9], [0.9, 0.1, 0.0], [0.01, 0.02, 0.03]] {
            let back = oklab_to_linear(linear_to_oklab(c));
            for k in 0..3 {
                assert!((back[k] - c[k]).abs() < 1e-4, "{c:?} -> {back:?}");
            }
        }
    }

    #[test]
    fn cct_matches_known_illuminants() {
        // D65 white point: ~6504 K.
        let d65 = cct_of_xy(0.31271, 0.32902);
        assert!((d65 - 6504.0).abs() < 30.0, "{d65}");
        // Illuminant A (2856 K) lies below the fit's 3000 K floor; worked by hand from
        // the published constants: n = 0.47433, CCT = -949.86 + 3737.96 + 2.69 = 2790.6.
        let a = cct_of_xy(0.44757, 0.40745);
        assert!((a - 2790.6).abs() < 0.5, "{a}");
        // sRGB white is D65.
        let w = cct_of_srgb([0.999, 0.999, 0.999]);
        assert!((w - 6504.0).abs() < 30.0, "{w}");
        // Orange is warmer than white, blue is cooler.
        assert!(cct_of_srgb([0.9, 0.6, 0.3]) < w);
        assert!(cct_of_srgb([0.5, 0.6, 0.9]) > w);
    }

    #[test]
    fn gamut_fit_keeps_in_range_colours_and_luminance() {
        assert_eq!(fit_gamut([0.2, 0.3, 0.4]), [0.2, 0.3, 0.4]);
        let c = [1.4, 0.5, -0.1];
        let f = fit_gamut(c);
        assert!(f.iter().all(|v| (0.0..=1.0).contains(v)));
        assert!((luminance(f) - luminance(c)).abs() < 1e-5);
    }
}
