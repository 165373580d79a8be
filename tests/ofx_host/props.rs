//! Property sets and the property suite of the test host.

use parking_lot::Mutex;
use pertouch_core::host::Registry;
use pertouch_ofx::abi::*;
use std::collections::{BTreeMap, HashSet};
use std::ffi::{c_char, c_int, c_void, CStr, CString};

/// One property value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    Ptr(usize),
    Str(CString),
    Double(f64),
    Int(i32),
}

/// A property set: named arrays of values.
#[derive(Default)]
pub struct PropSet {
    map: Mutex<BTreeMap<String, Vec<Value>>>,
}

pub static PROPS: Registry<PropSet> = Registry::new();
/// Property names this host refuses to set (a host that does not know them).
pub static REFUSED: Mutex<Option<HashSet<String>>> = Mutex::new(None);

/// A new, registered property set.
pub fn new() -> OfxPropertySetHandle {
    PROPS.insert(PropSet::default()) as OfxPropertySetHandle
}

/// A copy of `h` (descriptor properties copied onto an instance's).
pub fn copy(h: OfxPropertySetHandle) -> OfxPropertySetHandle {
    let n = new();
    if let (Some(src), Some(dst)) = (PROPS.get(h as usize), PROPS.get(n as usize)) {
        *dst.map.lock() = src.map.lock().clone();
    }
    n
}

/// Host-side access (for the host's own code and the tests).
pub fn set(h: OfxPropertySetHandle, name: &str, values: Vec<Value>) {
    if let Some(p) = PROPS.get(h as usize) {
        p.map.lock().insert(name.to_string(), values);
    }
}

pub fn set_str(h: OfxPropertySetHandle, name: &str, v: &str) {
    set(
        h,
        name,
        vec![Value::Str(CString::new(v).unwrap_or_default())],
    );
}

pub fn get(h: OfxPropertySetHandle, name: &str) -> Option<Vec<Value>> {
    PROPS.get(h as usize)?.map.lock().get(name).cloned()
}

pub fn get_str(h: OfxPropertySetHandle, name: &str) -> Option<String> {
    match get(h, name)?.first()? {
        Value::Str(s) => Some(s.to_string_lossy().into_owned()),
        _ => None,
    }
}

pub fn get_strs(h: OfxPropertySetHandle, name: &str) -> Vec<String> {
    get(h, name)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|v| match v {
            Value::Str(s) => Some(s.to_string_lossy().into_owned()),
            _ => None,
        })
        .collect()
}

pub fn get_doubles(h: OfxPropertySetHandle, name: &str) -> Vec<f64> {
    get(h, name)
        .unwrap_or_default()
        .into_iter()
        .filter_map(|v| match v {
            Value::Double(d) => Some(d),
            Value::Int(i) => Some(i as f64),
            _ => None,
        })
        .collect()
}

pub fn get_i32(h: OfxPropertySetHandle, name: &str) -> Option<i32> {
    match get(h, name)?.first()? {
        Value::Int(i) => Some(*i),
        _ => None,
    }
}

pub fn get_ptr(h: OfxPropertySetHandle, name: &str) -> Option<usize> {
    match get(h, name)?.first()? {
        Value::Ptr(p) => Some(*p),
        _ => None,
    }
}

/// Names in the set.
pub fn names(h: OfxPropertySetHandle) -> Vec<String> {
    PROPS
        .get(h as usize)
        .map(|p| p.map.lock().keys().cloned().collect())
        .unwrap_or_default()
}

/// # Safety
/// `name` is null or a C string.
unsafe fn name_of(name: *const c_char) -> Option<String> {
    if name.is_null() {
        return None;
    }
    // SAFETY: non-null C string from the plug-in.
    Some(
        unsafe { CStr::from_ptr(name) }
            .to_string_lossy()
            .into_owned(),
    )
}

fn set_at(h: OfxPropertySetHandle, name: *const c_char, index: c_int, v: Value) -> OfxStatus {
    let Some(p) = PROPS.get(h as usize) else {
        return kOfxStatErrBadHandle;
    };
    // SAFETY: the plug-in passes a C string (or null, refused).
    let Some(name) = (unsafe { name_of(name) }) else {
        return kOfxStatErrValue;
    };
    if REFUSED.lock().as_ref().is_some_and(|r| r.contains(&name)) {
        return kOfxStatErrUnknown;
    }
    if !(0..1024).contains(&index) {
        return kOfxStatErrBadIndex;
    }
    let mut map = p.map.lock();
    let vals = map.entry(name).or_default();
    let i = index as usize;
    if vals.len() <= i {
        vals.resize(i + 1, v.clone());
    }
    vals[i] = v;
    kOfxStatOK
}

