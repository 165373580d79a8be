//! The C side of the ABI, built with the system compilers against
//! `include/pertouch.h` and linked to the libpertouch.so cargo built for this run:
//! - `tests/c/capi_test.c`, a C host that drives every function, run as it is
//!   and again under AddressSanitizer and UndefinedBehaviorSanitizer;
//! - the header alone, included twice, as C99, C11, C++11 and C++20 with every
//!   warning an error (the header promises to be usable from C++).
//!
//! Every run has a time limit, so a deadlock fails the test instead of hanging CI.

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;
use wait_timeout::ChildExt;

/// The C test program's sources (in tests/c).
const TEST_PROGRAM: [&str; 2] = ["capi_test.c", "hostile.c"];

/// Warnings every C and C++ build treats as errors.
const WARNINGS: [&str; 4] = ["-Wall", "-Wextra", "-Wpedantic", "-Werror"];

/// How long one run of the C test program may take (it takes seconds; under the
/// sanitizers on a loaded 2-core machine, some tens).
const RUN_LIMIT: Duration = Duration::from_secs(300);

#[test]
fn the_c_test_program_passes() {
    let exe = compile(&cc(), "capi_test", &["-std=c99", "-O1"], &TEST_PROGRAM);
    run_test_program(&exe, &[]);
}

/// The C host under AddressSanitizer and UndefinedBehaviorSanitizer: the
/// executable is linked with the sanitizers' runtime, which therefore loads
/// before libpertouch.so (no LD_PRELOAD needed); the Rust library itself is not
/// instrumented, but every pointer it is handed comes from the sanitized
/// allocator, and its memcpy/memset calls go through ASan's checked
/// interceptors.
#[test]
fn the_c_test_program_passes_under_address_sanitizer() {
    let exe = compile(
        &cc(),
        "capi_test_asan",
        &[
            "-std=c11",
            "-O1",
            "-g",
            "-fno-omit-frame-pointer",
            "-fsanitize=address,undefined",
            "-fno-sanitize-recover=all",
        ],
        &TEST_PROGRAM,
    );
    let text = run_test_program(
        &exe,
        &[
            (
                "ASAN_OPTIONS",
                "detect_leaks=1:abort_on_error=0:halt_on_error=1:detect_stack_use_after_return=1",
            ),
            ("UBSAN_OPTIONS", "print_stacktrace=1:halt_on_error=1"),
        ],
    );
    assert!(text.contains("built with AddressSanitizer"), "{text}");
}

#[test]
fn the_header_compiles_as_c_and_as_cxx_included_twice() {
    for std in ["-std=c99", "-std=c11"] {
        let exe = compile(&cc(), &format!("header{std}"), &[std], &["header_twice.c"]);
        run(&exe, &[]);
    }
    let cxx = std::env::var("CXX").unwrap_or_else(|_| "c++".into());
    for std in ["-std=c++11", "-std=c++20"] {
        let exe = compile(&cxx, &format!("header{std}"), &[std], &["header_twice.cc"]);
        run(&exe, &[]);
    }
}

fn cc() -> String {
    std::env::var("CC").unwrap_or_else(|_| "cc".into())
}

/// The folder of the libpertouch.so cargo built for this test run: beside the
/// test binary in target/<profile>/deps (target/<profile>/libpertouch.so is
/// only refreshed by `cargo build`, and may be stale).
fn library_dir() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().unwrap().to_path_buf();
    assert!(
        dir.join("libpertouch.so").is_file(),
        "libpertouch.so not built in {}",
        dir.display()
    );
    dir
}

/// Compiles `sources` (in tests/c) with `compiler` and `flags` (plus the
/// warnings) into an executable linked to libpertouch.
fn compile(compiler: &str, name: &str, flags: &[&str], sources: &[&str]) -> PathBuf {
    let crate_dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let out = scratch_dir().join(name);
    let built = Command::new(compiler)
        .args(flags)
        .args(WARNINGS)
        .arg("-I")
        .arg(crate_dir.join("include"))
        .args(sources.iter().map(|s| crate_dir.join("tests/c").join(s)))
        .arg("-o")
        .arg(&out)
        .arg("-L")
        .arg(library_dir())
        .args(["-lpertouch", "-pthread"])
        .output()
        .unwrap_or_else(|e| panic!("{compiler} is needed to build the C tests: {e}"));
    assert!(
        built.status.success(),
        "{compiler} {flags:?} {sources:?} failed:\n{}",
        String::from_utf8_lossy(&built.stderr)
    );
    out
}

/// Runs the C test program; the diffusion part runs when ONNX Runtime is there
/// (build/test.sh installs it and sets PERTOUCH_REQUIRE_ORT, which makes its
/// absence a failure).
fn run_test_program(exe: &Path, env: &[(&str, &str)]) -> String {
    let mut env: Vec<(OsString, OsString)> =
        env.iter().map(|(k, v)| (k.into(), v.into())).collect();
    match pertouch_core::onnx::load(&pertouch_core::onnx::RuntimeConfig::default()) {
        Ok(_) => env.push((
            "PT_TEST_DIFFUSION_PACKAGE".into(),
            PathBuf::from(env!("CARGO_MANIFEST_DIR"))
                .join("../models/fixtures/diffusion_tiny")
                .into(),
        )),
        Err(e) => {
            assert!(
                std::env::var_os("PERTOUCH_REQUIRE_ORT").is_none(),
                "ONNX Runtime is required here: {e}"
            );
            eprintln!("note: diffusion part skipped, no ONNX Runtime: {e}");
        }
    }
    let text = run(exe, &env);
    assert!(text.contains("all C ABI checks passed"), "{text}");
    if std::env::var_os("PERTOUCH_REQUIRE_ORT").is_some() {
        assert!(text.contains("diffusion renderer checked"), "{text}");
    }
    text
}

/// Runs `exe` with libpertouch on the library path, within [`RUN_LIMIT`];
/// returns its output (stdout then stderr) and fails the test if it failed or
/// ran out of time.
fn run(exe: &Path, env: &[(OsString, OsString)]) -> String {
    let name = exe.file_name().unwrap().to_string_lossy().into_owned();
    let (stdout, stderr) = (
        scratch_dir().join(format!("{name}.out")),
        scratch_dir().join(format!("{name}.err")),
    );
    let mut child = Command::new(exe)
        .env("LD_LIBRARY_PATH", library_dir())
        .envs(env.iter().cloned())
        .stdin(Stdio::null())
        .stdout(std::fs::File::create(&stdout).unwrap())
        .stderr(std::fs::File::create(&stderr).unwrap())
        .spawn()
        .unwrap();
    let status = match child.wait_timeout(RUN_LIMIT).unwrap() {
        Some(status) => Some(status),
        None => {
            child.kill().unwrap();
            child.wait().unwrap();
            None
        }
    };
    let text = format!(
        "{}{}",
        std::fs::read_to_string(&stdout).unwrap_or_default(),
        std::fs::read_to_string(&stderr).unwrap_or_default()
    );
    match status {
        None => panic!("{name} did not finish in {RUN_LIMIT:?} (a deadlock?):\n{text}"),
        Some(s) => assert!(s.success(), "{name} failed ({s}):\n{text}"),
    }
    text
}

/// A folder of this test run's own.
fn scratch_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("pertouch-capi-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}
