//! English instructions to edits, without a network or a model.
//!
//! An instruction is split into clauses ("make the sky warmer and the grass a bit
//! greener" -> two). Each clause names a region (or inherits the previous one when it
//! is only an adjective: "warmer and brighter"), an attribute with a direction
//! ("warmer", "less saturated", "too dark"), and an intensity ("slightly" ~ 0.1,
//! default 0.2, "very" ~ 0.4: nominal level changes, which the session turns into
//! visible sizes, `agent::sizing`). Clauses that say to keep a region as it is hold
//! it; named looks ("cinematic") expand to styles; vague wishes ("make it look
//! better") ask for the auto look.
//!
//! A clause that describes the photo ("the sky looks washed out", "it's too dark")
//! is a complaint: it asks for the opposite of what it names. A clause naming
//! something no segmenter knows ("the car") is left out and reported, and the rest
//! of the instruction still applies.

use super::styles::{find_style, Style};
use crate::params::{Attribute, GLOBAL};
use crate::segment::{resolve, Region, ALL_REGIONS};

/// How the instruction is to be handled (PERTOUCH.md section 5).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    /// Names a region or an attribute: edits with magnitudes, checked by rethinking.
    Strong,
    /// A named look, decomposed into edits and applied once.
    WeakStyle,
    /// A vague wish: move toward the auto look.
    WeakOptimize,
}

/// One change asked for.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Edit {
    /// "global" or a canonical region name.
    pub region: String,
    pub attribute: Attribute,
    /// Signed level change.
    pub amount: f32,
}

/// What an instruction asks for.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct Interpretation {
    pub kind: Kind,
    pub edits: Vec<Edit>,
    /// Regions to keep as they are.
    pub holds: Vec<String>,
    /// The named look, for weak styles.
    pub style: Option<&'static str>,
    /// Parts of the instruction that could not be placed, in words for the user.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Interpretation {
    /// The named regions the instruction edits or holds (no `global`), each once,
    /// in the order first named: the masks a session needs.
    pub fn regions(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for r in self.edits.iter().map(|e| &e.region).chain(&self.holds) {
            if r != GLOBAL && !out.contains(r) {
                out.push(r.clone());
            }
        }
        out
    }
}

/// Why an instruction could not be interpreted.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NotUnderstood {
    #[error("the instruction is empty")]
    Empty,
    #[error("\"{0}\" names no attribute, region or look I know; try e.g. \"make the sky a bit warmer\", \"more contrast\", \"cinematic\" or \"make it look better\"")]
    Unknown(String),
    #[error("\"{region}\" is not a region I can find; available: {available}")]
    UnknownRegion { region: String, available: String },
}

/// Default change when no intensity word is given.
pub const DEFAULT_AMOUNT: f32 = 0.2;

/// Intensity words and the magnitude they mean (PERTOUCH.md: "slightly" ~ 0.1,
/// "very" ~ 0.4). Longer phrases first.
const INTENSITY: &[(&str, f32)] = &[
    ("a little bit", 0.1),
    ("a tiny bit", 0.05),
    ("just a touch", 0.05),
    ("a touch", 0.1),
    ("a little", 0.1),
    ("a bit", 0.1),
    ("a tad", 0.1),
    ("a lot", 0.4),
    ("way more", 0.4),
    ("much more", 0.4),
    ("slightly", 0.1),
    ("subtly", 0.1),
    ("somewhat", 0.1),
    ("marginally", 0.05),
    ("gently", 0.1),
    ("lightly", 0.1),
    ("very", 0.4),
    ("much", 0.4),
    ("really", 0.4),
    ("significantly", 0.4),
    ("considerably", 0.4),
    ("strongly", 0.4),
    ("noticeably", 0.3),
    ("way", 0.4),
    ("extremely", 0.6),
    ("hugely", 0.6),
    ("massively", 0.6),
    ("drastically", 0.6),
];

