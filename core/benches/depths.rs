//! One 4K frame rendered at each sample depth, the plan already made (a re-render
//! or a compositor's next request of the same frame): 8-bit through baked tables,
//! float through its float tables (exact transforms in rough cells), 16-bit
//! exactly; into a new raster each time, and (8-bit and float) into one output
//! raster reused from frame to frame, as a host's own output memory is. Also the
//! plan of a new float frame, which bakes the float tables.
//!
//! Run: `cargo bench -p pertouch-core --bench depths`. Results are in
//! docs/BENCHMARKS.md.

mod common;

use common::frame_4k;
use criterion::{criterion_group, criterion_main, Criterion};
use pertouch_core::config::Config;
use pertouch_core::host::{Engine, EngineConfig, FrameInputs, FrameKey};
use pertouch_core::mask::MaskSet;
use pertouch_core::params::RegionState;
use pertouch_core::raster::Depth;
use pertouch_core::render::Control;
use std::hint::black_box;

/// The OpenFX benchmark's edit: two global attributes and the sky the built-in
/// segmenter finds.
const EDIT: &str =
    r#"{"global": {"brightness": 0.1, "contrast": 0.1}, "sky": {"temperature": -0.3}}"#;

fn bench(c: &mut Criterion) {
    let engine =
        Engine::open_with(&EngineConfig::default(), Config::default()).expect("engine opens");
    let state = RegionState::from_json(EDIT).expect("valid state");
    let ctl = Control::default();
    let mut g = c.benchmark_group("depths_4k");
    g.sample_size(20);
    for depth in [Depth::U8, Depth::F32, Depth::U16] {
        let img = frame_4k(depth);
        let name = format!("{depth:?}").to_lowercase();
        let plan = || {
            engine
                .frame(
                    FrameKey::for_raster(&img, &state),
                    &state,
                    || {
                        Ok(FrameInputs {
                            source: std::borrow::Cow::Borrowed(&img),
                            masks: MaskSet::new(),
                        })
                    },
                    &ctl,
                )
                .expect("plans")
        };
        if depth == Depth::F32 {
            g.bench_function("new_frame_f32", |b| {
                b.iter(|| {
                    engine.purge();
                    black_box(plan())
                })
            });
        }
        let frame = plan();
        let whole = (img.width(), img.height());
        g.bench_function(format!("solved_frame_{name}"), |b| {
            b.iter(|| {
                black_box(
                    frame
                        .render_tile(&img, (0, 0), whole, &ctl)
                        .expect("renders"),
                )
            })
        });
        if depth != Depth::U16 {
            // A host rendering frame after frame into the same output memory (a
            // compositor's image cache, a GIMP shadow buffer).
            let mut out = frame
                .render_tile(&img, (0, 0), whole, &ctl)
                .expect("renders");
            g.bench_function(format!("solved_frame_into_{name}"), |b| {
                b.iter(|| {
                    frame
                        .render_tile_into(&img, (0, 0), whole, &mut out, &ctl)
                        .expect("renders");
                    black_box(&out);
                })
            });
        }
    }
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
