//! The host's suites, fetched once at load, and checked wrappers around the
//! calls the plug-in makes: every slot is looked at before it is called
//! ([`ofx_fn`] names a missing `Suite::function`), every status is looked at,
//! and a missing or failing call becomes an [`OfxError`] instead of a crash.

use crate::abi::{self, names::*, *};
use crate::handles::{Effect, PropSet};
use parking_lot::RwLock;
use std::ffi::{c_char, c_int, c_void, CStr, CString};
use std::sync::Arc;

/// A failed host call or a plug-in error, with the status to return to the host.
#[derive(Debug, Clone)]
pub struct OfxError {
    pub status: OfxStatus,
    pub message: String,
}

impl OfxError {
    pub fn new(status: OfxStatus, message: impl Into<String>) -> Self {
        OfxError {
            status,
            message: message.into(),
        }
    }

    pub fn failed(message: impl Into<String>) -> Self {
        Self::new(kOfxStatFailed, message)
    }

    /// A suite slot the host left null (`function` is `Suite::function`).
    pub fn missing(function: &str) -> Self {
        Self::new(
            kOfxStatErrMissingHostFeature,
            format!(
                "the host left {function} null (OpenFX requires it); PerTouch cannot do this in this host"
            ),
        )
    }
}

pub type OfxResult<T> = Result<T, OfxError>;

/// The function in a host suite's slot, or `Err(OfxError::missing(..))` naming
/// `Suite::function` when the host left the slot null. Every host call goes
/// through it, then through an `unsafe` block of the caller's with its own
/// `// SAFETY:` comment (only the caller knows why the arguments meet the
/// function's contract):
///
/// ```ignore
/// let f = ofx_fn!(host.props => OfxPropertySuiteV1::propSetInt)?;
/// // SAFETY: a live property set and a C string name.
/// let st = unsafe { f(handle, name.as_ptr(), 0, 1) };
/// ```
///
/// The suite expression must be a `&Suite` of the type named (checked).
macro_rules! ofx_fn {
    ($suite:expr => $ty:ident :: $f:ident) => {{
        let suite: &$crate::abi::$ty = $suite;
        suite.$f.ok_or_else(|| {
            $crate::suites::OfxError::missing(concat!(stringify!($ty), "::", stringify!($f)))
        })
    }};
}
pub(crate) use ofx_fn;

/// Checks a host call's status.
pub fn check(status: OfxStatus, what: impl FnOnce() -> String) -> OfxResult<()> {
    if status == kOfxStatOK {
        Ok(())
    } else {
        Err(OfxError::new(
            status,
            format!("{} (status {status})", what()),
        ))
    }
}

/// The suites this plug-in uses. The three required ones must be there; memory
/// and multithread suites are not used (we allocate with Rust and thread with
/// the core's pool); the message suite is optional (without it messages go to
/// the log only).
pub struct Host {
    pub props: &'static OfxPropertySuiteV1,
    pub effects: &'static OfxImageEffectSuiteV1,
    pub params: &'static OfxParameterSuiteV1,
    /// Version 1 (`message`) or, where the host has it, version 2, whose first
    /// slot is the same function.
    pub message: Option<&'static OfxMessageSuiteV1>,
    /// Version 2: persistent messages (a badge or line on the node in hosts
    /// that show them; MLT logs them).
    pub persistent: Option<&'static OfxMessageSuiteV2>,
    /// Whether the host renders in tiles (kOfxImageEffectPropSupportsTiles on
    /// the host): a host that does not hands over whole frames.
    pub supports_tiles: bool,
}

static HOST_PTR: RwLock<usize> = RwLock::new(0);
static HOST: RwLock<Option<Arc<Host>>> = RwLock::new(None);

/// Remembers the host's `OfxHost` (setHost: nothing else may be called yet).
pub fn set_host(host: *mut OfxHost) {
    *HOST_PTR.write() = host as usize;
}

