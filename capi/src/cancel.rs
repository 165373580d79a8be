//! Cancellation tokens: made by the host, passed to calls, triggered from any
//! thread (a progress callback included).

use crate::boundary::args::Out;
use crate::boundary::{self, status::PtStatus};
use crate::handles::CANCELS;
use pertouch_core::render::CancelToken;

/// A cancellation token shared between the host and its calls. Opaque.
pub struct PtCancel {
    _private: [u8; 0],
}

/// Creates a cancellation token.
#[no_mangle]
pub unsafe extern "C" fn pt_cancel_new(out: *mut *mut PtCancel) -> PtStatus {
    boundary::call(|| {
        // SAFETY: the header's contract: `out` is writable.
        let out = unsafe { Out::new(out, "out") }?;
        out.set(CANCELS.insert(CancelToken::new()));
        Ok(())
    })
}

/// Asks every call using `cancel` to stop at its next check (safe from any thread,
/// including a progress callback).
#[no_mangle]
pub extern "C" fn pt_cancel_request(cancel: *mut PtCancel) -> PtStatus {
    boundary::call(|| {
        CANCELS.get(cancel, "cancel")?.cancel();
        Ok(())
    })
}

/// Frees a cancellation token. Calls using it keep it until they return.
#[no_mangle]
pub extern "C" fn pt_cancel_free(cancel: *mut PtCancel) -> PtStatus {
    boundary::call(|| CANCELS.remove(cancel, "cancel"))
}
