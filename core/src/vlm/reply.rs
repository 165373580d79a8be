//! The VLM's replies: the JSON object found in the text (code fences and prose
//! around it tolerated), parsed into a typed reply per step, then checked: known
//! attributes, finite values clamped to [-1, 1], region names the segmenters can
//! find. Anything else is an error that says what was wrong, never a silent guess.

use super::client::VlmError;
use crate::agent::{Edit, Kind};
use crate::params::{Attribute, GLOBAL};
use serde::de::DeserializeOwned;
use serde::Deserialize;

/// The first complete JSON object in `text`: inside a ``` fence if there is one,
/// else the first balanced `{...}`.
pub fn extract_json(text: &str) -> Result<serde_json::Value, VlmError> {
    let fenced = text.split("```").nth(1).map(|block| {
        // Drop a language tag line ("json").
        match block.split_once('\n') {
            Some((tag, rest)) if !tag.trim_start().starts_with('{') => rest,
            _ => block,
        }
    });
    let candidates = fenced.into_iter().chain(std::iter::once(text));
    let mut last_err = String::from("no JSON object in the reply");
    for c in candidates {
        if let Some(obj) = first_object(c) {
            match serde_json::from_str::<serde_json::Value>(obj) {
                Ok(v) if v.is_object() => return Ok(v),
                Ok(_) => last_err = "the reply's JSON is not an object".into(),
                Err(e) => last_err = format!("the reply's JSON does not parse: {e}"),
            }
        }
    }
    Err(VlmError::BadReply(format!(
        "{last_err} (reply began: {:?})",
        excerpt(text)
    )))
}

fn excerpt(text: &str) -> String {
    super::client::prefix(text.trim(), 120).to_string()
}

/// The first balanced `{ ... }` in `s`, strings and escapes respected.
fn first_object(s: &str) -> Option<&str> {
    let start = s.find('{')?;
    let (mut depth, mut in_str, mut escaped) = (0usize, false, false);
    for (i, ch) in s[start..].char_indices() {
        if in_str {
            match ch {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_str = false,
                _ => {}
            }
            continue;
        }
        match ch {
            '"' => in_str = true,
            '{' => depth += 1,
            '}' => {
                depth -= 1;
                if depth == 0 {
                    return Some(&s[start..start + i + 1]);
                }
            }
            _ => {}
        }
    }
    None
}

/// Parses the reply text into `T`.
pub fn parse<T: DeserializeOwned>(text: &str, what: &str) -> Result<T, VlmError> {
    let v = extract_json(text)?;
    serde_json::from_value(v).map_err(|e| VlmError::BadReply(format!("{what}: {e}")))
}

/// Session start: scene tags and a greeting.
#[derive(Debug, Clone, Deserialize)]
pub struct SceneReply {
    #[serde(default)]
    pub think: String,
    pub tags: Vec<String>,
    #[serde(default)]
    pub greeting: String,
}

impl SceneReply {
    /// Up to 8 tags, lower case, trimmed, without duplicates or empties.
    pub fn clean_tags(&self) -> Vec<String> {
        let mut out: Vec<String> = Vec::new();
        for t in &self.tags {
            let t = t.trim().to_lowercase();
            if !t.is_empty() && t.len() <= 40 && !out.contains(&t) {
                out.push(t);
            }
        }
        out.truncate(8);
        out
    }
}

/// Instruction classification.
#[derive(Debug, Clone, Deserialize)]
pub struct ClassifyReply {
    #[serde(default)]
    pub think: String,
    pub kind: String,
}

impl ClassifyReply {
    pub fn kind(&self) -> Result<Kind, VlmError> {
        match self.kind.trim().to_lowercase().as_str() {
            "strong" => Ok(Kind::Strong),
            "weak_style" | "style" => Ok(Kind::WeakStyle),
            "weak_optimize" | "weak_optimise" | "optimize" => Ok(Kind::WeakOptimize),
            other => Err(VlmError::BadReply(format!(
                "kind \"{other}\" is not strong, weak_style or weak_optimize"
            ))),
        }
    }
}

/// One edit as the VLM writes it.
#[derive(Debug, Clone, Deserialize)]
pub struct EditItem {
    pub region: String,
    pub attribute: String,
    /// The change (analysis, style) or the new value (rethink).
    #[serde(alias = "value", alias = "amount")]
    pub change: f64,
}

/// Style decomposition and strong-instruction analysis.
#[derive(Debug, Clone, Deserialize)]
pub struct EditsReply {
    #[serde(default)]
    pub think: String,
    pub edits: Vec<EditItem>,
    #[serde(default)]
    pub holds: Vec<String>,
}

/// Rethink: done, or new values.
#[derive(Debug, Clone, Deserialize)]
pub struct RethinkReply {
    #[serde(default)]
    pub think: String,
    pub done: bool,
    #[serde(default)]
    pub edits: Vec<EditItem>,
}

/// Checked edits, and what was wrong with the rest (for the user).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Checked {
    pub edits: Vec<Edit>,
    pub notes: Vec<String>,
}

