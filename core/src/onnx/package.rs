//! Model packages: a folder with `manifest.json` and the files it lists.
//!
//! The manifest names the package and its task, lists every file with its SHA-256,
//! and describes the graph's inputs and outputs (names, element types, shapes with
//! -1 for free dimensions), the input normalisation and the label set or tokenizer.
//! Before first use a package is verified: every hash, then the graph's actual
//! inputs and outputs against the manifest.

use super::runtime::Runtime;
use super::session::{IoSpec, OnnxSession, SessionOptions};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::Read;
use std::path::{Component, Path, PathBuf};

/// Manifest format version this build reads.
pub const MANIFEST_SCHEMA: u32 = 1;

/// The manifest file's name inside a package.
pub const MANIFEST: &str = "manifest.json";

/// One file of a package.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PackageFile {
    /// Path relative to the package folder.
    pub path: String,
    /// Lower-case hex SHA-256 of the file.
    pub sha256: String,
    /// "model" for the ONNX graph the task runs; anything else is data.
    #[serde(default)]
    pub role: String,
}

/// Input normalisation: `(value / scale - mean) / std` per channel.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Normalisation {
    pub scale: f32,
    pub mean: Vec<f32>,
    pub std: Vec<f32>,
}

impl Normalisation {
    /// Why it cannot normalise an RGB image, if it cannot.
    pub fn problem(&self) -> Option<&'static str> {
        (self.mean.len() != 3
            || self.std.len() != 3
            || self.std.contains(&0.0)
            || self.scale == 0.0)
            .then_some("normalisation needs 3 means, 3 non-zero stds and a non-zero scale")
    }
}

/// One graph of a package that runs several (a diffusion package's VAE encoder,
/// ControlNet, UNet and VAE decoder): the file with this role, and its inputs and
/// outputs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct GraphSpec {
    pub role: String,
    pub inputs: Vec<IoSpec>,
    pub outputs: Vec<IoSpec>,
}

/// `manifest.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Manifest {
    pub schema: u32,
    pub name: String,
    /// "segmentation-labels", "segmentation-text", "diffusion", or "test".
    pub task: String,
    pub version: String,
    pub licence: String,
    pub source: String,
    pub files: Vec<PackageFile>,
    /// The inputs and outputs of the file with the role "model" (single-graph packages).
    #[serde(default)]
    pub inputs: Vec<IoSpec>,
    #[serde(default)]
    pub outputs: Vec<IoSpec>,
    /// Packages of several graphs describe each here instead.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub graphs: Vec<GraphSpec>,
    /// Task-specific settings (a diffusion package's sizes and scheduler), read by
    /// the task.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub diffusion: Option<serde_json::Value>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub normalisation: Option<Normalisation>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub labels: Vec<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub tokenizer: Option<String>,
}

/// What is wrong with a package.
#[derive(Debug, thiserror::Error)]
pub enum PackageError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("{path}: not a valid model manifest: {reason}")]
    Manifest { path: PathBuf, reason: String },
    #[error("package {package}: file {file} is missing")]
    MissingFile { package: String, file: String },
    #[error("package {package}: file {file} does not match its manifest (sha256 {found}, expected {expected}): the file is incomplete or was changed; reinstall the package")]
    Tampered {
        package: String,
        file: String,
        expected: String,
        found: String,
    },
    #[error("package {package}: the graph does not match the manifest: {reason}")]
    Graph { package: String, reason: String },
    #[error("no model package named \"{name}\" in {root} (installed: {installed})")]
    NotInstalled {
        name: String,
        root: PathBuf,
        installed: String,
    },
    #[error(transparent)]
    Session(#[from] super::session::SessionError),
}

fn io(path: &Path, source: std::io::Error) -> PackageError {
    PackageError::Io {
        path: path.to_path_buf(),
        source,
    }
}

/// A package folder and its manifest.
#[derive(Debug, Clone)]
pub struct Package {
    pub dir: PathBuf,
    pub manifest: Manifest,
}

