//! The auto look for vague wishes ("make it look better").
//!
//! Level 0 of every attribute is the median of the calibration photos, so "auto"
//! moves the photo's global levels part of the way toward a well-exposed, slightly
//! richer than median look: brightness and temperature toward 0, contrast and
//! colourfulness toward +0.1. Temperature moves least (a warm sunset should stay
//! warm); small corrections are skipped.

use super::instruction::Edit;
use crate::params::{Attribute, GLOBAL};

/// Target level and the share of the way to it, per attribute in channel order.
pub const AUTO_TARGETS: [(f64, f64); 4] = [(0.1, 0.6), (0.1, 0.6), (0.0, 0.3), (0.0, 0.6)];

/// Largest change the auto look makes to one attribute.
pub const AUTO_MAX: f64 = 0.3;

/// Changes below this are not worth making.
pub const AUTO_MIN: f64 = 0.03;

/// The auto look's edits for a photo whose global levels are `levels`.
pub fn auto_edits(levels: [f64; 4]) -> Vec<Edit> {
    Attribute::ALL
        .iter()
        .zip(levels)
        .zip(AUTO_TARGETS)
        .filter_map(|((&attribute, level), (target, share))| {
            let change = ((target - level) * share).clamp(-AUTO_MAX, AUTO_MAX);
            (change.abs() >= AUTO_MIN).then(|| Edit {
                region: GLOBAL.to_string(),
                attribute,
                amount: change as f32,
            })
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn auto_moves_toward_the_targets_and_skips_small_changes() {
        // Dark, flat, dull, very warm.
        let e = auto_edits([-0.5, -0.4, 0.8, -0.6]);
        let get = |a| e.iter().find(|x| x.attribute == a).map(|x| x.amount);
        assert!((get(Attribute::Colorfulness).unwrap() - 0.3).abs() < 1e-6);
        assert!((get(Attribute::Contrast).unwrap() - 0.3).abs() < 1e-6);
        assert!((get(Attribute::Temperature).unwrap() + 0.24).abs() < 1e-6);
        assert!((get(Attribute::Brightness).unwrap() - 0.3).abs() < 1e-6);
        // Already there: nothing to do.
        assert!(auto_edits([0.1, 0.1, 0.0, 0.0]).is_empty());
    }
}
