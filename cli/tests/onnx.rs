//! ONNX Runtime as users meet it: found from the pip wheel, or explained when
//! missing, too old or not a library. Each case runs in its own process because a
//! process loads ONNX Runtime once.

mod common;

use common::text;
use std::process::{Command, Output};

fn doctor(env: &[(&str, &str)], args: &[&str]) -> Output {
    let mut c = Command::new(env!("CARGO_BIN_EXE_pertouch"));
    c.arg("doctor").args(args).env_remove("ORT_DYLIB_PATH");
    for (k, v) in env {
        c.env(k, v);
    }
    c.output().expect("run pertouch")
}

/// build/test.sh installs the wheel and sets PERTOUCH_REQUIRE_ORT; a developer
/// running `cargo test` without it gets a note instead of a failure.
fn required() -> bool {
    std::env::var_os("PERTOUCH_REQUIRE_ORT").is_some()
}

#[test]
fn the_pip_wheel_is_found_and_reported() {
    let o = doctor(&[], &[]);
    let t = text(&o);
    if !o.status.success() && !required() {
        eprintln!("note: no ONNX Runtime here (build/test.sh installs it): {t}");
        return;
    }
    assert!(o.status.success(), "{t}");
    assert!(t.contains("ONNX Runtime 1.31"), "{t}");
    assert!(t.contains("pip-installed onnxruntime wheel"), "{t}");
    assert!(t.contains("CPU yes"), "{t}");
}

#[test]
fn a_missing_library_is_explained() {
    let o = doctor(&[("ORT_DYLIB_PATH", "/nonexistent/libonnxruntime.so")], &[]);
    let t = text(&o);
    assert!(!o.status.success());
    assert!(
        t.contains("/nonexistent/libonnxruntime.so") && t.contains("no such file"),
        "{t}"
    );
    assert!(t.contains("pip install 'onnxruntime==1.31.*'"), "{t}");
    assert!(!t.contains("panicked"), "{t}");
}

#[test]
fn a_file_that_is_not_a_library_is_explained() {
    let dir = tempfile::tempdir().unwrap();
    let fake = dir.path().join("libonnxruntime.so");
    std::fs::write(&fake, b"\x7fELF but not really").unwrap();
    let o = doctor(&[], &["--onnxruntime", fake.to_str().unwrap()]);
    let t = text(&o);
    assert!(!o.status.success());
    assert!(
        t.contains("cannot use ONNX Runtime from") && t.contains("install a matching one"),
        "{t}"
    );
    assert!(!t.contains("panicked"), "{t}");
}

#[test]
fn an_old_onnx_runtime_is_refused_with_the_version_needed() {
    let Some(old) = std::env::var_os("PERTOUCH_TEST_OLD_ORT") else {
        assert!(!required(), "build/test.sh sets PERTOUCH_TEST_OLD_ORT");
        eprintln!("note: PERTOUCH_TEST_OLD_ORT not set (build/test.sh provides ONNX Runtime 1.22)");
        return;
    };
    let old = old.to_string_lossy().into_owned();
    let o = doctor(&[("ORT_DYLIB_PATH", &old)], &[]);
    let t = text(&o);
    assert!(!o.status.success(), "{t}");
    assert!(
        t.contains("expected version >= '1.31.x', but got '1.22.0'"),
        "{t}"
    );
    assert!(t.contains("pip install"), "{t}");
}

#[test]
fn model_packages_install_list_and_verify() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let fixture =
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/fixtures/scale_shift");
    let pt = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_pertouch"))
            .args(args)
            .env("PERTOUCH_DATA_DIR", &data)
            .output()
            .unwrap()
    };
    let o = pt(&["models", "import", fixture.to_str().unwrap()]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&pt(&["models", "list"])).contains("scale-shift-fixture"));
    let o = pt(&["models", "verify", "scale-shift-fixture"]);
    if o.status.success() || required() {
        assert!(o.status.success(), "{}", text(&o));
        assert!(
            text(&o).contains("the graph matches the manifest"),
            "{}",
            text(&o)
        );
    }
    // Tamper with the installed model: verify says so, and so does doctor.
    let model = data.join("models/scale-shift-fixture/scale_shift.onnx");
    let mut bytes = std::fs::read(&model).unwrap();
    bytes.push(0);
    std::fs::write(&model, bytes).unwrap();
    let o = pt(&["models", "verify", "scale-shift-fixture"]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("does not match its manifest"),
        "{}",
        text(&o)
    );
    let o = pt(&["models", "verify", "segformer"]);
    assert!(
        text(&o).contains("no model package named \"segformer\""),
        "{}",
        text(&o)
    );
}

