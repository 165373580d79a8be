//! The registries behind the opaque handles (`PtEngine *`, `PtCancel *`) and the
//! one lookup every entry point uses. A handle is a key the core's
//! [`Registry`] hands out; the library never dereferences what a host passes, so
//! a forged, freed or wrong-kind handle is simply not found.

use crate::boundary::{Failure, Outcome};
use crate::PtStatus;
use pertouch_core::host::{Engine, Registry};
use pertouch_core::render::CancelToken;
use std::sync::Arc;

/// Live handles of one kind, named for messages.
pub(crate) struct Handles<T> {
    registry: Registry<T>,
    kind: &'static str,
}

/// Live engines.
pub(crate) static ENGINES: Handles<Engine> = Handles::new("engine");
/// Live cancellation tokens.
pub(crate) static CANCELS: Handles<CancelToken> = Handles::new("cancel token");

/// What kind of live handle `key` is, if any (to say so when a handle of one
/// kind is passed where another is expected).
fn kind_of(key: usize) -> Option<&'static str> {
    if ENGINES.registry.get(key).is_some() {
        Some(ENGINES.kind)
    } else if CANCELS.registry.get(key).is_some() {
        Some(CANCELS.kind)
    } else {
        None
    }
}

impl<T> Handles<T> {
    const fn new(kind: &'static str) -> Self {
        Handles {
            registry: Registry::new(),
            kind,
        }
    }

    /// Registers `value` and returns its new handle.
    pub(crate) fn insert<P>(&self, value: T) -> *mut P {
        std::ptr::without_provenance_mut(self.registry.insert(value))
    }

    /// The object behind the argument `what`, which must be a live handle.
    pub(crate) fn get<P>(&self, handle: *mut P, what: &str) -> Result<Arc<T>, Failure> {
        if handle.is_null() {
            return Err(Failure::null(what));
        }
        self.registry
            .get(handle.addr())
            .ok_or_else(|| self.not_live(handle.addr(), what))
    }

    /// As [`Handles::get`], for an argument that may be null.
    pub(crate) fn optional<P>(
        &self,
        handle: *mut P,
        what: &str,
    ) -> Result<Option<Arc<T>>, Failure> {
        if handle.is_null() {
            return Ok(None);
        }
        self.get(handle, what).map(Some)
    }

    /// Ends the handle `what`; its object lives on until calls using it return.
    pub(crate) fn remove<P>(&self, handle: *mut P, what: &str) -> Outcome {
        if handle.is_null() {
            return Err(Failure::null(what));
        }
        match self.registry.remove(handle.addr()) {
            Some(_) => Ok(()),
            None => Err(self.not_live(handle.addr(), what)),
        }
    }

    fn not_live(&self, key: usize, what: &str) -> Failure {
        let message = match kind_of(key) {
            Some(other) => format!(
                "{what} is {} {other} handle, not {} {} handle",
                article(other),
                article(self.kind),
                self.kind
            ),
            None => format!(
                "{what} is not a live {} handle (never created, or already freed)",
                self.kind
            ),
        };
        Failure::new(PtStatus::PT_ERR_BAD_HANDLE, message)
    }
}

/// "a" or "an" before `noun`.
fn article(noun: &str) -> &'static str {
    if noun.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    }
}
