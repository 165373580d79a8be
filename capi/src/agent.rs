//! The offline agent: an instruction in words and the photo in, a region state
//! out.

use crate::boundary::{self, args, status::PtStatus, Failure};
use crate::handles::ENGINES;
use crate::image::{self, PtImage};
use crate::PtEngine;
use pertouch_core::params::RegionState;
use pertouch_core::render::Control;
use std::ffi::c_char;

/// The offline agent: applies `instruction` ("make the sky a bit warmer") on top
/// of `state_json` (null for none) for the photo `src`, running the measured
/// rethink loop on a preview, and writes the resulting region state as JSON into
/// `out`. With a buffer too small, returns `PT_ERR_BUFFER_TOO_SMALL` and sets
/// `needed`.
#[no_mangle]
pub unsafe extern "C" fn pt_agent_apply(
    engine: *mut PtEngine,
    src: *const PtImage,
    instruction: *const c_char,
    state_json: *const c_char,
    out: *mut c_char,
    out_len: usize,
    needed: *mut usize,
) -> PtStatus {
    boundary::call(|| {
        let engine = ENGINES.get(engine, "engine")?;
        // SAFETY: the header's contract: `src` points at a PtImage, `instruction`
        // is a C string, `state_json` null or a C string.
        let (src, words, base) = unsafe {
            (
                args::required(src, "src")?,
                args::required_text(instruction, "instruction")?,
                args::text(state_json, "state_json")?,
            )
        };
        // SAFETY: the header's contract: the view describes memory the host keeps
        // readable during the call.
        let view = unsafe { image::view(&src, "src") }?;
        let base = base
            .map(RegionState::from_json)
            .transpose()?
            .unwrap_or_default();
        let photo = view
            .read()
            .map_err(|m| Failure::invalid(format!("src: {m}")))?;
        let state = engine.agent_apply(&photo, words, &base, &Control::default())?;
        // SAFETY: the header's contract: `out` is null or writable for `out_len`
        // bytes, `needed` null or writable.
        unsafe { args::write_string(&state.to_value().to_string(), out, out_len, needed) }
    })
}
