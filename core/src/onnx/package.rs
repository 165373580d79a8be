//! Model packages: a folder with `manifest.json` and the files it lists.
//!
//! The manifest names the package and its task, lists every file with its SHA-256,
//! and describes the graph's inputs and outputs (names, element types, shapes with
//! -1 for free dimensions), the input normalisation and the label set or tokenizer.
//! Before first use a package is verified: every hash, then the graph's actual
//! inputs and outputs against the manifest.
//!
//! Packages come from anywhere, so a package is data to check, never to trust: the
//! manifest is at most [`MAX_MANIFEST_BYTES`] and its name a plain folder name;
//! every file it lists must be a plain file inside the package folder (no link on
//! the way, no device or pipe), and an import copies exactly the bytes it hashes.
//! Imports stage into a hidden `.import-*` folder under an exclusive lock on the
//! models folder; hidden folders are never packages, and leftovers of killed
//! imports are removed by the next import.

use super::runtime::Runtime;
use super::session::{IoSpec, OnnxSession, SessionOptions};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::path::{Component, Path, PathBuf};

/// Manifest format version this build reads.
pub const MANIFEST_SCHEMA: u32 = 1;

/// The manifest file's name inside a package.
pub const MANIFEST: &str = "manifest.json";

/// Largest manifest read, in bytes. Manifests hold names, shapes, labels and
/// settings (a SegFormer manifest with 150 labels is about 10 KB); large data goes
/// in the files they list.
pub const MAX_MANIFEST_BYTES: u64 = 1 << 20;

/// Longest package name, in characters.
pub const MAX_NAME: usize = 64;

/// Prefixes of the hidden folders an import works in.
const STAGING_PREFIX: &str = ".import-";
const REPLACED_PREFIX: &str = ".replaced-";

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

impl Manifest {
    /// Parses and checks a manifest's text: schema, a plain folder name, file paths
    /// that stay inside the package, SHA-256s, and a file for every graph.
    pub fn parse(text: &str) -> Result<Self, String> {
        if text.len() as u64 > MAX_MANIFEST_BYTES {
            return Err(too_big(text.len() as u64));
        }
        let value: serde_json::Value = serde_json::from_str(text).map_err(|e| e.to_string())?;
        // Manifest text is shown (`models list`, `doctor`, graph mismatches):
        // text a terminal would obey has no place in it.
        if let Some(at) = control_text(&value, &mut String::new()) {
            return Err(format!("{at} holds control characters"));
        }
        let manifest: Manifest = serde_json::from_value(value).map_err(|e| e.to_string())?;
        if manifest.schema > MANIFEST_SCHEMA {
            return Err(format!(
                "schema {} is newer than this pertouch reads ({MANIFEST_SCHEMA}); update pertouch",
                manifest.schema
            ));
        }
        if let Some(why) = name_problem(&manifest.name) {
            return Err(format!(
                "name \"{}\" is not a plain folder name: {why}",
                crate::printable::short(&manifest.name)
            ));
        }
        for f in &manifest.files {
            let p = Path::new(&f.path);
            let shown = crate::printable::short(&f.path);
            if f.path.is_empty()
                || p.is_absolute()
                || p.components().any(|c| !matches!(c, Component::Normal(_)))
            {
                return Err(format!("file path \"{shown}\" leaves the package"));
            }
            if p == Path::new(MANIFEST) {
                return Err(format!("the manifest lists itself (\"{shown}\")"));
            }
            if f.sha256.len() != 64 || !f.sha256.chars().all(|c| c.is_ascii_hexdigit()) {
                return Err(format!(
                    "file {shown}: \"{}\" is not a SHA-256",
                    crate::printable::short(&f.sha256)
                ));
            }
        }
        if manifest.graphs.is_empty() {
            if !manifest.files.iter().any(|f| f.role == "model") {
                return Err("no file has the role \"model\"".into());
            }
        } else {
            for g in &manifest.graphs {
                if !manifest.files.iter().any(|f| f.role == g.role) {
                    return Err(format!(
                        "graph \"{}\" has no file with that role",
                        crate::printable::short(&g.role)
                    ));
                }
            }
        }
        Ok(manifest)
    }
}

