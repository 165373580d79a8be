//! Colour conversions: sRGB transfer, linear-light RGB, Oklab, CIE XYZ and
//! correlated colour temperature; the Planckian locus and white-balance matrices
//! (chromatic adaptation along the locus, CAT16).

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

/// `v` clamped to [0, 1], NaN read as 0 (float pixels from a host may hold NaN).
#[inline]
pub fn unit_or_zero(v: f32) -> f32 {
    if v >= 0.0 {
        v.min(1.0)
    } else {
        0.0
    }
}

const DECODE_LUT_SIZE: usize = 4096;

fn decode_lut() -> &'static [f32] {
    static LUT: OnceLock<Vec<f32>> = OnceLock::new();
    LUT.get_or_init(|| {
        (0..=DECODE_LUT_SIZE + 1)
            .map(|i| srgb_to_linear((i as f32 / DECODE_LUT_SIZE as f32).min(1.0)))
            .collect()
    })
}

/// sRGB-encoded to linear light through a table, clamped to [0, 1] (NaN reads as
/// 0); within 5e-7 of [`srgb_to_linear`] (tested), without its `powf`.
#[inline]
pub fn srgb_to_linear_fast(v: f32) -> f32 {
    let lut = decode_lut();
    let f = (v * DECODE_LUT_SIZE as f32)
        .max(0.0)
        .min(DECODE_LUT_SIZE as f32);
    let i = (f as usize).min(DECODE_LUT_SIZE - 1);
    let t = f - i as f32;
    lut[i] + (lut[i + 1] - lut[i]) * t
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

/// The measured temperature of an sRGB colour given in [0, 1] (PERTOUCH.md section 2):
/// channels clipped to [0.001, 0.999], CIE xy, correlated colour temperature after
/// Hernandez-Andres, Lee & Romero (1999), negated (larger is warmer).
///
/// Within the range the fit is good for, [1000, 100000] K, this is exactly `-CCT`.
/// Beyond it, a plain fit either saturates or diverges, so a deep blue sky and a
/// pale one would measure the same and no edit could be judged there. Past each end
/// the value therefore continues, C1-smoothly, linearly in mireds along the fit's own
/// coordinate (the angle about its epicentre, on which the fit depends alone): see
/// [`temperature_mired`] for the mired reading of any value.
pub fn temperature_of_srgb(rgb: [f64; 3]) -> f64 {
    let (x, y) = xy_of_srgb(rgb);
    temperature_of_xy(x, y)
}

/// [`temperature_of_srgb`] from CIE 1931 chromaticity.
pub fn temperature_of_xy(x: f64, y: f64) -> f64 {
    let ends = fit_ends();
    let theta1 = (x - HA_E1.0).atan2(y - HA_E1.1);
    if theta1 > ends.warm_theta {
        // Warmer than 1000 K (and the purples past the fit's pole).
        return raw_of_mired(WARM_MIRED + ends.warm_slope * (theta1 - ends.warm_theta));
    }
    let theta2 = (x - HA_E2.0).atan2(y - HA_E2.1);
    let cool =
        |theta2: f64| raw_of_mired(COOL_MIRED - ends.cool_slope * (ends.cool_theta - theta2));
    if y <= HA_E1.1 {
        // Bluer than the fit's pole: the fit is undefined (it would read such blues
        // as the warmest colours); continue the cool end.
        return cool(theta2);
    }
    let cct = ha_cct(x, y);
    if cct > 1e6 / COOL_MIRED || cct.is_nan() {
        cool(theta2)
    } else {
        -cct
    }
}

/// Epicentres of the Hernandez-Andres fit: below 50000 K, and above.
const HA_E1: (f64, f64) = (0.3366, 0.1735);
const HA_E2: (f64, f64) = (0.3356, 0.1691);
/// The ends of the range the fit is used in, in mireds (100000 K and 1000 K).
const COOL_MIRED: f64 = 10.0;
const WARM_MIRED: f64 = 1000.0;

/// The first range of the Hernandez-Andres 1999 fit, CCT in kelvin from
/// `n = (x - xe) / (y - ye)` about the first epicentre.
fn ha_first(n: f64) -> f64 {
    -949.86315
        + 6253.80338 * (-n / 0.92159).exp()
        + 28.70599 * (-n / 0.20039).exp()
        + 0.00004 * (-n / 0.07125).exp()
}

/// The second range (above 50000 K), about the second epicentre.
fn ha_second(n: f64) -> f64 {
    36284.48953 + 0.00228 * (-n / 0.07861).exp() + 5.4535e-36 * (-n / 0.01543).exp()
}

/// The Hernandez-Andres 1999 fit: the first range, or the second above 50000 K.
fn ha_cct(x: f64, y: f64) -> f64 {
    let cct = ha_first((x - HA_E1.0) / (y - HA_E1.1));
    if cct > 50_000.0 {
        ha_second((x - HA_E2.0) / (y - HA_E2.1))
    } else {
        cct
    }
}

/// Where the fit's range ends, as angles about the epicentre that range uses, and
/// how fast mireds change with that angle there.
struct FitEnds {
    cool_theta: f64,
    cool_slope: f64,
    warm_theta: f64,
    warm_slope: f64,
}

fn fit_ends() -> &'static FitEnds {
    static ENDS: OnceLock<FitEnds> = OnceLock::new();
    ENDS.get_or_init(|| {
        // Each range's CCT falls as n grows; find the ends by bisection on n.
        let n_at = |f: fn(f64) -> f64, kelvin: f64| {
            let (mut lo, mut hi) = (-5.0f64, 5.0f64);
            for _ in 0..200 {
                let mid = 0.5 * (lo + hi);
                if f(mid) > kelvin {
                    lo = mid;
                } else {
                    hi = mid;
                }
            }
            0.5 * (lo + hi)
        };
        let slope = |f: fn(f64) -> f64, theta: f64| {
            let h = 1e-6;
            let mired = |t: f64| 1e6 / f(f64::tan(t));
            ((mired(theta + h) - mired(theta - h)) / (2.0 * h)).abs()
        };
        let cool_theta = n_at(ha_second, 1e6 / COOL_MIRED).atan();
        let warm_theta = n_at(ha_first, 1e6 / WARM_MIRED).atan();
        FitEnds {
            cool_theta,
            cool_slope: slope(ha_second, cool_theta),
            warm_theta,
            warm_slope: slope(ha_first, warm_theta),
        }
    })
}