/// Fetches the suites and reads the host's capabilities (kOfxActionLoad).
pub fn load() -> OfxResult<()> {
    let ptr = *HOST_PTR.read() as *mut OfxHost;
    if ptr.is_null() {
        return Err(OfxError::new(
            kOfxStatErrMissingHostFeature,
            "the host did not call setHost before load",
        ));
    }
    // SAFETY: the host gave this pointer in setHost and keeps it valid while the
    // binary is loaded.
    let host = unsafe { &*ptr };
    let Some(fetch) = host.fetchSuite else {
        return Err(OfxError::missing("OfxHost::fetchSuite"));
    };
    let get = |name: &CStr, version: c_int| -> *const c_void {
        // SAFETY: fetchSuite with the host handle it came with, a C string name.
        unsafe { fetch(host.host, name.as_ptr(), version) }
    };
    let missing = |name: &CStr| {
        OfxError::new(
            kOfxStatErrMissingHostFeature,
            format!("the host has no {} suite", name.to_string_lossy()),
        )
    };
    let props = get(kOfxPropertySuite, 1).cast::<OfxPropertySuiteV1>();
    let effects = get(kOfxImageEffectSuite, 1).cast::<OfxImageEffectSuiteV1>();
    let params = get(kOfxParameterSuite, 1).cast::<OfxParameterSuiteV1>();
    let persistent = get(kOfxMessageSuite, 2).cast::<OfxMessageSuiteV2>();
    let message = if persistent.is_null() {
        get(kOfxMessageSuite, 1).cast::<OfxMessageSuiteV1>()
    } else {
        // Version 2 begins with version 1's one function.
        persistent.cast::<OfxMessageSuiteV1>()
    };
    // SAFETY: non-null suite pointers point at the versions asked for, valid while
    // the binary is loaded; null ones are reported as missing or left out.
    let mut h = unsafe {
        Host {
            props: props.as_ref().ok_or_else(|| missing(kOfxPropertySuite))?,
            effects: effects
                .as_ref()
                .ok_or_else(|| missing(kOfxImageEffectSuite))?,
            params: params.as_ref().ok_or_else(|| missing(kOfxParameterSuite))?,
            message: message.as_ref(),
            persistent: persistent.as_ref(),
            supports_tiles: true,
        }
    };
    // SAFETY: the host's own property set, valid while the binary is loaded.
    if let Ok(p) = Props::new(&h, unsafe { PropSet::new(host.host) }, "host properties") {
        h.supports_tiles = p
            .int(kOfxImageEffectPropSupportsTiles, 0)
            .map_or(true, |v| v != 0);
    }
    *HOST.write() = Some(Arc::new(h));
    Ok(())
}

/// Forgets the suites (kOfxActionUnload).
pub fn unload() {
    *HOST.write() = None;
}

/// The suites, once loaded.
pub fn host() -> OfxResult<Arc<Host>> {
    HOST.read().clone().ok_or_else(|| {
        OfxError::new(
            kOfxStatErrMissingHostFeature,
            "an action before kOfxActionLoad",
        )
    })
}

fn cstr(s: &str) -> CString {
    CString::new(s.replace('\0', " ")).unwrap_or_default()
}

/// A property set with the host's property suite.
#[derive(Clone, Copy)]
pub struct Props<'h> {
    pub host: &'h Host,
    pub handle: PropSet,
}

impl<'h> Props<'h> {
    /// The property set `handle` (`what` names it when the host gave null).
    pub fn new(host: &'h Host, handle: Option<PropSet>, what: &str) -> OfxResult<Self> {
        match handle {
            Some(handle) => Ok(Props { host, handle }),
            None => Err(OfxError::new(
                kOfxStatErrBadHandle,
                format!("the host gave a null property set for {what}"),
            )),
        }
    }

    fn name(p: &CStr) -> String {
        p.to_string_lossy().into_owned()
    }

    pub fn set_string(&self, p: &CStr, i: c_int, v: &str) -> OfxResult<()> {
        let v = cstr(v);
        let f = ofx_fn!(self.host.props => OfxPropertySuiteV1::propSetString)?;
        // SAFETY: a live property set, C strings that outlive the call.
        let st = unsafe { f(self.handle.as_ptr(), p.as_ptr(), i, v.as_ptr()) };
        check(st, || format!("setting {}", Self::name(p)))
    }

