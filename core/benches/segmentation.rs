//! ONNX segmentation on the committed fixtures (real input and output shapes,
//! random weights), CPU execution provider: the whole `segment` call on a 512 x 341
//! analysis image, and its parts (pre-processing, the session run alone,
//! post-processing) so our overhead can be read against ONNX Runtime's own time.
//!
//! Run: `cargo bench -p pertouch-core --bench segmentation` (needs ONNX Runtime:
//! build/test.sh installs the wheel). Results are in docs/BENCHMARKS.md.
//!
//! The fixtures' graphs are tiny, so their session time says nothing about a real
//! model's. To measure the same pipeline on exported real packages (models/README.md),
//! point `PERTOUCH_BENCH_SEGFORMER` and/or `PERTOUCH_BENCH_CLIPSEG` at their folders.

use criterion::{criterion_group, criterion_main, Criterion};
use pertouch_core::image_io::{load, LoadOptions};
use pertouch_core::onnx::package::Normalisation;
use pertouch_core::onnx::{
    self, Input, OnnxSession, Package, RuntimeConfig, SessionOptions, TensorI64,
};
use pertouch_core::segment::model_io::{
    class_group_probabilities, image_tensor, sigmoid, to_image_size,
};
use pertouch_core::segment::{LabelSegmenter, Segmenter, TextSegmenter, SEGMENT_LONG_SIDE};
use std::hint::black_box;
use std::path::PathBuf;

/// The package to measure: the folder named by `var`, else the committed fixture.
fn package_dir(var: &str, fixture: &str) -> PathBuf {
    match std::env::var_os(var) {
        Some(dir) => PathBuf::from(dir),
        None => PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("../models/fixtures")
            .join(fixture),
    }
}

fn norm(pkg: &Package) -> Normalisation {
    pkg.manifest
        .normalisation
        .clone()
        .expect("fixture normalisation")
}

fn bench(c: &mut Criterion) {
    let Ok(rt) = onnx::load(&RuntimeConfig::default()) else {
        eprintln!("no ONNX Runtime: nothing to measure (build/test.sh installs it)");
        return;
    };
    let photo = load(
        &PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../shared/samples/garden.jpg"),
        &LoadOptions::default(),
    )
    .expect("shared sample photo");
    let rgb = photo.raster.analysis_rgb(SEGMENT_LONG_SIDE);
    let opts = SessionOptions::default();

    // Label-set model: 512 x 512 in, 150 x 128 x 128 logits out.
    let pkg = Package::open(&package_dir(
        "PERTOUCH_BENCH_SEGFORMER",
        "segformer_fixture",
    ))
    .unwrap();
    let seg = LabelSegmenter::open(&pkg, rt, &opts).unwrap();
    let session = OnnxSession::open(rt, &pkg.model_path(), &opts).unwrap();
    let n = norm(&pkg);
    let names = ["sky", "trees", "buildings"];
    let groups: Vec<Vec<usize>> = names.iter().map(|r| seg.classes_for(r).unwrap()).collect();
    let tensor = image_tensor(&rgb, 512, 512, &n, 1);
    let logits = session
        .run_f32(&[("pixel_values", &tensor)])
        .unwrap()
        .remove(0)
        .1;
    let mut g = c.benchmark_group(format!("{}_512", pkg.manifest.name));
    g.sample_size(30);
    g.bench_function("segment 3 regions (all)", |b| {
        b.iter(|| black_box(seg.segment(&rgb, &names).unwrap()))
    });
    g.bench_function("pre: resize + normalise", |b| {
        b.iter(|| black_box(image_tensor(&rgb, 512, 512, &n, 1)))
    });
    g.bench_function("session run", |b| {
        b.iter(|| black_box(session.run_f32(&[("pixel_values", &tensor)]).unwrap()))
    });
    g.bench_function("post: softmax groups + resize", |b| {
        b.iter(|| {
            let p = class_group_probabilities(&logits.data, 150, 128, 128, &groups);
            black_box(
                p.iter()
                    .map(|p| to_image_size(p, 128, 128, &rgb))
                    .collect::<Vec<_>>(),
            )
        })
    });
    g.finish();

    // Text-prompted model: 3 prompts, 352 x 352.
    let pkg = Package::open(&package_dir("PERTOUCH_BENCH_CLIPSEG", "clipseg_fixture")).unwrap();
    let seg = TextSegmenter::open(&pkg, rt, &opts).unwrap();
    let session = OnnxSession::open(rt, &pkg.model_path(), &opts).unwrap();
    let n = norm(&pkg);
    let prompts = ["sky", "red car", "a person's face"];
    let enc = seg.tokenizer().encode_batch(&prompts);
    let ids = TensorI64 {
        shape: vec![3, enc.length],
        data: enc.ids.clone(),
    };
    let mask = TensorI64 {
        shape: vec![3, enc.length],
        data: enc.attention.clone(),
    };
    let pixels = image_tensor(&rgb, 352, 352, &n, 3);
    let run = || {
        session
            .run(&[
                ("input_ids", Input::I64(&ids)),
                ("pixel_values", Input::F32(&pixels)),
                ("attention_mask", Input::I64(&mask)),
            ])
            .unwrap()
    };
    let logits = run().remove(0).1;
    let mut g = c.benchmark_group(format!("{}_352", pkg.manifest.name));
    g.sample_size(30);
    g.bench_function("segment 3 prompts (all)", |b| {
        b.iter(|| black_box(seg.segment(&rgb, &prompts).unwrap()))
    });
    g.bench_function("pre: tokenize + resize + normalise", |b| {
        b.iter(|| {
            black_box(seg.tokenizer().encode_batch(&prompts));
            black_box(image_tensor(&rgb, 352, 352, &n, 3))
        })
    });
    g.bench_function("session run", |b| b.iter(|| black_box(run())));
    g.bench_function("post: sigmoid + resize", |b| {
        b.iter(|| {
            black_box(
                logits
                    .data
                    .chunks_exact(352 * 352)
                    .map(|l| {
                        let p: Vec<f32> = l.iter().map(|&v| sigmoid(v)).collect();
                        to_image_size(&p, 352, 352, &rgb)
                    })
                    .collect::<Vec<_>>(),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
