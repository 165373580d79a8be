//! The message of the last failed call, kept per thread for `pt_last_error`, and
//! bounded: a message that quotes a host's argument (a 10 MB region name, an
//! unknown configuration key) is cut, so that what a thread keeps does not grow
//! with what a host passes.

use std::cell::RefCell;
use std::ffi::{c_char, CString};

/// Longest message kept, in bytes, before the note saying how much was cut.
pub(crate) const MAX_MESSAGE: usize = 4096;

thread_local! {
    static LAST: RefCell<CString> = RefCell::new(CString::default());
}

/// `message` cut to at most [`MAX_MESSAGE`] bytes on a character boundary, with a
/// note of how many bytes were cut, and NULs (which would end the C string
/// early) replaced by spaces.
fn bounded(mut message: String) -> CString {
    if message.len() > MAX_MESSAGE {
        let mut end = MAX_MESSAGE;
        while !message.is_char_boundary(end) {
            end -= 1;
        }
        let cut = message.len() - end;
        message.truncate(end);
        message.push_str(&format!(" [... {cut} bytes cut]"));
    }
    CString::new(message.replace('\0', " ")).unwrap_or_default()
}

/// Records `message` as this thread's last error.
pub(crate) fn set(message: String) {
    let text = bounded(message);
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

/// The message of the last failed call on this thread ("" after a success), at
/// most a few KiB (a longer one is cut and says so). The pointer stays valid
/// until the next `pt_` call on this thread.
#[no_mangle]
pub extern "C" fn pt_last_error() -> *const c_char {
    LAST.try_with(|l| l.borrow().as_ptr())
        .unwrap_or(c"".as_ptr())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_messages_are_cut_on_a_character_boundary_and_say_so() {
        // "é" is 2 bytes: after the 1-byte prefix, MAX_MESSAGE falls inside one.
        let long = format!("x{}", "é".repeat(5_000_000));
        set(long);
        let kept = text();
        let (head, note) = kept.split_once(" [... ").unwrap();
        assert_eq!(head.len(), MAX_MESSAGE - 1);
        assert!(head.chars().skip(1).all(|c| c == 'é'));
        assert_eq!(
            note,
            format!("{} bytes cut]", 10_000_001 - (MAX_MESSAGE - 1))
        );
    }

    #[test]
    fn short_messages_are_kept_whole_without_nuls() {
        set("no mask for \"sky\0\"".into());
        assert_eq!(text(), "no mask for \"sky \"");
        let exact = "y".repeat(MAX_MESSAGE);
        set(exact.clone());
        assert_eq!(text(), exact);
        clear();
        assert_eq!(text(), "");
    }
}