    pub fn set_strings(&self, p: &CStr, vs: &[&CStr]) -> OfxResult<()> {
        for (i, v) in vs.iter().enumerate() {
            let f = ofx_fn!(self.host.props => OfxPropertySuiteV1::propSetString)?;
            // SAFETY: as in set_string.
            let st = unsafe { f(self.handle.as_ptr(), p.as_ptr(), i as c_int, v.as_ptr()) };
            check(st, || format!("setting {}[{i}]", Self::name(p)))?;
        }
        Ok(())
    }

    pub fn set_int(&self, p: &CStr, i: c_int, v: c_int) -> OfxResult<()> {
        let f = ofx_fn!(self.host.props => OfxPropertySuiteV1::propSetInt)?;
        // SAFETY: a live property set and a C string name.
        let st = unsafe { f(self.handle.as_ptr(), p.as_ptr(), i, v) };
        check(st, || format!("setting {}", Self::name(p)))
    }

    pub fn set_double(&self, p: &CStr, i: c_int, v: f64) -> OfxResult<()> {
        let f = ofx_fn!(self.host.props => OfxPropertySuiteV1::propSetDouble)?;
        // SAFETY: a live property set and a C string name.
        let st = unsafe { f(self.handle.as_ptr(), p.as_ptr(), i, v) };
        check(st, || format!("setting {}", Self::name(p)))
    }

    pub fn set_doubles(&self, p: &CStr, vs: &[f64]) -> OfxResult<()> {
        let f = ofx_fn!(self.host.props => OfxPropertySuiteV1::propSetDoubleN)?;
        // SAFETY: `vs` holds the count of doubles passed.
        let st = unsafe {
            f(
                self.handle.as_ptr(),
                p.as_ptr(),
                vs.len() as c_int,
                vs.as_ptr(),
            )
        };
        check(st, || format!("setting {}", Self::name(p)))
    }

    /// Stores an address (the host keeps it; it never dereferences it).
    // Clippy sees a raw pointer handed to an unsafe function; the host only
    // stores it, so no dereference happens here.
    #[allow(clippy::not_unsafe_ptr_arg_deref)]
    pub fn set_pointer(&self, p: &CStr, v: *mut c_void) -> OfxResult<()> {
        let f = ofx_fn!(self.host.props => OfxPropertySuiteV1::propSetPointer)?;
        // SAFETY: a live property set; the pointer is stored, not dereferenced.
        let st = unsafe { f(self.handle.as_ptr(), p.as_ptr(), 0, v) };
        check(st, || format!("setting {}", Self::name(p)))
    }

    pub fn string(&self, p: &CStr, i: c_int) -> OfxResult<String> {
        let mut out: *mut c_char = std::ptr::null_mut();
        let f = ofx_fn!(self.host.props => OfxPropertySuiteV1::propGetString)?;
        // SAFETY: a live property set; `out` is a valid place for the host's pointer.
        let st = unsafe { f(self.handle.as_ptr(), p.as_ptr(), i, &mut out) };
        check(st, || format!("reading {}", Self::name(p)))?;
        if out.is_null() {
            return Err(OfxError::new(
                kOfxStatErrValue,
                format!("{} is a null string", Self::name(p)),
            ));
        }
        // SAFETY: the host returns a NUL-terminated string valid until the property
        // changes; it is copied at once.
        Ok(unsafe { CStr::from_ptr(out) }
            .to_string_lossy()
            .into_owned())
    }

    pub fn int(&self, p: &CStr, i: c_int) -> OfxResult<c_int> {
        let mut v = 0;
        let f = ofx_fn!(self.host.props => OfxPropertySuiteV1::propGetInt)?;
        // SAFETY: a live property set and a valid out pointer.
        let st = unsafe { f(self.handle.as_ptr(), p.as_ptr(), i, &mut v) };
        check(st, || format!("reading {}", Self::name(p)))?;
        Ok(v)
    }

    pub fn double(&self, p: &CStr, i: c_int) -> OfxResult<f64> {
        let mut v = 0.0;
        let f = ofx_fn!(self.host.props => OfxPropertySuiteV1::propGetDouble)?;
        // SAFETY: a live property set and a valid out pointer.
        let st = unsafe { f(self.handle.as_ptr(), p.as_ptr(), i, &mut v) };
        check(st, || format!("reading {}", Self::name(p)))?;
        Ok(v)
    }

