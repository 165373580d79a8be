//! Region names and the words people use for them.

/// A region the segmenters know.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Region {
    Sky,
    Vegetation,
    Water,
    Skin,
    Shadows,
    Midtones,
    Highlights,
    Reds,
    Oranges,
    Yellows,
    Greens,
    Cyans,
    Blues,
    Purples,
}

/// Every region, in the order they are listed to users.
pub const ALL_REGIONS: [Region; 14] = [
    Region::Sky,
    Region::Vegetation,
    Region::Water,
    Region::Skin,
    Region::Shadows,
    Region::Midtones,
    Region::Highlights,
    Region::Reds,
    Region::Oranges,
    Region::Yellows,
    Region::Greens,
    Region::Cyans,
    Region::Blues,
    Region::Purples,
];

impl Region {
    /// The canonical name.
    pub fn name(self) -> &'static str {
        match self {
            Region::Sky => "sky",
            Region::Vegetation => "vegetation",
            Region::Water => "water",
            Region::Skin => "skin",
            Region::Shadows => "shadows",
            Region::Midtones => "midtones",
            Region::Highlights => "highlights",
            Region::Reds => "reds",
            Region::Oranges => "oranges",
            Region::Yellows => "yellows",
            Region::Greens => "greens",
            Region::Cyans => "cyans",
            Region::Blues => "blues",
            Region::Purples => "purples",
        }
    }

    /// True for tone ranges and colour ranges: regions defined by pixel values,
    /// which the built-in segmenter measures exactly and no network should guess.
    pub fn is_pixel_range(self) -> bool {
        !matches!(
            self,
            Region::Sky | Region::Vegetation | Region::Water | Region::Skin
        )
    }

    /// Other words for it (singular and plural, lower case).
    pub fn aliases(self) -> &'static [&'static str] {
        match self {
            Region::Sky => &["skies", "clouds", "cloud", "heavens"],
            Region::Vegetation => &[
                "grass", "trees", "tree", "foliage", "leaves", "leaf", "plants", "plant",
                "greenery", "forest", "woods", "bushes", "bush", "lawn", "meadow", "hedge",
            ],
            Region::Water => &[
                "sea", "ocean", "lake", "river", "waves", "wave", "pond", "stream", "seawater",
            ],
            Region::Skin => &[
                "face",
                "faces",
                "skin tones",
                "skin tone",
                "people",
                "person",
                "portrait",
                "complexion",
                "cheeks",
            ],
            Region::Shadows => &[
                "shadow",
                "darks",
                "dark areas",
                "dark parts",
                "blacks",
                "lows",
            ],
            Region::Midtones => &["midtone", "mids", "middle tones", "mid tones"],
            Region::Highlights => &[
                "highlight",
                "brights",
                "bright areas",
                "bright parts",
                "whites",
                "highs",
            ],
            Region::Reds => &["red", "red tones", "red colours", "red colors"],
            Region::Oranges => &["orange", "orange tones"],
            Region::Yellows => &["yellow", "yellow tones"],
            Region::Greens => &["green", "green tones", "green colours", "green colors"],
            Region::Cyans => &["cyan", "teal", "teals", "aqua"],
            Region::Blues => &["blue", "blue tones", "blue colours", "blue colors"],
            Region::Purples => &[
                "purple", "magenta", "magentas", "violet", "violets", "pink", "pinks",
            ],
        }
    }
}

impl std::fmt::Display for Region {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// The region a name or alias means ("Trees" -> vegetation, "the sky" -> sky).
pub fn resolve(name: &str) -> Option<Region> {
    let n = name.trim().to_lowercase().replace(['_', '-'], " ");
    let n = n.strip_prefix("the ").unwrap_or(&n).trim();
    ALL_REGIONS
        .into_iter()
        .find(|r| r.name() == n || r.aliases().contains(&n))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_and_aliases_resolve() {
        for (word, want) in [
            ("sky", Region::Sky),
            ("The Sky", Region::Sky),
            ("trees", Region::Vegetation),
            ("foliage", Region::Vegetation),
            ("face", Region::Skin),
            ("skin_tones", Region::Skin),
            ("sea", Region::Water),
            ("shadows", Region::Shadows),
            ("blue", Region::Blues),
            ("teal", Region::Cyans),
        ] {
            assert_eq!(resolve(word), Some(want), "{word}");
        }
        assert_eq!(resolve("background"), None);
        assert_eq!(resolve("car"), None);
    }

    /// No word means two regions.
    #[test]
    fn aliases_are_unambiguous() {
        let mut seen = std::collections::HashSet::new();
        for r in ALL_REGIONS {
            for w in std::iter::once(r.name()).chain(r.aliases().iter().copied()) {
                assert!(seen.insert(w), "{w} twice");
            }
        }
    }
}
