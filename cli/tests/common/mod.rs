//! What the `pertouch` program's tests share: running it, the shared sample photos,
//! and reading what it printed.

// Each test file uses some of these.
#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// Runs the built `pertouch` with `args` and waits for it.
pub fn pertouch(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pertouch"))
        .args(args)
        .output()
        .expect("run pertouch")
}

/// A photo of ../shared/samples.
pub fn sample_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/samples")
        .join(name)
}

/// The same, as a command-line argument.
pub fn sample(name: &str) -> String {
    sample_path(name).to_string_lossy().into_owned()
}

/// What a run printed, standard output then standard error.
pub fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

/// A temporary path as a command-line argument.
pub fn p(path: &Path) -> &str {
    path.to_str().expect("utf-8 temp path")
}
