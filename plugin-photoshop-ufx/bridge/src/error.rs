//! The bridge's errors: what went wrong, where, and what to do about it.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};

/// Errors of the bridge crate.
#[derive(Debug, thiserror::Error)]
pub enum BridgeError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("token file {path}: {reason}")]
    TokenFile { path: PathBuf, reason: String },
    #[error("no random numbers from the operating system: {0}")]
    Random(String),
    #[error("cannot listen on {addr}: {source}{hint}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
        hint: &'static str,
    },
    #[error("TLS: {0}")]
    Tls(String),
    #[error("{0}")]
    Config(String),
    #[error("the engine could not start: {0}")]
    Engine(#[from] pertouch_core::Error),
    #[error("no bridge answers on {addr}: start it with `pertouch bridge` (or pass the --port it runs on)")]
    NotRunning { addr: SocketAddr },
    #[error("the bridge refused: {0}")]
    Refused(String),
    #[error("WebSocket: {0}")]
    WebSocket(String),
}

impl BridgeError {
    pub(crate) fn io(path: &Path, source: std::io::Error) -> Self {
        BridgeError::Io {
            path: path.to_path_buf(),
            source,
        }
    }
}