/// The raw temperature (`-kelvin` within the fit's range) of a reading in mireds,
/// continued linearly past the range's ends with the slope the curve has there
/// (inverse of [`temperature_mired`]).
pub fn raw_of_mired(mired: f64) -> f64 {
    if mired < COOL_MIRED {
        -1e6 / COOL_MIRED - 1e6 / (COOL_MIRED * COOL_MIRED) * (COOL_MIRED - mired)
    } else if mired > WARM_MIRED {
        -1e6 / WARM_MIRED + 1e6 / (WARM_MIRED * WARM_MIRED) * (mired - WARM_MIRED)
    } else {
        -1e6 / mired
    }
}

/// The mired reading of a raw temperature (inverse of the continuation above):
/// `1e6 / kelvin` within the fit's range, continued linearly beyond. Mireds are
/// nearly uniform in how different two white points look, so level tables extend
/// the temperature scale past its ends in mireds.
pub fn temperature_mired(raw: f64) -> f64 {
    let cool_raw = -1e6 / COOL_MIRED;
    let warm_raw = -1e6 / WARM_MIRED;
    if raw < cool_raw {
        COOL_MIRED - (cool_raw - raw) * (COOL_MIRED * COOL_MIRED) / 1e6
    } else if raw > warm_raw {
        WARM_MIRED + (raw - warm_raw) * (WARM_MIRED * WARM_MIRED) / 1e6
    } else {
        -1e6 / raw
    }
}

/// CIE 1931 chromaticity of an sRGB colour in [0, 1], clipped to [0.001, 0.999]
/// as the reference measurement does.
fn xy_of_srgb(rgb: [f64; 3]) -> (f64, f64) {
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
    (x_ / sum, y_ / sum)
}

/// Correlated colour temperature (kelvin) of an sRGB colour given in [0, 1], limited
/// to the fit's range [1000, 100000] K.
pub fn cct_of_srgb(rgb: [f64; 3]) -> f64 {
    let (x, y) = xy_of_srgb(rgb);
    cct_of_xy(x, y)
}

