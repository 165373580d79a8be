//! What the ONNX integration tests share: the committed fixtures and the runtime.

#![allow(dead_code)]

use pertouch_core::onnx::{self, RuntimeConfig};
use std::path::PathBuf;

/// A file or folder under models/fixtures.
pub fn fixture(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../models/fixtures")
        .join(name)
}

/// The runtime, or `None` (with a note) when it is absent and not required
/// (build/test.sh installs it and sets PERTOUCH_REQUIRE_ORT).
pub fn runtime() -> Option<&'static onnx::Runtime> {
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
