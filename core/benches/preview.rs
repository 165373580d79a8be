//! A slider change on a planned 24-megapixel frame, previewed at ~1 megapixel
//! (`Engine::preview`): no segmentation, the frame's masks reused.
//!
//! Run: `cargo bench -p pertouch-core --bench preview`. Results are in
//! docs/BENCHMARKS.md.

mod common;

use common::photo_24mp;
use criterion::{criterion_group, criterion_main, Criterion};
use pertouch_core::config::Config;
use pertouch_core::host::{preview_source, Engine, EngineConfig, FrameInputs, FrameKey};
use pertouch_core::mask::MaskSet;
use pertouch_core::params::RegionState;
use pertouch_core::plane::Plane;
use pertouch_core::render::Control;
use std::hint::black_box;

/// Three overlapping soft masks at the size mask files are read at (1024 long
/// side): a sky band, a water band, an ellipse.
fn soft_masks() -> MaskSet {
    let (w, h) = (1024usize, 683usize);
    let mut set = MaskSet::new();
    let ramp = |d: f32| (0.5 - d / 0.06).clamp(0.0, 1.0);
    for name in ["sky", "water", "dune"] {
        let data = (0..w * h)
            .map(|k| {
                let (x, y) = ((k % w) as f32 / w as f32, (k / w) as f32 / h as f32);
                match name {
                    "sky" => ramp(y - 0.35),
                    "water" => ramp((y - 0.5).abs() - 0.12),
                    _ => ramp(((x - 0.6) / 0.3).hypot((y - 0.7) / 0.2) * 0.3 - 0.3),
                }
            })
            .collect();
        set.insert(name, Plane::from_vec(w, h, data).expect("sizes match"));
    }
    set
}

fn bench(c: &mut Criterion) {
    let img = photo_24mp();
    let engine =
        Engine::open_with(&EngineConfig::default(), Config::default()).expect("engine opens");
    let before = RegionState::from_json(
        r#"{"global": {"contrast": 0.1}, "sky": {"temperature": -0.2}, "water": {"brightness": 0.15}, "dune": {"colorfulness": 0.2}}"#,
    )
    .expect("valid state");
    let ctl = Control::default();
    let frame = engine
        .frame(
            FrameKey::for_raster(&img, &before),
            &before,
            || {
                Ok(FrameInputs {
                    source: std::borrow::Cow::Borrowed(&img),
                    masks: soft_masks(),
                })
            },
            &ctl,
        )
        .expect("plans");
    // The slider moved: the sky's temperature from -0.2 to -0.35.
    let after = RegionState::from_json(
        r#"{"global": {"contrast": 0.1}, "sky": {"temperature": -0.35}, "water": {"brightness": 0.15}, "dune": {"colorfulness": 0.2}}"#,
    )
    .expect("valid state");
    let mut g = c.benchmark_group("preview");
    g.sample_size(20);
    // Once per frame: the ~1-megapixel copy previews are made on.
    g.bench_function("preview_source_24mp_to_1mp", |b| {
        b.iter(|| black_box(preview_source(&img)))
    });
    let small = preview_source(&img);
    g.bench_function("slider_change_24mp_frame_1mp_preview", |b| {
        b.iter(|| {
            black_box(
                engine
                    .preview(&frame, &small, &after, &ctl)
                    .expect("previews"),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