/// Hernandez-Andres 1999 CCT from CIE 1931 chromaticity, limited to [1000, 100000] K.
pub fn cct_of_xy(x: f64, y: f64) -> f64 {
    (-temperature_of_xy(x, y)).clamp(1e6 / WARM_MIRED, 1e6 / COOL_MIRED)
}

/// The Planckian locus in CIE 1960 (u, v) at mireds 0..600: Robertson's (1968)
/// table, as used for CCT since. Between entries it is interpolated with cubic
/// Hermite segments, so the locus and its direction are smooth.
const LOCUS: [(f64, f64, f64); 31] = [
    (0.0, 0.18006, 0.26352),
    (10.0, 0.18066, 0.26589),
    (20.0, 0.18133, 0.26846),
    (30.0, 0.18208, 0.27119),
    (40.0, 0.18293, 0.27407),
    (50.0, 0.18388, 0.27709),
    (60.0, 0.18494, 0.28021),
    (70.0, 0.18611, 0.28342),
    (80.0, 0.18740, 0.28668),
    (90.0, 0.18880, 0.28997),
    (100.0, 0.19032, 0.29326),
    (125.0, 0.19462, 0.30141),
    (150.0, 0.19962, 0.30921),
    (175.0, 0.20525, 0.31647),
    (200.0, 0.21142, 0.32312),
    (225.0, 0.21807, 0.32909),
    (250.0, 0.22511, 0.33439),
    (275.0, 0.23247, 0.33904),
    (300.0, 0.24010, 0.34308),
    (325.0, 0.24792, 0.34655),
    (350.0, 0.25591, 0.34951),
    (375.0, 0.26400, 0.35200),
    (400.0, 0.27218, 0.35407),
    (425.0, 0.28039, 0.35577),
    (450.0, 0.28863, 0.35714),
    (475.0, 0.29685, 0.35823),
    (500.0, 0.30505, 0.35907),
    (525.0, 0.31320, 0.35968),
    (550.0, 0.32129, 0.36011),
    (575.0, 0.32931, 0.36038),
    (600.0, 0.33724, 0.36051),
];

/// Mireds the locus is defined for: the table's 0..600 (infinite temperature to
/// 1667 K), continued straight along its end directions to -400 (whites bluer than
/// any blackbody) and 800 (1250 K), so white balance can cool a candle-lit photo
/// and warm a blue-hour one as far as an editor's slider would.
pub const LOCUS_MIRED_RANGE: (f64, f64) = (-400.0, 800.0);

/// Point and direction (d/dmired) of the Planckian locus in CIE 1960 (u, v).
fn locus_point(mired: f64) -> ([f64; 2], [f64; 2]) {
    let m = mired.clamp(LOCUS_MIRED_RANGE.0, LOCUS_MIRED_RANGE.1);
    let (first, last) = (LOCUS[0].0, LOCUS[LOCUS.len() - 1].0);
    if m < first || m > last {
        let end = if m < first { first } else { last };
        let (p, d) = table_point(end);
        let dm = m - end;
        return ([p[0] + d[0] * dm, p[1] + d[1] * dm], d);
    }
    table_point(m)
}

/// [`locus_point`] within the table.
fn table_point(m: f64) -> ([f64; 2], [f64; 2]) {
    let n = LOCUS.len();
    let i = LOCUS
        .partition_point(|e| e.0 <= m)
        .saturating_sub(1)
        .min(n - 2);
    // Finite-difference tangents at the entries (one-sided at the ends).
    let tangent = |k: usize| -> [f64; 2] {
        let (a, b) = (k.saturating_sub(1), (k + 1).min(n - 1));
        let dm = LOCUS[b].0 - LOCUS[a].0;
        [
            (LOCUS[b].1 - LOCUS[a].1) / dm,
            (LOCUS[b].2 - LOCUS[a].2) / dm,
        ]
    };
    let (m0, m1) = (LOCUS[i].0, LOCUS[i + 1].0);
    let h = m1 - m0;
    let t = (m - m0) / h;
    let (t0, t1) = (tangent(i), tangent(i + 1));
    let p0 = [LOCUS[i].1, LOCUS[i].2];
    let p1 = [LOCUS[i + 1].1, LOCUS[i + 1].2];
    let (t2, t3) = (t * t, t * t * t);
    let (h00, h10, h01, h11) = (
        2.0 * t3 - 3.0 * t2 + 1.0,
        t3 - 2.0 * t2 + t,
        -2.0 * t3 + 3.0 * t2,
        t3 - t2,
    );
    let (d00, d10, d01, d11) = (
        (6.0 * t2 - 6.0 * t) / h,
        (3.0 * t2 - 4.0 * t + 1.0) / h,
        (-6.0 * t2 + 6.0 * t) / h,
        (3.0 * t2 - 2.0 * t) / h,
    );
    let p = std::array::from_fn(|k| h00 * p0[k] + h10 * h * t0[k] + h01 * p1[k] + h11 * h * t1[k]);
    let d = std::array::from_fn(|k| d00 * p0[k] + d10 * h * t0[k] + d01 * p1[k] + d11 * h * t1[k]);
    (p, d)
}