/// Checks `items`: the attribute must be one of the four (or a synonym, whose
/// sign is applied), the value finite (clamped to [-1, 1]), the region "global" or
/// one `finds` accepts. Regions it cannot find are reported in the notes.
pub fn check_edits(items: &[EditItem], finds: &dyn Fn(&str) -> bool) -> Result<Checked, VlmError> {
    let mut out = Checked::default();
    for it in items {
        let Some((attr, sign)) = Attribute::parse_word(&it.attribute) else {
            return Err(VlmError::BadReply(format!(
                "attribute \"{}\" is not colorfulness, contrast, temperature or brightness",
                it.attribute
            )));
        };
        if !it.change.is_finite() {
            return Err(VlmError::BadReply(format!(
                "{} {}: the value is not a number",
                it.region, it.attribute
            )));
        }
        let raw = it.change * sign as f64;
        let v = raw.clamp(-1.0, 1.0);
        let region = normalise_region(&it.region);
        if v != raw {
            out.notes.push(format!(
                "{region} {attr}: {raw:+.2} is outside [-1, 1]; using {v:+.2}"
            ));
        }
        if region != GLOBAL && !finds(&region) {
            out.notes.push(format!(
                "the VLM asked to change \"{region}\", which no installed segmenter can find; that edit was not applied"
            ));
            continue;
        }
        out.edits.push(Edit {
            region,
            attribute: attr,
            amount: v as f32,
        });
    }
    Ok(out)
}

/// "The Sky" -> "sky"; "whole image" and friends -> "global"; canonical names for
/// built-in aliases ("trees" -> "vegetation").
pub fn normalise_region(name: &str) -> String {
    let n = name.trim().to_lowercase();
    let n = n.strip_prefix("the ").unwrap_or(&n).trim().to_string();
    match n.as_str() {
        "global" | "whole image" | "image" | "whole" | "all" | "everything" | "photo"
        | "entire image" | "overall" => GLOBAL.to_string(),
        _ => crate::segment::resolve(&n).map_or(n, |r| r.name().to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_is_found_in_fences_and_prose() {
        let plain = r#"{"kind": "strong"}"#;
        assert_eq!(extract_json(plain).unwrap()["kind"], "strong");
        let fenced = "Sure! Here you go:\n```json\n{\"kind\": \"weak_style\", \"think\": \"a {look}\"}\n```\nAnything else?";
        assert_eq!(extract_json(fenced).unwrap()["kind"], "weak_style");
        let prose = "I think {\"done\": true, \"note\": \"brace } in a string\"} is right.";
        assert_eq!(extract_json(prose).unwrap()["done"], true);
        let unfenced_tag = "```\n{\"done\": false}\n```";
        assert_eq!(extract_json(unfenced_tag).unwrap()["done"], false);
        for bad in ["no json here", "{\"kind\": ", "[1, 2]", "```json\n[1]\n```"] {
            let e = extract_json(bad).unwrap_err();
            assert!(matches!(e, VlmError::BadReply(_)), "{bad}: {e}");
        }
    }

    #[test]
    fn edits_are_checked_clamped_and_unknown_regions_reported() {
        let items: Vec<EditItem> = serde_json::from_str(
            r#"[{"region": "The Sky", "attribute": "warmth", "change": 0.2},
                {"region": "whole image", "attribute": "brightness", "value": 1.7},
                {"region": "unicorn", "attribute": "contrast", "change": 0.1},
                {"region": "trees", "attribute": "dark", "amount": 0.1}]"#,
        )
        .unwrap();
        let finds = |r: &str| r != "unicorn";
        let c = check_edits(&items, &finds).unwrap();
        assert_eq!(
            c.edits,
            vec![
                Edit {
                    region: "sky".into(),
                    attribute: Attribute::Temperature,
                    amount: 0.2
                },
                Edit {
                    region: "global".into(),
                    attribute: Attribute::Brightness,
                    amount: 1.0
                },
                Edit {
                    region: "vegetation".into(),
                    attribute: Attribute::Brightness,
                    amount: -0.1
                },
            ]
        );
        assert_eq!(c.notes.len(), 2, "{:?}", c.notes);
        assert!(c.notes.iter().any(|n| n.contains("unicorn")));
        let bad: Vec<EditItem> =
            serde_json::from_str(r#"[{"region": "sky", "attribute": "hue", "change": 0.1}]"#)
                .unwrap();
        assert!(check_edits(&bad, &finds).is_err());
    }

    #[test]
    fn replies_have_types() {
        assert!(parse::<ClassifyReply>(r#"{"kind": "strong"}"#, "classify").is_ok());
        assert!(parse::<ClassifyReply>(r#"{"type": "strong"}"#, "classify").is_err());
        let r: ClassifyReply = parse(r#"{"kind": "banana"}"#, "classify").unwrap();
        assert!(r.kind().is_err());
        let s: SceneReply = parse(
            r#"{"tags": [" Sunset", "sunset", "", "beach", "a", "b", "c", "d", "e", "f", "g"]}"#,
            "scene",
        )
        .unwrap();
        assert_eq!(s.clean_tags().len(), 8);
        assert_eq!(s.clean_tags()[0], "sunset");
    }
}
