//! What each fuzz target checks, beyond not crashing: every input is either refused
//! with an error or accepted as something that keeps the promises of its type
//! (values in range, names plain, sizes within limits, round trips exact).
//!
//! Only `pertouch_core` and `serde_json` are used here, so the file also compiles
//! inside the core's own tests (`core/tests/fuzz_corpora.rs` includes it by path
//! and runs it over the committed corpora on stable). `feature = "vlm"` is the
//! core's feature there and the fuzz crate's own (which turns the core's on) here.

use pertouch_core::host::pixels::PixelView;
use pertouch_core::image_io::{decode_bytes, LoadOptions, MAX_SIDE};
use pertouch_core::onnx::package::{name_problem, Manifest};
use pertouch_core::params::region_state::{MAX_REGIONS, MAX_REGION_NAME};
use pertouch_core::params::{Attribute, RegionState};
use pertouch_core::raster::{Depth, Raster, Samples};
#[cfg(feature = "vlm")]
use pertouch_core::vlm::reply;
use std::path::{Component, Path};

/// Region-state JSON, as `--state`, `pt_render` and recalled memories hand it in.
pub fn region_state(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(state) = RegionState::from_json(text) else {
        return;
    };
    let regions: Vec<(&str, _)> = state.regions().collect();
    assert!(regions.len() <= MAX_REGIONS);
    for (i, (name, values)) in regions.iter().enumerate() {
        assert!(!name.is_empty() && name.chars().count() <= MAX_REGION_NAME);
        assert!(!name.chars().any(char::is_control), "{name:?}");
        assert!(i == 0 || *name != "global", "global paints first");
        for (_, v) in values.iter() {
            assert!((-1.0..=1.0).contains(&v), "{v}");
        }
    }
    // The canonical form reads back to the same state (to 6 decimals).
    let back = RegionState::from_json(&state.to_json_pretty()).expect("canonical JSON reads back");
    assert_eq!(back.regions().count(), regions.len());
    for ((n1, v1), (n2, v2)) in regions.iter().zip(back.regions()) {
        assert_eq!(*n1, n2);
        for a in Attribute::ALL {
            match (v1.get(a), v2.get(a)) {
                (Some(x), Some(y)) => assert!((x - y).abs() < 1e-5, "{x} {y}"),
                (None, None) => {}
                other => panic!("{other:?}"),
            }
        }
    }
}

/// A VLM's reply text: the JSON found in it, the typed replies, the checked edits.
/// (The VLM agent is the core's `vlm` feature: on in the fuzz crate and in the
/// core's tests as the workspace runs them, with the CLI.)
#[cfg(feature = "vlm")]
pub fn vlm_reply(data: &[u8]) {
    let text = String::from_utf8_lossy(data);
    match reply::extract_json(&text) {
        Ok(v) => assert!(v.is_object()),
        Err(e) => assert!(e.to_string().len() < 1000, "error messages stay short"),
    }
    let finds = |r: &str| matches!(r, "sky" | "vegetation" | "skin");
    if let Ok(r) = reply::parse::<reply::EditsReply>(&text, "analysis") {
        if let Ok(checked) = reply::check_edits(&r.edits, &finds) {
            for e in &checked.edits {
                assert!(e.amount.is_finite() && (-1.0..=1.0).contains(&e.amount));
                assert!(e.region == "global" || finds(&e.region), "{}", e.region);
            }
        }
    }
    if let Ok(r) = reply::parse::<reply::RethinkReply>(&text, "rethink") {
        let _ = reply::check_edits(&r.edits, &|_| true);
    }
    if let Ok(r) = reply::parse::<reply::ClassifyReply>(&text, "classify") {
        let _ = r.kind();
    }
    if let Ok(r) = reply::parse::<reply::SceneReply>(&text, "scene") {
        let tags = r.clean_tags();
        assert!(tags.len() <= 8 && tags.iter().all(|t| !t.is_empty() && t.len() <= 40));
    }
    let _ = reply::normalise_region(&text);
}

/// A model package's manifest.
pub fn manifest(data: &[u8]) {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    let Ok(m) = Manifest::parse(text) else {
        return;
    };
    assert_eq!(name_problem(&m.name), None);
    assert!(!m.name.starts_with('.'));
    for f in &m.files {
        let p = Path::new(&f.path);
        assert!(!f.path.is_empty() && !p.is_absolute());
        assert!(p.components().all(|c| matches!(c, Component::Normal(_))));
        assert_eq!(f.sha256.len(), 64);
    }
}

/// Largest image the `image_decode` target decodes, in megapixels: decoding is
/// linear in pixels, and under the sanitizer a 1.4 MP JPEG of junk took 0.8-1.0 s
/// (0.14 s for `pertouch measure` on the same file), past the 1 s per input
/// that marks a hang.
const FUZZ_MEGAPIXELS: f64 = 0.5;

/// An image file's bytes through the loader every host uses, under a small
/// megapixel limit so that a fuzzer's millions of inputs stay fast.
pub fn image_decode(data: &[u8]) {
    let _ = pertouch_core::image_io::jpeg_end::jpeg_end(data);
    let opts = LoadOptions {
        max_megapixels: FUZZ_MEGAPIXELS,
    };
    if let Ok(img) = decode_bytes(data, Path::new("fuzz-input"), &opts) {
        let (w, h) = (img.raster.width(), img.raster.height());
        assert!(w >= 1 && h >= 1);
        assert!(w <= MAX_SIDE as usize && h <= MAX_SIDE as usize);
        assert!((w * h) as f64 <= FUZZ_MEGAPIXELS * 1e6);
        assert!(matches!(img.raster.channels(), 3 | 4));
    }
}

