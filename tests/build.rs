//! Compiles the C side of the OpenFX test host (its variadic functions).
fn main() {
    println!("cargo:rerun-if-changed=ofx_host/shim.c");
    cc::Build::new()
        .file("ofx_host/shim.c")
        .warnings(true)
        .extra_warnings(true)
        .warnings_into_errors(true)
        .compile("ofx_host_shim");
}
