//! Per-instance data (clip and parameter handles, kept in the instance's
//! kOfxPropInstanceData) and the settings read from parameters at a time.

use crate::abi::names::*;
use crate::abi::*;
use crate::describe::{self, param, MASK_CLIPS};
use crate::suites::{check, Host, OfxError, OfxResult, Props};
use pertouch_core::params::{Attribute, RegionState, GLOBAL};
use std::ffi::{c_char, CStr};

/// Handles an instance looks up once. Raw host handles, kept as addresses: the
/// host guarantees they live as long as the instance.
pub struct Instance {
    pub source: usize,
    pub output: usize,
    /// Mask inputs (general context): clip handle and its region-name parameter.
    pub masks: Vec<(usize, usize)>,
    pub instruction: usize,
    pub state: usize,
    pub sliders: [usize; 4],
    pub renderer: usize,
    pub mix: usize,
    pub view: usize,
    pub view_region: usize,
}

/// What the parameters say at one time.
#[derive(Debug, Clone)]
pub struct Settings {
    /// The stored state with the global sliders added.
    pub state: RegionState,
    pub diffusion: bool,
    pub mix: f32,
    pub view: usize,
    pub view_region: String,
    /// Region names of connected mask inputs, with their clip handles.
    pub mask_regions: Vec<(usize, String)>,
}

fn clip(host: &Host, effect: OfxImageEffectHandle, name: &CStr) -> OfxResult<usize> {
    let mut c = std::ptr::null_mut();
    // SAFETY: an instance handle and a C string name; the properties out-pointer
    // may be null per the API.
    check(
        unsafe {
            (host.effects.clipGetHandle)(effect, name.as_ptr(), &mut c, std::ptr::null_mut())
        },
        || format!("getting clip {}", name.to_string_lossy()),
    )?;
    if c.is_null() {
        return Err(OfxError::new(
            kOfxStatErrBadHandle,
            format!("clip {} is null", name.to_string_lossy()),
        ));
    }
    Ok(c as usize)
}

fn param_handle(host: &Host, set: OfxParamSetHandle, name: &CStr) -> OfxResult<usize> {
    let mut h = std::ptr::null_mut();
    // SAFETY: the instance's parameter set and a C string name.
    check(
        unsafe { (host.params.paramGetHandle)(set, name.as_ptr(), &mut h, std::ptr::null_mut()) },
        || format!("getting parameter {}", name.to_string_lossy()),
    )?;
    if h.is_null() {
        return Err(OfxError::new(
            kOfxStatErrBadHandle,
            format!("parameter {} is null", name.to_string_lossy()),
        ));
    }
    Ok(h as usize)
}

/// The parameter set of an effect (descriptor or instance).
pub fn param_set(host: &Host, effect: OfxImageEffectHandle) -> OfxResult<OfxParamSetHandle> {
    let mut set = std::ptr::null_mut();
    // SAFETY: a descriptor or instance handle of this action.
    check(
        unsafe { (host.effects.getParamSet)(effect, &mut set) },
        || "getting the parameter set".into(),
    )?;
    if set.is_null() {
        return Err(OfxError::new(kOfxStatErrBadHandle, "a null parameter set"));
    }
    Ok(set)
}

/// kOfxActionCreateInstance: looks the handles up and stores them.
pub fn create(host: &Host, effect: OfxImageEffectHandle) -> OfxResult<()> {
    let props = describe::effect_props_of(host, effect)?;
    let general = props
        .string(kOfxImageEffectPropContext, 0)
        .map(|c| c.as_bytes() == kOfxImageEffectContextGeneral.to_bytes())
        .unwrap_or(false);
    let set = param_set(host, effect)?;
    let p = |n: &CStr| param_handle(host, set, n);
    let mut masks = Vec::new();
    if general {
        for (c, n) in MASK_CLIPS.iter().zip(param::MASK_NAMES) {
            masks.push((clip(host, effect, c)?, p(n)?));
        }
    }
    let inst = Instance {
        source: clip(host, effect, kOfxImageEffectSimpleSourceClipName)?,
        output: clip(host, effect, kOfxImageEffectOutputClipName)?,
        masks,
        instruction: p(param::INSTRUCTION)?,
        state: p(param::STATE)?,
        sliders: [
            p(param::SLIDERS[0])?,
            p(param::SLIDERS[1])?,
            p(param::SLIDERS[2])?,
            p(param::SLIDERS[3])?,
        ],
        renderer: p(param::RENDERER)?,
        mix: p(param::MIX)?,
        view: p(param::VIEW)?,
        view_region: p(param::VIEW_REGION)?,
    };
    let ptr = Box::into_raw(Box::new(inst));
    if let Err(e) = props.set_pointer(kOfxPropInstanceData, ptr as usize) {
        // SAFETY: `ptr` came from Box::into_raw just above and was not stored.
        drop(unsafe { Box::from_raw(ptr) });
        return Err(e);
    }
    Ok(())
}

/// kOfxActionDestroyInstance: frees the instance data.
pub fn destroy(host: &Host, effect: OfxImageEffectHandle) -> OfxResult<()> {
    let props = describe::effect_props_of(host, effect)?;
    let ptr = props.pointer(kOfxPropInstanceData)?.cast::<Instance>();
    if !ptr.is_null() {
        props.set_pointer(kOfxPropInstanceData, 0)?;
        // SAFETY: a non-null instance data pointer is the Box `create` stored; it
        // is cleared above so it is freed once.
        drop(unsafe { Box::from_raw(ptr) });
    }
    Ok(())
}