fn get_at(h: OfxPropertySetHandle, name: *const c_char, index: c_int) -> Result<Value, OfxStatus> {
    let p = PROPS.get(h as usize).ok_or(kOfxStatErrBadHandle)?;
    // SAFETY: the plug-in passes a C string (or null, refused).
    let name = unsafe { name_of(name) }.ok_or(kOfxStatErrValue)?;
    let map = p.map.lock();
    let vals = map.get(&name).ok_or(kOfxStatErrUnknown)?;
    if index < 0 {
        return Err(kOfxStatErrBadIndex);
    }
    vals.get(index as usize).cloned().ok_or(kOfxStatErrBadIndex)
}

/// A string value's pointer stays valid while the property keeps its value.
fn str_ptr(
    h: OfxPropertySetHandle,
    name: *const c_char,
    index: c_int,
) -> Result<*mut c_char, OfxStatus> {
    let p = PROPS.get(h as usize).ok_or(kOfxStatErrBadHandle)?;
    // SAFETY: the plug-in passes a C string (or null, refused).
    let name = unsafe { name_of(name) }.ok_or(kOfxStatErrValue)?;
    let map = p.map.lock();
    match map
        .get(&name)
        .ok_or(kOfxStatErrUnknown)?
        .get(index.max(0) as usize)
    {
        Some(Value::Str(s)) => Ok(s.as_ptr().cast_mut()),
        Some(_) => Err(kOfxStatErrValue),
        None => Err(kOfxStatErrBadIndex),
    }
}

macro_rules! out {
    ($ptr:expr, $val:expr) => {{
        if $ptr.is_null() {
            return kOfxStatErrValue;
        }
        // SAFETY: the plug-in passes a writable out pointer of this type.
        unsafe { *$ptr = $val };
        kOfxStatOK
    }};
}

/// Runs `one` for indices 0..count, stopping at the first failure.
fn each(count: c_int, mut one: impl FnMut(c_int) -> OfxStatus) -> OfxStatus {
    (0..count.max(0))
        .map(&mut one)
        .find(|s| *s != kOfxStatOK)
        .unwrap_or(kOfxStatOK)
}

