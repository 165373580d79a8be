//! PerTouch as an OpenFX image effect: `PerTouch.ofx.bundle` for Natron and other
//! OpenFX hosts.
//!
//! The node retouches its Source by a region state stored in a string parameter
//! (saved with the project). The Apply button runs the offline agent once on the
//! current frame and writes the resulting state; renders never call the agent or
//! the network, so they are deterministic and safe on a render farm. Renders are
//! fully thread-safe and tiled: each frame is segmented and planned once (by the
//! core's [`pertouch_core::host::Engine`]) and every tile and render scale of it
//! renders as the same part of the whole frame.
//!
//! Modules: [`abi`] (the C API's declarations), [`handles`] (typed host
//! handles), [`suites`] (checked host calls), `effect` (an effect's objects),
//! `params` (the node's names), `describe` (what the node offers), `instance`
//! (per-instance data and settings), [`host_values`] (what host values mean,
//! pure and fuzzed), `image` (host images as pixel views), `engines` (the shared
//! engines), `render` (render-time actions), `words` (the instruction read at
//! render time), `failure` (what a failed render shows), `apply` (the Apply
//! button). All `unsafe` is in these host-binding modules; the imports between
//! them run one way (no module imports one that imports it).
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

pub mod abi;
mod apply;
mod describe;
mod effect;
mod engines;
mod failure;
pub mod handles;
pub mod host_values;
mod image;
mod instance;
mod params;
mod render;
pub mod suites;
mod words;

use abi::names::*;
use abi::*;
use handles::{Effect, PropSet};
use std::ffi::{c_char, c_int, c_void, CStr};
use std::panic::{catch_unwind, AssertUnwindSafe};
use suites::{OfxError, OfxResult};

/// The plug-in's identifier (reverse DNS).
pub const PLUGIN_ID: &CStr = c"org.pertouch.PerTouch";
/// The plug-in's version: the crate's, so the version a host shows from the
/// plug-in's numbers (kOfxPropVersion, the OfxPlugin table) and its label
/// (kOfxPropVersionLabel) agree.
pub const VERSION_MAJOR: u32 = parse_version(env!("CARGO_PKG_VERSION_MAJOR"));
pub const VERSION_MINOR: u32 = parse_version(env!("CARGO_PKG_VERSION_MINOR"));
pub const VERSION_PATCH: u32 = parse_version(env!("CARGO_PKG_VERSION_PATCH"));
/// The version as hosts show it ("0.1.0").
pub const VERSION_LABEL: &str = env!("CARGO_PKG_VERSION");

/// A version number's digits (at compile time).
const fn parse_version(s: &str) -> u32 {
    let b = s.as_bytes();
    let mut i = 0;
    let mut v = 0u32;
    while i < b.len() {
        v = v * 10 + (b[i] - b'0') as u32;
        i += 1;
    }
    v
}

struct PluginTable(OfxPlugin);
// SAFETY: the table is immutable; its pointers are to static C strings and its
// functions are thread-safe entry points.
unsafe impl Sync for PluginTable {}

static PLUGIN: PluginTable = PluginTable(OfxPlugin {
    pluginApi: kOfxImageEffectPluginApi.as_ptr(),
    apiVersion: 1,
    pluginIdentifier: PLUGIN_ID.as_ptr(),
    pluginVersionMajor: VERSION_MAJOR,
    pluginVersionMinor: VERSION_MINOR,
    setHost: Some(set_host),
    mainEntry: Some(main_entry),
});

/// How many plug-ins this binary holds.
#[no_mangle]
pub extern "C" fn OfxGetNumberOfPlugins() -> c_int {
    1
}

/// The `nth` plug-in (only 0), or null.
#[no_mangle]
pub extern "C" fn OfxGetPlugin(nth: c_int) -> *mut OfxPlugin {
    if nth == 0 {
        // The host only reads the table (OpenFX never writes it).
        std::ptr::addr_of!(PLUGIN.0).cast_mut()
    } else {
        std::ptr::null_mut()
    }
}