impl Package {
    /// Reads and checks `dir/manifest.json` (not the files: see [`Package::verify_files`]).
    pub fn open(dir: &Path) -> Result<Self, PackageError> {
        let path = dir.join(MANIFEST);
        let bad = |reason: String| PackageError::Manifest {
            path: path.clone(),
            reason,
        };
        let text = std::fs::read_to_string(&path).map_err(|e| io(&path, e))?;
        let manifest: Manifest = serde_json::from_str(&text).map_err(|e| bad(e.to_string()))?;
        if manifest.schema > MANIFEST_SCHEMA {
            return Err(bad(format!(
                "schema {} is newer than this pertouch reads ({MANIFEST_SCHEMA})",
                manifest.schema
            )));
        }
        if manifest.name.is_empty()
            || !manifest
                .name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
        {
            return Err(bad(format!(
                "name \"{}\" is not a plain folder name",
                manifest.name
            )));
        }
        for f in &manifest.files {
            let p = Path::new(&f.path);
            if p.is_absolute() || p.components().any(|c| !matches!(c, Component::Normal(_))) {
                return Err(bad(format!("file path \"{}\" leaves the package", f.path)));
            }
            if f.sha256.len() != 64 || !f.sha256.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(bad(format!(
                    "file {}: \"{}\" is not a SHA-256",
                    f.path, f.sha256
                )));
            }
        }
        if manifest.graphs.is_empty() {
            if !manifest.files.iter().any(|f| f.role == "model") {
                return Err(bad("no file has the role \"model\"".into()));
            }
        } else {
            for g in &manifest.graphs {
                if !manifest.files.iter().any(|f| f.role == g.role) {
                    return Err(bad(format!(
                        "graph \"{}\" has no file with that role",
                        g.role
                    )));
                }
            }
        }
        Ok(Package {
            dir: dir.to_path_buf(),
            manifest,
        })
    }

    /// The ONNX graph the task runs (single-graph packages; for packages of several
    /// graphs, the first).
    pub fn model_path(&self) -> PathBuf {
        let role = self
            .manifest
            .graphs
            .first()
            .map_or("model", |g| g.role.as_str());
        self.file_path(role)
            .unwrap_or_else(|| self.dir.join(MANIFEST))
    }

    /// The file with `role`, if the manifest lists one.
    pub fn file_path(&self, role: &str) -> Option<PathBuf> {
        self.manifest
            .files
            .iter()
            .find(|f| f.role == role)
            .map(|f| self.dir.join(&f.path))
    }

    /// Checks every listed file against its SHA-256.
    pub fn verify_files(&self) -> Result<(), PackageError> {
        self.manifest
            .files
            .iter()
            .try_for_each(|f| self.verify_entry(f))
    }

    fn verify_entry(&self, f: &PackageFile) -> Result<(), PackageError> {
        let path = self.dir.join(&f.path);
        if !path.is_file() {
            return Err(PackageError::MissingFile {
                package: self.manifest.name.clone(),
                file: f.path.clone(),
            });
        }
        let found = sha256_file(&path)?;
        if !found.eq_ignore_ascii_case(&f.sha256) {
            return Err(PackageError::Tampered {
                package: self.manifest.name.clone(),
                file: f.path.clone(),
                expected: f.sha256.to_lowercase(),
                found,
            });
        }
        Ok(())
    }

    /// Checks the graph's inputs and outputs against the manifest.
    pub fn verify_graph(&self, session: &OnnxSession) -> Result<(), PackageError> {
        match self.manifest.graphs.first() {
            Some(g) => self.verify_io(&g.role, &g.inputs, &g.outputs, session),
            None => self.verify_io(
                "model",
                &self.manifest.inputs,
                &self.manifest.outputs,
                session,
            ),
        }
    }

    /// Verifies the files, then opens and checks every graph of the package: the
    /// one "model" of a single-graph package, or each of [`Manifest::graphs`]. A
    /// check of the whole package, as `pertouch models verify` and `doctor` make it.
    pub fn open_all(
        &self,
        rt: &Runtime,
        opts: &SessionOptions,
    ) -> Result<Vec<(String, OnnxSession)>, PackageError> {
        if self.manifest.graphs.is_empty() {
            return Ok(vec![("model".into(), self.open_session(rt, opts)?)]);
        }
        self.verify_files()?;
        self.manifest
            .graphs
            .iter()
            .map(|g| Ok((g.role.clone(), self.open_spec(g, rt, opts)?)))
            .collect()
    }

    /// Opens the graph `spec` describes and checks its inputs and outputs (the
    /// files were verified by the caller).
    fn open_spec(
        &self,
        spec: &GraphSpec,
        rt: &Runtime,
        opts: &SessionOptions,
    ) -> Result<OnnxSession, PackageError> {
        let path = self
            .file_path(&spec.role)
            .expect("Package::open checks every graph has a file");
        let session = OnnxSession::open(rt, &path, opts)?;
        self.verify_io(&spec.role, &spec.inputs, &spec.outputs, &session)?;
        Ok(session)
    }

    fn verify_io(
        &self,
        role: &str,
        inputs: &[IoSpec],
        outputs: &[IoSpec],
        session: &OnnxSession,
    ) -> Result<(), PackageError> {
        let graph_err = |reason: String| PackageError::Graph {
            package: self.manifest.name.clone(),
            reason: if role == "model" {
                reason
            } else {
                format!("{role}: {reason}")
            },
        };
        for (what, declared, actual) in [
            ("input", inputs, &session.inputs),
            ("output", outputs, &session.outputs),
        ] {
            if declared.len() != actual.len() {
                return Err(graph_err(format!(
                    "the manifest declares {} {what}s, the graph has {}",
                    declared.len(),
                    actual.len()
                )));
            }
            for d in declared {
                match actual.iter().find(|a| a.name == d.name) {
                    Some(a) if a.accepts(d) => {}
                    Some(a) => {
                        return Err(graph_err(format!(
                            "{what} declared as {d}, the graph has {a}"
                        )))
                    }
                    None => {
                        return Err(graph_err(format!(
                            "{what} {} is not in the graph (it has {})",
                            d.name,
                            actual
                                .iter()
                                .map(|a| a.name.as_str())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )))
                    }
                }
            }
        }
        Ok(())
    }

    /// Verifies the files, opens the model and verifies its graph: a session ready
    /// to run.
    pub fn open_session(
        &self,
        rt: &Runtime,
        opts: &SessionOptions,
    ) -> Result<OnnxSession, PackageError> {
        self.verify_files()?;
        let session = OnnxSession::open(rt, &self.model_path(), opts)?;
        self.verify_graph(&session)?;
        Ok(session)
    }
}

