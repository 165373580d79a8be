//! Where pertouch keeps its data: `PERTOUCH_DATA_DIR` when set, else the
//! platform's data folder (`~/.local/share/pertouch` on Linux,
//! `%APPDATA%\pertouch\pertouch\data` on Windows,
//! `~/Library/Application Support/org.pertouch.pertouch` on macOS).

use std::path::PathBuf;

/// The data folder, if this platform has one.
pub fn data_dir() -> Option<PathBuf> {
    if let Some(d) = std::env::var_os("PERTOUCH_DATA_DIR").filter(|d| !d.is_empty()) {
        return Some(PathBuf::from(d));
    }
    directories::ProjectDirs::from("org", "pertouch", "pertouch")
        .map(|d| d.data_dir().to_path_buf())
}

/// Installed model packages: `<data folder>/models`.
pub fn models_dir() -> Option<PathBuf> {
    data_dir().map(|d| d.join("models"))
}
