//! `pertouch doctor`: what this installation can use.

use anyhow::Result;
use clap::Args;
use pertouch_core::onnx::{self, runtime, RuntimeConfig};
use std::path::PathBuf;

#[derive(Args, Debug)]
pub struct DoctorArgs {
    /// Use this libonnxruntime instead of searching for one.
    #[arg(long, value_name = "FILE")]
    pub onnxruntime: Option<PathBuf>,
}

/// Prints the ONNX Runtime found and what it can run on; fails when there is none.
pub fn run(a: DoctorArgs) -> Result<()> {
    println!("pertouch {}", env!("CARGO_PKG_VERSION"));
    println!("parametric renderer and built-in segmenter: available (no model files needed)");
    let config = RuntimeConfig {
        dylib: a.onnxruntime,
    };
    match onnx::load(&config) {
        Ok(rt) => {
            println!(
                "ONNX Runtime {} at {} (from the {}); this build needs {} or newer",
                rt.version.as_deref().unwrap_or("(version unknown)"),
                rt.path.display(),
                rt.source,
                runtime::target_version()
            );
            let eps: Vec<String> = rt
                .execution_providers()
                .iter()
                .map(|e| format!("{} {}", e.name, if e.available { "yes" } else { "no" }))
                .collect();
            println!("execution providers compiled into it: {}", eps.join(", "));
        }
        Err(e) => {
            println!("ONNX Runtime: not available");
            return Err(e.into());
        }
    }
    match pertouch_core::memory::default_root() {
        Ok(p) => println!("preference memory: {}", p.display()),
        Err(e) => println!("preference memory: {e}"),
    }
    if let Some(root) = pertouch_core::paths::models_dir() {
        let all = pertouch_core::onnx::package::installed(&root);
        println!("model packages in {}: {}", root.display(), all.len());
        for (dir, p) in all {
            let status = match p.as_ref().map(|p| p.verify_files()) {
                Ok(Ok(())) => "files verified".to_string(),
                Ok(Err(e)) => e.to_string(),
                Err(e) => e.to_string(),
            };
            println!("  {}: {status}", dir.display());
        }
    }
    Ok(())
}
