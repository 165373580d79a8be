//! Quantile tables that turn a raw measurement into a level in [-1, 1] and back.
//!
//! A table holds the raw values at evenly spaced quantiles of a reference set of
//! region measurements; level = 2 * cdf(raw) - 1 with the cdf interpolated linearly
//! between knots, so 0 is the reference set's median. Tables also fix the analysis
//! resolution at which measurements are taken, because the contrast measurement
//! (neighbour differences) depends on it.
//!
//! The scale continues past its ends ([`QuantileTable::level_ext`]): a region more
//! extreme than anything the table was fitted on measures beyond +-1, linearly in a
//! perceptual coordinate of the attribute ([`Tail`]), at the rate the middle half
//! of the table has. So a change asked of a region at or past an end is an edit of
//! ordinary size, not a jump across a sparse tail nor nothing at all. Maps, states
//! and the diffusion renderer keep the clamped scale ([`QuantileTable::level`]).

use super::metrics::RawMeasurement;
use crate::error::{Error, Result};
use crate::params::Attribute;
use serde::{Deserialize, Serialize};
use std::path::Path;

/// The tables shipped with the core (see docs/ARCHITECTURE.md for how they were made).
const DEFAULT_TABLES_JSON: &str = include_str!("../../data/level_tables.json");

/// Default analysis long side, in pixels: the reference model's working size.
pub const DEFAULT_ANALYSIS_LONG_SIDE: usize = 512;

/// One attribute's quantile knots: strictly increasing raw values.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct QuantileTable {
    knots: Vec<f64>,
}

impl QuantileTable {
    /// Fits a table with `n_knots` knots to raw samples (non-finite samples are ignored).
    pub fn fit(samples: &[f64], n_knots: usize) -> Result<Self> {
        let mut v: Vec<f64> = samples.iter().copied().filter(|x| x.is_finite()).collect();
        if v.len() < 2 || n_knots < 2 {
            return Err(Error::InvalidTables(format!(
                "need at least 2 samples and 2 knots to fit a table, got {} samples",
                v.len()
            )));
        }
        v.sort_by(|a, b| a.total_cmp(b));
        let knots = (0..n_knots)
            .map(|i| {
                let q = i as f64 / (n_knots - 1) as f64 * (v.len() - 1) as f64;
                let lo = q.floor() as usize;
                let hi = (lo + 1).min(v.len() - 1);
                v[lo] + (v[hi] - v[lo]) * (q - lo as f64)
            })
            .collect();
        Self::from_knots(knots)
    }

    /// Builds a table from knots, nudging ties apart so the mapping is invertible.
    pub fn from_knots(mut knots: Vec<f64>) -> Result<Self> {
        if knots.len() < 2 || knots.iter().any(|k| !k.is_finite()) {
            return Err(Error::InvalidTables(
                "a table needs at least 2 finite knots".into(),
            ));
        }
        if knots.windows(2).any(|w| w[1] < w[0]) {
            return Err(Error::InvalidTables("knots must be non-decreasing".into()));
        }
        let span = (knots[knots.len() - 1] - knots[0]).abs().max(1e-9);
        let step = span * 1e-9;
        for i in 1..knots.len() {
            if knots[i] <= knots[i - 1] {
                knots[i] = knots[i - 1] + step;
            }
        }
        Ok(QuantileTable { knots })
    }

    /// The knots.
    pub fn knots(&self) -> &[f64] {
        &self.knots
    }

    /// Raw value to level in [-1, 1] (clamped beyond the table's ends).
    pub fn level(&self, raw: f64) -> f64 {
        let k = &self.knots;
        let n = k.len();
        if raw.is_nan() {
            return 0.0;
        }
        if raw <= k[0] {
            return -1.0;
        }
        if raw >= k[n - 1] {
            return 1.0;
        }
        let i = k
            .partition_point(|&x| x <= raw)
            .saturating_sub(1)
            .min(n - 2);
        let t = (raw - k[i]) / (k[i + 1] - k[i]);
        let q = (i as f64 + t) / (n - 1) as f64;
        2.0 * q - 1.0
    }

    /// Level in [-1, 1] to raw value (inverse of [`QuantileTable::level`]).
    pub fn raw(&self, level: f64) -> f64 {
        let k = &self.knots;
        let n = k.len();
        let q = ((level.clamp(-1.0, 1.0) + 1.0) / 2.0) * (n - 1) as f64;
        let i = (q.floor() as usize).min(n - 2);
        let t = q - i as f64;
        k[i] + (k[i + 1] - k[i]) * t
    }

    /// Levels per tail unit past the ends: the middle half of the table (levels
    /// -0.5 to +0.5) spans one level.
    fn tail_slope(&self, tail: Tail) -> f64 {
        let span = (tail.coord(self.raw(0.5)) - tail.coord(self.raw(-0.5))).abs();
        1.0 / span.max(1e-9)
    }

