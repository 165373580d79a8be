//! Checked reads and writes of a call's pointer arguments: C strings, structs
//! passed by pointer, out-pointers and string buffers. Each check names the
//! argument, so a host learns which one was wrong.

use super::{Failure, Outcome};
use crate::PtStatus;
use std::ffi::{c_char, CStr};

/// A C string argument; `None` for null.
///
/// # Safety
/// `p` is null or points at a NUL-terminated string that stays readable and
/// unchanged for `'a`.
pub(crate) unsafe fn text<'a>(p: *const c_char, what: &str) -> Result<Option<&'a str>, Failure> {
    if p.is_null() {
        return Ok(None);
    }
    // SAFETY: non-null, and the caller passes on the host's promise of a
    // NUL-terminated string.
    let c = unsafe { CStr::from_ptr(p) };
    c.to_str()
        .map(Some)
        .map_err(|_| Failure::invalid(format!("{what} is not UTF-8")))
}

/// A C string argument that must be given.
///
/// # Safety
/// As for [`text`].
pub(crate) unsafe fn required_text<'a>(p: *const c_char, what: &str) -> Result<&'a str, Failure> {
    // SAFETY: the caller's promise, passed on.
    unsafe { text(p, what) }?.ok_or_else(|| Failure::null(what))
}

/// A struct passed by pointer, copied out; `None` for null.
///
/// # Safety
/// `p` is null or points at a readable `T` (a plain C struct: any bit pattern of
/// its fields is a value).
pub(crate) unsafe fn read<T: Copy>(p: *const T, what: &str) -> Result<Option<T>, Failure> {
    if p.is_null() {
        return Ok(None);
    }
    if !p.is_aligned() {
        return Err(Failure::invalid(format!("{what} is not aligned")));
    }
    // SAFETY: non-null and aligned; the caller promises a readable T.
    Ok(Some(unsafe { p.read() }))
}

/// A struct passed by pointer that must be given.
///
/// # Safety
/// As for [`read`].
pub(crate) unsafe fn required<T: Copy>(p: *const T, what: &str) -> Result<T, Failure> {
    // SAFETY: the caller's promise, passed on.
    unsafe { read(p, what) }?.ok_or_else(|| Failure::null(what))
}

/// An out-pointer, checked (non-null, aligned) before any work is done, so that
/// a result is never made and then lost.
pub(crate) struct Out<T> {
    p: *mut T,
}

impl<T> Out<T> {
    /// Checks an out-pointer that must be given.
    ///
    /// # Safety
    /// `p` is null or points at a `T` the host lets us write during the call.
    pub(crate) unsafe fn new(p: *mut T, what: &str) -> Result<Self, Failure> {
        // SAFETY: the caller's promise, passed on.
        unsafe { Self::optional(p, what) }?.ok_or_else(|| Failure::null(what))
    }

    /// Checks an out-pointer the host may leave null.
    ///
    /// # Safety
    /// As for [`Out::new`].
    pub(crate) unsafe fn optional(p: *mut T, what: &str) -> Result<Option<Self>, Failure> {
        if p.is_null() {
            return Ok(None);
        }
        if !p.is_aligned() {
            return Err(Failure::invalid(format!("{what} is not aligned")));
        }
        Ok(Some(Out { p }))
    }

    /// Writes the result.
    pub(crate) fn set(self, value: T) {
        // SAFETY: checked non-null and aligned by the constructor, whose caller
        // promised the memory is writable for the call.
        unsafe { self.p.write(value) }
    }
}

/// Copies `s` and a NUL into the host's buffer `out` of `out_len` bytes; `needed`
/// (if not null) gets the size the result needs, NUL included, even when the
/// buffer is too small (`PT_ERR_BUFFER_TOO_SMALL`).
///
/// # Safety
/// `out` is null or writable for `out_len` bytes; `needed` is null or points at a
/// writable `size_t`.
pub(crate) unsafe fn write_string(
    s: &str,
    out: *mut c_char,
    out_len: usize,
    needed: *mut usize,
) -> Outcome {
    let n = s.len() + 1;
    // SAFETY: the caller's promise for `needed`, passed on.
    if let Some(needed) = unsafe { Out::optional(needed, "needed") }? {
        needed.set(n);
    }
    if out.is_null() || out_len < n {
        return Err(Failure::new(
            PtStatus::PT_ERR_BUFFER_TOO_SMALL,
            format!("the result needs {n} bytes, the buffer has {out_len}"),
        ));
    }
    // SAFETY: `out` holds at least n bytes (the caller's promise and the check
    // above); the source is a distinct Rust string.
    unsafe {
        std::ptr::copy_nonoverlapping(s.as_ptr(), out.cast::<u8>(), s.len());
        out.add(s.len()).write(0);
    }
    Ok(())
}
