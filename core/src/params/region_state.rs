//! Region state: which regions change which attributes, and by how much.
//!
//! Values are *changes* relative to the image as it is, in level units in [-1, 1]
//! (see PERTOUCH.md section 2). The JSON form is the reference's:
//! `{"global": {"brightness": 0.1}, "sky": {"temperature": -0.3}}`.
//! Region order is kept: later regions paint over earlier ones when rasterised.

use super::attribute::Attribute;
use crate::error::{Error, Result};
use crate::printable::short;
use serde::{Deserialize, Deserializer, Serialize, Serializer};
use serde_json::{Map, Value};
use std::collections::HashMap;

/// Name of the region that covers the whole image.
pub const GLOBAL: &str = "global";

/// Most regions a state may name. No segmenter offers this many, and hosts hand
/// states from files, memories and other processes: a bound keeps every
/// per-region step (masks, targets, solving) small.
pub const MAX_REGIONS: usize = 256;

/// Longest region name, in characters (text-prompted models take phrases such as
/// "the red car on the left"; nothing needs more).
pub const MAX_REGION_NAME: usize = 200;

/// Largest region-state JSON text [`RegionState::from_json`] reads, in bytes (a
/// full state of [`MAX_REGIONS`] regions is under 100 KB).
pub const MAX_STATE_JSON_BYTES: usize = 1 << 20;

/// Region names that mean the whole image.
const GLOBAL_ALIASES: &[&str] = &["global", "all", "image", "whole", "everything", "overall"];

/// Values set for one region, one optional value per attribute.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct AttributeValues([Option<f32>; 4]);

impl AttributeValues {
    /// The value set for `attr`, if any.
    pub fn get(&self, attr: Attribute) -> Option<f32> {
        self.0[attr.channel()]
    }

    /// Sets `attr`, clamped to [-1, 1].
    pub fn set(&mut self, attr: Attribute, value: f32) {
        self.0[attr.channel()] = Some(value.clamp(-1.0, 1.0));
    }

    /// Removes `attr`.
    pub fn unset(&mut self, attr: Attribute) {
        self.0[attr.channel()] = None;
    }

    /// The set values, in channel order.
    pub fn iter(&self) -> impl Iterator<Item = (Attribute, f32)> + '_ {
        Attribute::ALL
            .into_iter()
            .filter_map(|a| self.get(a).map(|v| (a, v)))
    }

    /// True when no attribute is set.
    pub fn is_empty(&self) -> bool {
        self.0.iter().all(Option::is_none)
    }
}

/// An ordered set of regions with their attribute changes. `global` always comes first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RegionState {
    regions: Vec<(String, AttributeValues)>,
}

/// Why `name` cannot name a region, if it cannot: too long, or holding control
/// characters (which no word has, and which a terminal would obey when the name
/// is shown).
fn name_problem(name: &str) -> Option<String> {
    if name.chars().count() > MAX_REGION_NAME {
        Some(format!(
            "the name is longer than {MAX_REGION_NAME} characters"
        ))
    } else if crate::printable::has_terminal_controls(name) {
        Some("the name holds control characters".into())
    } else {
        None
    }
}

/// Normalises a user-typed region name: lower case, trimmed, whole-image aliases to `global`.
pub fn normalize_region_name(name: &str) -> String {
    let n = name.trim().to_lowercase();
    if GLOBAL_ALIASES.contains(&n.as_str()) {
        GLOBAL.to_string()
    } else {
        n
    }
}

impl RegionState {
    /// An empty state: no change anywhere.
    pub fn new() -> Self {
        Self::default()
    }

    /// Parses the JSON form, naming the offending key on any error. Texts over
    /// [`MAX_STATE_JSON_BYTES`] are refused before parsing.
    pub fn from_json(text: &str) -> Result<Self> {
        if text.len() > MAX_STATE_JSON_BYTES {
            return Err(Error::InvalidState(format!(
                "the state is {} bytes of JSON; a region state is at most {} bytes ({MAX_REGIONS} regions)",
                text.len(),
                MAX_STATE_JSON_BYTES
            )));
        }
        let value: Value = serde_json::from_str(text).map_err(|e| {
            Error::InvalidState(format!(
                "not valid JSON ({e}); expected e.g. {{\"global\": {{\"brightness\": 0.1}}}}"
            ))
        })?;
        Self::from_value(&value)
    }

