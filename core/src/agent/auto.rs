//! The auto look for vague wishes ("make it look better").
//!
//! Level 0 of every attribute is the median of the calibration photos. "Auto" lifts
//! what is below a well-exposed, slightly richer than median look and leaves a
//! photo's character alone otherwise:
//! - brightness moves 60% of the way to 0 from either side;
//! - contrast and colourfulness move 60% of the way up to +0.1 when below it, and
//!   only their excess beyond +0.8 is halved;
//! - temperature keeps its mood: only half of its excess beyond ±0.6 is taken back.
//!
//! No change is larger than [`AUTO_MAX`]; changes under [`AUTO_MIN`] are skipped.

use super::instruction::Edit;
use crate::params::{Attribute, GLOBAL};

/// Target of contrast and colourfulness.
pub const RICHER: f64 = 0.1;

/// Largest change the auto look makes to one attribute.
pub const AUTO_MAX: f64 = 0.3;

/// Changes below this are not worth making.
pub const AUTO_MIN: f64 = 0.03;

fn change(attr: Attribute, level: f64) -> f64 {
    let excess = |limit: f64| (level.abs() - limit).max(0.0) * level.signum();
    match attr {
        Attribute::Brightness => -0.6 * level,
        Attribute::Temperature => -0.5 * excess(0.6),
        Attribute::Colorfulness | Attribute::Contrast => {
            if level < RICHER {
                0.6 * (RICHER - level)
            } else {
                -0.5 * (level - 0.8).max(0.0)
            }
        }
    }
}

/// The auto look's edits for a photo whose global levels are `levels`.
pub fn auto_edits(levels: [f64; 4]) -> Vec<Edit> {
    Attribute::ALL
        .iter()
        .zip(levels)
        .filter_map(|(&attribute, level)| {
            let c = change(attribute, level).clamp(-AUTO_MAX, AUTO_MAX);
            (c.abs() >= AUTO_MIN).then(|| Edit {
                region: GLOBAL.to_string(),
                attribute,
                amount: c as f32,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(e: &[Edit], a: Attribute) -> Option<f32> {
        e.iter().find(|x| x.attribute == a).map(|x| x.amount)
    }

    #[test]
    fn auto_lifts_dull_dark_photos() {
        let e = auto_edits([-0.5, -0.4, 0.9, -0.6]);
        assert!((get(&e, Attribute::Colorfulness).unwrap() - 0.3).abs() < 1e-6);
        assert!((get(&e, Attribute::Contrast).unwrap() - 0.3).abs() < 1e-6);
        assert!((get(&e, Attribute::Temperature).unwrap() + 0.15).abs() < 1e-6);
        assert!((get(&e, Attribute::Brightness).unwrap() - 0.3).abs() < 1e-6);
    }

    #[test]
    fn auto_leaves_a_rich_warm_photo_mostly_alone() {
        // Colourful and contrasty (but not extreme), warm, well exposed.
        assert!(auto_edits([0.6, 0.5, 0.5, 0.02]).is_empty());
        // Only extremes are tamed.
        let e = auto_edits([0.95, 0.3, 0.0, 0.0]);
        assert!((get(&e, Attribute::Colorfulness).unwrap() + 0.075).abs() < 1e-6);
        assert_eq!(e.len(), 1);
    }
}