/// # Safety
/// `host` is null or the host's `OfxHost`, valid while the binary is loaded.
unsafe extern "C" fn set_host(host: *mut OfxHost) {
    // Nothing may unwind out of here: storing a pointer cannot panic.
    suites::set_host(host);
}

/// The entry point for every action. Panics are caught and reported as
/// kOfxStatErrFatal; errors are shown to the user (a render's as a persistent
/// message, Apply's as a message) and returned as their status.
///
/// # Safety
/// `action` is null or a C string; `handle` is null or the effect the action is
/// for; `in_args` and `out_args` are null or the action's property sets (the
/// OpenFX calling convention).
unsafe extern "C" fn main_entry(
    action: *const c_char,
    handle: *const c_void,
    in_args: OfxPropertySetHandle,
    out_args: OfxPropertySetHandle,
) -> OfxStatus {
    let run = || -> OfxStatus {
        if action.is_null() {
            return kOfxStatErrBadHandle;
        }
        // SAFETY: the host passes a NUL-terminated action name.
        let action = unsafe { CStr::from_ptr(action) };
        // SAFETY: the action's effect and argument sets, live for the action
        // (the OpenFX calling convention).
        let (effect, in_args, out_args) = unsafe {
            (
                Effect::new(handle.cast_mut().cast()),
                PropSet::new(in_args),
                PropSet::new(out_args),
            )
        };
        match dispatch(action, effect, in_args, out_args) {
            Ok(status) => status,
            Err(e) => {
                if e.status != kOfxStatReplyDefault {
                    tracing::warn!(action = %action.to_string_lossy(), "{}", e.message);
                    if let (Ok(host), Some(effect)) = (suites::host(), effect) {
                        let text = format!("PerTouch: {}", e.message);
                        if action == kOfxImageEffectActionRender {
                            suites::persist(&host, effect, kOfxMessageError, &text);
                        } else if action == kOfxActionInstanceChanged {
                            suites::post(&host, effect, kOfxMessageError, &text);
                        }
                    }
                }
                e.status
            }
        }
    };
    catch_unwind(AssertUnwindSafe(run)).unwrap_or_else(|p| {
        let what = p
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| p.downcast_ref::<String>().cloned())
            .unwrap_or_default();
        tracing::error!("PerTouch: internal error: {what}");
        kOfxStatErrFatal
    })
}

fn dispatch(
    action: &CStr,
    effect: Option<Effect>,
    in_args: Option<PropSet>,
    out_args: Option<PropSet>,
) -> OfxResult<OfxStatus> {
    if action == kOfxActionLoad {
        suites::load()?;
        return Ok(kOfxStatOK);
    }
    if action == kOfxActionUnload {
        suites::unload();
        return Ok(kOfxStatOK);
    }
    let host = suites::host()?;
    let Some(effect) = effect else {
        return Err(OfxError::new(kOfxStatErrBadHandle, "a null effect handle"));
    };
    let h = &*host;
    if action == kOfxActionDescribe {
        describe::describe(h, effect)?;
    } else if action == kOfxImageEffectActionDescribeInContext {
        describe::describe_in_context(h, effect, in_args)?;
    } else if action == kOfxActionCreateInstance {
        instance::create(h, effect)?;
    } else if action == kOfxActionDestroyInstance {
        instance::destroy(h, effect)?;
    } else if action == kOfxImageEffectActionRender {
        render::render(h, effect, in_args)?;
    } else if action == kOfxImageEffectActionIsIdentity {
        return render::is_identity(h, effect, in_args, out_args);
    } else if action == kOfxImageEffectActionGetRegionsOfInterest {
        render::regions_of_interest(h, effect, in_args, out_args)?;
    } else if action == kOfxImageEffectActionGetClipPreferences {
        render::clip_preferences(h, effect, out_args)?;
    } else if action == kOfxActionInstanceChanged {
        return apply::instance_changed(h, effect, in_args);
    } else if action == kOfxActionPurgeCaches {
        engines::purge();
        words::purge();
    } else {
        // Region of definition, time domain, frames needed, sequence render,
        // sync and edit actions: the host's defaults are right for this node.
        return Ok(kOfxStatReplyDefault);
    }
    Ok(kOfxStatOK)
}