    /// Builds a state from an already parsed JSON value, in time linear in its size.
    pub fn from_value(value: &Value) -> Result<Self> {
        let obj = value.as_object().ok_or_else(|| {
            Error::InvalidState(format!(
                "expected an object of regions, got {}",
                json_kind(value)
            ))
        })?;
        if obj.len() > MAX_REGIONS {
            return Err(Error::InvalidState(format!(
                "{} regions; a state names at most {MAX_REGIONS}",
                obj.len()
            )));
        }
        let mut state = RegionState::new();
        // Regions by name while parsing: names repeat after normalising ("Sky",
        // "sky"), and a linear search per region made large states quadratic.
        let mut index: HashMap<String, usize> = HashMap::with_capacity(obj.len());
        for (raw_region, attrs) in obj {
            if let Some(why) = name_problem(raw_region) {
                return Err(Error::InvalidState(format!(
                    "region \"{}\": {why}",
                    short(raw_region)
                )));
            }
            let region = normalize_region_name(raw_region);
            if region.is_empty() {
                return Err(Error::InvalidState("empty region name".into()));
            }
            let raw_region = short(raw_region);
            let attrs = attrs.as_object().ok_or_else(|| {
                Error::InvalidState(format!(
                    "region \"{raw_region}\": expected an object of attributes, got {}",
                    json_kind(attrs)
                ))
            })?;
            let mut values = AttributeValues::default();
            let mut seen_from: [Option<&str>; 4] = [None; 4];
            for (key, v) in attrs {
                let (attr, sign) = Attribute::parse_word(key).ok_or_else(|| {
                    Error::InvalidState(format!(
                        "region \"{raw_region}\": unknown attribute \"{}\" (expected colorfulness, contrast, temperature or brightness; synonyms: {})",
                        short(key),
                        Attribute::accepted_words().collect::<Vec<_>>().join(", ")
                    ))
                })?;
                if let Some(prev) = seen_from[attr.channel()] {
                    return Err(Error::InvalidState(format!(
                        "region \"{raw_region}\": \"{prev}\" and \"{key}\" both set {attr}"
                    )));
                }
                seen_from[attr.channel()] = Some(key.as_str());
                let number = v.as_f64().ok_or_else(|| {
                    Error::InvalidState(format!(
                        "region \"{raw_region}\", attribute \"{key}\": expected a number in [-1, 1], got {}",
                        json_kind(v)
                    ))
                })?;
                let number = number as f32;
                if !number.is_finite() {
                    return Err(Error::InvalidState(format!(
                        "region \"{raw_region}\", attribute \"{key}\": value is not a finite number"
                    )));
                }
                values.set(attr, sign * number);
            }
            let pos = match index.get(&region) {
                Some(&p) => p,
                None => {
                    state
                        .regions
                        .push((region.clone(), AttributeValues::default()));
                    index.insert(region, state.regions.len() - 1);
                    state.regions.len() - 1
                }
            };
            let slot = &mut state.regions[pos].1;
            for (a, v) in values.iter() {
                slot.set(a, v);
            }
        }
        // `global` paints first wherever the JSON put it.
        if let Some(g) = state.regions.iter().position(|(n, _)| n == GLOBAL) {
            let global = state.regions.remove(g);
            state.regions.insert(0, global);
        }
        Ok(state)
    }

    /// The JSON form, canonical attribute names, regions in order.
    pub fn to_value(&self) -> Value {
        let mut obj = Map::new();
        for (region, values) in &self.regions {
            let mut attrs = Map::new();
            for (a, v) in values.iter() {
                attrs.insert(a.name().to_string(), Value::from(round6(v)));
            }
            obj.insert(region.clone(), Value::Object(attrs));
        }
        Value::Object(obj)
    }

    /// Pretty JSON.
    pub fn to_json_pretty(&self) -> String {
        serde_json::to_string_pretty(&self.to_value()).unwrap_or_else(|_| "{}".into())
    }

