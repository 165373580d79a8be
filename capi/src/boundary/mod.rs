//! The one way in from C. Every exported function is one expression,
//! `boundary::call(|| { ... })`, whose body returns [`Outcome`]: `Ok(())` or a
//! [`Failure`] (a status and a message). [`call`] runs the body under a panic
//! guard, records the message for `pt_last_error` and returns the status, so no
//! entry point writes its own error path. Argument checks (null, alignment,
//! UTF-8) are in [`args`], status codes in [`status`], the message in
//! [`last_error`].

pub mod args;
pub mod last_error;
pub mod status;

use status::PtStatus;
use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};

/// Why a call failed: the status returned to C and the message left for
/// `pt_last_error`.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) status: PtStatus,
    pub(crate) message: String,
}

/// What an entry point's body returns.
pub(crate) type Outcome = Result<(), Failure>;

impl Failure {
    /// A failure with `status` and `message`.
    pub(crate) fn new(status: PtStatus, message: impl Into<String>) -> Self {
        Failure {
            status,
            message: message.into(),
        }
    }

    /// A required pointer argument (`what`) was null.
    pub(crate) fn null(what: &str) -> Self {
        Self::new(PtStatus::PT_ERR_NULL, format!("{what} is null"))
    }

    /// An argument is out of range or malformed.
    pub(crate) fn invalid(message: impl Into<String>) -> Self {
        Self::new(PtStatus::PT_ERR_INVALID, message)
    }

    /// A panic's payload as a failure: a bug, reported with what it said.
    pub(crate) fn panic(payload: Box<dyn Any + Send>) -> Self {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| s.to_string())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown panic".into());
        Self::new(PtStatus::PT_ERR_INTERNAL, format!("internal error: {what}"))
    }
}

impl From<pertouch_core::Error> for Failure {
    fn from(e: pertouch_core::Error) -> Self {
        Self::new(status::of(&e), with_causes(&e))
    }
}

/// `e`'s message followed by each error underneath it that the message does not
/// already include, joined by ": " (C hosts show one line).
fn with_causes(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut cause = e.source();
    while let Some(c) = cause {
        let more = c.to_string();
        if !text.contains(&more) {
            text.push_str(": ");
            text.push_str(&more);
        }
        cause = c.source();
    }
    text
}

/// Runs an entry point's `body`: its outcome becomes the returned status and this
/// thread's last error (cleared on success); a panic becomes `PT_ERR_INTERNAL`
/// instead of unwinding into C.
pub(crate) fn call(body: impl FnOnce() -> Outcome) -> PtStatus {
    let outcome = catch_unwind(AssertUnwindSafe(body)).unwrap_or_else(|p| Err(Failure::panic(p)));
    match outcome {
        Ok(()) => {
            last_error::clear();
            PtStatus::PT_OK
        }
        Err(f) => {
            last_error::set(f.message);
            f.status
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Debug)]
    struct Outer(std::io::Error);
    impl std::fmt::Display for Outer {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("cannot open the package")
        }
    }
    impl std::error::Error for Outer {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            Some(&self.0)
        }
    }

    #[test]
    fn causes_are_joined_once() {
        let e = Outer(std::io::Error::other("permission denied"));
        assert_eq!(
            with_causes(&e),
            "cannot open the package: permission denied"
        );
        let io = pertouch_core::Error::Io {
            path: "model.onnx".into(),
            source: std::io::Error::other("permission denied"),
        };
        // The core's message already names the cause: it is not repeated.
        assert_eq!(with_causes(&io), "model.onnx: permission denied");
    }

    #[test]
    fn a_panic_becomes_internal_with_its_message() {
        let s = call(|| panic!("index out of range"));
        assert_eq!(s, PtStatus::PT_ERR_INTERNAL);
        assert_eq!(last_error::text(), "internal error: index out of range");
        assert_eq!(call(|| Ok(())), PtStatus::PT_OK);
        assert_eq!(last_error::text(), "");
    }
}