/// Words that name an attribute with a direction. Multi-word phrases first.
const ATTRIBUTE_WORDS: &[(&str, Attribute, f32)] = &[
    ("washed out", Attribute::Colorfulness, -1.0),
    ("washed-out", Attribute::Colorfulness, -1.0),
    ("more colour", Attribute::Colorfulness, 1.0),
    ("more color", Attribute::Colorfulness, 1.0),
    ("blown out", Attribute::Brightness, 1.0),
    ("oversaturated", Attribute::Colorfulness, 1.0),
    ("over-saturated", Attribute::Colorfulness, 1.0),
    ("undersaturated", Attribute::Colorfulness, -1.0),
    ("saturated", Attribute::Colorfulness, 1.0),
    ("saturation", Attribute::Colorfulness, 1.0),
    ("saturate", Attribute::Colorfulness, 1.0),
    ("desaturated", Attribute::Colorfulness, -1.0),
    ("desaturate", Attribute::Colorfulness, -1.0),
    ("vibrance", Attribute::Colorfulness, 1.0),
    ("vibrant", Attribute::Colorfulness, 1.0),
    ("vivid", Attribute::Colorfulness, 1.0),
    ("colourful", Attribute::Colorfulness, 1.0),
    ("colorful", Attribute::Colorfulness, 1.0),
    ("colourfulness", Attribute::Colorfulness, 1.0),
    ("colorfulness", Attribute::Colorfulness, 1.0),
    ("colourless", Attribute::Colorfulness, -1.0),
    ("colorless", Attribute::Colorfulness, -1.0),
    ("richer", Attribute::Colorfulness, 1.0),
    ("greener", Attribute::Colorfulness, 1.0),
    ("lusher", Attribute::Colorfulness, 1.0),
    ("lush", Attribute::Colorfulness, 1.0),
    ("juicier", Attribute::Colorfulness, 1.0),
    ("juicy", Attribute::Colorfulness, 1.0),
    ("garish", Attribute::Colorfulness, 1.0),
    ("colours", Attribute::Colorfulness, 1.0),
    ("colors", Attribute::Colorfulness, 1.0),
    ("colour", Attribute::Colorfulness, 1.0),
    ("color", Attribute::Colorfulness, 1.0),
    ("muted", Attribute::Colorfulness, -1.0),
    ("mute", Attribute::Colorfulness, -1.0),
    ("duller", Attribute::Colorfulness, -1.0),
    ("dull", Attribute::Colorfulness, -1.0),
    ("drab", Attribute::Colorfulness, -1.0),
    ("bland", Attribute::Colorfulness, -1.0),
    ("greyish", Attribute::Colorfulness, -1.0),
    ("grayish", Attribute::Colorfulness, -1.0),
    ("grey", Attribute::Colorfulness, -1.0),
    ("gray", Attribute::Colorfulness, -1.0),
    ("paler", Attribute::Colorfulness, -1.0),
    ("pale", Attribute::Colorfulness, -1.0),
    ("subdued", Attribute::Colorfulness, -1.0),
    ("contrasty", Attribute::Contrast, 1.0),
    ("contrast", Attribute::Contrast, 1.0),
    ("punch", Attribute::Contrast, 1.0),
    ("pop", Attribute::Contrast, 1.0),
    ("crisper", Attribute::Contrast, 1.0),
    ("crisp", Attribute::Contrast, 1.0),
    ("crunchy", Attribute::Contrast, 1.0),
    ("snappier", Attribute::Contrast, 1.0),
    ("snappy", Attribute::Contrast, 1.0),
    ("dehaze", Attribute::Contrast, 1.0),
    ("harsh", Attribute::Contrast, 1.0),
    ("flatten", Attribute::Contrast, -1.0),
    ("flattened", Attribute::Contrast, -1.0),
    ("flatter", Attribute::Contrast, -1.0),
    ("flat", Attribute::Contrast, -1.0),
    ("hazy", Attribute::Contrast, -1.0),
    ("foggy", Attribute::Contrast, -1.0),
    ("softer", Attribute::Contrast, -1.0),
    ("soften", Attribute::Contrast, -1.0),
    ("warmer", Attribute::Temperature, 1.0),
    ("warmth", Attribute::Temperature, 1.0),
    ("warm", Attribute::Temperature, 1.0),
    ("golden", Attribute::Temperature, 1.0),
    ("cosier", Attribute::Temperature, 1.0),
    ("cozier", Attribute::Temperature, 1.0),
    ("temperature", Attribute::Temperature, 1.0),
    ("yellower", Attribute::Temperature, 1.0),
    ("yellowish", Attribute::Temperature, 1.0),
    ("yellow", Attribute::Temperature, 1.0),
    ("orangey", Attribute::Temperature, 1.0),
    ("orange", Attribute::Temperature, 1.0),
    ("cooler", Attribute::Temperature, -1.0),
    ("cool", Attribute::Temperature, -1.0),
    ("colder", Attribute::Temperature, -1.0),
    ("cold", Attribute::Temperature, -1.0),
    ("icy", Attribute::Temperature, -1.0),
    ("bluer", Attribute::Temperature, -1.0),
    ("bluish", Attribute::Temperature, -1.0),
    ("blueish", Attribute::Temperature, -1.0),
    ("blue", Attribute::Temperature, -1.0),
    ("overexposed", Attribute::Brightness, 1.0),
    ("over-exposed", Attribute::Brightness, 1.0),
    ("underexposed", Attribute::Brightness, -1.0),
    ("under-exposed", Attribute::Brightness, -1.0),
    ("brighter", Attribute::Brightness, 1.0),
    ("brighten", Attribute::Brightness, 1.0),
    ("brightness", Attribute::Brightness, 1.0),
    ("bright", Attribute::Brightness, 1.0),
    ("lighter", Attribute::Brightness, 1.0),
    ("lighten", Attribute::Brightness, 1.0),
    ("lift", Attribute::Brightness, 1.0),
    ("exposure", Attribute::Brightness, 1.0),
    ("exposed", Attribute::Brightness, 1.0),
    ("light", Attribute::Brightness, 1.0),
    ("darker", Attribute::Brightness, -1.0),
    ("darken", Attribute::Brightness, -1.0),
    ("dark", Attribute::Brightness, -1.0),
    ("dimmer", Attribute::Brightness, -1.0),
    ("dim", Attribute::Brightness, -1.0),
    ("deepen", Attribute::Brightness, -1.0),
    ("deeper", Attribute::Brightness, -1.0),
];

