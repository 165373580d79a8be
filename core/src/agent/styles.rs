//! Named looks, decomposed into the four attributes on global and tonal regions.

use crate::params::Attribute::{
    self, Brightness as B, Colorfulness as Col, Contrast as Con, Temperature as T,
};

/// A named look.
#[derive(Debug)]
pub struct Style {
    /// Canonical name.
    pub name: &'static str,
    /// Phrases that ask for it (lower case).
    pub words: &'static [&'static str],
    /// (region, attribute, level change).
    pub edits: &'static [(&'static str, Attribute, f32)],
}

/// The looks the offline agent knows.
pub const STYLES: &[Style] = &[
    Style {
        name: "cinematic",
        words: &[
            "cinematic",
            "cinema",
            "movie",
            "filmic",
            "teal and orange",
            "blockbuster",
            "hollywood",
        ],
        edits: &[
            ("global", Con, 0.2),
            ("global", Col, -0.15),
            ("shadows", T, -0.25),
            ("highlights", T, 0.2),
        ],
    },
    Style {
        name: "warm film",
        words: &[
            "warm film",
            "film look",
            "film",
            "analog",
            "analogue",
            "kodak",
            "portra",
            "kodachrome",
        ],
        edits: &[
            ("global", T, 0.25),
            ("global", Con, -0.15),
            ("global", Col, -0.1),
            ("shadows", B, 0.1),
        ],
    },
    Style {
        name: "moody",
        words: &[
            "moody",
            "gloomy",
            "brooding",
            "somber",
            "sombre",
            "melancholic",
            "dark and moody",
        ],
        edits: &[
            ("global", B, -0.2),
            ("global", Con, 0.15),
            ("global", Col, -0.25),
            ("global", T, -0.1),
        ],
    },
    Style {
        name: "vivid",
        words: &[
            "vivid look",
            "vibrant look",
            "punchy look",
            "poppy",
            "pop art",
            "vivid style",
        ],
        edits: &[("global", Col, 0.35), ("global", Con, 0.2)],
    },
    Style {
        name: "black and white",
        words: &[
            "black and white",
            "black & white",
            "b&w",
            "monochrome",
            "grayscale",
            "greyscale",
            "noir",
            "mono",
        ],
        edits: &[("global", Col, -1.0), ("global", Con, 0.2)],
    },
    Style {
        name: "faded",
        words: &[
            "faded",
            "matte",
            "retro",
            "vintage",
            "washed-out look",
            "lomo",
        ],
        edits: &[
            ("global", Con, -0.3),
            ("global", Col, -0.2),
            ("shadows", B, 0.15),
        ],
    },
    Style {
        name: "golden hour",
        words: &["golden hour", "sunset look", "sunny", "summery", "summer"],
        edits: &[
            ("global", T, 0.35),
            ("global", B, 0.05),
            ("global", Col, 0.1),
        ],
    },
    Style {
        name: "cold",
        words: &["wintry", "winter", "nordic", "frosty", "icy look", "arctic"],
        edits: &[
            ("global", T, -0.3),
            ("global", Col, -0.15),
            ("global", B, 0.05),
        ],
    },
    Style {
        name: "dreamy",
        words: &[
            "dreamy",
            "ethereal",
            "airy",
            "bright and airy",
            "high key",
            "high-key",
            "soft look",
        ],
        edits: &[
            ("global", Con, -0.25),
            ("global", B, 0.2),
            ("global", Col, -0.1),
        ],
    },
    Style {
        name: "dramatic",
        words: &["dramatic", "hdr", "epic", "intense", "low key", "low-key"],
        edits: &[
            ("global", Con, 0.35),
            ("shadows", B, -0.1),
            ("highlights", B, -0.1),
            ("global", Col, 0.1),
        ],
    },
    Style {
        name: "cyberpunk",
        words: &["cyberpunk", "neon", "synthwave", "futuristic"],
        edits: &[
            ("global", T, -0.3),
            ("global", Col, 0.35),
            ("global", Con, 0.2),
        ],
    },
];

/// The look named in `text` (words separated by single spaces, padded with spaces)
/// and the phrase that named it, longest phrase first.
pub fn find_style(text: &str) -> Option<(&'static Style, &'static str)> {
    let mut best: Option<(&'static Style, &'static str)> = None;
    for s in STYLES {
        for w in s.words {
            if text.contains(&format!(" {w} ")) && best.is_none_or(|(_, b)| w.len() > b.len()) {
                best = Some((s, w));
            }
        }
    }
    best
}
