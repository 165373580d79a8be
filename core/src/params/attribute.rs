//! The four retouching attributes and the words people use for them.

use serde::{Deserialize, Serialize};
use std::fmt;

/// One of the four measured attributes, in parameter-map channel order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Attribute {
    /// Channel 0: Hasler & Suesstrunk colourfulness.
    Colorfulness,
    /// Channel 1: mean squared neighbour difference.
    Contrast,
    /// Channel 2: negative correlated colour temperature (larger is warmer).
    Temperature,
    /// Channel 3: perceived (HSP) brightness.
    Brightness,
}

/// Synonyms that name an attribute with a direction: "cool" is temperature, negated.
const SIGNED_WORDS: &[(&str, Attribute, f32)] = &[
    ("colorfulness", Attribute::Colorfulness, 1.0),
    ("colourfulness", Attribute::Colorfulness, 1.0),
    ("saturation", Attribute::Colorfulness, 1.0),
    ("saturated", Attribute::Colorfulness, 1.0),
    ("vibrance", Attribute::Colorfulness, 1.0),
    ("color", Attribute::Colorfulness, 1.0),
    ("colour", Attribute::Colorfulness, 1.0),
    ("chroma", Attribute::Colorfulness, 1.0),
    ("muted", Attribute::Colorfulness, -1.0),
    ("desaturated", Attribute::Colorfulness, -1.0),
    ("contrast", Attribute::Contrast, 1.0),
    ("punch", Attribute::Contrast, 1.0),
    ("pop", Attribute::Contrast, 1.0),
    ("flat", Attribute::Contrast, -1.0),
    ("temperature", Attribute::Temperature, 1.0),
    ("temp", Attribute::Temperature, 1.0),
    ("warmth", Attribute::Temperature, 1.0),
    ("warm", Attribute::Temperature, 1.0),
    ("warmer", Attribute::Temperature, 1.0),
    ("cool", Attribute::Temperature, -1.0),
    ("cooler", Attribute::Temperature, -1.0),
    ("cold", Attribute::Temperature, -1.0),
    ("brightness", Attribute::Brightness, 1.0),
    ("exposure", Attribute::Brightness, 1.0),
    ("light", Attribute::Brightness, 1.0),
    ("lightness", Attribute::Brightness, 1.0),
    ("bright", Attribute::Brightness, 1.0),
    ("dark", Attribute::Brightness, -1.0),
    ("darkness", Attribute::Brightness, -1.0),
];

impl Attribute {
    /// All four, in channel order.
    pub const ALL: [Attribute; 4] = [
        Attribute::Colorfulness,
        Attribute::Contrast,
        Attribute::Temperature,
        Attribute::Brightness,
    ];

    /// Parameter-map channel index (0..4).
    pub fn channel(self) -> usize {
        self as usize
    }

    /// Canonical lower-case name, as written in region-state JSON.
    pub fn name(self) -> &'static str {
        match self {
            Attribute::Colorfulness => "colorfulness",
            Attribute::Contrast => "contrast",
            Attribute::Temperature => "temperature",
            Attribute::Brightness => "brightness",
        }
    }

    /// Parses a canonical name or a synonym, returning the attribute and the
    /// sign the word carries ("dark" is brightness with sign -1).
    pub fn parse_word(word: &str) -> Option<(Attribute, f32)> {
        let w = word.trim().to_ascii_lowercase();
        SIGNED_WORDS
            .iter()
            .find(|(name, _, _)| *name == w)
            .map(|&(_, attr, sign)| (attr, sign))
    }

    /// Every word [`Attribute::parse_word`] accepts, for error messages and help.
    pub fn accepted_words() -> impl Iterator<Item = &'static str> {
        SIGNED_WORDS.iter().map(|(w, _, _)| *w)
    }
}

impl fmt::Display for Attribute {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Attribute {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match Attribute::parse_word(s) {
            Some((a, sign)) if sign > 0.0 => Ok(a),
            Some((a, _)) => Err(format!(
                "\"{s}\" names {a} with a negative direction; use \"{a}\" with a negative value"
            )),
            None => Err(format!(
                "unknown attribute \"{s}\" (expected colorfulness, contrast, temperature or brightness)"
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn channels_follow_the_reference_order() {
        let names: Vec<_> = Attribute::ALL
            .iter()
            .map(|a| (a.channel(), a.name()))
            .collect();
        assert_eq!(
            names,
            vec![
                (0, "colorfulness"),
                (1, "contrast"),
                (2, "temperature"),
                (3, "brightness")
            ]
        );
    }

    #[test]
    fn synonyms_carry_their_direction() {
        assert_eq!(
            Attribute::parse_word("Saturation"),
            Some((Attribute::Colorfulness, 1.0))
        );
        assert_eq!(
            Attribute::parse_word("cool"),
            Some((Attribute::Temperature, -1.0))
        );
        assert_eq!(
            Attribute::parse_word("flat"),
            Some((Attribute::Contrast, -1.0))
        );
        assert_eq!(
            Attribute::parse_word(" exposure "),
            Some((Attribute::Brightness, 1.0))
        );
        assert_eq!(Attribute::parse_word("hue"), None);
    }

    #[test]
    fn from_str_rejects_negative_words_with_advice() {
        assert_eq!("warmth".parse::<Attribute>(), Ok(Attribute::Temperature));
        let err = "dark".parse::<Attribute>().unwrap_err();
        assert!(err.contains("brightness"), "{err}");
    }
}
