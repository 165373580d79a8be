//! Decoder panics become errors for that one file.
//!
//! The decoders are third-party code fed hostile files; some layouts trip an
//! assertion inside them (the `tiff` crate on tiled, planar-separate files). A
//! panic there must fail the file being read, not the program (a `calibrate` over
//! a folder, a host process). The panic's message is kept for the error instead of
//! being printed by the default hook: a chained hook stays quiet only while this
//! thread is inside [`catch`], and otherwise hands every panic to the hook that was
//! installed before it.

use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};
use std::sync::Once;

thread_local! {
    static GUARDED: Cell<bool> = const { Cell::new(false) };
    static MESSAGE: RefCell<Option<String>> = const { RefCell::new(None) };
}

/// Runs `f`; a panic inside it comes back as `Err` with its message and location.
/// (With `panic = "abort"` nothing can be caught: the process ends as it would.)
pub(crate) fn catch<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    install_hook();
    let outer = GUARDED.with(|g| g.replace(true));
    // The decoder's state is dropped with the unwind; nothing of it is used again.
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    GUARDED.with(|g| g.set(outer));
    result.map_err(|payload| {
        MESSAGE
            .with(|m| m.borrow_mut().take())
            .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "a panic without a message".into())
    })
}

fn install_hook() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let previous = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if GUARDED.with(Cell::get) {
                let location = info
                    .location()
                    .map(|l| format!(" at {}:{}", l.file(), l.line()))
                    .unwrap_or_default();
                let text = info
                    .payload()
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| info.payload().downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                MESSAGE.with(|m| *m.borrow_mut() = Some(format!("{text}{location}")));
            } else {
                previous(info);
            }
        }));
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn panics_inside_become_errors_and_outside_still_panic() {
        assert_eq!(catch(|| 7), Ok(7));
        let e = catch(|| -> u8 { panic!("assertion failed: buf.len() >= n") }).unwrap_err();
        assert!(e.starts_with("assertion failed: buf.len() >= n at "), "{e}");
        assert!(e.contains("panic_guard.rs"), "{e}");
        // Nested guards restore the outer state.
        let outer = catch(|| {
            let inner = catch(|| -> () { panic!("inner") });
            assert!(inner.is_err());
            panic!("outer")
        });
        assert!(outer.unwrap_err().starts_with("outer"));
        // Outside a guard a panic is a panic.
        assert!(std::panic::catch_unwind(|| panic!("plain")).is_err());
    }
}
