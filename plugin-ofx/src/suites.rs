//! The host's suites, fetched once at load, and small checked wrappers around the
//! calls the plug-in makes: every call's status is looked at, and a missing or
//! failing call becomes an [`OfxError`] instead of a crash.

use crate::abi::{self, names::*, *};
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
}

pub type OfxResult<T> = Result<T, OfxError>;

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

/// The suites this plug-in uses. The three required ones must be there; memory,
/// multithread and message suites are optional (we allocate with Rust, thread
/// with the core's pool, and log when messages cannot be posted).
pub struct Host {
    pub props: &'static OfxPropertySuiteV1,
    pub effects: &'static OfxImageEffectSuiteV1,
    pub params: &'static OfxParameterSuiteV1,
    pub message: Option<&'static OfxMessageSuiteV1>,
    pub host_props: OfxPropertySetHandle,
}

// SAFETY: the suites are tables of functions the host promises are callable from
// any thread for as long as the binary is loaded (OpenFX threading rules); the
// host property set handle is only passed back to the host.
unsafe impl Send for Host {}
// SAFETY: as above; nothing in `Host` is mutated after load.
unsafe impl Sync for Host {}

static HOST_PTR: RwLock<usize> = RwLock::new(0);
static HOST: RwLock<Option<Arc<Host>>> = RwLock::new(None);

/// Remembers the host's `OfxHost` (setHost: nothing else may be called yet).
pub fn set_host(host: *mut OfxHost) {
    *HOST_PTR.write() = host as usize;
}

/// Fetches the suites (kOfxActionLoad).
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
        return Err(OfxError::new(
            kOfxStatErrMissingHostFeature,
            "the host has no fetchSuite",
        ));
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
    let message = get(kOfxMessageSuite, 1).cast::<OfxMessageSuiteV1>();
    // SAFETY: non-null suite pointers point at the versions asked for, valid while
    // the binary is loaded; null ones are reported as missing.
    let h = unsafe {
        Host {
            props: props.as_ref().ok_or_else(|| missing(kOfxPropertySuite))?,
            effects: effects
                .as_ref()
                .ok_or_else(|| missing(kOfxImageEffectSuite))?,
            params: params.as_ref().ok_or_else(|| missing(kOfxParameterSuite))?,
            message: message.as_ref(),
            host_props: host.host,
        }
    };
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
    pub handle: OfxPropertySetHandle,
}

impl<'h> Props<'h> {
    pub fn new(host: &'h Host, handle: OfxPropertySetHandle) -> OfxResult<Self> {
        if handle.is_null() {
            return Err(OfxError::new(kOfxStatErrBadHandle, "a null property set"));
        }
        Ok(Props { host, handle })
    }

    fn name(p: &CStr) -> String {
        p.to_string_lossy().into_owned()
    }

    pub fn set_string(&self, p: &CStr, i: c_int, v: &str) -> OfxResult<()> {
        let v = cstr(v);
        // SAFETY: a live property set, C strings that outlive the call.
        check(
            unsafe { (self.host.props.propSetString)(self.handle, p.as_ptr(), i, v.as_ptr()) },
            || format!("setting {}", Self::name(p)),
        )
    }

    pub fn set_strings(&self, p: &CStr, vs: &[&CStr]) -> OfxResult<()> {
        for (i, v) in vs.iter().enumerate() {
            // SAFETY: as in set_string.
            check(
                unsafe {
                    (self.host.props.propSetString)(self.handle, p.as_ptr(), i as c_int, v.as_ptr())
                },
                || format!("setting {}[{i}]", Self::name(p)),
            )?;
        }
        Ok(())
    }

    pub fn set_int(&self, p: &CStr, i: c_int, v: c_int) -> OfxResult<()> {
        // SAFETY: a live property set and a C string name.
        check(
            unsafe { (self.host.props.propSetInt)(self.handle, p.as_ptr(), i, v) },
            || format!("setting {}", Self::name(p)),
        )
    }

    pub fn set_double(&self, p: &CStr, i: c_int, v: f64) -> OfxResult<()> {
        // SAFETY: a live property set and a C string name.
        check(
            unsafe { (self.host.props.propSetDouble)(self.handle, p.as_ptr(), i, v) },
            || format!("setting {}", Self::name(p)),
        )
    }

