//! Fuzz target: `pertouch_fuzz::checks::image_decode` on arbitrary bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pertouch_fuzz::checks::image_decode(data));
