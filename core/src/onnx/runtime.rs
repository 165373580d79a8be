//! Locating and loading `libonnxruntime`.
//!
//! Candidates, in order: the configured path, `ORT_DYLIB_PATH`, a pip-installed
//! `onnxruntime` / `onnxruntime-gpu` wheel (found through Python without importing
//! it), then the system library folders. The first that loads wins. The outcome of
//! the first load is final for the process: `ort` keeps one library per process.

use serde::Serialize;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

/// The ONNX Runtime minor version this build's `ort` was made for (1.x).
pub fn target_version() -> String {
    format!("1.{}", ort::MINOR_VERSION)
}

/// The command that installs a matching ONNX Runtime.
pub fn install_hint() -> String {
    format!(
        "python3 -m pip install 'onnxruntime=={}.*' (or onnxruntime-gpu for CUDA), or set ORT_DYLIB_PATH to a libonnxruntime {} or newer",
        target_version(),
        target_version()
    )
}

/// Where the library was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum RuntimeSource {
    Config,
    Env,
    PythonWheel,
    System,
}

impl std::fmt::Display for RuntimeSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            RuntimeSource::Config => "configured path",
            RuntimeSource::Env => "ORT_DYLIB_PATH",
            RuntimeSource::PythonWheel => "pip-installed onnxruntime wheel",
            RuntimeSource::System => "system library folder",
        })
    }
}

/// Where to look first.
#[derive(Debug, Clone, Default)]
pub struct RuntimeConfig {
    /// An explicit `libonnxruntime` to use.
    pub dylib: Option<PathBuf>,
}

/// Why ONNX Runtime is not available.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RuntimeError {
    #[error("ONNX Runtime was not found (looked in: {looked}); install it with: {hint}")]
    NotFound { looked: String, hint: String },
    #[error("cannot use ONNX Runtime from {path}: {reason}; install a matching one with: {hint}")]
    Load {
        path: PathBuf,
        reason: String,
        hint: String,
    },
}

/// The loaded ONNX Runtime.
pub struct Runtime {
    pub path: PathBuf,
    pub source: RuntimeSource,
    /// Version from the library's file name ("libonnxruntime.so.1.31.1", after
    /// following links), when it says. `ort` itself refuses libraries older than
    /// [`target_version`].
    pub version: Option<String>,
    /// Kept alive: sessions are created in this environment.
    _environment: ort::environment::Environment,
}

impl std::fmt::Debug for Runtime {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Runtime")
            .field("path", &self.path)
            .field("source", &self.source)
            .field("version", &self.version)
            .finish()
    }
}

/// Whether an execution provider can be used here.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExecutionProviderStatus {
    pub name: &'static str,
    pub available: bool,
}

impl Runtime {
    /// The environment sessions are created in.
    pub(crate) fn environment(&self) -> &ort::environment::Environment {
        &self._environment
    }

    /// The execution providers `auto` chooses from, in its order of preference, and
    /// whether this library and machine support each.
    pub fn execution_providers(&self) -> Vec<ExecutionProviderStatus> {
        use ort::ep::{CoreML, DirectML, ExecutionProvider, TensorRT, CPU, CUDA};
        fn check<E: ExecutionProvider>(name: &'static str) -> ExecutionProviderStatus {
            ExecutionProviderStatus {
                name,
                // Compiled into this library; a session may still fail to use it
                // (no GPU, missing CUDA libraries), which session creation reports.
                available: E::is_available().unwrap_or(false),
            }
        }
        vec![
            check::<CUDA>("CUDA"),
            check::<TensorRT>("TensorRT"),
            check::<DirectML>("DirectML"),
            check::<CoreML>("CoreML"),
            check::<CPU>("CPU"),
        ]
    }
}

static LOADED: OnceLock<Result<Runtime, RuntimeError>> = OnceLock::new();

/// Loads ONNX Runtime (once per process; later calls return the first outcome).
pub fn load(config: &RuntimeConfig) -> Result<&'static Runtime, RuntimeError> {
    LOADED
        .get_or_init(|| load_first(&candidates(config)))
        .as_ref()
        .map_err(Clone::clone)
}

/// The places to look, in order. A configured path, or else `ORT_DYLIB_PATH`, is
/// the only candidate when given: an explicit choice that fails is reported, not
/// quietly replaced by another library.
pub fn candidates(config: &RuntimeConfig) -> Vec<(PathBuf, RuntimeSource)> {
    if let Some(p) = &config.dylib {
        return vec![(p.clone(), RuntimeSource::Config)];
    }
    if let Some(p) = std::env::var_os("ORT_DYLIB_PATH").filter(|p| !p.is_empty()) {
        return vec![(PathBuf::from(p), RuntimeSource::Env)];
    }
    let mut out = Vec::new();
    for dir in python_wheel_dirs() {
        for f in library_files_in(&dir.join("capi")) {
            out.push((f, RuntimeSource::PythonWheel));
        }
    }
    for dir in system_dirs() {
        for f in library_files_in(&dir) {
            out.push((f, RuntimeSource::System));
        }
    }
    out
}