    /// Regions in paint order (`global` first), with their values.
    pub fn regions(&self) -> impl Iterator<Item = (&str, &AttributeValues)> {
        self.regions.iter().map(|(n, v)| (n.as_str(), v))
    }

    /// Named (non-global) regions in paint order.
    pub fn named_regions(&self) -> impl Iterator<Item = (&str, &AttributeValues)> {
        self.regions().filter(|(n, _)| *n != GLOBAL)
    }

    /// Values of one region.
    pub fn region(&self, name: &str) -> Option<&AttributeValues> {
        let name = normalize_region_name(name);
        self.regions
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v)
    }

    /// One value, if set.
    pub fn get(&self, region: &str, attr: Attribute) -> Option<f32> {
        self.region(region).and_then(|v| v.get(attr))
    }

    /// True when nothing is set anywhere.
    pub fn is_empty(&self) -> bool {
        self.regions.iter().all(|(_, v)| v.is_empty())
    }

    /// Sets one value with the reference update semantics and returns what was stored.
    ///
    /// The value is clamped to [-1, 1]. Setting a `global` attribute moves every other
    /// region that already has that attribute by the same delta (clamped), so regional
    /// edits keep their offset from the global one. A named region is set directly.
    pub fn set(&mut self, region: &str, attr: Attribute, value: f32) -> Result<f32> {
        if !value.is_finite() {
            return Err(Error::InvalidState(format!(
                "region \"{}\", attribute \"{attr}\": value is not a finite number",
                short(region)
            )));
        }
        let region = normalize_region_name(region);
        if region.is_empty() {
            return Err(Error::InvalidState("empty region name".into()));
        }
        if let Some(why) = name_problem(&region) {
            return Err(Error::InvalidState(format!(
                "region \"{}\": {why}",
                short(&region)
            )));
        }
        if self.regions.len() >= MAX_REGIONS && !self.regions.iter().any(|(n, _)| *n == region) {
            return Err(Error::InvalidState(format!(
                "cannot add region \"{}\": a state names at most {MAX_REGIONS} regions",
                short(&region)
            )));
        }
        let value = value.clamp(-1.0, 1.0);
        if region == GLOBAL {
            let old = self.get(GLOBAL, attr).unwrap_or(0.0);
            let delta = value - old;
            for (name, values) in &mut self.regions {
                if name != GLOBAL {
                    if let Some(v) = values.get(attr) {
                        values.set(attr, v + delta);
                    }
                }
            }
        }
        self.entry(&region).set(attr, value);
        Ok(value)
    }

    /// Applies every value of `update` in its order (global first) with [`RegionState::set`].
    pub fn apply(&mut self, update: &RegionState) -> Result<()> {
        for (region, values) in update.regions() {
            for (attr, v) in values.iter() {
                self.set(region, attr, v)?;
            }
        }
        Ok(())
    }

    /// Removes one value; drops the region when it becomes empty.
    pub fn unset(&mut self, region: &str, attr: Attribute) {
        let region = normalize_region_name(region);
        if let Some(pos) = self.regions.iter().position(|(n, _)| *n == region) {
            self.regions[pos].1.unset(attr);
            if self.regions[pos].1.is_empty() {
                self.regions.remove(pos);
            }
        }
    }

    fn entry(&mut self, region: &str) -> &mut AttributeValues {
        let pos = match self.regions.iter().position(|(n, _)| n == region) {
            Some(p) => p,
            None if region == GLOBAL => {
                self.regions
                    .insert(0, (region.to_string(), AttributeValues::default()));
                0
            }
            None => {
                self.regions
                    .push((region.to_string(), AttributeValues::default()));
                self.regions.len() - 1
            }
        };
        &mut self.regions[pos].1
    }
}

fn round6(v: f32) -> f64 {
    (v as f64 * 1e6).round() / 1e6
}

fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

impl Serialize for RegionState {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        self.to_value().serialize(s)
    }
}

