//! Replacing a file atomically: write a temporary file beside it, flush and sync
//! it, rename it over the target, sync the folder. Readers see the old file or the
//! new one, never a part; a process killed half way leaves the old file.
//!
//! A process killed half way also leaves its temporary file. Each writer holds an
//! exclusive lock on its temporary file while it writes (the system drops the lock
//! when the process dies, however it dies), so the next writer in the folder can
//! tell a leftover (unlocked, and not brand new) from a save in progress and
//! removes it.

use std::fs::{File, Permissions};
use std::io::{BufWriter, Write};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// How old an unlocked temporary file must be before it counts as left over:
/// longer than any writer takes between creating its file and locking it.
const LEFTOVER_AGE: Duration = Duration::from_secs(10);

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
/// given (private otherwise). Leftovers of killed writers with the same prefix
/// are removed first.
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
    if !dir.is_dir() {
        // tempfile's own error would name a temporary file the user never chose.
        return Err(Failure::Io {
            path: dir,
            source: std::io::Error::new(
                std::io::ErrorKind::NotFound,
                "no such folder; create it first or write somewhere else",
            ),
        });
    }
    remove_leftovers(&dir, prefix);
    let mut builder = tempfile::Builder::new();
    builder.prefix(prefix).suffix(".tmp");
    if let Some(p) = permissions {
        builder.permissions(p);
    }
    let mut tmp = builder.tempfile_in(&dir).map_err(io(&dir))?;
    // Held until the file is renamed or dropped: marks the save as in progress.
    let _ = tmp.as_file().try_lock();
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

/// Removes `<prefix>*.tmp` regular files in `dir` that no process holds locked
/// and that are older than [`LEFTOVER_AGE`]: temporary files of killed writers.
/// Best effort: anything unreadable is left alone.
pub(crate) fn remove_leftovers(dir: &Path, prefix: &str) -> usize {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return 0;
    };
    let mut removed = 0;
    for e in entries.flatten() {
        let name = e.file_name();
        let name = name.to_string_lossy();
        if !(name.starts_with(prefix) && name.ends_with(".tmp")) {
            continue;
        }
        // Never follow a link, never touch anything but a plain file.
        let Ok(meta) = std::fs::symlink_metadata(e.path()) else {
            continue;
        };
        let old = meta
            .modified()
            .ok()
            .and_then(|m| m.elapsed().ok())
            .is_some_and(|age| age >= LEFTOVER_AGE);
        if !meta.is_file() || !old {
            continue;
        }
        let Ok(f) = File::options().read(true).write(true).open(e.path()) else {
            continue;
        };
        if f.try_lock().is_ok() && std::fs::remove_file(e.path()).is_ok() {
            tracing::info!(file = %e.path().display(), "removed a temporary file left by a killed save");
            removed += 1;
        }
    }
    removed
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::SystemTime;

    fn age(path: &Path, by: Duration) {
        let f = File::options().write(true).open(path).unwrap();
        f.set_modified(SystemTime::now() - by).unwrap();
    }

    /// Issue 18 item 11: on main nothing ever removed a killed save's temporary
    /// file. Old, unlocked leftovers go; a locked one (a save in progress), a new
    /// one, another prefix's and a link stay.
    #[test]
    fn leftovers_of_killed_writers_are_removed_and_live_saves_kept() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let file = |name: &str| {
            let p = d.join(name);
            std::fs::write(&p, b"partial").unwrap();
            p
        };
        let dead = file(".pertouch-dead.tmp");
        age(&dead, Duration::from_secs(3600));
        let live = file(".pertouch-live.tmp");
        age(&live, Duration::from_secs(3600));
        let holder = File::options().write(true).open(&live).unwrap();
        holder.lock().unwrap();
        let fresh = file(".pertouch-fresh.tmp");
        let other = file(".other-old.tmp");
        age(&other, Duration::from_secs(3600));
        #[cfg(unix)]
        std::os::unix::fs::symlink(&other, d.join(".pertouch-link.tmp")).unwrap();

        let target = d.join("photo.bin");
        let r: Result<(), Failure<std::io::Error>> =
            replace(&target, ".pertouch-", None, |w| w.write_all(b"whole"));
        assert!(r.is_ok());
        assert_eq!(std::fs::read(&target).unwrap(), b"whole");
        assert!(!dead.exists(), "the killed writer's file is removed");
        assert!(live.exists() && fresh.exists() && other.exists());
        #[cfg(unix)]
        assert!(d.join(".pertouch-link.tmp").symlink_metadata().is_ok());
        drop(holder);
    }
}
