//! Fuzz target: the OpenFX plug-in's paths reachable from host data
//! (`pertouch_ofx::host_values::fuzz`: the Region state parameter's JSON and its
//! clamping notes, the instruction read at render time, sliders, choices, image
//! components/depth/premultiplication names, render scales, the frame rectangle
//! from regions of definition, pixel aspect and tiling, and image memory
//! layouts from bounds and row bytes) on arbitrary bytes.
#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| pertouch_ofx::host_values::fuzz(data));