/// Installed segmentation packages find regions the built-in segmenter cannot,
/// through `segment` and `retouch`; `--segmenter builtin` and a config file turn
/// them off; a broken config is a clear error.
#[test]
fn installed_segmentation_models_find_regions() {
    if !required() && !doctor(&[], &[]).status.success() {
        eprintln!("note: skipped, no ONNX Runtime");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let config = dir.path().join("config.toml");
    let fixtures = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../models/fixtures");
    let photo = fixtures.join("input.png");
    let pt = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_pertouch"))
            .args(args)
            .env("PERTOUCH_DATA_DIR", &data)
            .env("PERTOUCH_CONFIG", &config)
            .current_dir(dir.path())
            .output()
            .unwrap()
    };
    for p in ["segformer_fixture", "clipseg_fixture"] {
        let o = pt(&["models", "import", fixtures.join(p).to_str().unwrap()]);
        assert!(o.status.success(), "{}", text(&o));
    }
    let o = pt(&["doctor"]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains(
            "segformer-fixture (segmentation-labels): files and graph verified, runs on CPU"
        ),
        "{t}"
    );
    let o = pt(&[
        "segment",
        photo.to_str().unwrap(),
        "-r",
        "buildings",
        "-o",
        "b.png",
        "-r",
        "the red car",
        "-o",
        "car.png",
        "-r",
        "shadows",
        "-o",
        "s.png",
    ]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains("(by segformer-fixture)") && t.contains("(by clipseg-fixture)"),
        "{t}"
    );
    assert!(t.contains("(by builtin)"), "{t}");
    let mask = image::open(dir.path().join("car.png")).unwrap();
    assert_eq!((mask.width(), mask.height()), (360, 120));
    // A model asked for by name that is not installed is an error, not a fallback.
    let o = pt(&[
        "segment",
        photo.to_str().unwrap(),
        "-r",
        "sky",
        "-o",
        "sky.png",
        "--segmenter",
        "nope",
    ]);
    let t = text(&o);
    assert!(!o.status.success() && t.contains("nope"), "{t}");
    // A region only a model knows, in a region state.
    let o = pt(&[
        "retouch",
        photo.to_str().unwrap(),
        "-o",
        "out.png",
        "--state",
        r#"{"mountains": {"brightness": 0.2}}"#,
    ]);
    assert!(o.status.success(), "{}", text(&o));
    // Built-in only: the same region is unknown, and the error lists what exists.
    let o = pt(&[
        "retouch",
        photo.to_str().unwrap(),
        "-o",
        "out2.png",
        "--segmenter",
        "builtin",
        "--state",
        r#"{"mountains": {"brightness": 0.2}}"#,
    ]);
    let t = text(&o);
    assert!(!o.status.success());
    assert!(
        t.contains("\"mountains\"") && t.contains("vegetation"),
        "{t}"
    );
    assert!(!dir.path().join("out2.png").exists());
    // The config file can do the same; a mistake in it names the file and key.
    std::fs::write(&config, "[segmentation]\nmodels = []\n").unwrap();
    let o = pt(&["segment", "--list"]);
    assert!(
        text(&o).contains("asked in this order: builtin"),
        "{}",
        text(&o)
    );
    std::fs::write(&config, "[segmentation]\nmodel = []\n").unwrap();
    let o = pt(&["segment", "--list"]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("config.toml") && text(&o).contains("model"),
        "{}",
        text(&o)
    );
}
