//! A command's output files checked against the files it reads and against each
//! other before anything is written, and written atomically.
//!
//! Writing over an input destroys it (a report written over the photo it reports
//! on, a mask over its photo), and two outputs of one command under one name lose
//! one of them. Paths are compared as the files they name: the same path spelt
//! differently, a symbolic link to a file and a hard link of it all count as that
//! file, whether or not it exists yet.

use crate::atomic_file;
use crate::error::{Error, Result};
use std::path::{Path, PathBuf};

/// The files one command reads and writes, to check before it writes any.
#[derive(Debug, Default, Clone)]
pub struct OutputCheck {
    inputs: Vec<(PathBuf, String)>,
    /// Each output, and the one input it may replace.
    outputs: Vec<(PathBuf, String, Option<PathBuf>)>,
}

impl OutputCheck {
    pub fn new() -> Self {
        Self::default()
    }

    /// A file the command reads; `what` names it in messages ("the input photo").
    pub fn input(mut self, path: impl Into<PathBuf>, what: impl Into<String>) -> Self {
        self.inputs.push((path.into(), what.into()));
        self
    }

    /// A file the command writes; it may be no input and no other output.
    pub fn output(mut self, path: impl Into<PathBuf>, what: impl Into<String>) -> Self {
        self.outputs.push((path.into(), what.into(), None));
        self
    }

    /// A file the command writes that may be the input `replaces` because the
    /// user asked for an edit in place (`retouch --force`); it may still be no
    /// other input and no other output.
    pub fn output_replacing(
        mut self,
        path: impl Into<PathBuf>,
        what: impl Into<String>,
        replaces: impl Into<PathBuf>,
    ) -> Self {
        self.outputs
            .push((path.into(), what.into(), Some(replaces.into())));
        self
    }

    /// Refuses the first output that is an input (unless in place), another
    /// output, or a folder.
    pub fn check(&self) -> Result<()> {
        let inputs: Vec<(Identity, &PathBuf, &String)> = self
            .inputs
            .iter()
            .filter_map(|(p, w)| identity(p).map(|id| (id, p, w)))
            .collect();
        let mut seen: Vec<(Identity, &PathBuf, &String)> = Vec::new();
        for (path, what, replaces) in &self.outputs {
            if std::fs::metadata(path).is_ok_and(|m| m.is_dir()) {
                return Err(Error::InvalidRequest(format!(
                    "{} is a folder; {what} needs a file name",
                    path.display()
                )));
            }
            let Some(id) = identity(path) else { continue };
            let allowed = replaces.as_deref().and_then(identity);
            let clash = seen
                .iter()
                .chain(
                    inputs
                        .iter()
                        .filter(|(i, _, _)| Some(i) != allowed.as_ref()),
                )
                .find(|(other, _, _)| *other == id);
            if let Some((_, other, other_what)) = clash {
                return Err(Error::OutputClash {
                    output: path.clone(),
                    other: (*other).clone(),
                    what: (*other_what).clone(),
                });
            }
            seen.push((id, path, what));
        }
        Ok(())
    }
}

/// What a path names: an existing file by device and inode (so links count as
/// the file), a file yet to be written by its folder's real path and its name.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Identity {
    File(u64, u64),
    Name(PathBuf),
}

fn identity(path: &Path) -> Option<Identity> {
    if let Ok(meta) = std::fs::metadata(path) {
        if let Some(id) = file_id(&meta) {
            return Some(Identity::File(id.0, id.1));
        }
    }
    let name = path.file_name()?;
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let dir = dir.canonicalize().unwrap_or(dir);
    // An existing file on a platform without inode numbers, or a new name.
    Some(Identity::Name(dir.join(name)))
}

#[cfg(unix)]
fn file_id(meta: &std::fs::Metadata) -> Option<(u64, u64)> {
    use std::os::unix::fs::MetadataExt;
    Some((meta.dev(), meta.ino()))
}

#[cfg(not(unix))]
fn file_id(_meta: &std::fs::Metadata) -> Option<(u64, u64)> {
    None
}

/// Writes `bytes` to `path` atomically (a temporary file beside it, renamed into
/// place): the file is whole or untouched, never half written. A replaced file
/// keeps its permissions; a new one gets the usual ones.
pub fn write_file(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::io::Write;
    atomic_file::replace(
        path,
        crate::image_io::TEMP_PREFIX,
        crate::image_io::output_permissions(path),
        |out| out.write_all(bytes),
    )
    .map_err(|f| match f {
        atomic_file::Failure::Io { path, source } => Error::io(path, source),
        atomic_file::Failure::Write(source) => Error::io(path, source),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn clash(c: &OutputCheck) -> String {
        match c.check() {
            Err(e @ Error::OutputClash { .. }) => e.to_string(),
            other => panic!("expected a clash, got {other:?}"),
        }
    }

    #[test]
    fn outputs_may_not_be_inputs_links_of_them_or_each_other() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let photo = d.join("in.jpg");
        std::fs::write(&photo, b"photo").unwrap();
        let mask = d.join("sky.png");
        std::fs::write(&mask, b"mask").unwrap();
        let base = || {
            OutputCheck::new()
                .input(&photo, "the input photo")
                .input(&mask, "mask \"sky\"")
        };
        // Fine: new files.
        base()
            .output(d.join("out.jpg"), "-o")
            .output(d.join("r.json"), "--report")
            .check()
            .unwrap();
        // The input itself, spelt differently.
        let e = clash(&base().output(d.join("./in.jpg"), "-o"));
        assert!(
            e.contains("the input photo") && e.contains("nothing was written"),
            "{e}"
        );
        // A report over the mask.
        assert!(clash(&base().output(&mask, "--report")).contains("mask \"sky\""));
        // Two outputs under one new name.
        let e = clash(
            &base()
                .output(d.join("o.png"), "-o")
                .output(d.join("o.png"), "--report"),
        );
        assert!(e.contains("-o"), "{e}");
        #[cfg(unix)]
        {
            let sym = d.join("link.jpg");
            std::os::unix::fs::symlink(&photo, &sym).unwrap();
            assert!(clash(&base().output(&sym, "-o")).contains("the input photo"));
            let hard = d.join("hard.jpg");
            std::fs::hard_link(&photo, &hard).unwrap();
            assert!(clash(&base().output(&hard, "-o")).contains("the input photo"));
        }
        // In place: allowed over the input it replaces, not over another input
        // or another output.
        base()
            .output_replacing(&photo, "-o", &photo)
            .check()
            .unwrap();
        assert!(clash(&base().output_replacing(&mask, "-o", &photo)).contains("mask"));
        assert!(clash(
            &base()
                .output_replacing(&photo, "-o", &photo)
                .output(&photo, "the --report output")
        )
        .contains("-o"));
        // A folder is not a file name.
        assert!(base().output(d, "-o").check().is_err());
    }

    #[test]
    fn files_are_written_whole_with_usual_permissions() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("r.json");
        write_file(&p, b"{}").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"{}");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&p).unwrap().permissions().mode() & 0o777;
            assert_eq!(mode, 0o644);
        }
    }
}