/// CIE 1931 xy to CIE 1960 uv.
pub fn xy_to_uv(xy: [f64; 2]) -> [f64; 2] {
    let d = -2.0 * xy[0] + 12.0 * xy[1] + 3.0;
    [4.0 * xy[0] / d, 6.0 * xy[1] / d]
}

/// CIE 1960 uv to CIE 1931 xy.
pub fn uv_to_xy(uv: [f64; 2]) -> [f64; 2] {
    let d = 2.0 * uv[0] - 8.0 * uv[1] + 4.0;
    [3.0 * uv[0] / d, 2.0 * uv[1] / d]
}

/// The white at `mired` on the Planckian locus moved by `duv` along the locus's
/// normal (positive toward green, the side daylight lies on), as CIE xy.
pub fn locus_white_xy(mired: f64, duv: f64) -> [f64; 2] {
    let (p, d) = locus_point(mired);
    let len = (d[0] * d[0] + d[1] * d[1]).sqrt().max(1e-12);
    // The tangent points toward warmer (u grows); its left normal points up in v.
    let normal = [-d[1] / len, d[0] / len];
    uv_to_xy([p[0] + duv * normal[0], p[1] + duv * normal[1]])
}

/// The locus mired and signed distance from the locus (Duv, CIE 1960) of a
/// chromaticity: the nearest point of the locus, found by golden-section search.
pub fn mired_duv_of_xy(xy: [f64; 2]) -> (f64, f64) {
    let uv = xy_to_uv(xy);
    let dist2 = |m: f64| {
        let (p, _) = locus_point(m);
        (uv[0] - p[0]).powi(2) + (uv[1] - p[1]).powi(2)
    };
    let (mut a, mut b) = LOCUS_MIRED_RANGE;
    let g = 0.5 * (5f64.sqrt() - 1.0);
    for _ in 0..80 {
        let c = b - g * (b - a);
        let d = a + g * (b - a);
        if dist2(c) < dist2(d) {
            b = d;
        } else {
            a = c;
        }
    }
    let m = 0.5 * (a + b);
    let (p, d) = locus_point(m);
    let len = (d[0] * d[0] + d[1] * d[1]).sqrt().max(1e-12);
    let normal = [-d[1] / len, d[0] / len];
    let duv = (uv[0] - p[0]) * normal[0] + (uv[1] - p[1]) * normal[1];
    (m, duv)
}

/// The sRGB (and D65) white point.
pub const D65_XY: [f64; 2] = [0.3127, 0.3290];

/// D65 on the locus: its mired and Duv.
pub fn d65_on_locus() -> (f64, f64) {
    static D65: OnceLock<(f64, f64)> = OnceLock::new();
    *D65.get_or_init(|| mired_duv_of_xy(D65_XY))
}

/// How far, in mireds, white balance may move the sRGB white toward blue: to the
/// cool end of [`LOCUS_MIRED_RANGE`].
pub fn white_balance_cool_limit() -> f64 {
    d65_on_locus().0 - LOCUS_MIRED_RANGE.0
}