    pub fn pointer(&self, p: &CStr) -> OfxResult<*mut c_void> {
        let mut v = std::ptr::null_mut();
        let f = ofx_fn!(self.host.props => OfxPropertySuiteV1::propGetPointer)?;
        // SAFETY: a live property set and a valid out pointer.
        let st = unsafe { f(self.handle.as_ptr(), p.as_ptr(), 0, &mut v) };
        check(st, || format!("reading {}", Self::name(p)))?;
        Ok(v)
    }

    /// Four ints (a rectangle).
    pub fn rect_i(&self, p: &CStr) -> OfxResult<OfxRectI> {
        let mut v = [0 as c_int; 4];
        let f = ofx_fn!(self.host.props => OfxPropertySuiteV1::propGetIntN)?;
        // SAFETY: `v` has room for the 4 ints asked for.
        let st = unsafe { f(self.handle.as_ptr(), p.as_ptr(), 4, v.as_mut_ptr()) };
        check(st, || format!("reading {}", Self::name(p)))?;
        Ok(OfxRectI {
            x1: v[0],
            y1: v[1],
            x2: v[2],
            y2: v[3],
        })
    }

    /// `N` doubles.
    pub fn doubles<const N: usize>(&self, p: &CStr) -> OfxResult<[f64; N]> {
        let mut v = [0.0; N];
        let f = ofx_fn!(self.host.props => OfxPropertySuiteV1::propGetDoubleN)?;
        // SAFETY: `v` has room for the N doubles asked for.
        let st = unsafe { f(self.handle.as_ptr(), p.as_ptr(), N as c_int, v.as_mut_ptr()) };
        check(st, || format!("reading {}", Self::name(p)))?;
        Ok(v)
    }
}

/// Posts `text` to the user as a one-off message (a dialog in hosts like
/// Natron: for answers to a button press, not for renders) and to the log.
pub fn post(host: &Host, effect: Effect, kind: &CStr, text: &str) {
    tracing::warn!("{text}");
    let Some(message) = host
        .message
        .and_then(|m| ofx_fn!(m => OfxMessageSuiteV1::message).ok())
    else {
        return;
    };
    let t = cstr(text);
    // SAFETY: the message function takes a printf format; "%s" with one C string
    // argument, all valid for the call; the effect is this action's.
    unsafe {
        message(
            effect.as_ptr().cast::<c_void>(),
            kind.as_ptr(),
            c"PerTouch".as_ptr(),
            c"%s".as_ptr(),
            t.as_ptr(),
        );
    }
}

/// Shows `text` on the node until it is cleared (a persistent message where
/// the host has message suite V2; an error falls back to a one-off message in
/// a V1 host, a note to the log only).
pub fn persist(host: &Host, effect: Effect, kind: &CStr, text: &str) {
    let t = cstr(text);
    let set = host
        .persistent
        .and_then(|m| ofx_fn!(m => OfxMessageSuiteV2::setPersistentMessage).ok());
    let shown = set.is_some_and(|set| {
        // SAFETY: as in `post`: "%s" and one C string, the action's effect.
        let st = unsafe {
            set(
                effect.as_ptr().cast::<c_void>(),
                kind.as_ptr(),
                c"PerTouch".as_ptr(),
                c"%s".as_ptr(),
                t.as_ptr(),
            )
        };
        st == kOfxStatOK
    });
    if shown {
        tracing::warn!("{text}");
    } else if kind == kOfxMessageError {
        post(host, effect, kind, text);
    } else {
        tracing::warn!("{text}");
    }
}

/// Clears the node's persistent message (after a render that went well).
pub fn clear_persistent(host: &Host, effect: Effect) {
    let clear = host
        .persistent
        .and_then(|m| ofx_fn!(m => OfxMessageSuiteV2::clearPersistentMessage).ok());
    if let Some(clear) = clear {
        // SAFETY: the action's effect handle.
        unsafe { clear(effect.as_ptr().cast::<c_void>()) };
    }
}

pub use abi::names;
