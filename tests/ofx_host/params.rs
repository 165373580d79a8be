//! Parameters and the parameter suite of the test host (values are not animated:
//! a value at any time is the value).

use super::props;
use parking_lot::Mutex;
use pertouch_core::host::Registry;
use pertouch_ofx::abi::*;
use std::ffi::{c_char, c_int, c_uint, c_void, CStr, CString};

/// A parameter's value.
#[derive(Debug, Clone, PartialEq)]
pub enum PValue {
    Doubles(Vec<f64>),
    Ints(Vec<i32>),
    Text(CString),
    Nothing,
}

pub struct Param {
    pub name: String,
    pub kind: String,
    pub props: OfxPropertySetHandle,
    pub value: Mutex<PValue>,
}

// SAFETY: `props` is a registry key of this host, only looked up, never dereferenced.
unsafe impl Send for Param {}
// SAFETY: as above; the value is behind a mutex.
unsafe impl Sync for Param {}

#[derive(Default)]
pub struct ParamSet {
    pub params: Mutex<Vec<usize>>,
    pub props: usize,
}

pub static PARAMS: Registry<Param> = Registry::new();
pub static SETS: Registry<ParamSet> = Registry::new();

pub fn new_set() -> OfxParamSetHandle {
    SETS.insert(ParamSet {
        params: Mutex::new(Vec::new()),
        props: props::new() as usize,
    }) as OfxParamSetHandle
}

fn kind_dims(kind: &str) -> (i32, i32) {
    match kind {
        "OfxParamTypeDouble" => (0, 1),
        "OfxParamTypeDouble2D" => (0, 2),
        "OfxParamTypeDouble3D" | "OfxParamTypeRGB" => (0, 3),
        "OfxParamTypeRGBA" => (0, 4),
        "OfxParamTypeInteger" | "OfxParamTypeBoolean" | "OfxParamTypeChoice" => (1, 1),
        "OfxParamTypeInteger2D" => (1, 2),
        "OfxParamTypeInteger3D" => (1, 3),
        "OfxParamTypeString" => (2, 1),
        _ => (3, 0),
    }
}

/// The value a parameter starts with: its default property.
fn default_value(kind: &str, h: OfxPropertySetHandle) -> PValue {
    match kind_dims(kind) {
        (0, n) => {
            let mut d = props::get_doubles(h, "OfxParamPropDefault");
            d.resize(n as usize, 0.0);
            PValue::Doubles(d)
        }
        (1, n) => {
            let mut d: Vec<i32> = props::get_doubles(h, "OfxParamPropDefault")
                .iter()
                .map(|v| *v as i32)
                .collect();
            d.resize(n as usize, 0);
            PValue::Ints(d)
        }
        (2, _) => PValue::Text(
            CString::new(props::get_str(h, "OfxParamPropDefault").unwrap_or_default())
                .unwrap_or_default(),
        ),
        _ => PValue::Nothing,
    }
}

/// Adds a parameter of `kind` named `name` to `set`.
pub fn define(
    set: OfxParamSetHandle,
    kind: &str,
    name: &str,
    from: Option<OfxPropertySetHandle>,
) -> Option<OfxParamHandle> {
    let s = SETS.get(set as usize)?;
    let p = match from {
        Some(src) => props::copy(src),
        None => props::new(),
    };
    props::set_str(p, "OfxParamPropType", kind);
    props::set_str(p, "OfxPropName", name);
    let param = Param {
        name: name.to_string(),
        kind: kind.to_string(),
        props: p,
        value: Mutex::new(default_value(kind, p)),
    };
    let h = PARAMS.insert(param);
    s.params.lock().push(h);
    Some(h as OfxParamHandle)
}

/// Finds a parameter of `set` by name.
pub fn find(set: OfxParamSetHandle, name: &str) -> Option<std::sync::Arc<Param>> {
    let s = SETS.get(set as usize)?;
    let list = s.params.lock().clone();
    list.into_iter()
        .filter_map(|h| PARAMS.get(h))
        .find(|p| p.name == name)
}