/// Retoucher's words that name more than one attribute: "muddy" colours are dull
/// and flat, a "punchy" picture has contrast and colour, a "faded" one neither.
/// Checked before [`ATTRIBUTE_WORDS`].
const COMPOUND_WORDS: &[(&str, &[(Attribute, f32)])] = &[
    (
        "muddy",
        &[(Attribute::Contrast, -1.0), (Attribute::Colorfulness, -1.0)],
    ),
    (
        "murky",
        &[(Attribute::Contrast, -1.0), (Attribute::Brightness, -1.0)],
    ),
    (
        "punchier",
        &[(Attribute::Contrast, 1.0), (Attribute::Colorfulness, 1.0)],
    ),
    (
        "punchy",
        &[(Attribute::Contrast, 1.0), (Attribute::Colorfulness, 1.0)],
    ),
    (
        "faded",
        &[(Attribute::Contrast, -1.0), (Attribute::Colorfulness, -1.0)],
    ),
    (
        "lifeless",
        &[(Attribute::Contrast, -1.0), (Attribute::Colorfulness, -1.0)],
    ),
];

/// Verbs that describe how the photo is ("the sky looks washed out", "it's too
/// dark"): with no imperative in the clause, it is a complaint.
const STATE_VERBS: &[&str] = &[
    "is", "isn't", "are", "aren't", "was", "looks", "look", "looking", "seems", "seem", "feels",
    "feel", "appears", "appear", "it's", "its", "that's", "they're", "got", "came",
];

/// Words that ask for something: a clause with one ("make it look warmer") is a
/// wish, even with a verb that describes.
const IMPERATIVES: &[&str] = &[
    "make", "give", "add", "turn", "let", "boost", "increase", "reduce", "lower", "raise", "bring",
    "push", "pull", "please", "should", "want", "need", "needs", "could", "can", "would", "i'd",
    "go", "get", "put", "keep",
];