/// Where in `v` a string (or key) holds a character a terminal would act on, as a
/// JSON-pointer-like path, if anywhere.
fn control_text(v: &serde_json::Value, at: &mut String) -> Option<String> {
    use crate::printable::has_terminal_controls;
    match v {
        serde_json::Value::String(s) if has_terminal_controls(s) => Some(if at.is_empty() {
            "a value".into()
        } else {
            format!("\"{at}\"")
        }),
        serde_json::Value::Array(items) => items.iter().enumerate().find_map(|(i, x)| {
            let len = at.len();
            at.push_str(&format!("/{i}"));
            let found = control_text(x, at);
            at.truncate(len);
            found
        }),
        serde_json::Value::Object(map) => map.iter().find_map(|(k, x)| {
            if has_terminal_controls(k) {
                return Some(format!("a key under \"{at}\""));
            }
            let len = at.len();
            at.push('/');
            at.push_str(k);
            let found = control_text(x, at);
            at.truncate(len);
            found
        }),
        _ => None,
    }
}

/// Why `name` cannot be a package's folder name, if it cannot: 1 to 64 characters,
/// letters, digits, '-', '_' and '.', starting with a letter or digit (so never
/// ".", "..", nor one of the hidden folders an import works in).
pub fn name_problem(name: &str) -> Option<&'static str> {
    if name.is_empty() {
        Some("it is empty")
    } else if name.chars().count() > MAX_NAME {
        Some("it is longer than 64 characters")
    } else if !name.starts_with(|c: char| c.is_ascii_alphanumeric()) {
        Some("it must start with a letter or digit")
    } else if !name
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'))
    {
        Some("use only letters, digits, '-', '_' and '.'")
    } else {
        None
    }
}

fn too_big(len: u64) -> String {
    format!(
        "it is {len} bytes; a manifest is at most {MAX_MANIFEST_BYTES} bytes (names, shapes and settings; large data belongs in the files it lists)"
    )
}

/// Reads a manifest: a plain file, not a link, at most [`MAX_MANIFEST_BYTES`].
fn read_manifest(path: &Path) -> Result<String, PackageError> {
    let bad = |reason: String| PackageError::Manifest {
        path: path.to_path_buf(),
        reason,
    };
    let meta = match std::fs::symlink_metadata(path) {
        Ok(m) => m,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(bad(
            "there is no such file: is the folder an exported model package? (models/README.md)"
                .into(),
        )),
        Err(e) => return Err(io(path, e)),
    };
    if meta.file_type().is_symlink() {
        return Err(bad(
            "it is a symbolic link; a package holds only plain files".into(),
        ));
    }
    if !meta.is_file() {
        return Err(bad("it is not a plain file".into()));
    }
    if meta.len() > MAX_MANIFEST_BYTES {
        return Err(bad(too_big(meta.len())));
    }
    let mut text = String::new();
    std::fs::File::open(path)
        .and_then(|f| f.take(MAX_MANIFEST_BYTES + 1).read_to_string(&mut text))
        .map_err(|e| io(path, e))?;
    if text.len() as u64 > MAX_MANIFEST_BYTES {
        return Err(bad(too_big(text.len() as u64)));
    }
    Ok(text)
}

