//! Our prompts, one per step of the agent (PERTOUCH.md section 5). Each asks for
//! one JSON object with a short "think" field and the step's fields; the replies
//! are parsed by [`super::reply`].

use crate::agent::rethink::Check;

/// The role, the attributes and their scale, the reply rule.
pub fn system(regions: &[String]) -> String {
    format!(
        "You are the retouching agent of a photo editor. An edit changes four attributes, per region, \
each on a level scale from -1 to 1:\n\
- colorfulness: how vivid the colours are (negative: muted, towards black and white);\n\
- contrast: local and tonal contrast (negative: flatter, softer);\n\
- temperature: positive is warmer (more yellow/orange), negative cooler (more blue);\n\
- brightness: perceived lightness.\n\
A change of 0.1 is slight, 0.2 moderate, 0.4 strong, 0.6 extreme. Regions are \"global\" (the whole photo) \
or a named part of it; regions this editor can find: {}. Other objects may be named in plain words \
(\"the red car\").\n\
Reply with exactly one JSON object and nothing else: no prose, no code fences. Always include a short \
\"think\" field with your reasoning.",
        regions.join(", ")
    )
}

pub fn scene() -> String {
    "Look at the photo. Reply {\"think\": string, \"tags\": [up to 8 short scene tags such as \
\"sunset\", \"portrait\", \"indoor\", \"beach\", \"forest\", \"night\"], \"greeting\": one short \
friendly sentence to the photographer}."
        .to_string()
}

pub fn classify(instruction: &str) -> String {
    format!(
        "The photographer says: {instruction:?}.\n\
Classify the instruction: \"strong\" if it names a region or an attribute (\"the sky is too dull\", \
\"warmer skin\", \"brighter\"); \"weak_style\" if it names a look or style (\"cinematic\", \"Kodak film\", \
\"cyberpunk\"); \"weak_optimize\" if it is a vague wish (\"make it look better\", \"fix it\").\n\
Reply {{\"think\": string, \"kind\": \"strong\" | \"weak_style\" | \"weak_optimize\"}}."
    )
}

pub fn style(instruction: &str) -> String {
    format!(
        "The photographer asks for a look: {instruction:?}. Decompose it into attribute changes on \
\"global\" and, where the look treats parts differently, on regions (for example shadows, highlights, sky, skin).\n\
Reply {{\"think\": string, \"edits\": [{{\"region\": string, \"attribute\": \"colorfulness\" | \"contrast\" | \
\"temperature\" | \"brightness\", \"change\": number from -1 to 1}}]}}."
    )
}

pub fn analyse(instruction: &str) -> String {
    format!(
        "The photographer says: {instruction:?}. Look at the photo. Which regions and attributes does \
the instruction ask to change, in which direction and by how much (slightly about 0.1, plain about 0.2, \
very about 0.4)? Put regions it asks to keep as they are in \"holds\".\n\
Reply {{\"think\": string, \"edits\": [{{\"region\": string, \"attribute\": \"colorfulness\" | \"contrast\" | \
\"temperature\" | \"brightness\", \"change\": number from -1 to 1}}], \"holds\": [string]}}."
    )
}

/// The rethink step: the two images come before this text.
pub fn rethink(instruction: &str, last_action: &str, checks: &[Check], values: &[f32]) -> String {
    let lines: Vec<String> = checks
        .iter()
        .zip(values)
        .map(|(c, v)| {
            format!(
                "- {} {}: the words ask for a change of {:+.2}; measured change {}; current value {:+.2}",
                c.region,
                c.attribute,
                c.asked,
                c.measured
                    .map_or("not measurable (empty region)".to_string(), |m| format!("{m:+.2}")),
                v
            )
        })
        .collect();
    format!(
        "The first image is the photo before, the second after the last action.\n\
Instruction: {instruction:?}.\nLast action: {last_action}.\nMeasured levels:\n{}\n\
Does the change match the wording (\"a little\" but too strong: back off; \"much\" but barely changed: \
go further)? Reply {{\"think\": string, \"done\": true | false, \"edits\": [{{\"region\": string, \
\"attribute\": string, \"value\": the new value from -1 to 1}}]}}; when done, edits may be empty.",
        lines.join("\n")
    )
}
