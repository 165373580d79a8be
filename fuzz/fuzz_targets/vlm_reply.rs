//! Fuzz target: `pertouch_fuzz::checks::vlm_reply` on arbitrary bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pertouch_fuzz::checks::vlm_reply(data));
