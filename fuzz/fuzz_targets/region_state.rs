//! Fuzz target: `pertouch_fuzz::checks::region_state` on arbitrary bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pertouch_fuzz::checks::region_state(data));