fn load_first(candidates: &[(PathBuf, RuntimeSource)]) -> Result<Runtime, RuntimeError> {
    let mut first_error = None;
    for (path, source) in candidates {
        // An explicitly named file that is missing is an error of its own.
        if !path.is_file() {
            if matches!(source, RuntimeSource::Config | RuntimeSource::Env) {
                first_error.get_or_insert(RuntimeError::Load {
                    path: path.clone(),
                    reason: format!("no such file (from the {source})"),
                    hint: install_hint(),
                });
            }
            continue;
        }
        match try_load(path, *source) {
            Ok(rt) => {
                tracing::info!(path = %rt.path.display(), source = %source, version = ?rt.version, "ONNX Runtime loaded");
                return Ok(rt);
            }
            Err(e) => {
                tracing::debug!(path = %path.display(), error = %e, "ONNX Runtime candidate rejected");
                first_error.get_or_insert(e);
            }
        }
    }
    Err(first_error.unwrap_or_else(|| RuntimeError::NotFound {
        looked: "ORT_DYLIB_PATH, the python3 onnxruntime wheel, system library folders".into(),
        hint: install_hint(),
    }))
}

fn try_load(path: &Path, source: RuntimeSource) -> Result<Runtime, RuntimeError> {
    let err = |reason: String| RuntimeError::Load {
        path: path.to_path_buf(),
        reason,
        hint: install_hint(),
    };
    let environment = ort::init_from(path)
        .map_err(|e| err(e.to_string()))?
        .with_name("pertouch")
        .build()
        .map_err(|e| err(e.to_string()))?;
    Ok(Runtime {
        path: path.to_path_buf(),
        source,
        version: version_from_file_name(path),
        _environment: environment,
    })
}

/// "libonnxruntime.so.1.31.1" or "libonnxruntime.1.31.1.dylib" -> "1.31.1", after
/// following symbolic links.
fn version_from_file_name(path: &Path) -> Option<String> {
    let real = std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf());
    let name = real.file_name()?.to_string_lossy().into_owned();
    let digits: Vec<&str> = name
        .split('.')
        .filter(|p| !p.is_empty() && p.chars().all(|c| c.is_ascii_digit()))
        .collect();
    (digits.len() >= 2).then(|| digits.join("."))
}

/// Package folders of `onnxruntime` in the Python installations on PATH, found
/// without importing the package (which is slow and may print).
fn python_wheel_dirs() -> Vec<PathBuf> {
    const PROBE: &str = "import importlib.util, os\nfor n in ('onnxruntime',):\n    s = importlib.util.find_spec(n)\n    print(os.path.dirname(s.origin) if s and s.origin else '')";
    let mut dirs = Vec::new();
    for python in ["python3", "python"] {
        let Ok(out) = Command::new(python).arg("-c").arg(PROBE).output() else {
            continue;
        };
        for line in String::from_utf8_lossy(&out.stdout).lines() {
            let d = PathBuf::from(line.trim());
            if !line.trim().is_empty() && d.is_dir() && !dirs.contains(&d) {
                dirs.push(d);
            }
        }
    }
    dirs
}

fn system_dirs() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = Vec::new();
    let var = if cfg!(target_os = "macos") {
        "DYLD_LIBRARY_PATH"
    } else {
        "LD_LIBRARY_PATH"
    };
    if let Some(p) = std::env::var_os(var) {
        v.extend(std::env::split_paths(&p));
    }
    if cfg!(target_os = "linux") {
        v.extend(
            [
                "/usr/local/lib",
                "/usr/lib",
                "/usr/lib/x86_64-linux-gnu",
                "/usr/lib/aarch64-linux-gnu",
            ]
            .map(PathBuf::from),
        );
    } else if cfg!(target_os = "macos") {
        v.extend(["/opt/homebrew/lib", "/usr/local/lib"].map(PathBuf::from));
    }
    v
}

/// `libonnxruntime` files in `dir`: the plain name first, then versioned ones.
fn library_files_in(dir: &Path) -> Vec<PathBuf> {
    let (prefix, suffix) = if cfg!(windows) {
        ("onnxruntime", ".dll")
    } else if cfg!(target_os = "macos") {
        ("libonnxruntime", ".dylib")
    } else {
        ("libonnxruntime", ".so")
    };
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut files: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().unwrap_or_default().to_string_lossy();
            name.starts_with(prefix)
                && name.contains(suffix)
                && !name.contains("providers")
                && p.is_file()
        })
        .collect();
    files.sort_by_key(|p| p.file_name().map(|n| n.len()));
    files
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn versions_come_from_file_names() {
        let v = |n: &str| version_from_file_name(Path::new(n));
        assert_eq!(v("/x/libonnxruntime.so.1.31.1"), Some("1.31.1".into()));
        assert_eq!(v("/x/libonnxruntime.1.22.0.dylib"), Some("1.22.0".into()));
        assert_eq!(v("/x/onnxruntime.dll"), None);
    }

    #[test]
    fn explicit_paths_come_first_and_missing_ones_are_reported() {
        let c = RuntimeConfig {
            dylib: Some(PathBuf::from("/nonexistent/libonnxruntime.so")),
        };
        let list = candidates(&c);
        assert_eq!(list.len(), 1);
        assert_eq!(list[0].1, RuntimeSource::Config);
        let e = load_first(&list).unwrap_err();
        let text = e.to_string();
        assert!(
            text.contains("/nonexistent/libonnxruntime.so") && text.contains("pip install"),
            "{text}"
        );
    }

    #[test]
    fn a_file_that_is_not_onnx_runtime_is_rejected() {
        let dir = tempfile::tempdir().unwrap();
        let fake = dir.path().join("libonnxruntime.so");
        std::fs::write(&fake, b"not a library").unwrap();
        let e = load_first(&[(fake.clone(), RuntimeSource::Config)]).unwrap_err();
        assert!(
            matches!(e, RuntimeError::Load { ref path, .. } if *path == fake),
            "{e}"
        );
    }
}