/// Opens `rel` under `root` for reading if it is a plain file reached without
/// following any link; else says why not. The file opened is checked to be the
/// one inspected, so a link swapped in meanwhile is refused too.
fn open_plain_file(root: &Path, rel: &str) -> Result<(PathBuf, std::fs::File), FileProblem> {
    let mut path = root.to_path_buf();
    let parts: Vec<_> = Path::new(rel).components().collect();
    let mut meta = None;
    for (i, c) in parts.iter().enumerate() {
        path.push(c);
        let m = match std::fs::symlink_metadata(&path) {
            Ok(m) => m,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Err(FileProblem::Missing),
            Err(e) => return Err(FileProblem::Io(path, e)),
        };
        let last = i + 1 == parts.len();
        if m.file_type().is_symlink() {
            return Err(FileProblem::Unsafe(if last {
                "is a symbolic link".into()
            } else {
                format!(
                    "is reached through a symbolic link ({})",
                    Path::new(c).display()
                )
            }));
        }
        if !last && !m.is_dir() {
            return Err(FileProblem::Missing);
        }
        if last && !m.is_file() {
            return Err(FileProblem::Unsafe(
                "is not a plain file (a folder, device or pipe)".into(),
            ));
        }
        meta = Some(m);
    }
    let file = std::fs::File::open(&path).map_err(|e| FileProblem::Io(path.clone(), e))?;
    let opened = file
        .metadata()
        .map_err(|e| FileProblem::Io(path.clone(), e))?;
    if let Some(m) = meta {
        if !opened.is_file() || !same_file(&m, &opened) {
            return Err(FileProblem::Unsafe(
                "changed while it was being checked".into(),
            ));
        }
    }
    Ok((path, file))
}

#[cfg(unix)]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    use std::os::unix::fs::MetadataExt;
    a.dev() == b.dev() && a.ino() == b.ino()
}

#[cfg(not(unix))]
fn same_file(a: &std::fs::Metadata, b: &std::fs::Metadata) -> bool {
    a.len() == b.len() && a.modified().ok() == b.modified().ok()
}

/// Why a listed file cannot be used.
enum FileProblem {
    Missing,
    Unsafe(String),
    Io(PathBuf, std::io::Error),
}

impl FileProblem {
    fn into_error(self, package: &str, file: &str) -> PackageError {
        match self {
            FileProblem::Missing => PackageError::MissingFile {
                package: package.to_string(),
                file: file.to_string(),
            },
            FileProblem::Unsafe(reason) => PackageError::NotPlainFile {
                package: package.to_string(),
                file: file.to_string(),
                reason,
            },
            FileProblem::Io(path, source) => PackageError::Io { path, source },
        }
    }
}

/// Copies `from` to `to` (created new) while hashing what is copied; returns the
/// lower-case hex SHA-256.
fn copy_hashing(mut from: std::fs::File, to: &Path) -> std::io::Result<String> {
    let mut out = std::fs::File::options()
        .write(true)
        .create_new(true)
        .open(to)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = from.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
        out.write_all(&buf[..n])?;
    }
    out.sync_all()?;
    Ok(hex(&h.finalize()))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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
    #[error("package {package}: file {file} {reason}; a package holds only plain files inside its own folder")]
    NotPlainFile {
        package: String,
        file: String,
        reason: String,
    },
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
        Self::open_with_text(dir).map(|(p, _)| p)
    }

    /// [`Package::open`], with the manifest's text as read.
    fn open_with_text(dir: &Path) -> Result<(Self, String), PackageError> {
        let path = dir.join(MANIFEST);
        let text = read_manifest(&path)?;
        let manifest = Manifest::parse(&text).map_err(|reason| PackageError::Manifest {
            path: path.clone(),
            reason,
        })?;
        Ok((
            Package {
                dir: dir.to_path_buf(),
                manifest,
            },
            text,
        ))
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
        let (_, file) = open_plain_file(&self.dir, &f.path)
            .map_err(|p| p.into_error(&self.manifest.name, &f.path))?;
        let found = sha256_reader(file).map_err(|e| io(&self.dir.join(&f.path), e))?;
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
    let f = std::fs::File::open(path).map_err(|e| io(path, e))?;
    sha256_reader(f).map_err(|e| io(path, e))
}

