//! Status codes and the thread-local error message every call leaves behind.

use std::cell::RefCell;
use std::ffi::{c_char, CString};

/// What a call returns. `PT_OK` is 0; everything else leaves a message for
/// `pt_last_error` on the calling thread.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PtStatus {
    PT_OK = 0,
    /// A required pointer was null.
    PT_ERR_NULL = 1,
    /// An argument is out of range or malformed (the message says which).
    PT_ERR_INVALID = 2,
    /// A handle that is not live (never created, already freed, or of another kind).
    PT_ERR_BAD_HANDLE = 3,
    /// The work was cancelled.
    PT_ERR_CANCELLED = 4,
    /// A region, segmenter or model problem.
    PT_ERR_MODEL = 5,
    /// An output buffer is too small; `needed` says how large it must be.
    PT_ERR_BUFFER_TOO_SMALL = 6,
    /// A bug: the core panicked. The message says where; the handle stays usable.
    PT_ERR_INTERNAL = 7,
}

thread_local! {
    static LAST: RefCell<CString> = RefCell::new(CString::default());
}

/// Records `message` as this thread's last error and returns `status`.
pub fn fail(status: PtStatus, message: impl Into<String>) -> PtStatus {
    let text = message.into().replace('\0', " ");
    LAST.with(|l| *l.borrow_mut() = CString::new(text).unwrap_or_default());
    status
}

/// Clears this thread's message and returns `PT_OK`.
pub fn ok() -> PtStatus {
    LAST.with(|l| *l.borrow_mut() = CString::default());
    PtStatus::PT_OK
}

/// The message of the last failed call on this thread ("" after a success).
/// Valid until the next `pt_` call on the same thread.
pub fn last() -> *const c_char {
    LAST.with(|l| l.borrow().as_ptr())
}

/// The status for a core error.
pub fn from_core(e: &pertouch_core::Error) -> PtStatus {
    use pertouch_core::Error as E;
    let status = match e {
        E::Cancelled => PtStatus::PT_ERR_CANCELLED,
        E::MissingRegion { .. }
        | E::UnknownRegion { .. }
        | E::InvalidMask { .. }
        | E::Model { .. } => PtStatus::PT_ERR_MODEL,
        _ => PtStatus::PT_ERR_INVALID,
    };
    fail(status, e.to_string())
}
