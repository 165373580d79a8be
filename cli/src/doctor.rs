//! `pertouch doctor`: what this installation can use.

use anyhow::Result;
use clap::Args;
use pertouch_core::config::Config;
use pertouch_core::onnx::{self, package, runtime, Runtime};
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
    let config = match Config::path() {
        Some(p) if p.exists() => {
            let c = Config::read(&p)?;
            println!("config: {}", p.display());
            c
        }
        Some(p) => {
            println!("config: {} (not present: defaults)", p.display());
            Config::default()
        }
        None => Config::default(),
    };
    println!(
        "execution provider: {} (config [onnx] provider); threads per run: {}",
        config.onnx.provider.name(),
        match config.onnx.threads {
            0 => "ONNX Runtime's default".to_string(),
            n => n.to_string(),
        }
    );
    let gpus = gpu_devices();
    println!(
        "GPU devices seen: {}",
        if gpus.is_empty() {
            "none".to_string()
        } else {
            gpus.join("; ")
        }
    );
    vlm_status(&config);
    let mut runtime_config = config.runtime();
    if a.onnxruntime.is_some() {
        runtime_config.dylib = a.onnxruntime;
    }
    let loaded = onnx::load(&runtime_config);
    match &loaded {
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
        Err(_) => println!("ONNX Runtime: not available"),
    }
    match pertouch_core::memory::default_root() {
        Ok(p) => println!("preference memory: {}", p.display()),
        Err(e) => println!("preference memory: {e}"),
    }
    if let Some(root) = pertouch_core::paths::models_dir() {
        let all = package::installed(&root);
        println!("model packages in {}: {}", root.display(), all.len());
        for (dir, p) in all {
            let status = match p {
                Ok(p) => package_status(&p, loaded.as_ref().ok().copied(), &config),
                Err(e) => e.to_string(),
            };
            println!("  {}: {status}", dir.display());
        }
    }
    // Without ONNX Runtime the rest still works, but doctor reports a failure.
    loaded.map(|_| ()).map_err(Into::into)
}

/// "segformer-ade20k (segmentation-labels): verified, runs on CPU" or what is wrong.
fn package_status(p: &package::Package, rt: Option<&Runtime>, config: &Config) -> String {
    let m = &p.manifest;
    let head = format!("{} ({})", m.name, m.task);
    if let Err(e) = p.verify_files() {
        return format!("{head}: {e}");
    }
    let Some(rt) = rt else {
        return format!("{head}: files verified; graph not checked (no ONNX Runtime)");
    };
    match p.open_all(rt, &config.session()) {
        Ok(graphs) => format!(
            "{head}: files and {} verified, runs on {}",
            if graphs.len() == 1 {
                "graph".to_string()
            } else {
                format!("{} graphs", graphs.len())
            },
            graphs.first().map_or("CPU", |(_, s)| s.provider.name())
        ),
        Err(e) => format!("{head}: {e}"),
    }
}

/// The VLM server from config.toml, if one is set: where, which model, whether a
/// key is in the environment (never the key), and whether the server answers.
fn vlm_status(config: &Config) {
    let v = &config.vlm;
    let agent = config.agent.kind.as_deref().unwrap_or("offline");
    let Some(url) = v.url.as_deref() else {
        println!("agent: {agent}; VLM server: none configured ([vlm] url)");
        return;
    };
    let key = if pertouch_core::vlm::ApiKey::from_env(&v.api_key_env).is_some() {
        format!("set in {}", v.api_key_env)
    } else {
        format!("not set ({} is empty)", v.api_key_env)
    };
    let model = v.model.as_deref().unwrap_or("(none: [vlm] model)");
    println!("agent: {agent}; VLM server {url}, model {model}; API key {key}");
    let mut cfg = match v.client_config(None, Some(model)) {
        Ok(c) => c,
        Err(e) => {
            println!("  VLM settings: {e}");
            return;
        }
    };
    cfg.timeout = std::time::Duration::from_secs(5);
    let listed = pertouch_core::vlm::VlmClient::new(cfg).and_then(|c| c.list_models());
    match listed {
        Ok(models) => println!(
            "  reachable; it lists {}{}",
            if models.is_empty() {
                "no models".to_string()
            } else {
                models.join(", ")
            },
            if models.iter().any(|m| m == model) {
                String::new()
            } else {
                format!(" (not {model}: check [vlm] model)")
            }
        ),
        Err(e) => println!("  not usable: {e}"),
    }
}

/// GPUs the drivers report (NVIDIA's proc files on Linux).
fn gpu_devices() -> Vec<String> {
    let Ok(entries) = std::fs::read_dir("/proc/driver/nvidia/gpus") else {
        return Vec::new();
    };
    let mut out: Vec<String> = entries
        .flatten()
        .filter_map(|e| std::fs::read_to_string(e.path().join("information")).ok())
        .filter_map(|info| {
            info.lines()
                .find_map(|l| l.strip_prefix("Model:").map(|m| m.trim().to_string()))
        })
        .collect();
    out.sort();
    out
}
