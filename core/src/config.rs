//! `config.toml`: the settings a user or host sets once.
//!
//! Read from `PERTOUCH_CONFIG` when set, else `<config folder>/config.toml`
//! (`~/.config/pertouch/config.toml` on Linux). A missing file means defaults; a
//! malformed one is an error naming the file and the line.
//!
//! ```toml
//! [onnx]
//! runtime = "/opt/onnxruntime/lib/libonnxruntime.so"  # else searched for
//! provider = "auto"     # auto, cuda, tensorrt, directml, coreml or cpu
//! threads = 0           # threads per model run; 0: ONNX Runtime's default
//!
//! [segmentation]
//! models = ["segformer-ade20k", "clipseg-rd64"]  # omit: every installed one; []: built-in only
//! ```

use crate::onnx::{Provider, RuntimeConfig, SessionOptions};
use crate::segment::SegmenterConfig;
use serde::{Deserialize, Serialize};
use std::path::{Path, PathBuf};

/// ONNX Runtime settings.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OnnxConfig {
    /// An explicit `libonnxruntime`.
    pub runtime: Option<PathBuf>,
    pub provider: Provider,
    /// Threads inside one model run (0: ONNX Runtime's default, one per core).
    pub threads: usize,
}

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub onnx: OnnxConfig,
    pub segmentation: SegmenterConfig,
}

/// Why the configuration could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: {reason}")]
    Parse { path: PathBuf, reason: String },
}

impl Config {
    /// Where the configuration is read from, if this platform has a place for it.
    pub fn path() -> Option<PathBuf> {
        if let Some(p) = std::env::var_os("PERTOUCH_CONFIG").filter(|p| !p.is_empty()) {
            return Some(PathBuf::from(p));
        }
        directories::ProjectDirs::from("org", "pertouch", "pertouch")
            .map(|d| d.config_dir().join("config.toml"))
    }

    /// The configuration at [`Config::path`], or the defaults when there is none.
    pub fn load() -> Result<Config, ConfigError> {
        match Self::path() {
            Some(p) if p.exists() => Self::read(&p),
            _ => Ok(Config::default()),
        }
    }

    /// Reads one file.
    pub fn read(path: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Io {
            path: path.to_path_buf(),
            source,
        })?;
        toml::from_str(&text).map_err(|e| ConfigError::Parse {
            path: path.to_path_buf(),
            reason: e.to_string().trim_end().to_string(),
        })
    }

    /// Where to look for ONNX Runtime.
    pub fn runtime(&self) -> RuntimeConfig {
        RuntimeConfig {
            dylib: self.onnx.runtime.clone(),
        }
    }

    /// How to create model sessions.
    pub fn session(&self) -> SessionOptions {
        SessionOptions {
            provider: self.onnx.provider,
            intra_threads: self.onnx.threads,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_setting_and_defaults_the_rest() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.toml");
        std::fs::write(
            &p,
            "[onnx]\nprovider = \"cpu\"\nthreads = 2\n[segmentation]\nmodels = [\"a\", \"b\"]\n",
        )
        .unwrap();
        let c = Config::read(&p).unwrap();
        assert_eq!(c.onnx.provider, Provider::Cpu);
        assert_eq!(c.session().intra_threads, 2);
        assert_eq!(c.runtime().dylib, None);
        assert_eq!(c.segmentation.models, Some(vec!["a".into(), "b".into()]));
        std::fs::write(&p, "").unwrap();
        assert_eq!(Config::read(&p).unwrap(), Config::default());
    }

    #[test]
    fn mistakes_name_the_file_and_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.toml");
        std::fs::write(&p, "[onnx]\nprovder = \"cuda\"\n").unwrap();
        let e = Config::read(&p).unwrap_err().to_string();
        assert!(e.contains("config.toml") && e.contains("provder"), "{e}");
        std::fs::write(&p, "[onnx]\nprovider = \"gpu\"\n").unwrap();
        let e = Config::read(&p).unwrap_err().to_string();
        assert!(e.contains("gpu") && e.contains("cuda"), "{e}");
        std::fs::write(&p, "[onnx\n").unwrap();
        assert!(Config::read(&p).is_err());
    }
}
