//! The fuzz targets' checks, shared with the stable corpus test
//! (`core/tests/fuzz_corpora.rs`), which includes `checks.rs` by path.

pub mod checks;