/// [`white_balance_matrix`] interpolated from a table at every mired (built once):
/// cheap enough to prepare per pixel where strengths vary across soft masks.
pub fn white_balance_matrix_fast(shift: f32) -> [[f32; 3]; 3] {
    static TABLE: OnceLock<(f32, Vec<[[f32; 3]; 3]>)> = OnceLock::new();
    let (lo, table) = TABLE.get_or_init(|| {
        let lo = -white_balance_cool_limit().floor();
        let hi = LOCUS_MIRED_RANGE.1 - d65_on_locus().0;
        let n = (hi - lo).floor() as usize + 1;
        let t = (0..n)
            .map(|i| white_balance_matrix(lo + i as f64))
            .collect();
        (lo as f32, t)
    });
    let f = (shift - lo).clamp(0.0, (table.len() - 1) as f32);
    let i = (f as usize).min(table.len() - 2);
    let t = f - i as f32;
    let (a, b) = (&table[i], &table[i + 1]);
    std::array::from_fn(|r| std::array::from_fn(|c| a[r][c] + (b[r][c] - a[r][c]) * t))
}

/// The CAT16 cone space (Li et al. 2017, the adaptation of CIECAM16), for palette's
/// von Kries adaptation. Of the usual spaces it moves greens least toward red when
/// warming (foliage turns olive under warm light, but Bradford's and von Kries's
/// spaces overdo it).
pub struct Cat16;

impl palette::lms::matrix::XyzToLms<f64> for Cat16 {
    #[rustfmt::skip]
    fn xyz_to_lms_matrix() -> palette::Mat3<f64> {
        [
            0.401288, 0.650173, -0.051461,
            -0.250268, 1.204414, 0.045854,
            -0.002079, 0.048952, 0.953127,
        ]
    }
}

impl palette::lms::matrix::LmsToXyz<f64> for Cat16 {
    #[rustfmt::skip]
    fn lms_to_xyz_matrix() -> palette::Mat3<f64> {
        [
            1.862067855087, -1.011254630532, 0.149186775444,
            0.387526543236, 0.621447441931, -0.008973985168,
            -0.015841498849, -0.034122938029, 1.049964436878,
        ]
    }
}

