//! Benchmarks on a 24-megapixel photo (6000 x 4000, upscaled from a shared sample).
//!
//! Run: `cargo bench -p pertouch-core --bench core`. Results and the gegl comparison
//! are in docs/BENCHMARKS.md.

mod common;

use common::photo_24mp;
use criterion::{criterion_group, criterion_main, Criterion};
use pertouch_core::agent::{interpret, preview, Session, PREVIEW_LONG_SIDE};
use pertouch_core::mask::MaskSet;
use pertouch_core::measure::{measure_regions, LevelTables, RegionWeights};
use pertouch_core::params::RegionState;
use pertouch_core::plane::Plane;
use pertouch_core::render::{
    Control, ParametricRenderer, RenderJob, RenderOptions, RenderRequest, Renderer,
};
use pertouch_core::segment::{masks_for, BuiltinSegmenter};
use std::hint::black_box;

const W: usize = 6000;
const H: usize = 4000;

/// Eight full-resolution soft masks: bands, blocks and a radial falloff.
fn masks_24mp(n: usize) -> Vec<Plane> {
    (0..n)
        .map(|i| {
            let data = (0..W * H)
                .map(|k| {
                    let (x, y) = ((k % W) as f32 / W as f32, (k / W) as f32 / H as f32);
                    match i % 4 {
                        0 => (y < (i as f32 + 1.0) / 10.0) as u8 as f32,
                        1 => (x > 0.1 * i as f32) as u8 as f32,
                        2 => (1.0 - ((x - 0.5).powi(2) + (y - 0.5).powi(2)).sqrt() * 2.0)
                            .clamp(0.0, 1.0),
                        _ => ((x + y) * 0.5 > 0.05 * i as f32) as u8 as f32,
                    }
                })
                .collect();
            Plane::from_vec(W, H, data).expect("sizes match")
        })
        .collect()
}

fn bench(c: &mut Criterion) {
    let img = photo_24mp();
    let masks = masks_24mp(8);
    let tables = LevelTables::builtin();
    let mut g = c.benchmark_group("24mp");
    g.sample_size(10);

    g.bench_function("measure_4_attributes_8_regions", |b| {
        b.iter(|| {
            let rgb = img.analysis_rgb(tables.analysis_long_side);
            let planes: Vec<Plane> = masks
                .iter()
                .map(|m| m.resized(rgb.width, rgb.height))
                .collect();
            let weights: Vec<RegionWeights<'_>> = planes.iter().map(RegionWeights::Mask).collect();
            let levels: Vec<_> = measure_regions(&rgb, &weights)
                .into_iter()
                .flatten()
                .map(|m| tables.levels(&m))
                .collect();
            black_box(levels)
        })
    });

    let state = RegionState::from_json(
        r#"{"global": {"contrast": 0.1}, "sky": {"temperature": -0.2, "colorfulness": 0.2}, "water": {"brightness": 0.15}, "dune": {"temperature": 0.2}}"#,
    )
    .expect("valid state");
    let renderer = ParametricRenderer::default();
    // Rough horizontal bands at a quarter of the size, as in build/bench-vs-gegl.sh.
    let mut bands = MaskSet::new();
    for (name, (a, b)) in [
        ("sky", (0, 300)),
        ("water", (300, 600)),
        ("dune", (600, 1024)),
    ] {
        let data = (0..1536 * 1024)
            .map(|k| ((a..b).contains(&(k / 1536)) as u8) as f32)
            .collect();
        bands.insert(
            name,
            Plane::from_vec(1536, 1024, data).expect("sizes match"),
        );
    }
    // Overlapping soft masks: a top band, a right-hand block, a radial falloff.
    let mut soft = MaskSet::new();
    for (name, m) in ["sky", "water", "dune"]
        .iter()
        .zip(masks_24mp(3).into_iter().map(|m| m.resized(1536, 1024)))
    {
        soft.insert(name, m);
    }
    for (label, masks) in [
        ("retouch_3_regions_bands", &bands),
        ("retouch_3_regions_overlapping_soft", &soft),
    ] {
        g.bench_function(label, |b| {
            b.iter(|| {
                let job = RenderJob {
                    source: &img,
                    masks,
                    state: &state,
                };
                black_box(
                    renderer
                        .render(&job, &RenderRequest::default(), &Control::default())
                        .expect("renders"),
                )
            })
        });
    }
    g.finish();
}

/// The offline agent: reading an instruction, and one rethink round on a
/// 12-megapixel photo as `pertouch retouch --say` runs it (find the regions, make the
/// 1024-pixel preview, render and measure it).
fn agent(c: &mut Criterion) {
    let photo = common::dune(4243, 2828);
    let text = "make the sky a bit warmer and the grass greener, but keep the water as is";
    let mut g = c.benchmark_group("agent");
    g.sample_size(20);
    g.bench_function("interpret_instruction", |b| {
        b.iter(|| black_box(interpret(black_box(text)).expect("understood")))
    });
    let tables = LevelTables::builtin().clone();
    let renderer = ParametricRenderer::new(RenderOptions {
        tables: tables.clone(),
        ..Default::default()
    });
    g.bench_function("rethink_round_12mp", |b| {
        b.iter(|| {
            let interp = interpret(text).expect("understood");
            let masks = masks_for(&BuiltinSegmenter, &photo, &["sky", "vegetation", "water"])
                .expect("segments");
            let preview = preview(&photo, PREVIEW_LONG_SIDE);
            let session = Session {
                renderer: &renderer,
                preview: &preview,
                masks: &masks,
                tables: &tables,
            };
            black_box(
                session
                    .apply(&RegionState::new(), &interp, &Control::default())
                    .expect("applies"),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench, agent);
criterion_main!(benches);
