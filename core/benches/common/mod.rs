//! The photos the benchmarks render, made one way for all of them (the core's
//! benches, and the OpenFX benchmark, which includes this file by path).

// Each benchmark uses some of these.
#![allow(dead_code)]

use pertouch_core::image_io::{load, raster_from_dynamic, raster_to_dynamic, LoadOptions};
use pertouch_core::raster::{Depth, Raster, Samples};
use std::path::PathBuf;

/// A photo of ../shared/samples.
pub fn sample(name: &str) -> Raster {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/samples")
        .join(name);
    load(&path, &LoadOptions::default())
        .expect("shared sample photo")
        .raster
}

/// dune.jpg resized (triangle filter) to `width` x `height`.
pub fn dune(width: u32, height: u32) -> Raster {
    let big = raster_to_dynamic(&sample("dune.jpg")).resize_exact(
        width,
        height,
        image::imageops::FilterType::Triangle,
    );
    raster_from_dynamic(big)
}

/// A 24-megapixel photo: dune.jpg upscaled to 6000 x 4000.
pub fn photo_24mp() -> Raster {
    dune(6000, 4000)
}

/// A 4K RGBA frame at `depth`: storm.jpg upscaled to 3840 x 2160, opaque.
pub fn frame_4k(depth: Depth) -> Raster {
    let rgb = pertouch_core::render::resample(&sample("storm.jpg"), 3840, 2160);
    let Samples::U8(s) = rgb.samples() else {
        panic!("8-bit sample")
    };
    let rgba: Vec<u8> = s
        .chunks_exact(3)
        .flat_map(|p| [p[0], p[1], p[2], 255])
        .collect();
    Raster::new(3840, 2160, 4, Samples::U8(rgba))
        .expect("4K")
        .with_depth(depth)
}