/// Words that turn the direction round: "less saturated", "too warm", "reduce".
const FLIP: &[&str] = &[
    "less",
    "reduce",
    "lower",
    "decrease",
    "tone down",
    "too",
    "not so",
    "not as",
    "remove",
    "fewer",
    "don't",
    "do not",
    "dont",
    "tame",
];

/// Words that ask for more of the same direction ("more", "boost"): no flip.
const BOOST: &[&str] = &[
    "more", "increase", "boost", "add", "raise", "enhance", "higher",
];

/// Phrases that mean "leave this region alone".
const HOLD: &[&str] = &[
    "as is",
    "as it is",
    "alone",
    "unchanged",
    "untouched",
    "don't touch",
    "do not touch",
    "except",
    "apart from",
    "other than",
    "excluding",
    "but not",
    "not the",
    "keep the",
    "leave the",
    "same",
];

/// Vague wishes: the auto look.
const OPTIMIZE: &[&str] = &[
    "better",
    "improve",
    "enhance",
    "auto",
    "fix",
    "nicer",
    "good",
    "best",
    "professional",
    "polish",
    "correct",
    "balanced",
    "natural",
    "pretty",
    "beautiful",
    "great",
];

/// Interprets `text`.
pub fn interpret(text: &str) -> Result<Interpretation, NotUnderstood> {
    let norm = normalise(text);
    if norm.trim().is_empty() {
        return Err(NotUnderstood::Empty);
    }
    let mut edits: Vec<Edit> = Vec::new();
    let mut holds = Vec::new();
    // A named look first, before "black and white" is split at its "and".
    let mut style: Option<&'static Style> = None;
    let mut norm = norm;
    if let Some((s, phrase)) = find_style(&norm) {
        // "it looks faded" names what is wrong, not the look wanted.
        let described = STATE_VERBS.iter().any(|v| {
            norm.contains(&format!(" {v} {phrase} "))
                || norm.contains(&format!(" {v} too {phrase} "))
        }) && !IMPERATIVES.iter().any(|w| norm.contains(&format!(" {w} ")));
        if !described {
            style = Some(s);
            norm = norm.replacen(&format!(" {phrase} "), " , ", 1);
        }
    }
    let mut optimize = false;
    let mut last_region: Option<String> = None;
    // Names no segmenter knows, in clauses left out.
    let mut unplaced: Vec<String> = Vec::new();
    for clause in split_clauses(&norm) {
        let (region, rest) = find_region(&clause);
        let attrs = find_attributes(&rest);
        if attrs.is_empty() {
            if let Some(r) = &region {
                if contains_any(&clause, HOLD)
                    || clause.contains("keep")
                    || clause.contains("leave")
                {
                    holds.push(r.clone());
                    continue;
                }
                // "boost the blues", "tone down the highlights": a tonal region's
                // brightness, any other region's colour.
                let up = BOOST.iter().any(|w| clause.contains(&format!(" {w} ")));
                let down = FLIP.iter().any(|w| clause.contains(&format!(" {w} ")));
                if up != down {
                    let tonal = [Region::Shadows, Region::Midtones, Region::Highlights]
                        .iter()
                        .any(|t| t.name() == r);
                    let attr = if tonal {
                        Attribute::Brightness
                    } else {
                        Attribute::Colorfulness
                    };
                    let sign = if up { 1.0 } else { -1.0 };
                    merge_edit(&mut edits, r, attr, sign * intensity(&clause));
                    last_region = Some(r.clone());
                    continue;
                }
                if contains_any(&clause, OPTIMIZE) {
                    optimize = true;
                    continue;
                }
                // "the sky", with an attribute in the next clause.
                last_region = Some(r.clone());
                continue;
            }
            if contains_any(&clause, OPTIMIZE) {
                optimize = true;
                continue;
            }
            // Unknown words in a clause of their own: maybe a region we cannot find.
            if let Some(word) = unknown_region_word(&clause) {
                unplaced.push(word);
            }
            continue;
        }
        if region.is_none() {
            if let Some(word) = unknown_region_word(&clause) {
                // Never a silent global edit: leave this part out and say so.
                unplaced.push(word);
                last_region = None;
                continue;
            }
        }
        // A bare adjective clause ("and brighter") carries on with the last region.
        let region = region.or_else(|| {
            (rest.split_whitespace().count() <= 4)
                .then(|| last_region.clone())
                .flatten()
        });
        let amount = intensity(&clause);
        let enough =
            clause.contains(" enough ") && (clause.contains(" not ") || clause.contains("n't "));
        // "the sky looks washed out" asks for colour; "too dull" and "less
        // saturated" turn round too; "not bright enough" does not.
        let flip = !enough && (is_complaint(&clause) || flip_count(&clause) % 2 == 1);
        for (attr, sign) in attrs {
            let s = if flip { -sign } else { sign };
            let region = region.as_deref().unwrap_or(GLOBAL);
            merge_edit(&mut edits, region, attr, s * amount);
        }
        last_region = region;
    }
    let notes: Vec<String> = unplaced
        .iter()
        .map(|w| {
            format!(
                "\"{w}\" is not a region I can find (I can find: {}); that part of the instruction was left out",
                region_list()
            )
        })
        .collect();
    if edits.is_empty() {
        if let Some(s) = style {
            let style_edits = s.edits.iter().map(|(r, a, v)| Edit {
                region: r.to_string(),
                attribute: *a,
                amount: *v,
            });
            return Ok(Interpretation {
                kind: Kind::WeakStyle,
                edits: style_edits.collect(),
                holds,
                style: Some(s.name),
                notes,
            });
        }
        if let Some(word) = unplaced.into_iter().next() {
            return Err(NotUnderstood::UnknownRegion {
                region: word,
                available: region_list(),
            });
        }
        if optimize || holds.is_empty() && looks_like_optimize(&norm) {
            return Ok(Interpretation {
                kind: Kind::WeakOptimize,
                edits: Vec::new(),
                holds,
                style: None,
                notes,
            });
        }
        return Err(NotUnderstood::Unknown(text.trim().to_string()));
    }
    // A look plus explicit changes ("cinematic and a warmer sky"): the look first,
    // then the changes on top, handled as strong.
    if let Some(s) = style {
        let mut all: Vec<Edit> = Vec::new();
        for (r, a, v) in s.edits {
            push_edit(&mut all, r, *a, *v);
        }
        for e in edits {
            push_edit(&mut all, &e.region, e.attribute, e.amount);
        }
        edits = all;
    }
    Ok(Interpretation {
        kind: Kind::Strong,
        edits,
        holds,
        style: style.map(|s| s.name),
        notes,
    })
}

