//! The diffusion renderer: sampling steps of the tiny fixture package (the real
//! architecture at toy widths) with the time inside ONNX Runtime separated from our
//! orchestration, and the full-resolution colour transfer on a 24-megapixel frame.
//!
//! Run: `cargo bench -p pertouch-core --bench diffusion` (needs ONNX Runtime for
//! the sampling part). `PERTOUCH_BENCH_DIFFUSION=DIR` measures another diffusion
//! package instead of the fixture. Results are in docs/BENCHMARKS.md.

use criterion::{criterion_group, criterion_main, Criterion};
use pertouch_core::diffusion::{
    pipeline::rgb_to_tensor, ColourTransfer, DiffusionModel, SampleOptions, SampleStats,
    SchedulerKind, TransferOptions,
};
use pertouch_core::image_io::{load, LoadOptions};
use pertouch_core::onnx::{self, Package, RuntimeConfig, SessionOptions, TensorF32};
use pertouch_core::render::resample;
use pertouch_core::render::Control;
use std::hint::black_box;
use std::path::PathBuf;
use std::time::Duration;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn sampling(c: &mut Criterion) {
    let Ok(rt) = onnx::load(&RuntimeConfig::default()) else {
        eprintln!("no ONNX Runtime: sampling not measured (build/test.sh installs it)");
        return;
    };
    let dir = std::env::var_os("PERTOUCH_BENCH_DIFFUSION")
        .map(PathBuf::from)
        .unwrap_or_else(|| root().join("../models/fixtures/diffusion_tiny"));
    let pkg = Package::open(&dir).unwrap();
    let model = DiffusionModel::open(&pkg, rt, &SessionOptions::default()).unwrap();
    let s = model.size();
    let photo = load(
        &root().join("../../shared/samples/dune.jpg"),
        &LoadOptions::default(),
    )
    .unwrap()
    .raster;
    let small = photo.rgb_resized(s, s);
    let latent = model.encode(&rgb_to_tensor(&small)).unwrap();
    let map = TensorF32 {
        shape: vec![1, 4, s, s],
        data: vec![0.1; 4 * s * s],
    };
    let mut g = c.benchmark_group(format!("{}_{s}", pkg.manifest.name));
    g.sample_size(20);
    for kind in [SchedulerKind::DpmSolverPP, SchedulerKind::Ddim] {
        let opts = SampleOptions {
            scheduler: kind,
            steps: 10,
            seed: 1,
        };
        // Criterion times whole 10-step runs; our own clocks split each run into
        // ONNX Runtime's part and ours.
        let mut total = SampleStats::default();
        let mut runs = 0u32;
        g.bench_function(format!("sample 10 steps {}", kind.name()), |b| {
            b.iter(|| {
                let (x, st) = model
                    .sample(&latent, &map, model.noise(1), &opts, &Control::default())
                    .unwrap();
                total.total += st.total;
                total.onnx += st.onnx;
                runs += 1;
                black_box(x)
            })
        });
        let per_step = |d: Duration| d.as_secs_f64() * 1e3 / (runs as f64 * 10.0);
        eprintln!(
            "{} {}: per step {:.3} ms, of which ONNX Runtime {:.3} ms; orchestration {:.3} ms = {:.2}% of ONNX Runtime's time ({runs} runs)",
            pkg.manifest.name,
            kind.name(),
            per_step(total.total),
            per_step(total.onnx),
            per_step(total.total) - per_step(total.onnx),
            100.0 * (total.total.as_secs_f64() - total.onnx.as_secs_f64())
                / total.onnx.as_secs_f64()
        );
    }
    g.bench_function("encode + decode", |b| {
        b.iter(|| {
            let l = model.encode(&rgb_to_tensor(&small)).unwrap();
            black_box(model.decode(&l).unwrap())
        })
    });
    g.finish();
}

fn transfer(c: &mut Criterion) {
    // dune.jpg upscaled to 6000 x 4000: the size of a 24-megapixel camera frame.
    let photo = load(
        &root().join("../../shared/samples/dune.jpg"),
        &LoadOptions::default(),
    )
    .unwrap()
    .raster;
    let big = resample(&photo, 6000, 4000);
    let small = big.rgb_resized(512, 512);
    let edited = pertouch_core::raster::RgbF32 {
        data: small
            .data
            .iter()
            .map(|p| [p[0] * 1.05 + 4.0, p[1], p[2] * 0.92])
            .collect(),
        ..small.clone()
    };
    let mut g = c.benchmark_group("transfer");
    g.sample_size(10);
    g.bench_function("model input 512 from 24 MP (area resize)", |b| {
        b.iter(|| black_box(big.rgb_resized(512, 512)))
    });
    g.bench_function("fit 512", |b| {
        b.iter(|| {
            black_box(ColourTransfer::fit(
                &small,
                &edited,
                &TransferOptions::default(),
            ))
        })
    });
    let t = ColourTransfer::fit(&small, &edited, &TransferOptions::default()).unwrap();
    g.bench_function("apply 24 MP 8-bit", |b| {
        b.iter(|| {
            black_box(
                t.apply(&big, 0, 0, 6000, 4000, &Control::default())
                    .unwrap(),
            )
        })
    });
    g.finish();
}

criterion_group!(benches, sampling, transfer);
criterion_main!(benches);
