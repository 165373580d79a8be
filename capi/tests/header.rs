//! `include/pertouch.h` is what cbindgen makes of the sources: regenerate with
//! `PERTOUCH_BLESS=1 cargo test -p pertouch-capi --test header`.

use std::path::PathBuf;

#[test]
fn the_committed_header_matches_the_sources() {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
    let config = cbindgen::Config::from_file(dir.join("cbindgen.toml")).unwrap();
    let mut generated = Vec::new();
    cbindgen::Builder::new()
        .with_crate(&dir)
        .with_config(config)
        .generate()
        .expect("cbindgen")
        .write(&mut generated);
    let generated = String::from_utf8(generated).unwrap();
    let path = dir.join("include/pertouch.h");
    if std::env::var_os("PERTOUCH_BLESS").is_some() {
        std::fs::write(&path, &generated).unwrap();
    }
    let committed = std::fs::read_to_string(&path).unwrap_or_default();
    assert_eq!(
        committed, generated,
        "include/pertouch.h is stale: PERTOUCH_BLESS=1 cargo test -p pertouch-capi --test header"
    );
    for f in [
        "pt_render",
        "pt_agent_apply",
        "pt_last_error",
        "PT_ABI_VERSION",
        "PT_ERR_BAD_HANDLE",
    ] {
        assert!(generated.contains(f), "{f} missing from the header");
    }
}