impl<'de> Deserialize<'de> for RegionState {
    fn deserialize<D: Deserializer<'de>>(d: D) -> std::result::Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        RegionState::from_value(&v).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn parses_reference_json_and_keeps_order() {
        let s = RegionState::from_json(
            r#"{"sky": {"colorfulness": 0.2, "temperature": -0.3}, "global": {"brightness": 0.1}}"#,
        )
        .unwrap();
        let names: Vec<_> = s.regions().map(|(n, _)| n.to_string()).collect();
        assert_eq!(names, ["global", "sky"]);
        assert_eq!(s.get("sky", Attribute::Temperature), Some(-0.3));
        assert_eq!(s.get("global", Attribute::Brightness), Some(0.1));
        assert_eq!(s.get("sky", Attribute::Brightness), None);
    }

    #[test]
    fn synonyms_and_signed_words_normalise() {
        let s = RegionState::from_json(r#"{"All": {"exposure": 0.2, "cool": 0.3}}"#).unwrap();
        assert_eq!(s.get("global", Attribute::Brightness), Some(0.2));
        assert_eq!(s.get("global", Attribute::Temperature), Some(-0.3));
        assert_eq!(
            s.to_value(),
            serde_json::json!({"global": {"temperature": -0.3, "brightness": 0.2}})
        );
    }

    #[test]
    fn errors_name_the_offending_key() {
        let cases = [
            (r#"{"sky": {"hue": 0.1}}"#, "\"hue\""),
            (r#"{"sky": {"brightness": "a lot"}}"#, "\"brightness\""),
            (r#"{"sky": 3}"#, "\"sky\""),
            (r#"[1, 2]"#, "an array"),
            (r#"{"sky": {"brightness": 0.1,}"#, "not valid JSON"),
            (
                r#"{"sky": {"warm": 0.1, "cool": 0.2}}"#,
                "both set temperature",
            ),
            (r#"{"sky": {"brightness": 1e999}}"#, "not valid JSON"),
        ];
        for (json, needle) in cases {
            let err = RegionState::from_json(json).unwrap_err().to_string();
            assert!(err.contains(needle), "{json}: {err}");
        }
    }

    #[test]
    fn values_are_clamped() {
        let s = RegionState::from_json(r#"{"sky": {"brightness": 4.0}}"#).unwrap();
        assert_eq!(s.get("sky", Attribute::Brightness), Some(1.0));
    }

    #[test]
    fn global_update_propagates_delta_to_regions_that_have_the_attribute() {
        let mut s = RegionState::new();
        s.set("sky", Attribute::Brightness, 0.3).unwrap();
        s.set("face", Attribute::Temperature, 0.2).unwrap();
        s.set("global", Attribute::Brightness, 0.2).unwrap();
        // delta 0.2 from an unset (0) global moves the sky, not the face (no brightness there).
        assert!((s.get("sky", Attribute::Brightness).unwrap() - 0.5).abs() < 1e-6);
        assert_eq!(s.get("face", Attribute::Brightness), None);
        s.set("global", Attribute::Brightness, -0.1).unwrap();
        assert!((s.get("sky", Attribute::Brightness).unwrap() - 0.2).abs() < 1e-6);
        // Propagation clamps.
        s.set("sky", Attribute::Brightness, 0.9).unwrap();
        s.set("global", Attribute::Brightness, 0.4).unwrap();
        assert_eq!(s.get("sky", Attribute::Brightness), Some(1.0));
        // A named region is set directly and does not touch global.
        s.set("sky", Attribute::Brightness, -0.5).unwrap();
        assert!((s.get("global", Attribute::Brightness).unwrap() - 0.4).abs() < 1e-6);
    }

    /// Issue 18 item 8: 100k regions took 34 s to parse (a linear search per
    /// region) and were accepted. On main this test fails: the 100k-region state
    /// parses (slowly) and is returned.
    #[test]
    fn oversized_states_are_refused_and_parsing_is_linear() {
        let many: String = (0..100_000)
            .map(|i| format!("\"r{i}\": {{\"brightness\": 0.1}}"))
            .collect::<Vec<_>>()
            .join(",");
        let text = format!("{{{many}}}");
        let err = RegionState::from_json(&text).unwrap_err().to_string();
        assert!(err.contains("at most 1048576 bytes"), "{err}");
        // Already parsed (a memory record, a host's value): bounded by count.
        let value: Value = serde_json::from_str(&text).unwrap();
        let err = RegionState::from_value(&value).unwrap_err().to_string();
        assert!(err.contains("at most 256"), "{err}");
        // Bytes are bounded before parsing; the message stays short.
        let huge = format!(
            "{{\"sky\": {{\"brightness\": 0.1}}, \"pad\": \"{}\"}}",
            "x".repeat(2 << 20)
        );
        let err = RegionState::from_json(&huge).unwrap_err().to_string();
        assert!(
            err.contains("at most 1048576 bytes") && err.len() < 300,
            "{err}"
        );
        // A name longer than any region's, with a terminal escape: refused, and the
        // message neither carries the whole name nor the escape.
        let name = format!("\u{1b}[2J{}", "n".repeat(10_000));
        let err = RegionState::from_value(&serde_json::json!({ name: {"brightness": 0.1} }))
            .unwrap_err()
            .to_string();
        assert!(err.len() < 300 && !err.contains('\u{1b}'), "{err}");
        // The limit itself parses, in order, global first, names merged after
        // normalising.
        let mut obj = serde_json::Map::new();
        for i in 0..MAX_REGIONS - 2 {
            obj.insert(format!("r{i}"), serde_json::json!({"contrast": 0.1}));
        }
        obj.insert("R0".into(), serde_json::json!({"brightness": 0.2}));
        obj.insert("Global".into(), serde_json::json!({"brightness": 0.3}));
        let s = RegionState::from_value(&Value::Object(obj)).unwrap();
        let names: Vec<&str> = s.regions().map(|(n, _)| n).collect();
        assert_eq!(names.len(), MAX_REGIONS - 1);
        assert_eq!(&names[..3], ["global", "r0", "r1"]);
        assert_eq!(s.get("r0", Attribute::Brightness), Some(0.2));
        assert_eq!(s.get("r0", Attribute::Contrast), Some(0.1));
        // set() keeps the bound too.
        let mut full = s.clone();
        full.set("last", Attribute::Contrast, 0.1).unwrap();
        assert!(full.set("one-more", Attribute::Contrast, 0.1).is_err());
        assert!(full.set("r5", Attribute::Brightness, 0.1).is_ok());
    }

    #[test]
    fn set_rejects_non_finite() {
        let mut s = RegionState::new();
        assert!(s.set("sky", Attribute::Contrast, f32::NAN).is_err());
        assert!(s.is_empty());
    }

    proptest! {
        #[test]
        fn json_round_trips(values in proptest::collection::vec((0usize..4, 0usize..4, -1.5f32..1.5), 0..12)) {
            let regions = ["global", "sky", "face", "grass"];
            let mut s = RegionState::new();
            for (r, a, v) in values {
                s.set(regions[r], Attribute::ALL[a], v).unwrap();
            }
            let back = RegionState::from_json(&s.to_json_pretty()).unwrap();
            prop_assert_eq!(back.regions().count(), s.regions().count());
            for ((n1, v1), (n2, v2)) in s.regions().zip(back.regions()) {
                prop_assert_eq!(n1, n2);
                for a in Attribute::ALL {
                    match (v1.get(a), v2.get(a)) {
                        (Some(x), Some(y)) => prop_assert!((x - y).abs() < 1e-5),
                        (None, None) => {}
                        other => prop_assert!(false, "mismatch {:?}", other),
                    }
                }
            }
        }

        #[test]
        fn every_stored_value_is_in_range(values in proptest::collection::vec((0usize..3, 0usize..4, -3f32..3.0), 0..20)) {
            let regions = ["global", "sky", "face"];
            let mut s = RegionState::new();
            for (r, a, v) in values {
                s.set(regions[r], Attribute::ALL[a], v).unwrap();
                for (_, vals) in s.regions() {
                    for (_, x) in vals.iter() {
                        prop_assert!((-1.0..=1.0).contains(&x));
                    }
                }
            }
        }
    }
}
