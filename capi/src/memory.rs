//! The preference memory for hosts: the edits a user accepted, per host profile
//! ("gimp", "ofx", ...), the same store the CLI's `--recall` / `--accept` use
//! (profile "cli"), matched by the photo's scene.

use crate::boundary::{self, args, status::PtStatus, Failure};
use crate::image::{self, PtImage};
use pertouch_core::measure::LevelTables;
use pertouch_core::memory::{self, describe_scene, MemoryError, Record, Scene, Store};
use pertouch_core::params::RegionState;
use std::ffi::c_char;

impl From<MemoryError> for Failure {
    fn from(e: MemoryError) -> Self {
        let status = match e {
            MemoryError::InvalidName(_) | MemoryError::NoDataDir => PtStatus::PT_ERR_INVALID,
            // A record the host handed in (pt_memory_remember) that cannot be
            // used, e.g. a region name with control characters: nothing stored.
            MemoryError::BadRecord { .. } => PtStatus::PT_ERR_INVALID,
            MemoryError::Io { .. } => PtStatus::PT_ERR_IO,
            MemoryError::Import { .. }
            | MemoryError::Corrupt { .. }
            | MemoryError::TooNew { .. } => PtStatus::PT_ERR_DECODE,
        };
        Failure::new(status, format!("memory: {e}"))
    }
}

/// The store of `profile` and `user` (the login name when none is given, as the
/// CLI does).
fn store(profile: &str, user: Option<&str>) -> Result<Store, Failure> {
    let user = match user {
        Some(u) => u.to_string(),
        None => std::env::var("USER")
            .or_else(|_| std::env::var("USERNAME"))
            .unwrap_or_else(|_| "default".into()),
    };
    Ok(Store::open(&memory::default_root()?, &user, profile)?)
}

/// The scene of the photo `src` describes, as the offline agent sees it.
///
/// # Safety
/// `src` describes memory the host keeps readable during the call.
unsafe fn scene(src: &PtImage) -> Result<Scene, Failure> {
    // SAFETY: passed on from the caller.
    let view = unsafe { image::view(src, "src") }?;
    let photo = view
        .read()
        .map_err(|m| Failure::invalid(format!("src: {m}")))?;
    Ok(describe_scene(&photo, LevelTables::builtin()))
}

/// Recalls the edit the user accepted on the photo most like `src` (by scene:
/// sky, greenery, people, tones, colour; at least `min_similarity` in [0, 1],
/// the CLI uses 0.6) from the memory of host `profile` ("gimp", "cli", ...) and
/// `user` (null: the login name), with `state_json` (null: none) applied on top
/// of it. Writes a JSON object into `out`: `{"recalled": true, "similarity":
/// 0.83, "instruction": "...", "tags": ["sky", ...], "state": {...}}`, or
/// `{"recalled": false, "state": <state_json>}` when no remembered photo is
/// similar enough. With a buffer too small, returns `PT_ERR_BUFFER_TOO_SMALL`
/// and sets `needed`.
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn pt_memory_recall(
    src: *const PtImage,
    profile: *const c_char,
    user: *const c_char,
    state_json: *const c_char,
    min_similarity: f32,
    out: *mut c_char,
    out_len: usize,
    needed: *mut usize,
) -> PtStatus {
    boundary::call(|| {
        // SAFETY: the header's contract: `src` points at a PtImage, `profile` is a
        // C string, `user` and `state_json` null or C strings.
        let (src, profile, user, base) = unsafe {
            (
                args::required(src, "src")?,
                args::required_text(profile, "profile")?,
                args::text(user, "user")?,
                args::text(state_json, "state_json")?,
            )
        };
        if !(0.0..=1.0).contains(&min_similarity) {
            return Err(Failure::invalid(format!(
                "min_similarity {min_similarity} is not in [0, 1]"
            )));
        }
        let base = base
            .map(RegionState::from_json)
            .transpose()?
            .unwrap_or_default();
        let store = store(profile, user)?;
        // SAFETY: the header's contract: the view describes memory the host keeps
        // readable during the call.
        let scene = unsafe { scene(&src) }?;
        let answer = match store.propose(&scene, min_similarity)?.value {
            Some((record, similarity)) => {
                let mut recalled = RegionState::from_value(&record.state)?;
                recalled.apply(&base)?;
                serde_json::json!({
                    "recalled": true,
                    "similarity": similarity,
                    "instruction": record.instruction,
                    "tags": record.scene.tags,
                    "state": recalled.to_value(),
                })
            }
            None => serde_json::json!({"recalled": false, "state": base.to_value()}),
        };
        // SAFETY: the header's contract: `out` is null or writable for `out_len`
        // bytes, `needed` null or writable.
        unsafe { args::write_string(&answer.to_string(), out, out_len, needed) }
    })
}

/// Remembers `state_json` as an edit the user accepted for the photo `src`, with
/// the `instruction` that led to it (null for none), in the memory of host
/// `profile` and `user` (null: the login name), for later `pt_memory_recall`
/// (and the CLI's `--recall --profile PROFILE`). Writes `{"path": "...",
/// "records": N, "set_aside": null}` into `out` (`set_aside`: where a corrupt
/// memory file was moved; it is never emptied). `out` may be null (the edit is
/// still remembered; the call then returns `PT_ERR_BUFFER_TOO_SMALL`).
#[no_mangle]
#[allow(clippy::too_many_arguments)]
pub unsafe extern "C" fn pt_memory_remember(
    src: *const PtImage,
    profile: *const c_char,
    user: *const c_char,
    instruction: *const c_char,
    state_json: *const c_char,
    out: *mut c_char,
    out_len: usize,
    needed: *mut usize,
) -> PtStatus {
    boundary::call(|| {
        // SAFETY: the header's contract: `src` points at a PtImage, `profile` and
        // `state_json` are C strings, `user` and `instruction` null or C strings.
        let (src, profile, user, words, state) = unsafe {
            (
                args::required(src, "src")?,
                args::required_text(profile, "profile")?,
                args::text(user, "user")?,
                args::text(instruction, "instruction")?,
                args::required_text(state_json, "state_json")?,
            )
        };
        let state = RegionState::from_json(state)?;
        let store = store(profile, user)?;
        // SAFETY: the header's contract: the view describes memory the host keeps
        // readable during the call.
        let scene = unsafe { scene(&src) }?;
        let record = Record::new(words.unwrap_or(""), scene, state.to_value(), true);
        let opened = store.append(record)?;
        let answer = serde_json::json!({
            "path": store.path().display().to_string(),
            "records": opened.records.len(),
            "set_aside": opened.set_aside.map(|p| p.display().to_string()),
        });
        // SAFETY: the header's contract: `out` is null or writable for `out_len`
        // bytes, `needed` null or writable.
        unsafe { args::write_string(&answer.to_string(), out, out_len, needed) }
    })
}
