//! A 4K frame through the OpenFX plug-in (driven by our test host) against the
//! same render called on the core directly: the plug-in's overhead (parameter
//! reads, host images as views, the frame key, conversion in and out).
//!
//!   cargo bench -p pertouch-e2e --bench ofx_overhead
//!
//! Two cases each: a frame not solved yet (segment, plan and render: what
//! playback of new frames costs) and a frame already solved (render only: what
//! another tile or a re-render costs); the solved frame also through a host that
//! reuses its output images' memory (`pooled`) rather than zeroing a new image
//! for every render.

#[path = "../../core/benches/common/mod.rs"]
mod common;

use common::frame_4k;
use criterion::{criterion_group, criterion_main, Criterion};
use pertouch_core::host::{Engine, EngineConfig, FrameInputs, FrameKey};
use pertouch_core::mask::MaskSet;
use pertouch_core::params::RegionState;
use pertouch_core::raster::{Depth, Raster};
use pertouch_core::render::Control;
use pertouch_e2e::ofx_host::{self as host, PValue, Plugin, Quirks};
use pertouch_ofx::abi::OfxRectI;
use std::ffi::CString;
use std::time::Duration;

const EDIT: &str =
    r#"{"global": {"brightness": 0.1, "contrast": 0.1}, "sky": {"temperature": -0.3}}"#;

/// The core alone: the frame key from the pixels, plan (unless
/// cached), render, as a host embedding the core would call it.
fn core_render(engine: &Engine, frame: &Raster, state: &RegionState) -> Raster {
    let ctl = Control::default();
    let key = FrameKey::for_raster(frame, state);
    let f = engine
        .frame(
            key,
            state,
            || {
                Ok(FrameInputs {
                    source: std::borrow::Cow::Borrowed(frame),
                    masks: MaskSet::new(),
                })
            },
            &ctl,
        )
        .expect("plan");
    f.render_tile(frame, (0, 0), (frame.width(), frame.height()), &ctl)
        .expect("render")
}

fn bench(c: &mut Criterion) {
    let _serial = host::serial();
    host::set_quirks(Quirks::default());
    let plugin = Plugin::load(&host::built_bundle()).expect("bundle");
    let inst = plugin
        .instance("OfxImageEffectContextFilter")
        .expect("instance");
    inst.set_param("state", PValue::Text(CString::new(EDIT).unwrap()));
    let engine = Engine::open(&EngineConfig::default()).expect("engine");
    let state = RegionState::from_json(EDIT).unwrap();
    let window = OfxRectI {
        x1: 0,
        y1: 0,
        x2: 3840,
        y2: 2160,
    };
    let mut group = c.benchmark_group("ofx_4k");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20))
        .warm_up_time(Duration::from_secs(3));
    for depth in [Depth::U8, Depth::F32] {
        let frame = frame_4k(depth);
        inst.set_source(0.0, frame.clone());
        let name = format!("{depth:?}").to_lowercase();
        group.bench_function(format!("plugin_new_frame_{name}"), |b| {
            b.iter(|| {
                inst.purge_caches();
                assert_eq!(inst.render_action(0.0, 1.0, window), 0);
            })
        });
        group.bench_function(format!("core_new_frame_{name}"), |b| {
            b.iter(|| {
                engine.purge();
                core_render(&engine, &frame, &state)
            })
        });
        group.bench_function(format!("plugin_solved_frame_{name}"), |b| {
            b.iter(|| assert_eq!(inst.render_action(0.0, 1.0, window), 0))
        });
        // The same through a host that reuses output image memory (MLT's pool,
        // an image cache) instead of zeroing a new image for every render.
        host::set_quirks(Quirks {
            pooled_outputs: true,
            ..Quirks::default()
        });
        group.bench_function(format!("plugin_solved_frame_pooled_{name}"), |b| {
            b.iter(|| assert_eq!(inst.render_action(0.0, 1.0, window), 0))
        });
        host::set_quirks(Quirks::default());
        group.bench_function(format!("core_solved_frame_{name}"), |b| {
            b.iter(|| core_render(&engine, &frame, &state))
        });
    }
    group.finish();
    inst.destroy();
    plugin.unload();
}

criterion_group!(benches, bench);
criterion_main!(benches);
