//! Compiles tests/c/capi_test.c against include/pertouch.h with the system C
//! compiler, links it to the built libpertouch.so and runs it.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn the_c_test_program_passes() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    // The library cargo built for this test run sits beside the test binary in
    // target/<profile>/deps (target/<profile>/libpertouch.so is only refreshed by
    // `cargo build`, and may be stale).
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().to_path_buf();
    let lib = profile_dir.join("libpertouch.so");
    assert!(lib.is_file(), "{} not built", lib.display());
    let out = tempfile_dir().join("capi_test");
    let cc = std::env::var("CC").unwrap_or_else(|_| "cc".into());
    let build = Command::new(&cc)
        .args(["-std=c99", "-Wall", "-Wextra", "-Werror", "-O1"])
        .arg("-I")
        .arg(dir.join("include"))
        .arg(dir.join("../tests/c/capi_test.c"))
        .arg("-o")
        .arg(&out)
        .arg("-L")
        .arg(&profile_dir)
        .arg("-lpertouch")
        .output()
        .expect("a C compiler (cc) is needed");
    assert!(
        build.status.success(),
        "compiling the C test failed:\n{}",
        String::from_utf8_lossy(&build.stderr)
    );
    // The diffusion part runs when ONNX Runtime is there (build/test.sh installs it
    // and sets PERTOUCH_REQUIRE_ORT, which makes its absence a failure).
    let mut cmd = Command::new(&out);
    cmd.env("LD_LIBRARY_PATH", &profile_dir);
    let ort = pertouch_core::onnx::load(&pertouch_core::onnx::RuntimeConfig::default());
    match ort {
        Ok(_) => {
            cmd.env(
                "PT_TEST_DIFFUSION_PACKAGE",
                dir.join("../models/fixtures/diffusion_tiny"),
            );
        }
        Err(e) => {
            assert!(
                std::env::var_os("PERTOUCH_REQUIRE_ORT").is_none(),
                "ONNX Runtime is required here: {e}"
            );
            eprintln!("note: diffusion part skipped, no ONNX Runtime: {e}");
        }
    }
    let run = cmd.output().unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(run.status.success(), "{text}");
    assert!(text.contains("all C ABI checks passed"), "{text}");
    if std::env::var_os("PERTOUCH_REQUIRE_ORT").is_some() {
        assert!(text.contains("diffusion renderer checked"), "{text}");
    }
}

fn tempfile_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("pertouch-capi-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}