    /// Raw value to level on the extended scale: [`QuantileTable::level`] within the
    /// table, continued linearly in `tail` past its ends.
    pub fn level_ext(&self, raw: f64, tail: Tail) -> f64 {
        let k = &self.knots;
        let (first, last) = (k[0], k[k.len() - 1]);
        if raw.is_nan() {
            0.0
        } else if raw < first {
            -1.0 - self.tail_slope(tail) * (tail.coord(first) - tail.coord(raw))
        } else if raw > last {
            1.0 + self.tail_slope(tail) * (tail.coord(raw) - tail.coord(last))
        } else {
            self.level(raw)
        }
    }

    /// Level on the extended scale to raw value (inverse of
    /// [`QuantileTable::level_ext`]).
    pub fn raw_ext(&self, level: f64, tail: Tail) -> f64 {
        let k = &self.knots;
        if level < -1.0 {
            tail.raw(tail.coord(k[0]) - (-1.0 - level) / self.tail_slope(tail))
        } else if level > 1.0 {
            tail.raw(tail.coord(k[k.len() - 1]) + (level - 1.0) / self.tail_slope(tail))
        } else {
            self.raw(level)
        }
    }
}

/// The coordinate a table's scale continues in past its ends: one in which equal
/// steps look about equally large.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tail {
    /// The raw measurement itself (colourfulness, brightness: 8-bit units).
    Linear,
    /// Its square root (contrast, a mean squared difference: an RMS difference).
    Sqrt,
    /// Mireds (temperature: `1e6 / kelvin`, continued as the measurement is).
    Mired,
}

impl Tail {
    /// The tail coordinate of each attribute.
    pub fn of(attr: Attribute) -> Tail {
        match attr {
            Attribute::Colorfulness | Attribute::Brightness => Tail::Linear,
            Attribute::Contrast => Tail::Sqrt,
            Attribute::Temperature => Tail::Mired,
        }
    }

    /// Raw measurement to tail coordinate (increasing).
    pub fn coord(self, raw: f64) -> f64 {
        match self {
            Tail::Linear => raw,
            Tail::Sqrt => raw.max(0.0).sqrt(),
            Tail::Mired => crate::color::temperature_mired(raw),
        }
    }

    /// Tail coordinate to raw measurement.
    pub fn raw(self, coord: f64) -> f64 {
        match self {
            Tail::Linear => coord,
            Tail::Sqrt => coord.max(0.0).powi(2),
            Tail::Mired => crate::color::raw_of_mired(coord),
        }
    }
}

/// Quantile tables for all four attributes plus the analysis resolution they assume.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LevelTables {
    /// Long side, in pixels, of the image the measurements are taken on.
    pub analysis_long_side: usize,
    /// Where the tables came from (free text, for people).
    #[serde(default)]
    pub source: String,
    /// One table per attribute, in channel order.
    pub colorfulness: QuantileTable,
    pub contrast: QuantileTable,
    pub temperature: QuantileTable,
    pub brightness: QuantileTable,
}

/// Levels of the four attributes, in channel order.
pub type Levels = [f64; 4];

