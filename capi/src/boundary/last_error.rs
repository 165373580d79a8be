//! The message of the last failed call, kept per thread for `pt_last_error`.

use std::cell::RefCell;
use std::ffi::{c_char, CString};

thread_local! {
    static LAST: RefCell<CString> = RefCell::new(CString::default());
}

/// Records `message` as this thread's last error.
pub(crate) fn set(message: String) {
    let text = CString::new(message.replace('\0', " ")).unwrap_or_default();
    // A call from a thread's exit destructors finds the slot gone: nothing to keep.
    let _ = LAST.try_with(|l| *l.borrow_mut() = text);
}

/// Clears this thread's last error (after a call that succeeded).
pub(crate) fn clear() {
    let _ = LAST.try_with(|l| *l.borrow_mut() = CString::default());
}

/// This thread's last error, as Rust text (for tests).
#[cfg(test)]
pub(crate) fn text() -> String {
    LAST.with(|l| l.borrow().to_string_lossy().into_owned())
}

/// The message of the last failed call on this thread ("" after a success). The
/// pointer stays valid until the next `pt_` call on this thread.
#[no_mangle]
pub extern "C" fn pt_last_error() -> *const c_char {
    LAST.try_with(|l| l.borrow().as_ptr())
        .unwrap_or(c"".as_ptr())
}
