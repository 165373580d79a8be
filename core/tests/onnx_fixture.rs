//! Real ONNX Runtime on the committed fixture (models/fixtures): load, run, compare
//! with what Python's onnxruntime computed, share one session across threads.

use pertouch_core::onnx::{self, OnnxSession, Provider, RuntimeConfig, SessionOptions, TensorF32};
use std::path::PathBuf;
use std::sync::Arc;

fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../models/fixtures")
        .join(name)
}

/// The runtime, or `None` (with a note) when it is absent and not required.
fn runtime() -> Option<&'static onnx::Runtime> {
    match onnx::load(&RuntimeConfig::default()) {
        Ok(rt) => Some(rt),
        Err(e) => {
            assert!(
                std::env::var_os("PERTOUCH_REQUIRE_ORT").is_none(),
                "ONNX Runtime is required here: {e}"
            );
            eprintln!("note: skipped, no ONNX Runtime (build/test.sh installs it): {e}");
            None
        }
    }
}

#[test]
fn the_fixture_matches_python_onnxruntime() {
    let Some(rt) = runtime() else { return };
    let s =
        OnnxSession::open(rt, &fixture("scale_shift.onnx"), &SessionOptions::default()).unwrap();
    assert_eq!(s.inputs, vec!["x"]);
    assert_eq!(s.outputs, vec!["y"]);
    // No GPU on this machine: auto lands on the CPU and says so.
    assert_eq!(s.provider, Provider::Cpu);
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("scale_shift.expected.json")).unwrap(),
    )
    .unwrap();
    let floats = |k: &str| -> Vec<f32> {
        expected[k]
            .as_array()
            .unwrap()
            .iter()
            .map(|v| v.as_f64().unwrap() as f32)
            .collect()
    };
    let shape: Vec<usize> = expected["shape"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_u64().unwrap() as usize)
        .collect();
    let x = TensorF32 {
        shape: shape.clone(),
        data: floats("x"),
    };
    let out = s.run_f32(&[("x", &x)]).unwrap();
    assert_eq!(out.len(), 1);
    let (name, y) = &out[0];
    assert_eq!(name, "y");
    assert_eq!(y.shape, shape);
    let want = floats("y");
    let worst = y
        .data
        .iter()
        .zip(&want)
        .map(|(a, b)| (a - b).abs())
        .fold(0f32, f32::max);
    assert!(worst <= 1e-6, "worst difference {worst}");
}

#[test]
fn one_session_serves_many_threads() {
    let Some(rt) = runtime() else { return };
    let s = Arc::new(
        OnnxSession::open(
            rt,
            &fixture("scale_shift.onnx"),
            &SessionOptions {
                provider: Provider::Cpu,
                intra_threads: 1,
            },
        )
        .unwrap(),
    );
    let handles: Vec<_> = (0..8)
        .map(|t| {
            let s = Arc::clone(&s);
            std::thread::spawn(move || {
                for i in 0..20 {
                    let v = (t * 100 + i) as f32;
                    let x = TensorF32 {
                        shape: vec![1, 3, 2, 2],
                        data: vec![v; 12],
                    };
                    let out = s.run_f32(&[("x", &x)]).unwrap();
                    assert!(out[0].1.data.iter().all(|&y| y == v * 2.0 + 1.0));
                }
            })
        })
        .collect();
    for h in handles {
        h.join().unwrap();
    }
}

#[test]
fn bad_inputs_and_missing_models_are_errors() {
    let Some(rt) = runtime() else { return };
    let e = OnnxSession::open(
        rt,
        &fixture("no-such-model.onnx"),
        &SessionOptions::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("no-such-model.onnx"), "{e}");
    let s =
        OnnxSession::open(rt, &fixture("scale_shift.onnx"), &SessionOptions::default()).unwrap();
    // Values that do not fill the shape.
    let bad = TensorF32 {
        shape: vec![1, 3, 2, 2],
        data: vec![0.0; 5],
    };
    assert!(s
        .run_f32(&[("x", &bad)])
        .unwrap_err()
        .to_string()
        .contains("does not hold"));
    // Wrong rank for the graph.
    let flat = TensorF32 {
        shape: vec![12],
        data: vec![0.0; 12],
    };
    let e = s.run_f32(&[("x", &flat)]).unwrap_err();
    assert!(e.to_string().contains("scale_shift.onnx"), "{e}");
    // A name the graph does not have.
    let x = TensorF32 {
        shape: vec![1, 3, 2, 2],
        data: vec![0.0; 12],
    };
    assert!(s.run_f32(&[("image", &x)]).is_err());
    // A file that is not a model.
    let dir = tempfile::tempdir().unwrap();
    let junk = dir.path().join("junk.onnx");
    std::fs::write(&junk, b"definitely not protobuf").unwrap();
    assert!(OnnxSession::open(rt, &junk, &SessionOptions::default()).is_err());
}