/// A clause that says how the photo is rather than what to do: "the sky looks
/// washed out", "it's too dark".
fn is_complaint(clause: &str) -> bool {
    let has = |w: &&str| clause.contains(&format!(" {w} "));
    STATE_VERBS.iter().any(has) && !IMPERATIVES.iter().any(has)
}

/// Adds a look's edit and an explicit change on top of each other.
fn push_edit(edits: &mut Vec<Edit>, region: &str, attribute: Attribute, amount: f32) {
    match edits
        .iter_mut()
        .find(|e| e.region == region && e.attribute == attribute)
    {
        Some(e) => e.amount = (e.amount + amount).clamp(-1.0, 1.0),
        None => edits.push(Edit {
            region: region.to_string(),
            attribute,
            amount: amount.clamp(-1.0, 1.0),
        }),
    }
}

/// Records a clause's edit. The same region and attribute asked again in one
/// instruction is the same wish said twice ("the sky looks washed out, give it more
/// colour"): the larger of the two when they agree, the later when they do not
/// ("warmer, no, cooler"). Never the sum, which would cancel or double.
fn merge_edit(edits: &mut Vec<Edit>, region: &str, attribute: Attribute, amount: f32) {
    let amount = amount.clamp(-1.0, 1.0);
    match edits
        .iter_mut()
        .find(|e| e.region == region && e.attribute == attribute)
    {
        Some(e) if e.amount.signum() == amount.signum() => {
            if amount.abs() > e.amount.abs() {
                e.amount = amount;
            }
        }
        Some(e) => e.amount = amount,
        None => edits.push(Edit {
            region: region.to_string(),
            attribute,
            amount,
        }),
    }
}

