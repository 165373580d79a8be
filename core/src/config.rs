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
//!
//! [agent]
//! kind = "offline"      # or "vlm": the VLM below reads instructions
//!
//! [vlm]
//! url = "http://127.0.0.1:8000/v1"   # any OpenAI-compatible chat-completions server
//! model = "Qwen/Qwen2.5-VL-7B-Instruct"
//! api_key_env = "PERTOUCH_VLM_API_KEY"  # the key is read from this variable, never from a file
//! timeout_s = 120
//! retries = 2
//! image_long_side = 768
//! json_mode = true
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

/// Which agent reads instructions.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct AgentConfig {
    /// "offline" (default) or "vlm".
    pub kind: Option<String>,
}

/// The VLM server. The API key is never stored here: `api_key_env` names the
/// environment variable that holds it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct VlmSettings {
    pub url: Option<String>,
    pub model: Option<String>,
    pub api_key_env: String,
    pub timeout_s: f64,
    pub retries: u32,
    pub image_long_side: usize,
    pub json_mode: bool,
}

impl Default for VlmSettings {
    fn default() -> Self {
        VlmSettings {
            url: None,
            model: None,
            api_key_env: "PERTOUCH_VLM_API_KEY".into(),
            timeout_s: 120.0,
            retries: 2,
            image_long_side: 768,
            json_mode: true,
        }
    }
}

#[cfg(feature = "vlm")]
impl VlmSettings {
    /// The client configuration; `url` and `model` override the file's.
    pub fn client_config(
        &self,
        url: Option<&str>,
        model: Option<&str>,
    ) -> Result<crate::vlm::VlmConfig, String> {
        let url = url
            .or(self.url.as_deref())
            .ok_or("no VLM server: give --vlm-url or set [vlm] url in config.toml")?;
        let model = model
            .or(self.model.as_deref())
            .ok_or("no VLM model: give --vlm-model or set [vlm] model in config.toml")?;
        if !(self.timeout_s.is_finite() && self.timeout_s > 0.0) {
            return Err(format!(
                "[vlm] timeout_s {} is not a positive number",
                self.timeout_s
            ));
        }
        let mut c = crate::vlm::VlmConfig::new(url, model);
        c.api_key = crate::vlm::ApiKey::from_env(&self.api_key_env);
        c.timeout = std::time::Duration::from_secs_f64(self.timeout_s);
        c.retries = self.retries;
        c.image_long_side = self.image_long_side.clamp(64, 4096);
        c.json_mode = self.json_mode;
        Ok(c)
    }
}

/// The whole file.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Config {
    pub onnx: OnnxConfig,
    pub segmentation: SegmenterConfig,
    pub agent: AgentConfig,
    pub vlm: VlmSettings,
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
        toml::from_str(&text).map_err(|e| {
            // A secret written into the file must not be echoed by the parser's
            // message (which quotes the offending line).
            let secret = text.lines().any(|l| {
                let key = l.split('=').next().unwrap_or("").trim();
                key == "api_key" || key == "key" || key == "token"
            });
            ConfigError::Parse {
                path: path.to_path_buf(),
                reason: if secret {
                    "API keys are not read from config files (the line is not shown); put the key in the environment variable [vlm] api_key_env names (PERTOUCH_VLM_API_KEY by default)".into()
                } else {
                    e.to_string().trim_end().to_string()
                },
            }
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

    #[cfg(feature = "vlm")]
    #[test]
    fn vlm_settings_build_a_client_config_without_storing_the_key() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("config.toml");
        std::fs::write(
            &p,
            "[agent]\nkind = \"vlm\"\n[vlm]\nurl = \"http://127.0.0.1:8000/v1\"\nmodel = \"m\"\napi_key_env = \"PERTOUCH_TEST_KEY_VAR_UNSET\"\ntimeout_s = 5\nretries = 1\n",
        )
        .unwrap();
        let c = Config::read(&p).unwrap();
        assert_eq!(c.agent.kind.as_deref(), Some("vlm"));
        let v = c.vlm.client_config(None, None).unwrap();
        assert_eq!(
            (v.base_url.as_str(), v.model.as_str()),
            ("http://127.0.0.1:8000/v1", "m")
        );
        assert_eq!(v.timeout, std::time::Duration::from_secs(5));
        assert!(v.api_key.is_none());
        let o = c.vlm.client_config(Some("http://h/v1"), Some("x")).unwrap();
        assert_eq!(
            (o.base_url.as_str(), o.model.as_str()),
            ("http://h/v1", "x")
        );
        let none = VlmSettings::default()
            .client_config(None, Some("x"))
            .unwrap_err();
        assert!(none.contains("--vlm-url"), "{none}");
        std::fs::write(&p, "[vlm]\napi_key = \"sk-1\"\n").unwrap();
        let e = Config::read(&p).unwrap_err().to_string();
        assert!(
            e.contains("api_key_env") && !e.contains("sk-1"),
            "a key in the file is refused, unquoted: {e}"
        );
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