pub fn handle_of(set: OfxParamSetHandle, name: &str) -> Option<usize> {
    let s = SETS.get(set as usize)?;
    let list = s.params.lock().clone();
    list.into_iter()
        .find(|h| PARAMS.get(*h).is_some_and(|p| p.name == name))
}

/// Every parameter of `set`.
pub fn all(set: OfxParamSetHandle) -> Vec<std::sync::Arc<Param>> {
    SETS.get(set as usize)
        .map(|s| {
            s.params
                .lock()
                .iter()
                .filter_map(|h| PARAMS.get(*h))
                .collect()
        })
        .unwrap_or_default()
}

/// # Safety
/// `p` is null or a C string.
unsafe fn text(p: *const c_char) -> Option<String> {
    // SAFETY: per the contract.
    (!p.is_null()).then(|| unsafe { CStr::from_ptr(p) }.to_string_lossy().into_owned())
}

unsafe extern "C" fn param_define(
    set: OfxParamSetHandle,
    kind: *const c_char,
    name: *const c_char,
    out: *mut OfxPropertySetHandle,
) -> OfxStatus {
    // SAFETY: C strings from the plug-in.
    let (Some(kind), Some(name)) = (unsafe { text(kind) }, unsafe { text(name) }) else {
        return kOfxStatErrValue;
    };
    if SETS.get(set as usize).is_none() {
        return kOfxStatErrBadHandle;
    }
    if find(set, &name).is_some() {
        return kOfxStatErrExists;
    }
    let Some(h) = define(set, &kind, &name, None) else {
        return kOfxStatErrBadHandle;
    };
    if !out.is_null() {
        // SAFETY: writable out pointer from the plug-in.
        unsafe {
            *out = PARAMS
                .get(h as usize)
                .map(|p| p.props)
                .unwrap_or(std::ptr::null_mut())
        };
    }
    kOfxStatOK
}

unsafe extern "C" fn param_get_handle(
    set: OfxParamSetHandle,
    name: *const c_char,
    out: *mut OfxParamHandle,
    props_out: *mut OfxPropertySetHandle,
) -> OfxStatus {
    // SAFETY: a C string from the plug-in.
    let Some(name) = (unsafe { text(name) }) else {
        return kOfxStatErrValue;
    };
    if SETS.get(set as usize).is_none() {
        return kOfxStatErrBadHandle;
    }
    let Some(h) = handle_of(set, &name) else {
        return kOfxStatErrUnknown;
    };
    if out.is_null() {
        return kOfxStatErrValue;
    }
    // SAFETY: writable out pointers from the plug-in (props_out may be null).
    unsafe {
        *out = h as OfxParamHandle;
        if !props_out.is_null() {
            *props_out = PARAMS
                .get(h)
                .map(|p| p.props)
                .unwrap_or(std::ptr::null_mut());
        }
    }
    kOfxStatOK
}

unsafe extern "C" fn param_set_get_property_set(
    set: OfxParamSetHandle,
    out: *mut OfxPropertySetHandle,
) -> OfxStatus {
    match SETS.get(set as usize) {
        Some(s) if !out.is_null() => {
            // SAFETY: writable out pointer.
            unsafe { *out = s.props as OfxPropertySetHandle };
            kOfxStatOK
        }
        Some(_) => kOfxStatErrValue,
        None => kOfxStatErrBadHandle,
    }
}

unsafe extern "C" fn param_get_property_set(
    p: OfxParamHandle,
    out: *mut OfxPropertySetHandle,
) -> OfxStatus {
    match PARAMS.get(p as usize) {
        Some(p) if !out.is_null() => {
            // SAFETY: writable out pointer.
            unsafe { *out = p.props };
            kOfxStatOK
        }
        Some(_) => kOfxStatErrValue,
        None => kOfxStatErrBadHandle,
    }
}