unsafe extern "C" fn set_pointer(
    h: OfxPropertySetHandle,
    n: *const c_char,
    i: c_int,
    v: *mut c_void,
) -> OfxStatus {
    set_at(h, n, i, Value::Ptr(v as usize))
}
unsafe extern "C" fn set_string(
    h: OfxPropertySetHandle,
    n: *const c_char,
    i: c_int,
    v: *const c_char,
) -> OfxStatus {
    if v.is_null() {
        return kOfxStatErrValue;
    }
    // SAFETY: a C string from the plug-in, copied.
    let s = unsafe { CStr::from_ptr(v) }.to_owned();
    set_at(h, n, i, Value::Str(s))
}
unsafe extern "C" fn set_double(
    h: OfxPropertySetHandle,
    n: *const c_char,
    i: c_int,
    v: f64,
) -> OfxStatus {
    set_at(h, n, i, Value::Double(v))
}
unsafe extern "C" fn set_int(
    h: OfxPropertySetHandle,
    n: *const c_char,
    i: c_int,
    v: c_int,
) -> OfxStatus {
    set_at(h, n, i, Value::Int(v))
}
unsafe extern "C" fn set_pointer_n(
    h: OfxPropertySetHandle,
    n: *const c_char,
    c: c_int,
    v: *const *mut c_void,
) -> OfxStatus {
    if v.is_null() {
        return kOfxStatErrValue;
    }
    each(c, |k| {
        // SAFETY: the plug-in passes room for (or) `c` values at `v`.
        unsafe { set_pointer(h, n, k, *v.add(k as usize)) }
    })
}
unsafe extern "C" fn set_string_n(
    h: OfxPropertySetHandle,
    n: *const c_char,
    c: c_int,
    v: *const *const c_char,
) -> OfxStatus {
    if v.is_null() {
        return kOfxStatErrValue;
    }
    each(c, |k| {
        // SAFETY: the plug-in passes room for (or) `c` values at `v`.
        unsafe { set_string(h, n, k, *v.add(k as usize)) }
    })
}
unsafe extern "C" fn set_double_n(
    h: OfxPropertySetHandle,
    n: *const c_char,
    c: c_int,
    v: *const f64,
) -> OfxStatus {
    if v.is_null() {
        return kOfxStatErrValue;
    }
    each(c, |k| {
        // SAFETY: the plug-in passes room for (or) `c` values at `v`.
        unsafe { set_double(h, n, k, *v.add(k as usize)) }
    })
}
unsafe extern "C" fn set_int_n(
    h: OfxPropertySetHandle,
    n: *const c_char,
    c: c_int,
    v: *const c_int,
) -> OfxStatus {
    if v.is_null() {
        return kOfxStatErrValue;
    }
    each(c, |k| {
        // SAFETY: the plug-in passes room for (or) `c` values at `v`.
        unsafe { set_int(h, n, k, *v.add(k as usize)) }
    })
}
unsafe extern "C" fn get_pointer(
    h: OfxPropertySetHandle,
    n: *const c_char,
    i: c_int,
    v: *mut *mut c_void,
) -> OfxStatus {
    match get_at(h, n, i) {
        Ok(Value::Ptr(p)) => out!(v, p as *mut c_void),
        Ok(_) => kOfxStatErrValue,
        Err(s) => s,
    }
}
unsafe extern "C" fn get_string(
    h: OfxPropertySetHandle,
    n: *const c_char,
    i: c_int,
    v: *mut *mut c_char,
) -> OfxStatus {
    match str_ptr(h, n, i) {
        Ok(p) => out!(v, p),
        Err(s) => s,
    }
}
unsafe extern "C" fn get_double(
    h: OfxPropertySetHandle,
    n: *const c_char,
    i: c_int,
    v: *mut f64,
) -> OfxStatus {
    match get_at(h, n, i) {
        Ok(Value::Double(d)) => out!(v, d),
        Ok(_) => kOfxStatErrValue,
        Err(s) => s,
    }
}
unsafe extern "C" fn get_int(
    h: OfxPropertySetHandle,
    n: *const c_char,
    i: c_int,
    v: *mut c_int,
) -> OfxStatus {
    match get_at(h, n, i) {
        Ok(Value::Int(x)) => out!(v, x),
        Ok(_) => kOfxStatErrValue,
        Err(s) => s,
    }
}
unsafe extern "C" fn get_pointer_n(
    h: OfxPropertySetHandle,
    n: *const c_char,
    c: c_int,
    v: *mut *mut c_void,
) -> OfxStatus {
    if v.is_null() {
        return kOfxStatErrValue;
    }
    each(c, |k| {
        // SAFETY: the plug-in passes room for (or) `c` values at `v`.
        unsafe { get_pointer(h, n, k, v.add(k as usize)) }
    })
}
unsafe extern "C" fn get_string_n(
    h: OfxPropertySetHandle,
    n: *const c_char,
    c: c_int,
    v: *mut *mut c_char,
) -> OfxStatus {
    if v.is_null() {
        return kOfxStatErrValue;
    }
    each(c, |k| {
        // SAFETY: the plug-in passes room for (or) `c` values at `v`.
        unsafe { get_string(h, n, k, v.add(k as usize)) }
    })
}
unsafe extern "C" fn get_double_n(
    h: OfxPropertySetHandle,
    n: *const c_char,
    c: c_int,
    v: *mut f64,
) -> OfxStatus {
    if v.is_null() {
        return kOfxStatErrValue;
    }
    each(c, |k| {
        // SAFETY: the plug-in passes room for (or) `c` values at `v`.
        unsafe { get_double(h, n, k, v.add(k as usize)) }
    })
}
unsafe extern "C" fn get_int_n(
    h: OfxPropertySetHandle,
    n: *const c_char,
    c: c_int,
    v: *mut c_int,
) -> OfxStatus {
    if v.is_null() {
        return kOfxStatErrValue;
    }
    each(c, |k| {
        // SAFETY: the plug-in passes room for (or) `c` values at `v`.
        unsafe { get_int(h, n, k, v.add(k as usize)) }
    })
}
unsafe extern "C" fn reset(h: OfxPropertySetHandle, n: *const c_char) -> OfxStatus {
    match get_at(h, n, 0) {
        Ok(_) | Err(kOfxStatErrBadIndex) => kOfxStatOK,
        Err(s) => s,
    }
}
unsafe extern "C" fn get_dimension(
    h: OfxPropertySetHandle,
    n: *const c_char,
    c: *mut c_int,
) -> OfxStatus {
    let Some(p) = PROPS.get(h as usize) else {
        return kOfxStatErrBadHandle;
    };
    // SAFETY: a C string from the plug-in.
    let Some(name) = (unsafe { name_of(n) }) else {
        return kOfxStatErrValue;
    };
    let len = p.map.lock().get(&name).map(Vec::len);
    match len {
        Some(len) => out!(c, len as c_int),
        None => kOfxStatErrUnknown,
    }
}

pub static SUITE: OfxPropertySuiteV1 = OfxPropertySuiteV1 {
    propSetPointer: Some(set_pointer),
    propSetString: Some(set_string),
    propSetDouble: Some(set_double),
    propSetInt: Some(set_int),
    propSetPointerN: Some(set_pointer_n),
    propSetStringN: Some(set_string_n),
    propSetDoubleN: Some(set_double_n),
    propSetIntN: Some(set_int_n),
    propGetPointer: Some(get_pointer),
    propGetString: Some(get_string),
    propGetDouble: Some(get_double),
    propGetInt: Some(get_int),
    propGetPointerN: Some(get_pointer_n),
    propGetStringN: Some(get_string_n),
    propGetDoubleN: Some(get_double_n),
    propGetIntN: Some(get_int_n),
    propReset: Some(reset),
    propGetDimension: Some(get_dimension),
};
