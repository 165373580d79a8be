//! Where each edit of a region state is measured, and the report line it starts
//! as: one definition for every renderer, so that "the level before", "the
//! target" and "achieved" mean the same whichever renderer drew the picture.

use super::report::RegionReport;
use crate::measure::{measure_regions, LevelTables, RawMeasurement, RegionWeights};
use crate::params::{Attribute, AttributeValues, RegionState, GLOBAL};
use crate::plane::Plane;
use crate::raster::RgbF32;

/// One edit and what its level is measured on.
#[derive(Debug, Clone)]
pub(crate) struct Target {
    pub region: String,
    pub channel: usize,
    /// Requested change, in level units.
    pub change: f64,
    /// Analysis-size weights; `None` for the whole frame.
    pub weights: Option<Plane>,
}

impl Target {
    pub fn attribute(&self) -> Attribute {
        Attribute::ALL[self.channel]
    }
}

/// The edits of `state`: a named region's on its (analysis-size, `width` x
/// `height`) mask; a global attribute on what no named region setting that
/// attribute covers. `named` and `masks` are in the same order.
pub(crate) fn edit_targets(
    state: &RegionState,
    named: &[(&str, &AttributeValues)],
    masks: &[Plane],
    width: usize,
    height: usize,
) -> Vec<Target> {
    let mut targets = Vec::new();
    if let Some(g) = state.region(GLOBAL) {
        for (attr, change) in g.iter() {
            let covering: Vec<&Plane> = named
                .iter()
                .zip(masks)
                .filter(|((_, v), _)| v.get(attr).is_some())
                .map(|(_, m)| m)
                .collect();
            let weights = (!covering.is_empty()).then(|| {
                covering
                    .iter()
                    .fold(Plane::filled(width, height, 1.0), |w, m| {
                        w.zip_map(m, |a, b| a * (1.0 - b))
                    })
            });
            targets.push(Target {
                region: GLOBAL.into(),
                channel: attr.channel(),
                change: change as f64,
                weights,
            });
        }
    }
    for ((name, values), m) in named.iter().zip(masks) {
        for (attr, change) in values.iter() {
            targets.push(Target {
                region: name.to_string(),
                channel: attr.channel(),
                change: change as f64,
                weights: Some(m.clone()),
            });
        }
    }
    targets
}

/// Every target measured on `rgb` in one pass; weights of another size than `rgb`
/// fall back to the whole image.
pub(crate) fn measure_targets(rgb: &RgbF32, targets: &[Target]) -> Vec<Option<RawMeasurement>> {
    let weights: Vec<RegionWeights<'_>> = targets
        .iter()
        .map(|t| match &t.weights {
            Some(w) if (w.width(), w.height()) == (rgb.width, rgb.height) => RegionWeights::Mask(w),
            _ => RegionWeights::Whole,
        })
        .collect();
    measure_regions(rgb, &weights)
}

/// How far past the scale's ends a target may lie: beyond, no photo is left.
pub(crate) const EXTENDED_LIMIT: f64 = 3.0;

/// Colourfulness changes from here down to -1 fade the target toward no colour at
/// all; -1 itself asks for grey (see [`target_level`]).
const GREY_FADE_FROM: f64 = -0.8;

/// The level a change asks for, on the extended scale: `before + change`, except
/// that a colourfulness change between -0.8 and -1 fades the target to the level
/// of a colourless photo, reached at -1 (like a saturation slider at its minimum).
/// So "no colour" is a state a change can ask for from any photo: a plain sum
/// could not reach it from a colourful one, since changes are limited to [-1, 1].
pub(crate) fn target_level(
    tables: &LevelTables,
    attr: crate::params::Attribute,
    before: f64,
    change: f64,
) -> f64 {
    let sum = before + change;
    if attr != crate::params::Attribute::Colorfulness || change > GREY_FADE_FROM {
        return sum;
    }
    let grey = tables.level_ext(attr, 0.0);
    if grey >= sum {
        return sum;
    }
    let t = ((GREY_FADE_FROM - change) / (1.0 + GREY_FADE_FROM)).clamp(0.0, 1.0);
    let w = t * t * (3.0 - 2.0 * t);
    sum + (grey - sum) * w
}

/// The report line `t` starts as on the extended scale, from its level measured
/// before the edit (`None`: the region's mask is empty in this photo): what the
/// parametric renderer aims at.
pub(crate) fn start_report_extended(
    t: &Target,
    level: Option<f64>,
    tables: &LevelTables,
) -> RegionReport {
    let Some(level) = level else {
        return start_report(t, None);
    };
    let wanted = target_level(tables, t.attribute(), level, t.change);
    let target = wanted.clamp(-EXTENDED_LIMIT, EXTENDED_LIMIT);
    RegionReport {
        region: t.region.clone(),
        attribute: t.attribute(),
        before: level,
        change: t.change,
        target,
        predicted: level,
        achieved: None,
        note: (wanted != target).then(|| {
            format!(
                "asked for level {wanted:+.3}, beyond where any photo goes; aiming at {target:+.0}"
            )
        }),
    }
}

/// The report line `t` starts as, from its level measured before the edit
/// (`None`: the region's mask is empty in this photo), on the scale limited to
/// [-1, 1] that level maps hold (the diffusion renderer's).
pub(crate) fn start_report(t: &Target, level: Option<f64>) -> RegionReport {
    let Some(level) = level else {
        return RegionReport {
            region: t.region.clone(),
            attribute: t.attribute(),
            before: 0.0,
            change: t.change,
            target: 0.0,
            predicted: 0.0,
            achieved: None,
            note: Some("the region's mask is empty in this photo; nothing was changed".into()),
        };
    };
    let wanted = level + t.change;
    let target = wanted.clamp(-1.0, 1.0);
    RegionReport {
        region: t.region.clone(),
        attribute: t.attribute(),
        before: level,
        change: t.change,
        target,
        predicted: level,
        achieved: None,
        note: (wanted != target).then(|| {
            format!("asked for level {wanted:+.3}, beyond the scale's end; aiming at {target:+.0}")
        }),
    }
}
