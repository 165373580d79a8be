//! The instruction table: English instructions with the region, attribute and sign
//! of change each must produce (PERTOUCH.md section 5; issue 3 asks for at least 60).

use super::instruction::{interpret, Kind, NotUnderstood};
use crate::params::Attribute::{
    self, Brightness as B, Colorfulness as C, Contrast as K, Temperature as T,
};

const P: f32 = 1.0;
const N: f32 = -1.0;

/// (instruction, kind, expected edits as (region, attribute, sign), expected holds).
type Case = (
    &'static str,
    Kind,
    &'static [(&'static str, Attribute, f32)],
    &'static [&'static str],
);

const STRONG: Kind = Kind::Strong;

pub const TABLE: &[Case] = &[
    ("make the sky a bit warmer", STRONG, &[("sky", T, P)], &[]),
    (
        "make the sky a little warmer",
        STRONG,
        &[("sky", T, P)],
        &[],
    ),
    ("cooler sky", STRONG, &[("sky", T, N)], &[]),
    ("the sky is too warm", STRONG, &[("sky", T, N)], &[]),
    ("the sky is too dull", STRONG, &[("sky", C, P)], &[]),
    ("make the sky bluer", STRONG, &[("sky", T, N)], &[]),
    ("darken the sky", STRONG, &[("sky", B, N)], &[]),
    ("brighten the sky slightly", STRONG, &[("sky", B, P)], &[]),
    ("more contrast in the clouds", STRONG, &[("sky", K, P)], &[]),
    ("less saturated skin", STRONG, &[("skin", C, N)], &[]),
    ("warmer skin tones", STRONG, &[("skin", T, P)], &[]),
    ("make the face brighter", STRONG, &[("skin", B, P)], &[]),
    (
        "the face looks too red, desaturate it a bit",
        STRONG,
        &[("skin", C, N)],
        &[],
    ),
    ("softer skin", STRONG, &[("skin", K, N)], &[]),
    (
        "brighten the shadows a lot",
        STRONG,
        &[("shadows", B, P)],
        &[],
    ),
    ("lift the shadows", STRONG, &[("shadows", B, P)], &[]),
    ("darker shadows", STRONG, &[("shadows", B, N)], &[]),
    (
        "tone down the highlights",
        STRONG,
        &[("highlights", B, N)],
        &[],
    ),
    (
        "the highlights are too bright",
        STRONG,
        &[("highlights", B, N)],
        &[],
    ),
    ("cool the highlights", STRONG, &[("highlights", T, N)], &[]),
    ("warm up the midtones", STRONG, &[("midtones", T, P)], &[]),
    (
        "more contrast in the midtones",
        STRONG,
        &[("midtones", K, P)],
        &[],
    ),
    (
        "make the grass greener",
        STRONG,
        &[("vegetation", C, P)],
        &[],
    ),
    (
        "make the trees a bit greener",
        STRONG,
        &[("vegetation", C, P)],
        &[],
    ),
    (
        "the foliage is too saturated",
        STRONG,
        &[("vegetation", C, N)],
        &[],
    ),
    (
        "darken the trees slightly",
        STRONG,
        &[("vegetation", B, N)],
        &[],
    ),
    ("warmer leaves", STRONG, &[("vegetation", T, P)], &[]),
    ("make the water bluer", STRONG, &[("water", T, N)], &[]),
    ("make the sea darker", STRONG, &[("water", B, N)], &[]),
    ("cooler water", STRONG, &[("water", T, N)], &[]),
    (
        "more contrast in the waves",
        STRONG,
        &[("water", K, P)],
        &[],
    ),
    ("boost the blues", STRONG, &[("blues", C, P)], &[]),
    ("desaturate the reds", STRONG, &[("reds", C, N)], &[]),
    ("brighter yellows", STRONG, &[("yellows", B, P)], &[]),
    ("mute the greens a little", STRONG, &[("greens", C, N)], &[]),
    ("more saturation", STRONG, &[("global", C, P)], &[]),
    ("less saturation", STRONG, &[("global", C, N)], &[]),
    ("make it warmer", STRONG, &[("global", T, P)], &[]),
    ("cooler please", STRONG, &[("global", T, N)], &[]),
    ("too cold", STRONG, &[("global", T, P)], &[]),
    ("brighter", STRONG, &[("global", B, P)], &[]),
    ("it's too dark", STRONG, &[("global", B, P)], &[]),
    ("it is not bright enough", STRONG, &[("global", B, P)], &[]),
    ("a bit darker", STRONG, &[("global", B, N)], &[]),
    ("increase the exposure", STRONG, &[("global", B, P)], &[]),
    ("reduce the contrast", STRONG, &[("global", K, N)], &[]),
    (
        "make it punchier",
        STRONG,
        &[("global", K, P), ("global", C, P)],
        &[],
    ),
    ("it looks flat", STRONG, &[("global", K, P)], &[]),
    ("too flat", STRONG, &[("global", K, P)], &[]),
    ("add some pop", STRONG, &[("global", K, P)], &[]),
    (
        "make the colours more vivid",
        STRONG,
        &[("global", C, P)],
        &[],
    ),
    (
        "the colours are washed out",
        STRONG,
        &[("global", C, P)],
        &[],
    ),
    ("make the colors richer", STRONG, &[("global", C, P)], &[]),
    (
        "make the sky warmer and the grass a bit greener",
        STRONG,
        &[("sky", T, P), ("vegetation", C, P)],
        &[],
    ),
    (
        "make the sky warmer and brighter",
        STRONG,
        &[("sky", T, P), ("sky", B, P)],
        &[],
    ),
    (
        "more contrast but keep the sky as is",
        STRONG,
        &[("global", K, P)],
        &["sky"],
    ),
    (
        "brighten everything except the face",
        STRONG,
        &[("global", B, P)],
        &["skin"],
    ),
    (
        "warmer, but leave the water alone",
        STRONG,
        &[("global", T, P)],
        &["water"],
    ),
    (
        "darker sky, brighter grass",
        STRONG,
        &[("sky", B, N), ("vegetation", B, P)],
        &[],
    ),
    (
        "cool the shadows and warm the highlights",
        STRONG,
        &[("shadows", T, N), ("highlights", T, P)],
        &[],
    ),
    (
        "slightly less contrast and a bit more warmth",
        STRONG,
        &[("global", K, N), ("global", T, P)],
        &[],
    ),
    ("make it very bright", STRONG, &[("global", B, P)], &[]),
    (
        "cinematic and a warmer sky",
        STRONG,
        &[
            ("global", K, P),
            ("global", C, N),
            ("shadows", T, N),
            ("highlights", T, P),
            ("sky", T, P),
        ],
        &[],
    ),
    ("make it look better", Kind::WeakOptimize, &[], &[]),
    ("auto", Kind::WeakOptimize, &[], &[]),
    ("improve this photo", Kind::WeakOptimize, &[], &[]),
    ("enhance", Kind::WeakOptimize, &[], &[]),
    ("fix it", Kind::WeakOptimize, &[], &[]),
    (
        "cinematic",
        Kind::WeakStyle,
        &[
            ("global", K, P),
            ("global", C, N),
            ("shadows", T, N),
            ("highlights", T, P),
        ],
        &[],
    ),
    (
        "give it a warm film look",
        Kind::WeakStyle,
        &[
            ("global", T, P),
            ("global", K, N),
            ("global", C, N),
            ("shadows", B, P),
        ],
        &[],
    ),
    (
        "moody",
        Kind::WeakStyle,
        &[
            ("global", B, N),
            ("global", K, P),
            ("global", C, N),
            ("global", T, N),
        ],
        &[],
    ),
    (
        "black and white",
        Kind::WeakStyle,
        &[("global", C, N), ("global", K, P)],
        &[],
    ),
    (
        "make it look vintage",
        Kind::WeakStyle,
        &[("global", K, N), ("global", C, N), ("shadows", B, P)],
        &[],
    ),
    (
        "golden hour",
        Kind::WeakStyle,
        &[("global", T, P), ("global", B, P), ("global", C, P)],
        &[],
    ),
    (
        "dreamy",
        Kind::WeakStyle,
        &[("global", K, N), ("global", B, P), ("global", C, N)],
        &[],
    ),
    (
        "cyberpunk vibe",
        Kind::WeakStyle,
        &[("global", T, N), ("global", C, P), ("global", K, P)],
        &[],
    ),
    // Issue 14: complaints read as wishes, retouchers' words, temperature colours.
    (
        "the sky looks washed out, give it more color",
        STRONG,
        &[("sky", C, P)],
        &[],
    ),
    ("make the sky a little bluer", STRONG, &[("sky", T, N)], &[]),
    ("a bit yellower", STRONG, &[("global", T, P)], &[]),
    ("the sky is not blue enough", STRONG, &[("sky", T, N)], &[]),
    ("too blue", STRONG, &[("global", T, P)], &[]),
    ("the face looks too yellow", STRONG, &[("skin", T, N)], &[]),
    (
        "the grass looks a bit yellow",
        STRONG,
        &[("vegetation", T, N)],
        &[],
    ),
    (
        "the colours look muddy",
        STRONG,
        &[("global", K, P), ("global", C, P)],
        &[],
    ),
    (
        "the shadows look muddy",
        STRONG,
        &[("shadows", K, P), ("shadows", C, P)],
        &[],
    ),
    (
        "it looks muddy, make it punchy",
        STRONG,
        &[("global", K, P), ("global", C, P)],
        &[],
    ),
    (
        "make it punchy",
        STRONG,
        &[("global", K, P), ("global", C, P)],
        &[],
    ),
    ("flatten the image", STRONG, &[("global", K, N)], &[]),
    (
        "flatten the contrast a bit",
        STRONG,
        &[("global", K, N)],
        &[],
    ),
    ("make it crisper", STRONG, &[("global", K, P)], &[]),
    ("snappier please", STRONG, &[("global", K, P)], &[]),
    (
        "the photo looks faded",
        STRONG,
        &[("global", K, P), ("global", C, P)],
        &[],
    ),
    (
        "make it faded",
        Kind::WeakStyle,
        &[("global", K, N), ("global", C, N), ("shadows", B, P)],
        &[],
    ),
    ("the sky looks hazy", STRONG, &[("sky", K, P)], &[]),
    ("dehaze the sky", STRONG, &[("sky", K, P)], &[]),
    (
        "the water looks murky",
        STRONG,
        &[("water", K, P), ("water", B, P)],
        &[],
    ),
    (
        "the highlights are blown out",
        STRONG,
        &[("highlights", B, N)],
        &[],
    ),
    ("it's underexposed", STRONG, &[("global", B, P)], &[]),
    ("the colours look drab", STRONG, &[("global", C, P)], &[]),
    ("the sky looks grey", STRONG, &[("sky", C, P)], &[]),
    (
        "the image is oversaturated",
        STRONG,
        &[("global", C, N)],
        &[],
    ),
    (
        "tone down the garish colours",
        STRONG,
        &[("global", C, N)],
        &[],
    ),
    (
        "monochrome",
        Kind::WeakStyle,
        &[("global", C, N), ("global", K, P)],
        &[],
    ),
    (
        "make the sky warmer and the car redder",
        STRONG,
        &[("sky", T, P)],
        &[],
    ),
];