/// Lower case, punctuation to clause breaks, curly quotes straightened.
fn normalise(text: &str) -> String {
    let t = text.to_lowercase().replace(['\u{2019}', '\u{2018}'], "'");
    let mut out = String::with_capacity(t.len() + 8);
    for c in t.chars() {
        match c {
            ',' | ';' | '.' | '!' | '?' | ':' => out.push_str(" , "),
            c if c.is_alphanumeric() || c == '\'' || c == '&' || c == '-' => out.push(c),
            _ => out.push(' '),
        }
    }
    format!(" {} ", out.split_whitespace().collect::<Vec<_>>().join(" "))
}

/// Clauses separated by punctuation and conjunctions.
fn split_clauses(text: &str) -> Vec<String> {
    let mut t = text.to_string();
    for sep in [
        " and ", " but ", " while ", " then ", " also ", " plus ", " though ", " yet ",
    ] {
        t = t.replace(sep, " , ");
    }
    // "brighten everything except the face": the exception is a clause of its own.
    for sep in [" except ", " apart from ", " other than ", " excluding "] {
        t = t.replace(sep, &format!(" , {} ", sep.trim()));
    }
    t.split(',')
        .map(|c| format!(" {} ", c.trim()))
        .filter(|c| !c.trim().is_empty())
        .collect()
}

/// The first region named in `clause` (longest alias first) and the clause with
/// that name removed, so "dark areas" is not read as "darker".
fn find_region(clause: &str) -> (Option<String>, String) {
    for (pat, r) in region_patterns() {
        if let Some(i) = clause.find(pat.as_str()) {
            let rest = format!("{} {}", &clause[..i], &clause[i + pat.len() - 1..]);
            return (Some(r.name().to_string()), rest);
        }
    }
    (None, clause.to_string())
}

/// " name " patterns of every region name and alias, longest first. Single colour
/// words ("blue", "green", "orange") are left out: they are attributes unless
/// clearly the colour range ("the blues", "blue tones").
fn region_patterns() -> &'static [(String, Region)] {
    static PATTERNS: std::sync::OnceLock<Vec<(String, Region)>> = std::sync::OnceLock::new();
    PATTERNS.get_or_init(|| {
        let mut words: Vec<(&str, Region)> = ALL_REGIONS
            .iter()
            .flat_map(|r| {
                std::iter::once((r.name(), *r)).chain(r.aliases().iter().map(move |a| (*a, *r)))
            })
            .filter(|(w, _)| {
                !matches!(
                    *w,
                    "blue" | "green" | "red" | "orange" | "yellow" | "purple" | "pink"
                )
            })
            .collect();
        words.sort_by_key(|(w, _)| std::cmp::Reverse(w.len()));
        words
            .into_iter()
            .map(|(w, r)| (format!(" {w} "), r))
            .collect()
    })
}

/// Attribute words in `clause`: (attribute, sign), each attribute once, compound
/// words first.
fn find_attributes(clause: &str) -> Vec<(Attribute, f32)> {
    let mut found: Vec<(Attribute, f32)> = Vec::new();
    let mut taken = clause.to_string();
    for (w, parts) in COMPOUND_WORDS {
        let pat = format!(" {w} ");
        if taken.contains(&pat) {
            taken = taken.replace(&pat, " ");
            for &(a, s) in *parts {
                if !found.iter().any(|(x, _)| *x == a) {
                    found.push((a, s));
                }
            }
        }
    }
    // A word with a direction beats the attribute's plain name in the same clause
    // ("flatten the contrast", "the colours look drab").
    let mut named: Vec<Attribute> = Vec::new();
    for (pat, &(w, a, s)) in attribute_patterns().iter().zip(ATTRIBUTE_WORDS) {
        if taken.contains(pat.as_str()) {
            taken = taken.replace(pat.as_str(), " ");
            let plain = NEUTRAL_NAMES.contains(&w);
            match found.iter_mut().find(|(x, _)| *x == a) {
                Some(f) if !plain && named.contains(&a) => {
                    *f = (a, s);
                    named.retain(|x| *x != a);
                }
                Some(_) => {}
                None => {
                    found.push((a, s));
                    if plain {
                        named.push(a);
                    }
                }
            }
        }
    }
    found
}

