//! Compiles tests/c/capi_test.c against include/pertouch.h with the system C
//! compiler, links it to the built libpertouch.so and runs it.

use std::path::PathBuf;
use std::process::Command;

#[test]
fn the_c_test_program_passes() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    // target/<profile>/deps/c_program-... -> target/<profile>
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap().to_path_buf();
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
    let run = Command::new(&out)
        .env("LD_LIBRARY_PATH", &profile_dir)
        .output()
        .unwrap();
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&run.stdout),
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(run.status.success(), "{text}");
    assert!(text.contains("all C ABI checks passed"), "{text}");
}

fn tempfile_dir() -> PathBuf {
    let d = std::env::temp_dir().join(format!("pertouch-capi-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}