/// The instance data of `effect`.
pub fn get(host: &Host, effect: OfxImageEffectHandle) -> OfxResult<&'static Instance> {
    let props = describe::effect_props_of(host, effect)?;
    let ptr = props.pointer(kOfxPropInstanceData)?.cast::<Instance>();
    // SAFETY: a non-null pointer is the Box `create` stored, which lives until
    // kOfxActionDestroyInstance, after which the host makes no calls on the
    // instance (so no action outlives it).
    unsafe { ptr.as_ref() }
        .ok_or_else(|| OfxError::new(kOfxStatErrBadHandle, "the instance was not created"))
}

/// A double parameter at `time`.
pub fn double_at(host: &Host, h: usize, time: f64) -> OfxResult<f64> {
    let mut v = 0.0f64;
    // SAFETY: a double parameter's handle; one double* for its one dimension.
    check(
        unsafe { (host.params.paramGetValueAtTime)(h as OfxParamHandle, time, &mut v as *mut f64) },
        || "reading a number parameter".into(),
    )?;
    Ok(v)
}

/// A choice (or int) parameter at `time`.
pub fn int_at(host: &Host, h: usize, time: f64) -> OfxResult<i32> {
    let mut v: i32 = 0;
    // SAFETY: a choice parameter's handle; one int* for its value.
    check(
        unsafe { (host.params.paramGetValueAtTime)(h as OfxParamHandle, time, &mut v as *mut i32) },
        || "reading a choice parameter".into(),
    )?;
    Ok(v)
}

/// A string parameter at `time`.
pub fn string_at(host: &Host, h: usize, time: f64) -> OfxResult<String> {
    let mut v: *mut c_char = std::ptr::null_mut();
    // SAFETY: a string parameter's handle; one char** for its value.
    check(
        unsafe {
            (host.params.paramGetValueAtTime)(h as OfxParamHandle, time, &mut v as *mut *mut c_char)
        },
        || "reading a text parameter".into(),
    )?;
    if v.is_null() {
        return Ok(String::new());
    }
    // SAFETY: the host returns a NUL-terminated string valid until the parameter
    // changes; it is copied at once.
    Ok(unsafe { CStr::from_ptr(v) }.to_string_lossy().into_owned())
}

/// Sets a string parameter.
pub fn set_string(host: &Host, h: usize, value: &str) -> OfxResult<()> {
    let c = std::ffi::CString::new(value.replace('\0', " ")).unwrap_or_default();
    // SAFETY: a string parameter's handle; one const char* as its value.
    check(
        unsafe { (host.params.paramSetValue)(h as OfxParamHandle, c.as_ptr()) },
        || "setting a text parameter".into(),
    )
}

/// The stored region state (an empty text is no edit).
pub fn stored_state(host: &Host, inst: &Instance, time: f64) -> OfxResult<RegionState> {
    let text = string_at(host, inst.state, time)?;
    if text.trim().is_empty() {
        return Ok(RegionState::default());
    }
    RegionState::from_json(&text)
        .map_err(|e| OfxError::new(kOfxStatErrValue, format!("Region state: {e}")))
}

impl Instance {
    /// Reads every parameter at `time`.
    pub fn settings(&self, host: &Host, time: f64) -> OfxResult<Settings> {
        let mut state = stored_state(host, self, time)?;
        for (h, attr) in self.sliders.iter().zip(Attribute::ALL) {
            let v = double_at(host, *h, time)? as f32;
            if v != 0.0 {
                let old = state.get(GLOBAL, attr).unwrap_or(0.0);
                state
                    .set(GLOBAL, attr, old + v)
                    .map_err(|e| OfxError::new(kOfxStatErrValue, e.to_string()))?;
            }
        }
        let mut mask_regions = Vec::new();
        for (clip, name) in &self.masks {
            let name = string_at(host, *name, time)?;
            if !name.trim().is_empty() && clip_connected(host, *clip) {
                mask_regions.push((*clip, name.trim().to_string()));
            }
        }
        Ok(Settings {
            state,
            diffusion: int_at(host, self.renderer, time)? == 1,
            mix: double_at(host, self.mix, time)?.clamp(0.0, 1.0) as f32,
            view: int_at(host, self.view, time)?.clamp(0, describe::VIEWS.len() as i32 - 1)
                as usize,
            view_region: string_at(host, self.view_region, time)?.trim().to_string(),
            mask_regions,
        })
    }
}

/// True when a clip has an input connected.
pub fn clip_connected(host: &Host, clip: usize) -> bool {
    clip_props(host, clip, "mask input")
        .and_then(|p| p.int(kOfxImageClipPropConnected, 0))
        .is_ok_and(|c| c != 0)
}

/// A clip's properties (`name` for the message if the host refuses).
pub fn clip_props<'h>(host: &'h Host, clip: usize, name: &str) -> OfxResult<Props<'h>> {
    let mut p = std::ptr::null_mut();
    // SAFETY: a clip handle of this instance and a valid out pointer.
    check(
        unsafe { (host.effects.clipGetPropertySet)(clip as OfxImageClipHandle, &mut p) },
        || format!("getting the {name}'s properties"),
    )?;
    Props::new(host, p)
}

/// A clip's region of definition at `time`, in canonical coordinates.
pub fn clip_rod(host: &Host, clip: usize, name: &str, time: f64) -> OfxResult<OfxRectD> {
    let mut rod = OfxRectD::default();
    // SAFETY: a clip handle of this instance and a valid out pointer.
    check(
        unsafe {
            (host.effects.clipGetRegionOfDefinition)(clip as OfxImageClipHandle, time, &mut rod)
        },
        || format!("getting the {name}'s region of definition"),
    )?;
    Ok(rod)
}
