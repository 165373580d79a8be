//! The instruction read at render time, for hosts without an Apply button.
//!
//! MLT's hosts (Shotcut, Kdenlive) hide push buttons and never send
//! InstanceChanged, so Apply cannot run there. When nothing has been applied
//! (the Region state is empty) and words are typed, a render does what Apply
//! would do on that frame: the offline agent reads the words and checks them on
//! the frame, and the state it settles on is rendered. That is deterministic
//! (the offline agent has no randomness and no network), the same whichever
//! tile, thread or order the host renders in, and cached per instruction and
//! frame content so the tiles and re-renders of a frame run the agent once.

use crate::engines::engine;
use crate::suites::{OfxError, OfxResult};
use parking_lot::Mutex;
use pertouch_core::params::RegionState;
use pertouch_core::raster::Raster;
use pertouch_core::render::Control;
use std::collections::VecDeque;
use std::sync::{Arc, OnceLock};

/// Instruction, frame content hash, frame width and height.
type Key = (String, u64, usize, usize);
type Slot = Arc<OnceLock<Result<RegionState, String>>>;

/// How many (instruction, frame) readings are kept.
const KEPT: usize = 16;

static READINGS: Mutex<VecDeque<(Key, Slot)>> = Mutex::new(VecDeque::new());

/// The state `words` settle on for the frame with content hash `hash` and size
/// `size`; `photo` reads the frame when it has not been read for these words.
/// Threads asking for the same reading wait for one agent run.
pub fn state_for(
    words: &str,
    hash: u64,
    size: (usize, usize),
    photo: impl FnOnce() -> OfxResult<Raster>,
    ctl: &Control<'_>,
) -> OfxResult<RegionState> {
    let key: Key = (words.to_string(), hash, size.0, size.1);
    let slot = {
        let mut kept = READINGS.lock();
        match kept.iter().find(|(k, _)| *k == key) {
            Some((_, s)) => s.clone(),
            None => {
                let s = Slot::default();
                if kept.len() == KEPT {
                    kept.pop_front();
                }
                kept.push_back((key.clone(), s.clone()));
                s
            }
        }
    };
    let mut cancelled = false;
    let reading = slot.get_or_init(|| {
        let run = || -> OfxResult<RegionState> {
            let photo = photo()?;
            // The agent plans with the fast renderer; the state is in level units,
            // which either renderer renders (as with Apply).
            engine(false)?
                .agent_apply(&photo, words, &RegionState::default(), ctl)
                .map_err(|e| {
                    cancelled = matches!(e, pertouch_core::Error::Cancelled);
                    OfxError::failed(format!("the Instruction \"{words}\": {e}"))
                })
        };
        run().map_err(|e| e.message)
    });
    let out = reading.clone().map_err(OfxError::failed);
    if cancelled {
        // An aborted reading is not the words' answer: forget it.
        READINGS.lock().retain(|(k, _)| *k != key);
    }
    out
}

/// Forgets every reading (kOfxActionPurgeCaches).
pub fn purge() {
    READINGS.lock().clear();
}