fn sha256_reader(mut f: impl Read) -> std::io::Result<String> {
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f.read(&mut buf)?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

/// Installed packages under `root`, each opened (or why it could not be).
pub fn installed(root: &Path) -> Vec<(PathBuf, Result<Package, PackageError>)> {
    let Ok(entries) = std::fs::read_dir(root) else {
        return Vec::new();
    };
    // Hidden folders are an import's staging or replaced folders, never packages.
    let mut dirs: Vec<PathBuf> = entries
        .flatten()
        .filter(|e| !e.file_name().to_string_lossy().starts_with('.'))
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

/// Copies the package at `src` into `root/<name>`: each listed file, a plain file
/// inside the package, is copied while it is hashed and must match its SHA-256.
/// The copy is staged in a hidden folder renamed into place, under an exclusive
/// lock on `root` (an interrupted import leaves nothing that counts as installed,
/// and the next import removes what it left). An installed package of the same
/// name is replaced.
pub fn import(src: &Path, root: &Path) -> Result<Package, PackageError> {
    let (pkg, manifest_text) = Package::open_with_text(src)?;
    let name = pkg.manifest.name.clone();
    std::fs::create_dir_all(root).map_err(|e| io(root, e))?;
    let _lock = lock_models_folder(root)?;
    remove_stale_imports(root);
    let tmp = tempfile::Builder::new()
        .prefix(STAGING_PREFIX)
        .tempdir_in(root)
        .map_err(|e| io(root, e))?;
    for f in &pkg.manifest.files {
        let (from_path, from) =
            open_plain_file(src, &f.path).map_err(|p| p.into_error(&name, &f.path))?;
        let to = tmp.path().join(&f.path);
        if let Some(parent) = to.parent() {
            std::fs::create_dir_all(parent).map_err(|e| io(parent, e))?;
        }
        let found = copy_hashing(from, &to).map_err(|e| io(&from_path, e))?;
        if !found.eq_ignore_ascii_case(&f.sha256) {
            return Err(PackageError::Tampered {
                package: name,
                file: f.path.clone(),
                expected: f.sha256.to_lowercase(),
                found,
            });
        }
    }
    // The manifest as it was read and checked, not read again.
    let manifest_to = tmp.path().join(MANIFEST);
    std::fs::write(&manifest_to, manifest_text.as_bytes()).map_err(|e| io(&manifest_to, e))?;
    let dest = root.join(&name);
    if std::fs::symlink_metadata(&dest).is_ok() {
        let old = root.join(format!("{REPLACED_PREFIX}{name}"));
        std::fs::rename(&dest, &old).map_err(|e| io(&dest, e))?;
        let _ = std::fs::remove_dir_all(&old);
    }
    let staged = tmp.keep();
    std::fs::rename(&staged, &dest).map_err(|e| io(&dest, e))?;
    Package::open(&dest)
}

/// An exclusive lock on the models folder for the time of an import. On Unix the
/// folder itself is locked; elsewhere a hidden lock file inside it.
fn lock_models_folder(root: &Path) -> Result<std::fs::File, PackageError> {
    #[cfg(unix)]
    let f = std::fs::File::open(root).map_err(|e| io(root, e))?;
    #[cfg(not(unix))]
    let f = {
        let p = root.join(".import.lock");
        std::fs::File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&p)
            .map_err(|e| io(&p, e))?
    };
    f.lock().map_err(|e| io(root, e))?;
    Ok(f)
}

/// Removes the staging and replaced folders of imports that were killed (under the
/// folder's lock, no import is running).
fn remove_stale_imports(root: &Path) {
    let Ok(entries) = std::fs::read_dir(root) else {
        return;
    };
    for e in entries.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        let ours = name.starts_with(STAGING_PREFIX) || name.starts_with(REPLACED_PREFIX);
        let is_dir = std::fs::symlink_metadata(e.path()).is_ok_and(|m| m.is_dir());
        if ours && is_dir && std::fs::remove_dir_all(e.path()).is_ok() {
            tracing::info!(folder = %e.path().display(), "removed what a killed import left");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A package folder named `folder` whose manifest is `name` and lists
    /// `files` (path, content); the hashes are right.
    fn package(at: &Path, folder: &str, name: &str, files: &[(&str, &[u8])]) -> PathBuf {
        let dir = at.join(folder);
        std::fs::create_dir_all(&dir).unwrap();
        let mut listed = Vec::new();
        for (i, (path, bytes)) in files.iter().enumerate() {
            let p = dir.join(path);
            std::fs::create_dir_all(p.parent().unwrap()).unwrap();
            std::fs::write(&p, bytes).unwrap();
            listed.push(serde_json::json!({
                "path": path,
                "sha256": hex(&Sha256::digest(bytes)),
                "role": if i == 0 { "model" } else { "data" },
            }));
        }
        write_manifest(&dir, name, listed);
        dir
    }

    fn write_manifest(dir: &Path, name: &str, files: Vec<serde_json::Value>) {
        let m = serde_json::json!({
            "schema": 1, "name": name, "task": "test", "version": "1",
            "licence": "CC0-1.0", "source": "unit test", "files": files,
        });
        std::fs::write(dir.join(MANIFEST), m.to_string()).unwrap();
    }

    fn names(root: &Path) -> Vec<String> {
        installed(root)
            .into_iter()
            .filter_map(|(_, p)| p.ok().map(|p| p.manifest.name))
            .collect()
    }

    /// Issue 18 item 7: on main the names ".", "..", ".import-x" and
    /// ".replaced-..." were accepted ("." failed with "Device or resource busy",
    /// and re-importing ".replaced-x" deleted a package).
    #[test]
    fn package_names_are_plain_folder_names() {
        let at = tempfile::tempdir().unwrap();
        let root = at.path().join("models");
        for bad in [
            ".",
            "..",
            ".import-x",
            ".replaced-seg",
            "a/b",
            "",
            "-x",
            "x\u{1b}[2J",
        ] {
            let src = package(at.path(), "src", bad, &[("m.onnx", b"graph")]);
            let e = import(&src, &root).unwrap_err().to_string();
            assert!(
                e.contains("not a plain folder name") || e.contains("control characters"),
                "{bad:?}: {e}"
            );
            assert!(!e.contains('\u{1b}'), "{e}");
            std::fs::remove_dir_all(&src).unwrap();
        }
        assert!(names(&root).is_empty());
        for good in ["seg-b0", "clipseg_rd64.v2", "7"] {
            assert_eq!(name_problem(good), None, "{good}");
        }
    }

    /// Issue 18 item 7: on main an import followed links: a listed file reached
    /// through `sub -> /elsewhere` (or a link to a file elsewhere) was copied in,
    /// and a wrong hash printed that outside file's real SHA-256.
    #[cfg(unix)]
    #[test]
    fn imports_copy_only_plain_files_from_inside_the_package() {
        let at = tempfile::tempdir().unwrap();
        let root = at.path().join("models");
        let outside = at.path().join("outside");
        std::fs::create_dir_all(&outside).unwrap();
        let secret = b"root:x:0:0:secret";
        std::fs::write(outside.join("passwd"), secret).unwrap();
        let secret_hash = hex(&Sha256::digest(secret));

        // A folder link inside the package.
        let src = package(at.path(), "via-dir", "pkg", &[("m.onnx", b"graph")]);
        std::os::unix::fs::symlink(&outside, src.join("sub")).unwrap();
        let mut files = vec![
            serde_json::json!({"path": "m.onnx", "sha256": hex(&Sha256::digest(b"graph")), "role": "model"}),
            serde_json::json!({"path": "sub/passwd", "sha256": "0".repeat(64), "role": "data"}),
        ];
        write_manifest(&src, "pkg", files.clone());
        let e = import(&src, &root).unwrap_err().to_string();
        assert!(
            e.contains("symbolic link") && e.contains("sub/passwd"),
            "{e}"
        );
        assert!(!e.contains(&secret_hash), "{e}");

        // A file link.
        let src = package(at.path(), "via-file", "pkg", &[("m.onnx", b"graph")]);
        std::os::unix::fs::symlink(outside.join("passwd"), src.join("labels.txt")).unwrap();
        files[1] =
            serde_json::json!({"path": "labels.txt", "sha256": "0".repeat(64), "role": "data"});
        write_manifest(&src, "pkg", files.clone());
        let e = import(&src, &root).unwrap_err().to_string();
        assert!(
            e.contains("symbolic link") && !e.contains(&secret_hash),
            "{e}"
        );
        // Verifying a package in place refuses it the same way.
        let e = Package::open(&src)
            .unwrap()
            .verify_files()
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("symbolic link") && !e.contains(&secret_hash),
            "{e}"
        );

        // A pipe is not read (reading one would wait forever).
        let src = package(at.path(), "via-fifo", "pkg", &[("m.onnx", b"graph")]);
        let fifo = src.join("labels.txt");
        assert!(Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .unwrap()
            .success());
        write_manifest(&src, "pkg", files);
        let e = import(&src, &root).unwrap_err().to_string();
        assert!(e.contains("not a plain file"), "{e}");

        // A linked manifest is not read either.
        let src = at.path().join("linked-manifest");
        std::fs::create_dir_all(&src).unwrap();
        std::os::unix::fs::symlink(outside.join("passwd"), src.join(MANIFEST)).unwrap();
        let e = import(&src, &root).unwrap_err().to_string();
        assert!(e.contains("symbolic link"), "{e}");

        assert!(names(&root).is_empty());
        let left: Vec<_> = std::fs::read_dir(&root).unwrap().collect();
        assert!(left.is_empty(), "failed imports leave nothing: {left:?}");
    }

    use std::process::Command;

    /// Issue 18 item 7: on main a killed import's `.import-*` folder (and a
    /// `.replaced-*` one) showed in `models list` as installed, and `models path`
    /// could pick it.
    #[test]
    fn killed_imports_are_not_packages_and_are_cleared() {
        let at = tempfile::tempdir().unwrap();
        let root = at.path().join("models");
        std::fs::create_dir_all(&root).unwrap();
        package(&root, ".import-Ab12", "seg", &[("m.onnx", b"partial")]);
        package(&root, ".replaced-seg", "seg", &[("m.onnx", b"old")]);
        assert!(names(&root).is_empty());
        assert!(matches!(
            find(&root, "seg"),
            Err(PackageError::NotInstalled { .. })
        ));
        let src = package(at.path(), "src", "seg", &[("m.onnx", b"new graph")]);
        let p = import(&src, &root).unwrap();
        assert_eq!(p.dir, root.join("seg"));
        let mut left: Vec<String> = std::fs::read_dir(&root)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        left.sort();
        assert_eq!(left, ["seg"]);
        assert_eq!(
            std::fs::read(root.join("seg/m.onnx")).unwrap(),
            b"new graph"
        );
        // A source changed after it was listed: what is copied is what is hashed.
        std::fs::write(src.join("m.onnx"), b"swapped").unwrap();
        let e = import(&src, &root).unwrap_err();
        assert!(matches!(e, PackageError::Tampered { .. }), "{e}");
        assert_eq!(
            std::fs::read(root.join("seg/m.onnx")).unwrap(),
            b"new graph"
        );
    }

    /// Issue 18 item 8: on main a 268 MB manifest took 7.6 GB to read, and a 1 GB
    /// one 2 GB on every `models list`.
    #[test]
    fn huge_manifests_are_refused_unread() {
        let at = tempfile::tempdir().unwrap();
        let root = at.path().join("models");
        let dir = package(&root, "big", "big", &[("m.onnx", b"graph")]);
        let text = std::fs::read_to_string(dir.join(MANIFEST)).unwrap();
        let padded = text.replacen(
            "\"task\"",
            &format!("\"source2\": \"{}\", \"task\"", "x".repeat(2 << 20)),
            1,
        );
        std::fs::write(dir.join(MANIFEST), padded).unwrap();
        let all = installed(&root);
        assert_eq!(all.len(), 1);
        let e = all[0].1.as_ref().unwrap_err().to_string();
        assert!(e.contains("at most 1048576 bytes") && e.len() < 400, "{e}");
        assert!(Manifest::parse(&"x".repeat(2 << 20))
            .unwrap_err()
            .contains("at most"));
    }
}