/// Called by the C shim: the value layout of a parameter.
unsafe extern "C" fn shim_kind(p: *mut c_void, kind: *mut c_int, dims: *mut c_int) -> c_int {
    let Some(p) = PARAMS.get(p as usize) else {
        return -1;
    };
    let (k, d) = kind_dims(&p.kind);
    // SAFETY: the shim passes valid out pointers.
    unsafe {
        *kind = k;
        *dims = d;
    }
    0
}

unsafe extern "C" fn shim_get(
    p: *mut c_void,
    _has_time: c_int,
    _time: f64,
    outs: *mut *mut c_void,
    dims: c_int,
) -> OfxStatus {
    let Some(p) = PARAMS.get(p as usize) else {
        return kOfxStatErrBadHandle;
    };
    // Text is handed out as a pointer into the stored value, which stays put until
    // the next set (when OpenFX says the pointer may change).
    let v = p.value.lock();
    for k in 0..dims.max(0) as usize {
        // SAFETY: the shim collected `dims` out pointers from the variadic list.
        let o = unsafe { *outs.add(k) };
        if o.is_null() {
            return kOfxStatErrValue;
        }
        // SAFETY: the out pointer has the type the parameter's kind implies (the
        // OpenFX contract for paramGetValue).
        unsafe {
            match &*v {
                PValue::Doubles(d) => *o.cast::<f64>() = d[k],
                PValue::Ints(i) => *o.cast::<c_int>() = i[k],
                PValue::Text(s) => *o.cast::<*const c_char>() = s.as_ptr(),
                PValue::Nothing => return kOfxStatErrValue,
            }
        }
    }
    kOfxStatOK
}

unsafe extern "C" fn shim_set(
    p: *mut c_void,
    _has_time: c_int,
    _time: f64,
    d: *const f64,
    i: *const c_int,
    s: *const c_char,
    dims: c_int,
) -> OfxStatus {
    let Some(p) = PARAMS.get(p as usize) else {
        return kOfxStatErrBadHandle;
    };
    let n = dims.max(0) as usize;
    let new = match kind_dims(&p.kind).0 {
        // SAFETY: the shim passes arrays of 4.
        0 => PValue::Doubles((0..n).map(|k| unsafe { *d.add(k) }).collect()),
        // SAFETY: as above.
        1 => PValue::Ints((0..n).map(|k| unsafe { *i.add(k) }).collect()),
        2 => {
            if s.is_null() {
                return kOfxStatErrValue;
            }
            // SAFETY: a C string from the plug-in, copied.
            PValue::Text(unsafe { CStr::from_ptr(s) }.to_owned())
        }
        _ => return kOfxStatErrValue,
    };
    *p.value.lock() = new;
    super::note_param_set(&p.name);
    kOfxStatOK
}

unsafe extern "C" fn get_num_keys(p: OfxParamHandle, n: *mut c_uint) -> OfxStatus {
    if PARAMS.get(p as usize).is_none() {
        return kOfxStatErrBadHandle;
    }
    if !n.is_null() {
        // SAFETY: writable out pointer.
        unsafe { *n = 0 };
    }
    kOfxStatOK
}
unsafe extern "C" fn get_key_time(_p: OfxParamHandle, _n: c_uint, _t: *mut OfxTime) -> OfxStatus {
    kOfxStatErrBadIndex
}
unsafe extern "C" fn get_key_index(
    _p: OfxParamHandle,
    _t: OfxTime,
    _d: c_int,
    _i: *mut c_int,
) -> OfxStatus {
    kOfxStatFailed
}
unsafe extern "C" fn delete_key(_p: OfxParamHandle, _t: OfxTime) -> OfxStatus {
    kOfxStatErrBadIndex
}
unsafe extern "C" fn delete_all_keys(p: OfxParamHandle) -> OfxStatus {
    if PARAMS.get(p as usize).is_some() {
        kOfxStatOK
    } else {
        kOfxStatErrBadHandle
    }
}
unsafe extern "C" fn copy(
    _to: OfxParamHandle,
    _from: OfxParamHandle,
    _o: OfxTime,
    _r: *const OfxRangeD,
) -> OfxStatus {
    kOfxStatErrUnsupported
}
unsafe extern "C" fn edit_begin(_s: OfxParamSetHandle, _n: *const c_char) -> OfxStatus {
    kOfxStatOK
}
unsafe extern "C" fn edit_end(_s: OfxParamSetHandle) -> OfxStatus {
    kOfxStatOK
}