#[test]
fn every_instruction_in_the_table_is_understood() {
    assert!(TABLE.len() >= 60, "{} instructions", TABLE.len());
    let mut failures = Vec::new();
    for (text, kind, want, holds) in TABLE {
        let got = match interpret(text) {
            Ok(g) => g,
            Err(e) => {
                failures.push(format!("{text:?}: {e}"));
                continue;
            }
        };
        let edits: Vec<(&str, Attribute, f32)> = got
            .edits
            .iter()
            .map(|e| (e.region.as_str(), e.attribute, e.amount.signum()))
            .collect();
        let same = got.kind == *kind
            && edits.len() == want.len()
            && want.iter().all(|w| edits.contains(w))
            && got.holds == holds.iter().map(|h| h.to_string()).collect::<Vec<_>>();
        if !same {
            failures.push(format!(
                "{text:?}: got {:?} {edits:?} holds {:?}, want {kind:?} {want:?} holds {holds:?}",
                got.kind, got.holds
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn intensity_words_set_magnitudes() {
    let amount = |t: &str| interpret(t).unwrap().edits[0].amount;
    assert!((amount("make the sky slightly warmer") - 0.1).abs() < 1e-6);
    assert!((amount("make the sky warmer") - 0.2).abs() < 1e-6);
    assert!((amount("make the sky much warmer") - 0.4).abs() < 1e-6);
    assert!((amount("make the sky very warm") - 0.4).abs() < 1e-6);
    assert!((amount("a little less contrast") + 0.1).abs() < 1e-6);
}

#[test]
fn unknown_things_are_reported_not_ignored() {
    assert_eq!(interpret("  "), Err(NotUnderstood::Empty));
    assert!(matches!(
        interpret("make the car redder"),
        Err(NotUnderstood::UnknownRegion { ref region, .. }) if region == "car"
    ));
    assert!(matches!(
        interpret("make the building warmer"),
        Err(NotUnderstood::UnknownRegion { ref region, .. }) if region == "building"
    ));
    assert!(matches!(
        interpret("sing me a song"),
        Err(NotUnderstood::Unknown(_))
    ));
}

#[test]
fn a_part_it_cannot_place_is_left_out_and_reported() {
    let got = interpret("make the sky warmer and the car redder").unwrap();
    assert_eq!(got.edits.len(), 1);
    assert!(
        got.notes.iter().any(|n| n.contains("\"car\"")),
        "{:?}",
        got.notes
    );
    assert!(interpret("make the sky warmer").unwrap().notes.is_empty());
}

#[test]
fn a_complaint_then_a_wish_does_not_cancel() {
    let got = interpret("the sky looks washed out, give it more color").unwrap();
    assert_eq!(got.edits.len(), 1);
    assert!((got.edits[0].amount - 0.2).abs() < 1e-6, "{:?}", got.edits);
    // Opposite wishes: the later one stands.
    let got = interpret("warmer, no, cooler").unwrap();
    assert!(got.edits[0].amount < 0.0, "{:?}", got.edits);
}

#[test]
fn regions_lists_edited_and_held_regions_once() {
    let r = |t: &str| interpret(t).unwrap().regions();
    assert_eq!(r("more contrast but keep the sky as is"), vec!["sky"]);
    assert_eq!(
        r("make the sky warmer and brighter, the grass greener, except the water"),
        vec!["sky", "vegetation", "water"]
    );
    assert!(r("a bit darker").is_empty());
}