/// Host pixel memory: a view described by the input over memory that holds what
/// the description promises, then every read and write with input-chosen
/// rectangles, channels and bands. Out-of-range requests must be errors; in-range
/// ones must return exactly what is there (a sanitizer catches any access outside
/// the buffer).
pub fn pixel_view(data: &[u8]) {
    let mut bytes = data.iter().copied();
    let mut next = move || bytes.next().unwrap_or(0) as usize;
    let width = next() % 48 + 1;
    let height = next() % 48 + 1;
    let channels = next() % 5; // 0 is refused
    let depth = match next() % 3 {
        0 => Depth::U8,
        1 => Depth::U16,
        _ => Depth::F32,
    };
    let size = match depth {
        Depth::U8 => 1,
        Depth::U16 => 2,
        Depth::F32 => 4,
    };
    let row = width * channels * size;
    // Padding beyond a row (or short of one, which must be refused), bottom-up or
    // top-down, and a misaligned start sometimes.
    let pad = next() % 24;
    let short = next() % 8 == 0;
    let step = if short {
        row.saturating_sub(1 + pad % 3)
    } else {
        row + pad
    };
    let bottom_up = next() % 2 == 1;
    let misalign = usize::from(next() % 8 == 0);
    let total = step * (height - 1) + row.max(step) + misalign + 8;
    // u64 words: the buffer itself is 8-byte aligned.
    let mut buffer = vec![0u64; total / 8 + 1];
    let fill: Vec<u8> = (0..buffer.len() * 8)
        .map(|i| (i as u8).wrapping_mul(31) ^ next() as u8)
        .collect();
    let base: *mut u8 = buffer.as_mut_ptr().cast();
    // SAFETY: `fill` is exactly the buffer's length in bytes.
    unsafe { std::ptr::copy_nonoverlapping(fill.as_ptr(), base, fill.len()) };
    let (start, row_step) = if bottom_up {
        (misalign + step * (height - 1), -(step as isize))
    } else {
        (misalign, step as isize)
    };
    // SAFETY: `start` is inside the buffer; every row the description names lies
    // inside it when the step holds a row (the view refuses steps that do not, and
    // nothing is accessed then).
    let ptr = unsafe { base.add(start) };
    // SAFETY: as above; `buffer` outlives the view and nothing else touches it.
    let view = unsafe { PixelView::new(ptr, width, height, row_step, channels, depth) };
    let misaligned = (misalign == 1 && size > 1) || step % size != 0;
    let Ok(mut view) = view else {
        assert!(channels == 0 || short || misaligned);
        return;
    };
    assert!(!short && !misaligned && channels >= 1);
    // The memory the view says it covers is inside the buffer, and is its own.
    let covered = view.memory();
    let buffer_bytes = base as usize..base as usize + buffer.len() * 8;
    assert!(covered.start >= buffer_bytes.start && covered.end <= buffer_bytes.end);
    assert!(view.overlaps(&view));
    let (x0, y0) = (next() % (width + 2), next() % (height + 2));
    let (w, h) = (next() % (width + 2), next() % (height + 2));
    let inside = w >= 1 && h >= 1 && x0 + w <= width && y0 + h <= height;
    match view.read_rect(x0, y0, w, h) {
        Ok(r) => {
            assert!(inside && channels >= 3);
            assert_eq!((r.width(), r.height(), r.channels()), (w, h, channels));
            if let Samples::U8(v) = r.samples() {
                // The first sample is the byte at the rectangle's corner.
                let at = start as isize + y0 as isize * row_step + (x0 * channels) as isize;
                assert_eq!(v[0], fill[at as usize]);
            }
        }
        Err(_) => assert!(!inside || channels < 3),
    }
    let channel = next() % 6;
    assert_eq!(view.read_channel(channel).is_ok(), channel < channels);
    let _ = view.content_hash();
    if channels >= 3 && inside {
        let n = w * h * channels;
        let samples = match next() % 3 {
            0 => Samples::U8((0..n).map(|i| (i * 7) as u8).collect()),
            1 => Samples::U16((0..n).map(|i| (i * 1031) as u16).collect()),
            _ => Samples::F32((0..n).map(|i| (i % 11) as f32 / 10.0).collect()),
        };
        let patch = Raster::new(w, h, channels, samples).expect("sizes match");
        view.write_rect(x0, y0, &patch)
            .expect("an inside rectangle is written");
        let back = view.read_rect(x0, y0, w, h).expect("and read back");
        if matches!(
            (patch.samples(), back.samples()),
            (Samples::U8(_), Samples::U8(_))
        ) {
            assert_eq!(&back, &patch);
        }
    }
    let rows = next() % (height + 3);
    let bands = view.bands(rows);
    assert_eq!(bands.iter().map(PixelView::height).sum::<usize>(), height);
    for (i, b) in bands.iter().enumerate() {
        assert!(b.read_channel(0).is_ok());
        // Bands are disjoint rows: they can go to different threads.
        assert!(bands.iter().skip(i + 1).all(|o| !b.overlaps(o)));
    }
}