    pub fn set_doubles(&self, p: &CStr, vs: &[f64]) -> OfxResult<()> {
        // SAFETY: `vs` holds the count of doubles passed.
        check(
            unsafe {
                (self.host.props.propSetDoubleN)(
                    self.handle,
                    p.as_ptr(),
                    vs.len() as c_int,
                    vs.as_ptr(),
                )
            },
            || format!("setting {}", Self::name(p)),
        )
    }

    /// Stores an address (the host keeps it; we never dereference it here).
    pub fn set_pointer(&self, p: &CStr, v: usize) -> OfxResult<()> {
        // SAFETY: a live property set; the pointer is stored, not dereferenced.
        check(
            unsafe {
                (self.host.props.propSetPointer)(self.handle, p.as_ptr(), 0, v as *mut c_void)
            },
            || format!("setting {}", Self::name(p)),
        )
    }

    pub fn string(&self, p: &CStr, i: c_int) -> OfxResult<String> {
        let mut out: *mut c_char = std::ptr::null_mut();
        // SAFETY: a live property set; `out` is a valid place for the host's pointer.
        check(
            unsafe { (self.host.props.propGetString)(self.handle, p.as_ptr(), i, &mut out) },
            || format!("reading {}", Self::name(p)),
        )?;
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
        // SAFETY: a live property set and a valid out pointer.
        check(
            unsafe { (self.host.props.propGetInt)(self.handle, p.as_ptr(), i, &mut v) },
            || format!("reading {}", Self::name(p)),
        )?;
        Ok(v)
    }

    pub fn double(&self, p: &CStr, i: c_int) -> OfxResult<f64> {
        let mut v = 0.0;
        // SAFETY: a live property set and a valid out pointer.
        check(
            unsafe { (self.host.props.propGetDouble)(self.handle, p.as_ptr(), i, &mut v) },
            || format!("reading {}", Self::name(p)),
        )?;
        Ok(v)
    }

    pub fn pointer(&self, p: &CStr) -> OfxResult<*mut c_void> {
        let mut v = std::ptr::null_mut();
        // SAFETY: a live property set and a valid out pointer.
        check(
            unsafe { (self.host.props.propGetPointer)(self.handle, p.as_ptr(), 0, &mut v) },
            || format!("reading {}", Self::name(p)),
        )?;
        Ok(v)
    }

    /// Four ints (a rectangle).
    pub fn rect_i(&self, p: &CStr) -> OfxResult<OfxRectI> {
        let mut v = [0 as c_int; 4];
        // SAFETY: `v` has room for the 4 ints asked for.
        check(
            unsafe { (self.host.props.propGetIntN)(self.handle, p.as_ptr(), 4, v.as_mut_ptr()) },
            || format!("reading {}", Self::name(p)),
        )?;
        Ok(OfxRectI {
            x1: v[0],
            y1: v[1],
            x2: v[2],
            y2: v[3],
        })
    }

    /// `n` doubles.
    pub fn doubles<const N: usize>(&self, p: &CStr) -> OfxResult<[f64; N]> {
        let mut v = [0.0; N];
        // SAFETY: `v` has room for the N doubles asked for.
        check(
            unsafe {
                (self.host.props.propGetDoubleN)(
                    self.handle,
                    p.as_ptr(),
                    N as c_int,
                    v.as_mut_ptr(),
                )
            },
            || format!("reading {}", Self::name(p)),
        )?;
        Ok(v)
    }
}

/// Posts `text` to the user through the message suite (or the log, without one).
/// `handle` is the effect the message is about (an address the host gave).
pub fn post(host: &Host, handle: usize, kind: &CStr, text: &str) {
    tracing::warn!("{text}");
    if let Some(m) = host.message {
        let t = cstr(text);
        // SAFETY: the message function takes a printf format; "%s" with one C
        // string argument, all valid for the call.
        unsafe {
            (m.message)(
                handle as *mut c_void,
                kind.as_ptr(),
                c"PerTouch".as_ptr(),
                c"%s".as_ptr(),
                t.as_ptr(),
            );
        }
    }
}

pub use abi::names;