impl LevelTables {
    /// The tables shipped with the core.
    pub fn builtin() -> &'static LevelTables {
        static T: std::sync::OnceLock<LevelTables> = std::sync::OnceLock::new();
        T.get_or_init(|| {
            serde_json::from_str(DEFAULT_TABLES_JSON)
                .expect("the built-in level tables are valid (checked by a unit test)")
        })
    }

    /// Reads tables from a JSON file.
    pub fn load(path: &Path) -> Result<Self> {
        let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
        let t: LevelTables = serde_json::from_str(&text)
            .map_err(|e| Error::InvalidTables(format!("{}: {e}", path.display())))?;
        for attr in Attribute::ALL {
            QuantileTable::from_knots(t.table(attr).knots.clone())
                .map_err(|e| Error::InvalidTables(format!("{}: {attr}: {e}", path.display())))?;
        }
        if t.analysis_long_side < 16 {
            return Err(Error::InvalidTables(format!(
                "{}: analysis_long_side must be at least 16",
                path.display()
            )));
        }
        Ok(t)
    }

    /// The table of one attribute.
    pub fn table(&self, attr: Attribute) -> &QuantileTable {
        match attr {
            Attribute::Colorfulness => &self.colorfulness,
            Attribute::Contrast => &self.contrast,
            Attribute::Temperature => &self.temperature,
            Attribute::Brightness => &self.brightness,
        }
    }

    /// Level of one attribute's raw value on the extended scale (past +-1 beyond
    /// the table's ends; see [`Tail`]).
    pub fn level_ext(&self, attr: Attribute, raw: f64) -> f64 {
        self.table(attr).level_ext(raw, Tail::of(attr))
    }

    /// Raw value of one attribute's level on the extended scale.
    pub fn raw_ext(&self, attr: Attribute, level: f64) -> f64 {
        self.table(attr).raw_ext(level, Tail::of(attr))
    }

    /// Levels of a raw measurement on the extended scale.
    pub fn levels_ext(&self, raw: &RawMeasurement) -> Levels {
        let r = raw.to_array();
        std::array::from_fn(|c| self.level_ext(Attribute::ALL[c], r[c]))
    }

    /// Levels of a raw measurement.
    pub fn levels(&self, raw: &RawMeasurement) -> Levels {
        let r = raw.to_array();
        std::array::from_fn(|c| self.table(Attribute::ALL[c]).level(r[c]))
    }

    /// Fits tables to many raw region measurements.
    pub fn fit(
        samples: &[RawMeasurement],
        n_knots: usize,
        analysis_long_side: usize,
        source: String,
    ) -> Result<Self> {
        let col = |f: fn(&RawMeasurement) -> f64| samples.iter().map(f).collect::<Vec<_>>();
        Ok(LevelTables {
            analysis_long_side,
            source,
            colorfulness: QuantileTable::fit(&col(|m| m.colorfulness), n_knots)?,
            contrast: QuantileTable::fit(&col(|m| m.contrast), n_knots)?,
            temperature: QuantileTable::fit(&col(|m| m.temperature), n_knots)?,
            brightness: QuantileTable::fit(&col(|m| m.brightness), n_knots)?,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn builtin_tables_are_valid() {
        let t = LevelTables::builtin();
        assert!(t.analysis_long_side >= 16);
        for a in Attribute::ALL {
            let k = t.table(a).knots();
            assert!(k.len() >= 11);
            assert!(k.windows(2).all(|w| w[0] < w[1]), "{a} knots increase");
        }
    }

    #[test]
    fn median_maps_to_zero_and_ends_to_one() {
        let t = QuantileTable::fit(&[1.0, 2.0, 3.0, 4.0, 5.0], 5).unwrap();
        assert_eq!(t.level(3.0), 0.0);
        assert_eq!(t.level(1.0), -1.0);
        assert_eq!(t.level(0.0), -1.0);
        assert_eq!(t.level(9.0), 1.0);
        assert!((t.level(3.5) - 0.25).abs() < 1e-12);
    }

    #[test]
    fn ties_are_nudged_apart() {
        let t = QuantileTable::fit(&[1.0, 1.0, 1.0, 2.0], 4).unwrap();
        assert!(t.knots().windows(2).all(|w| w[0] < w[1]));
        assert!(QuantileTable::from_knots(vec![2.0, 1.0]).is_err());
        assert!(QuantileTable::fit(&[f64::NAN, 1.0], 3).is_err());
    }

    #[test]
    fn the_scale_continues_past_its_ends() {
        let t = QuantileTable::fit(&(0..=100).map(f64::from).collect::<Vec<_>>(), 11).unwrap();
        // Middle half (25..75) spans one level: one level per 50 raw units past the ends.
        assert!((t.level_ext(150.0, Tail::Linear) - 2.0).abs() < 1e-9);
        assert!((t.level_ext(-25.0, Tail::Linear) + 1.5).abs() < 1e-9);
        assert_eq!(t.level_ext(40.0, Tail::Linear), t.level(40.0));
        for level in [-3.0, -1.2, -0.4, 0.0, 0.9, 1.0, 1.7, 4.0] {
            let back = t.level_ext(t.raw_ext(level, Tail::Linear), Tail::Linear);
            assert!((back - level).abs() < 1e-9, "{level} -> {back}");
        }
        // Continuous at the ends.
        assert!((t.level_ext(100.0 + 1e-9, Tail::Linear) - 1.0).abs() < 1e-9);
        // The built-in tables: every attribute round-trips and grows past the ends.
        let b = LevelTables::builtin();
        for a in Attribute::ALL {
            for level in [-1.04, 0.3, 1.05, 1.6] {
                let back = b.level_ext(a, b.raw_ext(a, level));
                assert!((back - level).abs() < 1e-6, "{a}: {level} -> {back}");
            }
        }
    }

    proptest! {
        #[test]
        fn level_raw_round_trip(samples in proptest::collection::vec(-1000.0f64..1000.0, 2..200), level in -1.0f64..1.0) {
            let t = QuantileTable::fit(&samples, 33).unwrap();
            let back = t.level(t.raw(level));
            prop_assert!((back - level).abs() < 1e-6, "{} -> {}", level, back);
        }

        #[test]
        fn level_is_monotone(samples in proptest::collection::vec(0.0f64..100.0, 2..100), a in -10.0f64..110.0, b in -10.0f64..110.0) {
            let t = QuantileTable::fit(&samples, 17).unwrap();
            let (lo, hi) = if a < b { (a, b) } else { (b, a) };
            prop_assert!(t.level(lo) <= t.level(hi));
        }
    }
}
