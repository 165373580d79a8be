//! Real ONNX Runtime on the committed fixture (models/fixtures): load, run, compare
//! with what Python's onnxruntime computed, share one session across threads.

mod common;
use common::{fixture, runtime};
use pertouch_core::onnx::{
    package, OnnxSession, Package, PackageError, Provider, SessionOptions, TensorF32,
};
use std::path::PathBuf;
use std::sync::Arc;

#[test]
fn the_fixture_matches_python_onnxruntime() {
    let Some(rt) = runtime() else { return };
    let s = OnnxSession::open(
        rt,
        &fixture("scale_shift/scale_shift.onnx"),
        &SessionOptions::default(),
    )
    .unwrap();
    assert_eq!(s.inputs.len(), 1);
    assert_eq!(s.inputs[0].to_string(), "x f32 [-1, 3, -1, -1]");
    assert_eq!(s.outputs[0].to_string(), "y f32 [-1, 3, -1, -1]");
    // No GPU on this machine: auto lands on the CPU and says so.
    assert_eq!(s.provider, Provider::Cpu);
    let expected: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(fixture("scale_shift/expected.json")).unwrap(),
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
            &fixture("scale_shift/scale_shift.onnx"),
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
        &fixture("scale_shift/no-such-model.onnx"),
        &SessionOptions::default(),
    )
    .unwrap_err();
    assert!(e.to_string().contains("no-such-model.onnx"), "{e}");
    let s = OnnxSession::open(
        rt,
        &fixture("scale_shift/scale_shift.onnx"),
        &SessionOptions::default(),
    )
    .unwrap();
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

/// A copy of the fixture package in a temporary folder, to break in various ways.
fn package_copy() -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let pkg = dir.path().join("scale_shift");
    std::fs::create_dir_all(&pkg).unwrap();
    for f in ["manifest.json", "scale_shift.onnx"] {
        std::fs::copy(fixture("scale_shift").join(f), pkg.join(f)).unwrap();
    }
    (dir, pkg)
}

#[test]
fn packages_verify_hashes_and_graphs() {
    let pkg = Package::open(&fixture("scale_shift")).unwrap();
    assert_eq!(pkg.manifest.name, "scale-shift-fixture");
    pkg.verify_files().unwrap();

    // A changed byte: tampered.
    let (_d, p) = package_copy();
    let model = p.join("scale_shift.onnx");
    let mut bytes = std::fs::read(&model).unwrap();
    let last = bytes.len() - 1;
    bytes[last] ^= 1;
    std::fs::write(&model, &bytes).unwrap();
    let e = Package::open(&p).unwrap().verify_files().unwrap_err();
    assert!(matches!(e, PackageError::Tampered { .. }), "{e}");
    assert!(e.to_string().contains("reinstall"), "{e}");

    // A missing file.
    std::fs::remove_file(&model).unwrap();
    let e = Package::open(&p).unwrap().verify_files().unwrap_err();
    assert!(matches!(e, PackageError::MissingFile { .. }), "{e}");

    // Manifests that are wrong in themselves.
    let (_d, p) = package_copy();
    let m = p.join("manifest.json");
    let text = std::fs::read_to_string(&m).unwrap();
    for (bad, needle) in [
        (
            text.replace("\"scale_shift.onnx\"", "\"../escape.onnx\""),
            "leaves the package",
        ),
        (text.replace("\"schema\": 1", "\"schema\": 9"), "newer"),
        (
            text.replace("\"role\": \"model\"", "\"role\": \"data\""),
            "role",
        ),
        ("{".to_string(), "not a valid model manifest"),
    ] {
        std::fs::write(&m, &bad).unwrap();
        let e = Package::open(&p).unwrap_err();
        assert!(e.to_string().contains(needle), "{needle}: {e}");
    }

    let Some(rt) = runtime() else { return };
    let session = pkg.open_session(rt, &SessionOptions::default()).unwrap();
    assert_eq!(session.outputs.len(), 1);
    // A manifest that describes another graph (wrong channel count, wrong name).
    let (_d, p) = package_copy();
    let m = p.join("manifest.json");
    let text = std::fs::read_to_string(&m).unwrap();
    let mut v: serde_json::Value = serde_json::from_str(&text).unwrap();
    v["inputs"][0]["shape"][1] = 4.into();
    std::fs::write(&m, v.to_string()).unwrap();
    let e = Package::open(&p)
        .unwrap()
        .open_session(rt, &SessionOptions::default())
        .unwrap_err();
    assert!(
        e.to_string().contains("declared as x f32 [-1, 4, -1, -1]"),
        "{e}"
    );
    v["inputs"][0]["shape"][1] = 3.into();
    v["outputs"][0]["name"] = "logits".into();
    std::fs::write(&m, v.to_string()).unwrap();
    let e = Package::open(&p)
        .unwrap()
        .open_session(rt, &SessionOptions::default())
        .unwrap_err();
    assert!(
        e.to_string().contains("output logits is not in the graph"),
        "{e}"
    );
}

#[test]
fn packages_import_into_a_models_folder() {
    let root = tempfile::tempdir().unwrap();
    let installed = package::import(&fixture("scale_shift"), root.path()).unwrap();
    assert_eq!(installed.dir, root.path().join("scale-shift-fixture"));
    assert_eq!(
        package::find(root.path(), "scale-shift-fixture")
            .unwrap()
            .manifest
            .name,
        "scale-shift-fixture"
    );
    // Again: replaced, still one package, nothing left over.
    package::import(&fixture("scale_shift"), root.path()).unwrap();
    let names: Vec<_> = std::fs::read_dir(root.path())
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, vec!["scale-shift-fixture"]);
    let e = package::find(root.path(), "segformer").unwrap_err();
    assert!(
        e.to_string().contains("installed: scale-shift-fixture"),
        "{e}"
    );
    // A tampered source is not imported.
    let (_d, p) = package_copy();
    std::fs::write(p.join("scale_shift.onnx"), b"junk").unwrap();
    let other = tempfile::tempdir().unwrap();
    assert!(package::import(&p, other.path()).is_err());
    assert!(package::installed(other.path()).is_empty());
}