/// The package for `task`: the one named `name`, or, without a name, the only
/// installed package of that task (an error says how many there are otherwise).
pub fn find_for_task(root: &Path, name: Option<&str>, task: &str) -> Result<Package, PackageError> {
    if let Some(name) = name {
        return find(root, name);
    }
    let mut found: Vec<Package> = installed(root)
        .into_iter()
        .filter_map(|(_, p)| p.ok())
        .filter(|p| p.manifest.task == task)
        .collect();
    match found.len() {
        1 => Ok(found.remove(0)),
        n => Err(PackageError::NotInstalled {
            name: format!("{task} package"),
            root: root.to_path_buf(),
            installed: if n == 0 {
                format!("no {task} package; export one (models/README.md) and `pertouch models import DIR`")
            } else {
                format!(
                    "{n} {task} packages ({}): name one",
                    found
                        .iter()
                        .map(|p| p.manifest.name.as_str())
                        .collect::<Vec<_>>()
                        .join(", ")
                )
            },
        }),
    }
}

/// Lower-case hex SHA-256 of a file.
pub fn sha256_file(path: &Path) -> Result<String, PackageError> {
    let mut f = std::fs::File::open(path).map_err(|e| io(path, e))?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf).map_err(|e| io(path, e))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(h.finalize().iter().map(|b| format!("{b:02x}")).collect())
}

/// Installed packages under `root`, each opened (or why it could not be).
pub fn installed(root: &Path) -> Vec<(PathBuf, Result<Package, PackageError>)> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    let mut dirs: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.is_dir() && p.join(MANIFEST).is_file())
        .collect();
    dirs.sort();
    dirs.into_iter()
        .map(|d| {
            let p = Package::open(&d);
            (d, p)
        })
        .collect()
}

/// The installed package `name`.
pub fn find(root: &Path, name: &str) -> Result<Package, PackageError> {
    for (_, p) in installed(root) {
        if let Ok(p) = p {
            if p.manifest.name == name {
                return Ok(p);
            }
        }
    }
    Err(PackageError::NotInstalled {
        name: name.to_string(),
        root: root.to_path_buf(),
        installed: installed(root)
            .iter()
            .filter_map(|(_, p)| p.as_ref().ok().map(|p| p.manifest.name.clone()))
            .collect::<Vec<_>>()
            .join(", "),
    })
}

/// Copies the package at `src` into `root/<name>` after checking its files, via a
/// temporary folder renamed into place (an interrupted import leaves nothing
/// half-installed). An installed package of the same name is replaced.
pub fn import(src: &Path, root: &Path) -> Result<Package, PackageError> {
    let pkg = Package::open(src)?;
    pkg.verify_files()?;
    std::fs::create_dir_all(root).map_err(|e| io(root, e))?;
    let tmp = tempfile::Builder::new()
        .prefix(".import-")
        .tempdir_in(root)
        .map_err(|e| io(root, e))?;
    for f in pkg
        .manifest
        .files
        .iter()
        .map(|f| f.path.as_str())
        .chain(std::iter::once(MANIFEST))
    {
        let to = tmp.path().join(f);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
        }
        std::fs::copy(src.join(f), &to).map_err(|e| io(&src.join(f), e))?;
    }
    let dest = root.join(&pkg.manifest.name);
    if dest.exists() {
        let old = root.join(format!(".replaced-{}", pkg.manifest.name));
        let _ = std::fs::remove_dir_all(&old);
        std::fs::rename(&dest, &old).map_err(|e| io(&dest, e))?;
        let _ = std::fs::remove_dir_all(&old);
    }
    let staged = tmp.keep();
    std::fs::rename(&staged, &dest).map_err(|e| io(&dest, e))?;
    let installed = Package::open(&dest)?;
    installed.verify_files()?;
    Ok(installed)
}