/// A 3 x 3 matrix on linear sRGB that white-balances by `shift` mireds: a von Kries
/// adaptation in the CAT16 cone space (palette's) from D65 to the white `shift`
/// mireds warmer along the Planckian locus with D65's own Duv, so neutral greys
/// move along the locus and gain no green or magenta tint. Positive is warmer.
/// `shift` is limited to what the locus covers (see [`white_balance_cool_limit`]).
pub fn white_balance_matrix(shift: f64) -> [[f32; 3]; 3] {
    use palette::chromatic_adaptation::adaptation_matrix;
    use palette::convert::{Convert, FromColorUnclamped};
    use palette::white_point::D65;
    use palette::{LinSrgb, Xyz};
    let (m65, duv65) = d65_on_locus();
    let target = (m65 + shift).clamp(m65 - white_balance_cool_limit(), LOCUS_MIRED_RANGE.1);
    let xyz_of =
        |xy: [f64; 2]| Xyz::<D65, f64>::new(xy[0] / xy[1], 1.0, (1.0 - xy[0] - xy[1]) / xy[1]);
    let from = xyz_of(D65_XY);
    let to = xyz_of(locus_white_xy(target, duv65));
    let adapt = adaptation_matrix::<f64, D65, D65, Cat16>(Some(from), Some(to));
    let column = |k: usize| -> [f64; 3] {
        let mut c = [0.0; 3];
        c[k] = 1.0;
        let xyz = Xyz::<D65, f64>::from_color_unclamped(LinSrgb::new(c[0], c[1], c[2]));
        let out = LinSrgb::from_color_unclamped(adapt.convert(xyz));
        [out.red, out.green, out.blue]
    };
    let cols = [column(0), column(1), column(2)];
    std::array::from_fn(|r| std::array::from_fn(|c| cols[c][r] as f32))
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
    fn table_decoder_matches_the_exact_curve() {
        let mut worst = 0f32;
        for i in 0..=100_000 {
            let v = i as f32 / 100_000.0;
            worst = worst.max((srgb_to_linear_fast(v) - srgb_to_linear(v)).abs());
        }
        assert!(worst < 5e-7, "{worst}");
        assert_eq!(srgb_to_linear_fast(f32::NAN), 0.0);
        assert_eq!(srgb_to_linear_fast(2.0), 1.0);
        assert_eq!(srgb_to_linear_fast(-1.0), 0.0);
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

    fn xy_of_linear(c: [f64; 3]) -> [f64; 2] {
        let x = 0.4124 * c[0] + 0.3576 * c[1] + 0.1805 * c[2];
        let y = 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
        let z = 0.0193 * c[0] + 0.1192 * c[1] + 0.9505 * c[2];
        [x / (x + y + z), y / (x + y + z)]
    }

    #[test]
    fn the_locus_passes_through_known_whites() {
        // Illuminant A is a blackbody at 2856 K.
        let a = locus_white_xy(1e6 / 2856.0, 0.0);
        assert!(
            (a[0] - 0.44757).abs() < 1e-3 && (a[1] - 0.40745).abs() < 1e-3,
            "{a:?}"
        );
        // D65 sits near 6500 K, a little on the green side of the locus.
        let (m, duv) = d65_on_locus();
        assert!((m - 1e6 / 6504.0).abs() < 2.0, "{m}");
        assert!((duv - 0.0032).abs() < 5e-4, "{duv}");
        // Round trip off the locus.
        let xy = locus_white_xy(250.0, -0.004);
        let (m, duv) = mired_duv_of_xy(xy);
        assert!(
            (m - 250.0).abs() < 0.1 && (duv + 0.004).abs() < 1e-5,
            "{m} {duv}"
        );
    }

    #[test]
    fn white_balance_moves_white_along_the_locus_without_a_tint() {
        let (m65, duv65) = d65_on_locus();
        let id = white_balance_matrix(0.0);
        for r in 0..3 {
            for c in 0..3 {
                assert!((id[r][c] - (r == c) as u8 as f32).abs() < 1e-5, "{id:?}");
            }
        }
        for shift in [-140.0, -60.0, -15.0, 15.0, 60.0, 250.0] {
            let m = white_balance_matrix(shift);
            let white: [f64; 3] = std::array::from_fn(|r| (m[r][0] + m[r][1] + m[r][2]) as f64);
            let (mired, duv) = mired_duv_of_xy(xy_of_linear(white));
            assert!((mired - (m65 + shift)).abs() < 0.5, "{shift}: {mired}");
            assert!((duv - duv65).abs() < 2e-4, "{shift}: Duv {duv} vs {duv65}");
            // Luminance of white kept.
            assert!((0.2126 * white[0] + 0.7152 * white[1] + 0.0722 * white[2] - 1.0).abs() < 1e-3);
            let fast = white_balance_matrix_fast(shift as f32);
            for r in 0..3 {
                for c in 0..3 {
                    assert!((fast[r][c] - m[r][c]).abs() < 1e-4, "{shift}");
                }
            }
        }
        // Warmer means redder and less blue.
        let w = white_balance_matrix(40.0);
        assert!(w[0][0] + w[0][1] + w[0][2] > 1.0 && w[2][0] + w[2][1] + w[2][2] < 1.0);
    }

    #[test]
    fn temperature_continues_monotonically_past_the_fit() {
        // Deep blue -> white -> deep orange-red: the measurement rises all the way.
        let mut path: Vec<[f64; 3]> = Vec::new();
        for i in 0..=100 {
            let t = i as f64 / 100.0;
            path.push([t, t, 1.0]);
        }
        for i in 0..=100 {
            let t = i as f64 / 100.0;
            path.push([1.0, 1.0 - 0.8 * t, 1.0 - t]);
        }
        let v: Vec<f64> = path.iter().map(|&c| temperature_of_srgb(c)).collect();
        for (k, w) in v.windows(2).enumerate() {
            assert!(w[1] >= w[0] - 1e-6, "step {k}: {} then {}", w[0], w[1]);
        }
        assert!(v[0] < -1e5, "deep blue is past 100000 K: {}", v[0]);
        assert!(*v.last().unwrap() > -1000.0, "orange-red is past 1000 K");
        // Within the fit's range it is -CCT, and mireds read it back.
        assert!((temperature_of_srgb([0.999; 3]) + cct_of_srgb([0.999; 3])).abs() < 1e-9);
        for raw in [-2e6, -1e5, -6504.0, -1000.0, 500.0] {
            assert!((raw_of_mired(temperature_mired(raw)) - raw).abs() < 1e-6 * raw.abs().max(1.0));
        }
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
