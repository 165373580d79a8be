//! The Photoshop bridge's parsers of untrusted input: band headers (which must
//! re-encode to the same bytes), JSON control messages and job descriptions,
//! and band validation into a job (pertouch_bridge::protocol::fuzzing).
//! Run: cargo +nightly fuzz run bridge_protocol
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = pertouch_bridge::protocol::fuzzing::exercise(data);
});
