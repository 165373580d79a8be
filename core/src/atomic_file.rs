//! Replacing a file atomically: write a temporary file beside it, flush and sync
//! it, rename it over the target, sync the folder. Readers see the old file or the
//! new one, never a part; a process killed half way leaves the old file.

use std::fs::{File, Permissions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};

/// Why a replacement failed.
pub(crate) enum Failure<E> {
    /// File-system error on `path`.
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    /// The writer's own error.
    Write(E),
}

/// Replaces `path` with what `write` produces. The temporary file is named
/// `<prefix>XXXXXX.tmp` in the same folder and created with `permissions` when
/// given (private otherwise).
pub(crate) fn replace<E>(
    path: &Path,
    prefix: &str,
    permissions: Option<Permissions>,
    write: impl FnOnce(&mut BufWriter<&mut File>) -> Result<(), E>,
) -> Result<(), Failure<E>> {
    let io = |p: &Path| {
        let p = p.to_path_buf();
        move |source| Failure::Io { path: p, source }
    };
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    };
    let mut builder = tempfile::Builder::new();
    builder.prefix(prefix).suffix(".tmp");
    if let Some(p) = permissions {
        builder.permissions(p);
    }
    let mut tmp = builder.tempfile_in(&dir).map_err(io(&dir))?;
    {
        let mut out = BufWriter::new(tmp.as_file_mut());
        write(&mut out).map_err(Failure::Write)?;
        out.flush().map_err(io(path))?;
    }
    tmp.as_file().sync_all().map_err(io(path))?;
    tmp.persist(path).map_err(|e| io(path)(e.error))?;
    // The rename itself is durable once the folder is synced (best effort: not
    // every platform lets a folder be opened).
    if let Ok(d) = File::open(&dir) {
        let _ = d.sync_all();
    }
    Ok(())
}