unsafe extern "C" {
    fn ofx_shim_install(
        k: unsafe extern "C" fn(*mut c_void, *mut c_int, *mut c_int) -> c_int,
        g: unsafe extern "C" fn(*mut c_void, c_int, f64, *mut *mut c_void, c_int) -> OfxStatus,
        s: unsafe extern "C" fn(
            *mut c_void,
            c_int,
            f64,
            *const f64,
            *const c_int,
            *const c_char,
            c_int,
        ) -> OfxStatus,
        m: unsafe extern "C" fn(
            *mut c_void,
            *const c_char,
            *const c_char,
            *const c_char,
            c_int,
        ) -> OfxStatus,
    );
    fn ofx_shim_param_get_value(p: OfxParamHandle, ...) -> OfxStatus;
    fn ofx_shim_param_get_value_at_time(p: OfxParamHandle, t: OfxTime, ...) -> OfxStatus;
    fn ofx_shim_param_set_value(p: OfxParamHandle, ...) -> OfxStatus;
    fn ofx_shim_param_set_value_at_time(p: OfxParamHandle, t: OfxTime, ...) -> OfxStatus;
    fn ofx_shim_param_unsupported(p: OfxParamHandle, t: OfxTime, ...) -> OfxStatus;
    fn ofx_shim_param_integral(p: OfxParamHandle, t1: OfxTime, t2: OfxTime, ...) -> OfxStatus;
    pub fn ofx_shim_message(
        h: *mut c_void,
        t: *const c_char,
        id: *const c_char,
        f: *const c_char,
        ...
    ) -> OfxStatus;
    pub fn ofx_shim_persistent_message(
        h: *mut c_void,
        t: *const c_char,
        id: *const c_char,
        f: *const c_char,
        ...
    ) -> OfxStatus;
}

/// Connects the C shim to this host (once).
pub fn install_shim() {
    static ONCE: std::sync::Once = std::sync::Once::new();
    ONCE.call_once(|| {
        // SAFETY: the shim stores the four function pointers; all have the
        // signatures it declares.
        unsafe { ofx_shim_install(shim_kind, shim_get, shim_set, super::misc::shim_message) }
    });
}

pub static SUITE: OfxParameterSuiteV1 = OfxParameterSuiteV1 {
    paramDefine: Some(param_define),
    paramGetHandle: Some(param_get_handle),
    paramSetGetPropertySet: Some(param_set_get_property_set),
    paramGetPropertySet: Some(param_get_property_set),
    paramGetValue: Some(ofx_shim_param_get_value),
    paramGetValueAtTime: Some(ofx_shim_param_get_value_at_time),
    paramGetDerivative: Some(ofx_shim_param_unsupported),
    paramGetIntegral: Some(ofx_shim_param_integral),
    paramSetValue: Some(ofx_shim_param_set_value),
    paramSetValueAtTime: Some(ofx_shim_param_set_value_at_time),
    paramGetNumKeys: Some(get_num_keys),
    paramGetKeyTime: Some(get_key_time),
    paramGetKeyIndex: Some(get_key_index),
    paramDeleteKey: Some(delete_key),
    paramDeleteAllKeys: Some(delete_all_keys),
    paramCopy: Some(copy),
    paramEditBegin: Some(edit_begin),
    paramEditEnd: Some(edit_end),
};

/// Host-side: sets a parameter's value as a user would.
pub fn user_set(set: OfxParamSetHandle, name: &str, value: PValue) -> bool {
    match find(set, name) {
        Some(p) => {
            *p.value.lock() = value;
            true
        }
        None => false,
    }
}
