//! The files a command reads, gathered from its arguments, for
//! `pertouch_core::outputs::OutputCheck`: no command writes over one of them.

use crate::args::{InputArgs, MaskArgs, StateArgs};
use pertouch_core::outputs::OutputCheck;
use std::path::Path;

/// `check` with the photo, every `--mask` file, a `--state` file and a `--tables`
/// file as inputs.
pub fn with_inputs(
    check: OutputCheck,
    photo: Option<&Path>,
    masks: Option<&MaskArgs>,
    state: Option<&StateArgs>,
    input_opts: Option<&InputArgs>,
) -> OutputCheck {
    let mut check = match photo {
        Some(p) => check.input(p, "the input photo"),
        None => check,
    };
    for spec in masks.map_or(&[][..], |m| &m.masks) {
        if let Some((name, file)) = spec.split_once('=') {
            check = check.input(file, format!("the mask \"{}\"", name.trim()));
        }
    }
    if let Some(s) = state.and_then(|s| s.state.as_deref()) {
        // JSON text is not a file.
        if !s.trim_start().starts_with('{') {
            check = check.input(s, "the --state file");
        }
    }
    if let Some(t) = input_opts.and_then(|i| i.tables.as_deref()) {
        check = check.input(t, "the --tables file");
    }
    check
}
