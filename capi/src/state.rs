//! Region states as hosts store them: checked and written in canonical form.

use crate::boundary::{self, args, status::PtStatus};
use pertouch_core::params::RegionState;
use std::ffi::c_char;

/// Normalises a region state: checks it, resolves synonyms ("warmth" ->
/// "temperature", "all" -> "global"), clamps values to [-1, 1] and writes the
/// canonical JSON into `out` (e.g. `{"global":{"temperature":0.2}}`), so a host
/// can show, edit and store it. A malformed state is `PT_ERR_INVALID` with the
/// reason. With a buffer too small, returns `PT_ERR_BUFFER_TOO_SMALL` and sets
/// `needed`.
#[no_mangle]
pub unsafe extern "C" fn pt_state_normalize(
    state_json: *const c_char,
    out: *mut c_char,
    out_len: usize,
    needed: *mut usize,
) -> PtStatus {
    boundary::call(|| {
        // SAFETY: the header's contract: `state_json` is a C string.
        let text = unsafe { args::required_text(state_json, "state_json") }?;
        let state = RegionState::from_json(text)?;
        // SAFETY: the header's contract: `out` is null or writable for `out_len`
        // bytes, `needed` null or writable.
        unsafe { args::write_string(&state.to_value().to_string(), out, out_len, needed) }
    })
}
