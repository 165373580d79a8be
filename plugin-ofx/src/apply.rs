//! The Apply button: the agent runs once on the current frame and its region state
//! is stored in the "state" parameter (so renders never run it).

use crate::abi::names::*;
use crate::abi::*;
use crate::handles::{Effect, PropSet};
use crate::image::Image;
use crate::instance;
use crate::params;
use crate::suites::{self, Host, OfxError, OfxResult, Props};
use pertouch_core::render::Control;

/// kOfxActionInstanceChanged: Apply runs the agent; other changes need nothing.
pub fn instance_changed(
    host: &Host,
    effect: Effect,
    in_args: Option<PropSet>,
) -> OfxResult<OfxStatus> {
    let args = Props::new(host, in_args, "the in-args")?;
    let is_param = args.string(kOfxPropType, 0)?.as_bytes() == kOfxTypeParameter.to_bytes();
    let name = args.string(kOfxPropName, 0)?;
    if !is_param || name.as_bytes() != params::APPLY.to_bytes() {
        return Ok(kOfxStatReplyDefault);
    }
    let inst = instance::get(host, effect)?;
    let time = args.double(kOfxPropTime, 0)?;
    let words = instance::string_at(host, inst.instruction, time)?;
    if words.trim().is_empty() {
        return Err(OfxError::failed(
            "type an instruction first (e.g. \"make the sky a little warmer\")",
        ));
    }
    let base = instance::stored_state(host, inst, time)?;
    let source = Image::fetch(host, inst.source, time)?
        .ok_or_else(|| OfxError::failed("Apply needs an image on the Source input"))?;
    let photo = source
        .view(source.bounds)?
        .read()
        .map_err(OfxError::failed)?;
    drop(source);
    // The agent plans with the fast renderer; the state it stores is in level
    // units, which either renderer renders.
    let engine = crate::engines::engine(false)?;
    let state = engine
        .agent_apply(&photo, &words, &base, &Control::default())
        .map_err(|e| OfxError::failed(e.to_string()))?;
    let json = serde_json::to_string_pretty(&state.to_value())
        .unwrap_or_else(|_| state.to_value().to_string());
    instance::set_string(host, inst.state, &json)?;
    suites::post(
        host,
        effect,
        kOfxMessageMessage,
        &format!("PerTouch: applied \"{}\"", words.trim()),
    );
    Ok(kOfxStatOK)
}
