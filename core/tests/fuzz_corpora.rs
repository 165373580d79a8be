//! The fuzz targets' checks (`fuzz/src/checks.rs`, included here by path) run on
//! stable over every committed input: the seed corpora (`fuzz/corpus/<target>/`)
//! and the inputs fuzzing once found wrong (`fuzz/regressions/<target>/`). This is
//! how CI holds what fuzzing found without building the fuzz targets; fuzzing
//! itself is in docs/RELIABILITY.md.

#[path = "../../fuzz/src/checks.rs"]
mod checks;

use std::path::Path;

/// Runs `check` on every file of the target's corpus and regressions; the number
/// of inputs run.
fn run(target: &str, check: fn(&[u8])) -> usize {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut n = 0;
    for kind in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(fuzz.join(kind).join(target)) else {
            continue;
        };
        let mut files: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        files.sort();
        for f in files {
            let bytes = std::fs::read(&f).unwrap();
            let outcome = std::panic::catch_unwind(|| check(&bytes));
            assert!(outcome.is_ok(), "{target}: {} fails its check", f.display());
            n += 1;
        }
    }
    n
}

#[test]
fn region_state_inputs() {
    assert!(run("region_state", checks::region_state) >= 10);
}

#[cfg(feature = "vlm")]
#[test]
fn vlm_reply_inputs() {
    assert!(run("vlm_reply", checks::vlm_reply) >= 10);
}

#[test]
fn manifest_inputs() {
    assert!(run("manifest", checks::manifest) >= 8);
}

#[test]
fn image_decode_inputs() {
    assert!(run("image_decode", checks::image_decode) >= 15);
}

#[test]
fn pixel_view_inputs() {
    assert!(run("pixel_view", checks::pixel_view) >= 7);
}
