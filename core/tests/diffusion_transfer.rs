//! Full-resolution transfer on real photos: a known smooth colour transform applied
//! to the 512 x 512 model-size copy and carried over to the full-size photo must
//! match the same transform applied to the full-size photo directly (PSNR >= 40 dB),
//! and beat resizing the 512 x 512 result back up.

use pertouch_core::diffusion::{ColourTransfer, TransferOptions};
use pertouch_core::image_io::{load, LoadOptions};
use pertouch_core::raster::{Raster, RgbF32, Samples};
use pertouch_core::render::Control;
use std::path::PathBuf;

const MODEL_SIZE: usize = 512;

fn sample(name: &str) -> Raster {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/samples")
        .join(name);
    load(&path, &LoadOptions::default()).unwrap().raster
}

/// A smooth, spatially varying retouch in [0, 1] units: the top warmer, more
/// saturation, a tone curve, brighter to the right.
fn retouch(u: f32, v: f32, p: [f32; 3]) -> [f32; 3] {
    let warm = 0.06 * (1.0 - v);
    let p = [p[0] * (1.0 + warm), p[1], p[2] * (1.0 - warm)];
    let l = 0.3 * p[0] + 0.59 * p[1] + 0.11 * p[2];
    p.map(|x| {
        let s = (l + 1.25 * (x - l)).clamp(0.0, 1.0);
        (s.powf(0.85) + 0.04 * u).clamp(0.0, 1.0)
    })
}

fn retouch_rgb(img: &RgbF32) -> RgbF32 {
    let (w, h) = (img.width, img.height);
    RgbF32 {
        width: w,
        height: h,
        data: img
            .data
            .iter()
            .enumerate()
            .map(|(i, p)| {
                let u = ((i % w) as f32 + 0.5) / w as f32;
                let v = ((i / w) as f32 + 0.5) / h as f32;
                retouch(u, v, p.map(|c| c / 255.0)).map(|c| c * 255.0)
            })
            .collect(),
    }
}

fn full_rgb(r: &Raster) -> RgbF32 {
    r.rgb_resized(r.width(), r.height())
}

/// PSNR of two 8-bit-quantised RGB images (0..255 units).
fn psnr(a: &RgbF32, b: &RgbF32) -> f64 {
    assert_eq!((a.width, a.height), (b.width, b.height));
    let q = |v: f32| v.round().clamp(0.0, 255.0) as f64;
    let mse = a
        .data
        .iter()
        .zip(&b.data)
        .flat_map(|(x, y)| (0..3).map(move |k| (q(x[k]) - q(y[k])).powi(2)))
        .sum::<f64>()
        / (a.data.len() * 3) as f64;
    10.0 * (255.0f64.powi(2) / mse.max(1e-12)).log10()
}

#[test]
fn transfer_to_full_resolution_matches_the_direct_edit() {
    for name in [
        "garden.jpg",
        "dune.jpg",
        "storm.jpg",
        "meadow.jpg",
        "ladybird.jpg",
    ] {
        let photo = sample(name);
        let (w, h) = (photo.width(), photo.height());
        let small = photo.rgb_resized(MODEL_SIZE, MODEL_SIZE);
        let edited_small = retouch_rgb(&small);
        let t = ColourTransfer::fit(&small, &edited_small, &TransferOptions::default()).unwrap();
        let out = t.apply(&photo, 0, 0, w, h, &Control::default()).unwrap();
        assert!(matches!(out.samples(), Samples::U8(_)), "depth kept");
        let direct = retouch_rgb(&full_rgb(&photo));
        let transferred = full_rgb(&out);
        let p = psnr(&transferred, &direct);
        // The reference's way: the 512 x 512 result resized back to full size.
        let naive = edited_small.resized(w, h);
        let p_naive = psnr(&naive, &direct);
        eprintln!("{name} ({w} x {h}): transfer {p:.1} dB, resized model output {p_naive:.1} dB");
        assert!(p >= 40.0, "{name}: {p:.2} dB");
        assert!(
            p > p_naive,
            "{name}: transfer {p:.1} vs resize {p_naive:.1}"
        );
    }
}

#[test]
fn tiles_and_proxies_agree_with_the_full_frame() {
    let photo = sample("garden.jpg");
    let (w, h) = (photo.width(), photo.height());
    let small = photo.rgb_resized(MODEL_SIZE, MODEL_SIZE);
    let t = ColourTransfer::fit(&small, &retouch_rgb(&small), &TransferOptions::default()).unwrap();
    let full = t.apply(&photo, 0, 0, w, h, &Control::default()).unwrap();
    // A tile cut from the photo and rendered alone equals the same part of the full render.
    let (x0, y0, tw, th) = (333, 217, 400, 300);
    let cut = |r: &Raster| -> Vec<u8> {
        let Samples::U8(v) = r.samples() else {
            panic!("8-bit")
        };
        let ch = r.channels();
        (y0..y0 + th)
            .flat_map(|y| v[(y * r.width() + x0) * ch..(y * r.width() + x0 + tw) * ch].to_vec())
            .collect()
    };
    let Samples::U8(src) = photo.samples() else {
        panic!("8-bit")
    };
    let ch = photo.channels();
    let tile_src: Vec<u8> = (y0..y0 + th)
        .flat_map(|y| src[(y * w + x0) * ch..(y * w + x0 + tw) * ch].to_vec())
        .collect();
    let tile = Raster::new(tw, th, ch, Samples::U8(tile_src)).unwrap();
    let tile_out = t.apply(&tile, x0, y0, w, h, &Control::default()).unwrap();
    let Samples::U8(tv) = tile_out.samples() else {
        panic!("8-bit")
    };
    assert_eq!(&cut(&full), tv, "a tile renders as the full frame does");
}