/// Attribute names that say which attribute but not which way ("contrast",
/// "colours"): another word in the clause gives the direction when there is one.
const NEUTRAL_NAMES: &[&str] = &[
    "saturation",
    "vibrance",
    "colourfulness",
    "colorfulness",
    "colours",
    "colors",
    "colour",
    "color",
    "contrast",
    "temperature",
    "warmth",
    "brightness",
    "exposure",
    "light",
];

/// " word " patterns of [`ATTRIBUTE_WORDS`], in the same order.
fn attribute_patterns() -> &'static [String] {
    static PATTERNS: std::sync::OnceLock<Vec<String>> = std::sync::OnceLock::new();
    PATTERNS.get_or_init(|| {
        ATTRIBUTE_WORDS
            .iter()
            .map(|(w, _, _)| format!(" {w} "))
            .collect()
    })
}

/// The change an instruction's intensity words ask for ("a little" 0.1, plain 0.2,
/// "very" 0.4): the first intensity phrase found, else [`DEFAULT_AMOUNT`].
pub fn wording_intensity(text: &str) -> f32 {
    let padded = format!(
        " {} ",
        text.to_lowercase()
            .replace(|c: char| !c.is_alphanumeric() && c != '\'', " ")
    );
    intensity(&padded)
}

fn intensity(clause: &str) -> f32 {
    INTENSITY
        .iter()
        .find(|(w, _)| clause.contains(&format!(" {w} ")))
        .map_or(DEFAULT_AMOUNT, |(_, v)| *v)
}

fn flip_count(clause: &str) -> usize {
    let boosted = BOOST.iter().any(|w| clause.contains(&format!(" {w} ")));
    let flips = FLIP
        .iter()
        .filter(|w| clause.contains(&format!(" {w} ")))
        .count();
    // "more" next to "less" is unusual; "less" wins.
    if boosted && flips == 0 {
        0
    } else {
        flips.min(1)
    }
}

fn contains_any(clause: &str, words: &[&str]) -> bool {
    words
        .iter()
        .any(|w| clause.contains(&format!(" {w} ")) || clause.contains(&format!(" {w}")))
}

fn looks_like_optimize(text: &str) -> bool {
    contains_any(text, OPTIMIZE)
}

/// Words after "the" that name the whole photo or an attribute, not a region.
const NOT_REGIONS: &[&str] = &[
    "image",
    "photo",
    "picture",
    "shot",
    "whole",
    "overall",
    "scene",
    "frame",
    "look",
    "mood",
    "colours",
    "colors",
    "colour",
    "color",
    "contrast",
    "exposure",
    "brightness",
    "saturation",
    "temperature",
    "warmth",
    "tones",
    "tone",
    "white",
    "balance",
    "rest",
    "same",
    "lighting",
    "light",
    "edit",
    "result",
    "thing",
    "vibe",
    "feel",
];

/// A noun after "the" that no segmenter knows ("make the car redder").
fn unknown_region_word(clause: &str) -> Option<String> {
    let words: Vec<&str> = clause.split_whitespace().collect();
    words
        .windows(2)
        .find(|w| {
            w[0] == "the"
                && resolve(w[1]).is_none()
                && !NOT_REGIONS.contains(&w[1])
                && !ATTRIBUTE_WORDS.iter().any(|(a, _, _)| *a == w[1])
                && !COMPOUND_WORDS.iter().any(|(a, _)| *a == w[1])
                && !INTENSITY.iter().any(|(a, _)| *a == w[1])
        })
        .map(|w| w[1].to_string())
}

fn region_list() -> String {
    ALL_REGIONS
        .iter()
        .map(|r| r.name())
        .collect::<Vec<_>>()
        .join(", ")
}
