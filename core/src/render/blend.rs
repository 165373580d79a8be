//! How region masks combine, shared by the full-resolution renderer and the solver's
//! proxy so that what the solver predicts is what the renderer draws.
//!
//! Every combination of named regions fully in or fully out of a pixel has one colour
//! transform (the strengths rasterised with those hard mask values). A pixel whose
//! mask values are all 0 or 1 gets its combination's transform; a pixel with one or
//! two soft mask values gets the multilinear blend, in linear light, of the transforms
//! around it, like layer masks in an editor. Pixels where three or more masks are soft fall back to
//! blending the strengths themselves (the parameter-map rule), which is rare.

use super::ops::{Prepared, Strength};

/// Most named regions whose combinations are enumerated (2^6 transforms).
pub const MAX_REGIONS: usize = 6;

/// Hard key and up to two soft entries of a pixel's mask values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct MaskSplit {
    /// Bit i set when region i's mask is exactly 1.
    pub key: usize,
    /// Soft entries as (region index, mask value); only the first `soft_count` count.
    pub soft: [(usize, f32); 2],
    pub soft_count: usize,
}

/// Splits mask values into hard and soft parts; `None` when more than two are soft
/// or there are too many regions to enumerate.
#[inline]
pub fn split_masks(mask_values: &[f32]) -> Option<MaskSplit> {
    if mask_values.len() > MAX_REGIONS {
        return None;
    }
    let mut split = MaskSplit {
        key: 0,
        soft: [(0, 0.0); 2],
        soft_count: 0,
    };
    for (i, &m) in mask_values.iter().enumerate() {
        if m == 1.0 {
            split.key |= 1 << i;
        } else if m != 0.0 {
            if split.soft_count == 2 {
                return None;
            }
            split.soft[split.soft_count] = (i, m);
            split.soft_count += 1;
        }
    }
    Some(split)
}

/// The blended output for `split`, given each combination's output by `look(key)`.
#[inline]
pub fn blend(split: &MaskSplit, mut look: impl FnMut(usize) -> [f32; 3]) -> [f32; 3] {
    let lerp = |a: [f32; 3], b: [f32; 3], t: f32| -> [f32; 3] {
        std::array::from_fn(|k| a[k] + (b[k] - a[k]) * t)
    };
    let key = split.key;
    match split.soft_count {
        0 => look(key),
        1 => {
            let (i, m) = split.soft[0];
            lerp(look(key), look(key | 1 << i), m)
        }
        _ => {
            let ((i, mi), (j, mj)) = (split.soft[0], split.soft[1]);
            let lo = lerp(look(key), look(key | 1 << i), mi);
            let hi = lerp(look(key | 1 << j), look(key | 1 << i | 1 << j), mi);
            lerp(lo, hi, mj)
        }
    }
}

impl MaskSplit {
    /// Bit set of the combinations [`blend`] looks up for this split.
    pub fn combinations(&self) -> u64 {
        let mut set = 1u64 << self.key;
        let soft = &self.soft[..self.soft_count];
        for (i, _) in soft {
            set |= 1 << (self.key | 1 << i);
        }
        if let [(i, _), (j, _)] = soft {
            set |= 1 << (self.key | 1 << i | 1 << j);
        }
        set
    }
}

/// Per-region strengths as painted into the per-pixel strength map.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct RegionStrength {
    /// Strength per channel where the region sets the attribute.
    pub values: [Option<f32>; 4],
    /// Oklab lightness the region's contrast pivots about.
    pub pivot: f32,
}

/// Rasterises strengths at one pixel exactly as parameter maps are rasterised:
/// start from the global values, then blend each named region by its mask value.
#[inline]
pub(crate) fn pixel_strength(
    global: &Strength,
    regions: &[RegionStrength],
    mask_values: &[f32],
) -> Strength {
    let mut s = *global;
    for (r, &m) in regions.iter().zip(mask_values) {
        if m <= 0.0 {
            continue;
        }
        for (c, v) in r.values.iter().enumerate() {
            if let Some(v) = v {
                s.set(c, s.get(c) * (1.0 - m) + v * m);
            }
        }
        if r.values[1].is_some() {
            s.pivot = s.pivot * (1.0 - m) + r.pivot * m;
        }
    }
    s
}

/// The strengths of one combination of hard mask values.
pub(crate) fn combination_strength(
    global: &Strength,
    regions: &[RegionStrength],
    key: usize,
) -> Strength {
    let hard: Vec<f32> = (0..regions.len())
        .map(|i| ((key >> i) & 1) as f32)
        .collect();
    pixel_strength(global, regions, &hard)
}

/// Prepared transforms of every combination (`None` where it is the identity).
#[derive(Debug, Clone)]
pub struct Combinations {
    prepared: Vec<Option<Prepared>>,
}

impl Combinations {
    /// All 2^n combinations of the named regions (none when n > [`MAX_REGIONS`]).
    pub(crate) fn new(global: &Strength, regions: &[RegionStrength]) -> Self {
        let n = if regions.len() <= MAX_REGIONS {
            1usize << regions.len()
        } else {
            0
        };
        Combinations {
            prepared: (0..n)
                .map(|key| {
                    let s = combination_strength(global, regions, key);
                    (!s.is_identity()).then(|| Prepared::new(&s))
                })
                .collect(),
        }
    }

    /// How many combinations there are (2^regions, or none past the limit).
    pub fn count(&self) -> usize {
        self.prepared.len()
    }

    /// The transform of `key` (`None` for the identity).
    #[inline]
    pub fn get(&self, key: usize) -> Option<&Prepared> {
        self.prepared.get(key).and_then(Option::as_ref)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn split_finds_hard_key_and_soft_entries() {
        let s = split_masks(&[0.0, 0.5, 1.0]).unwrap();
        assert_eq!((s.key, s.soft_count, s.soft[0]), (4, 1, (1, 0.5)));
        assert!(split_masks(&[0.2, 0.5, 0.7]).is_none());
        assert!(split_masks(&[0.0; MAX_REGIONS + 1]).is_none());
    }

    #[test]
    fn blend_is_multilinear() {
        let look = |k: usize| [k as f32; 3];
        let one = split_masks(&[0.25, 0.0]).unwrap();
        assert_eq!(blend(&one, look), [0.25; 3]);
        let two = split_masks(&[0.5, 0.5]).unwrap();
        // Corners 0, 1, 2, 3 averaged equally.
        assert_eq!(blend(&two, look), [1.5; 3]);
        let hard = split_masks(&[1.0, 1.0]).unwrap();
        assert_eq!(blend(&hard, look), [3.0; 3]);
        // The combinations each split reads.
        assert_eq!(one.combinations(), 0b11);
        assert_eq!(two.combinations(), 0b1111);
        assert_eq!(hard.combinations(), 0b1000);
        let mixed = split_masks(&[1.0, 0.3, 0.0]).unwrap();
        assert_eq!(mixed.combinations(), 1 << 1 | 1 << 3);
    }
}
