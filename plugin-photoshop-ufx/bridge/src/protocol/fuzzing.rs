//! Everything the bridge does with untrusted bytes before a job renders, in one
//! call for fuzzers (`fuzz/fuzz_targets/bridge_protocol.rs`) and for the
//! property test beside it: band headers (which must re-encode to the same
//! bytes), control messages and job descriptions, and band validation and copy
//! into a small job. Panicking here is a bug.

use super::header::BandHeader;
use super::messages::{ClientMessage, JobStart, Op};
use crate::jobs::spec::{JobLimits, JobSpec};
use crate::jobs::upload::Upload;

const LIMITS: JobLimits = JobLimits {
    max_pixels: 1 << 16,
    max_preview_pixels: 1 << 16,
};

/// How far `data` got.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct Reached {
    pub header: bool,
    /// Accepted as a band of the small job (8- or 16-bit).
    pub band: bool,
    pub message: bool,
    pub job: bool,
}

/// Feeds `data` to every parser and check the bridge runs on client input.
pub fn exercise(data: &[u8]) -> Reached {
    let mut reached = Reached::default();
    if let Ok((h, payload)) = BandHeader::parse(data) {
        reached.header = true;
        assert_eq!(
            h.with_payload(payload),
            data,
            "a parsed header re-encodes to its bytes"
        );
        let _ = h.sample_bytes();
        // The band against a small job of each depth, with a selection.
        for depth in [8, 16] {
            let start = JobStart {
                job: h.job,
                op: Op::Apply,
                width: 16,
                height: 16,
                components: 3,
                depth,
                profile: String::new(),
                selection: true,
                state: None,
                instruction: None,
                mix: None,
                recall: false,
                remember: false,
            };
            if let Ok(spec) = JobSpec::check(&start, LIMITS) {
                let mut up = Upload::new(&spec);
                if up.accept(h.job, &h, payload).is_ok() {
                    reached.band = true;
                    let _ = up.finish();
                }
            }
        }
    }
    if let Ok(text) = std::str::from_utf8(data) {
        if let Ok(msg) = ClientMessage::parse(text) {
            reached.message = true;
            let _ = msg.kind();
            if let ClientMessage::JobStart(start) = msg {
                if let Ok(spec) = JobSpec::check(&start, LIMITS) {
                    reached.job = true;
                    let _ = (spec.memory_needed(), spec.rows_per_band());
                }
            }
        }
    }
    reached
}
