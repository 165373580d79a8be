//! The node's names: parameter script names (what a project file stores, so
//! they never change), clip names and the options of its choices. Describing
//! the node and reading an instance both use them.

use std::ffi::CStr;

pub const INSTRUCTION: &CStr = c"instruction";
pub const APPLY: &CStr = c"apply";
pub const STATE: &CStr = c"state";
pub const SLIDERS: [&CStr; 4] = [c"colorfulness", c"contrast", c"temperature", c"brightness"];
pub const RENDERER: &CStr = c"renderer";
pub const MIX: &CStr = c"mix";
pub const VIEW: &CStr = c"view";
pub const VIEW_REGION: &CStr = c"viewRegion";
/// Region names of the general context's mask inputs.
pub const MASK_NAMES: [&CStr; 2] = [c"regionAName", c"regionBName"];

/// The general context's optional mask inputs.
pub const MASK_CLIPS: [&CStr; 2] = [c"RegionA", c"RegionB"];

/// The view switch's options, in order.
pub const VIEWS: [&CStr; 6] = [
    c"Result",
    c"Map: colorfulness",
    c"Map: contrast",
    c"Map: temperature",
    c"Map: brightness",
    c"Region mask",
];

pub const RENDERERS: [&CStr; 2] = [
    c"Parametric (fast, no model)",
    c"Diffusion (PerTouch model)",
];
