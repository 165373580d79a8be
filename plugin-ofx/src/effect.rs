//! An effect's objects as the host hands them out: its property set, its
//! parameter set, its clips and parameters by name, a clip's properties and
//! region of definition. Every raw handle the host returns becomes a typed one
//! here (see [`crate::handles`]).

use crate::abi::names::*;
use crate::abi::*;
use crate::handles::{Clip, Effect, Param, ParamSet, PropSet};
use crate::suites::{check, ofx_fn, Host, OfxError, OfxResult, Props};
use std::ffi::CStr;

/// The effect's own properties (descriptor or instance).
pub fn props(host: &Host, effect: Effect) -> OfxResult<Props<'_>> {
    let mut p = std::ptr::null_mut();
    let f = ofx_fn!(host.effects => OfxImageEffectSuiteV1::getPropertySet)?;
    // SAFETY: a descriptor/instance handle the host passed to this action; a
    // valid out pointer.
    let st = unsafe { f(effect.as_ptr(), &mut p) };
    check(st, || "getting the effect's properties".into())?;
    // SAFETY: the host just gave `p` as the effect's property set, which lives as
    // long as the effect.
    Props::new(host, unsafe { PropSet::new(p) }, "the effect")
}

/// The parameter set of an effect (descriptor or instance).
pub fn param_set(host: &Host, effect: Effect) -> OfxResult<ParamSet> {
    let mut set = std::ptr::null_mut();
    let f = ofx_fn!(host.effects => OfxImageEffectSuiteV1::getParamSet)?;
    // SAFETY: a descriptor or instance handle of this action; a valid out pointer.
    let st = unsafe { f(effect.as_ptr(), &mut set) };
    check(st, || "getting the parameter set".into())?;
    // SAFETY: the host just gave `set` as the effect's parameter set.
    unsafe { ParamSet::new(set) }
        .ok_or_else(|| OfxError::new(kOfxStatErrBadHandle, "a null parameter set"))
}

/// An instance's clip by name.
pub fn clip(host: &Host, effect: Effect, name: &CStr) -> OfxResult<Clip> {
    let mut c = std::ptr::null_mut();
    let f = ofx_fn!(host.effects => OfxImageEffectSuiteV1::clipGetHandle)?;
    // SAFETY: an instance handle and a C string name; the properties out-pointer
    // may be null per the API.
    let st = unsafe { f(effect.as_ptr(), name.as_ptr(), &mut c, std::ptr::null_mut()) };
    check(st, || format!("getting clip {}", name.to_string_lossy()))?;
    // SAFETY: the host just gave `c` as the instance's clip `name`, which lives
    // as long as the instance.
    unsafe { Clip::new(c) }.ok_or_else(|| {
        OfxError::new(
            kOfxStatErrBadHandle,
            format!("clip {} is null", name.to_string_lossy()),
        )
    })
}

/// A parameter of `set` by name.
pub fn param(host: &Host, set: ParamSet, name: &CStr) -> OfxResult<Param> {
    let mut h = std::ptr::null_mut();
    let f = ofx_fn!(host.params => OfxParameterSuiteV1::paramGetHandle)?;
    // SAFETY: the instance's parameter set and a C string name; the properties
    // out-pointer may be null per the API.
    let st = unsafe { f(set.as_ptr(), name.as_ptr(), &mut h, std::ptr::null_mut()) };
    check(st, || {
        format!("getting parameter {}", name.to_string_lossy())
    })?;
    // SAFETY: the host just gave `h` as the parameter `name` of the set, which
    // lives as long as the instance.
    unsafe { Param::new(h) }.ok_or_else(|| {
        OfxError::new(
            kOfxStatErrBadHandle,
            format!("parameter {} is null", name.to_string_lossy()),
        )
    })
}

/// A clip's properties (`name` for the message if the host refuses).
pub fn clip_props<'h>(host: &'h Host, clip: Clip, name: &str) -> OfxResult<Props<'h>> {
    let mut p = std::ptr::null_mut();
    let f = ofx_fn!(host.effects => OfxImageEffectSuiteV1::clipGetPropertySet)?;
    // SAFETY: a clip handle of this instance and a valid out pointer.
    let st = unsafe { f(clip.as_ptr(), &mut p) };
    check(st, || format!("getting the {name}'s properties"))?;
    // SAFETY: the host just gave `p` as the clip's property set.
    Props::new(host, unsafe { PropSet::new(p) }, name)
}

/// A clip's region of definition at `time`, in canonical coordinates.
pub fn clip_rod(host: &Host, clip: Clip, name: &str, time: f64) -> OfxResult<OfxRectD> {
    let mut rod = OfxRectD::default();
    let f = ofx_fn!(host.effects => OfxImageEffectSuiteV1::clipGetRegionOfDefinition)?;
    // SAFETY: a clip handle of this instance and a valid out pointer.
    let st = unsafe { f(clip.as_ptr(), time, &mut rod) };
    check(st, || format!("getting the {name}'s region of definition"))?;
    Ok(rod)
}

/// True when a clip has an input connected.
pub fn clip_connected(host: &Host, clip: Clip) -> bool {
    clip_props(host, clip, "mask input")
        .and_then(|p| p.int(kOfxImageClipPropConnected, 0))
        .is_ok_and(|c| c != 0)
}
