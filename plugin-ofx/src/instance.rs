//! Per-instance data (typed clip and parameter handles, kept in the instance's
//! kOfxPropInstanceData) and the settings read from parameters at a time.

use crate::abi::names::*;
use crate::abi::*;
use crate::effect;
use crate::handles::{Clip, Effect, Param};
use crate::host_values::{self, RawSettings, Settings};
use crate::params::{self, MASK_CLIPS};
use crate::suites::{check, ofx_fn, Host, OfxError, OfxResult};
use pertouch_core::params::RegionState;
use std::ffi::{c_char, CStr};

/// Handles an instance looks up once; the host keeps them valid as long as the
/// instance lives.
pub struct Instance {
    pub source: Clip,
    pub output: Clip,
    /// Mask inputs (general context): clip handle and its region-name parameter.
    pub masks: Vec<(Clip, Param)>,
    pub instruction: Param,
    pub state: Param,
    pub sliders: [Param; 4],
    pub renderer: Param,
    pub mix: Param,
    pub view: Param,
    pub view_region: Param,
}

/// kOfxActionCreateInstance: looks the handles up and stores them.
pub fn create(host: &Host, effect: Effect) -> OfxResult<()> {
    let props = effect::props(host, effect)?;
    let general = props
        .string(kOfxImageEffectPropContext, 0)
        .map(|c| c.as_bytes() == kOfxImageEffectContextGeneral.to_bytes())
        .unwrap_or(false);
    let set = effect::param_set(host, effect)?;
    let p = |n: &CStr| effect::param(host, set, n);
    let mut masks = Vec::new();
    if general {
        for (c, n) in MASK_CLIPS.iter().zip(params::MASK_NAMES) {
            masks.push((effect::clip(host, effect, c)?, p(n)?));
        }
    }
    let inst = Instance {
        source: effect::clip(host, effect, kOfxImageEffectSimpleSourceClipName)?,
        output: effect::clip(host, effect, kOfxImageEffectOutputClipName)?,
        masks,
        instruction: p(params::INSTRUCTION)?,
        state: p(params::STATE)?,
        sliders: [
            p(params::SLIDERS[0])?,
            p(params::SLIDERS[1])?,
            p(params::SLIDERS[2])?,
            p(params::SLIDERS[3])?,
        ],
        renderer: p(params::RENDERER)?,
        mix: p(params::MIX)?,
        view: p(params::VIEW)?,
        view_region: p(params::VIEW_REGION)?,
    };
    let ptr = Box::into_raw(Box::new(inst));
    if let Err(e) = props.set_pointer(kOfxPropInstanceData, ptr.cast()) {
        // SAFETY: `ptr` came from Box::into_raw just above and was not stored.
        drop(unsafe { Box::from_raw(ptr) });
        return Err(e);
    }
    Ok(())
}

/// kOfxActionDestroyInstance: frees the instance data.
pub fn destroy(host: &Host, effect: Effect) -> OfxResult<()> {
    let props = effect::props(host, effect)?;
    let ptr = props.pointer(kOfxPropInstanceData)?.cast::<Instance>();
    if !ptr.is_null() {
        props.set_pointer(kOfxPropInstanceData, std::ptr::null_mut())?;
        // SAFETY: a non-null instance data pointer is the Box `create` stored; it
        // is cleared above so it is freed once.
        drop(unsafe { Box::from_raw(ptr) });
    }
    Ok(())
}

/// The instance data of `effect`.
pub fn get(host: &Host, effect: Effect) -> OfxResult<&'static Instance> {
    let props = effect::props(host, effect)?;
    let ptr = props.pointer(kOfxPropInstanceData)?.cast::<Instance>();
    // SAFETY: a non-null pointer is the Box `create` stored, which lives until
    // kOfxActionDestroyInstance, after which the host makes no calls on the
    // instance (so no action outlives it).
    unsafe { ptr.as_ref() }
        .ok_or_else(|| OfxError::new(kOfxStatErrBadHandle, "the instance was not created"))
}

/// A double parameter at `time`.
pub fn double_at(host: &Host, h: Param, time: f64) -> OfxResult<f64> {
    let mut v = 0.0f64;
    let f = ofx_fn!(host.params => OfxParameterSuiteV1::paramGetValueAtTime)?;
    // SAFETY: a double parameter's handle; one double* for its one dimension.
    let st = unsafe { f(h.as_ptr(), time, &mut v as *mut f64) };
    check(st, || "reading a number parameter".into())?;
    Ok(v)
}

/// A choice (or int) parameter at `time`.
pub fn int_at(host: &Host, h: Param, time: f64) -> OfxResult<i32> {
    let mut v: i32 = 0;
    let f = ofx_fn!(host.params => OfxParameterSuiteV1::paramGetValueAtTime)?;
    // SAFETY: a choice parameter's handle; one int* for its value.
    let st = unsafe { f(h.as_ptr(), time, &mut v as *mut i32) };
    check(st, || "reading a choice parameter".into())?;
    Ok(v)
}

/// A string parameter at `time`.
pub fn string_at(host: &Host, h: Param, time: f64) -> OfxResult<String> {
    let mut v: *mut c_char = std::ptr::null_mut();
    let f = ofx_fn!(host.params => OfxParameterSuiteV1::paramGetValueAtTime)?;
    // SAFETY: a string parameter's handle; one char** for its value.
    let st = unsafe { f(h.as_ptr(), time, &mut v as *mut *mut c_char) };
    check(st, || "reading a text parameter".into())?;
    if v.is_null() {
        return Ok(String::new());
    }
    // SAFETY: the host returns a NUL-terminated string valid until the parameter
    // changes; it is copied at once.
    Ok(unsafe { CStr::from_ptr(v) }.to_string_lossy().into_owned())
}

/// Sets a string parameter.
pub fn set_string(host: &Host, h: Param, value: &str) -> OfxResult<()> {
    let c = std::ffi::CString::new(value.replace('\0', " ")).unwrap_or_default();
    let f = ofx_fn!(host.params => OfxParameterSuiteV1::paramSetValue)?;
    // SAFETY: a string parameter's handle; one const char* as its value.
    let st = unsafe { f(h.as_ptr(), c.as_ptr()) };
    check(st, || "setting a text parameter".into())
}

/// The stored region state (an empty text is no edit); clamping notes dropped.
pub fn stored_state(host: &Host, inst: &Instance, time: f64) -> OfxResult<RegionState> {
    host_values::parse_state(&string_at(host, inst.state, time)?).map(|(s, _)| s)
}

impl Instance {
    /// Reads every parameter at `time`.
    pub fn settings(&self, host: &Host, time: f64) -> OfxResult<Settings> {
        let state = string_at(host, self.state, time)?;
        let instruction = string_at(host, self.instruction, time)?;
        let view_region = string_at(host, self.view_region, time)?;
        let mut sliders = [0.0; 4];
        for (v, h) in sliders.iter_mut().zip(self.sliders) {
            *v = double_at(host, h, time)?;
        }
        let mut settings = host_values::settings(&RawSettings {
            state: &state,
            instruction: &instruction,
            sliders,
            renderer: int_at(host, self.renderer, time)?,
            mix: double_at(host, self.mix, time)?,
            view: int_at(host, self.view, time)?,
            view_region: &view_region,
        })?;
        for (clip, name) in &self.masks {
            let name = string_at(host, *name, time)?;
            if !name.trim().is_empty() && effect::clip_connected(host, *clip) {
                settings.mask_regions.push((*clip, name.trim().to_string()));
            }
        }
        Ok(settings)
    }
}
