//! How a bridge is set up: where it listens, where its token lives, what it
//! renders with, and how much memory and how many pixels jobs may use.

use crate::auth::PairingPolicy;
use crate::error::BridgeError;
use crate::protocol::DEFAULT_PORT;
use pertouch_core::host::EngineConfig;
use std::net::{Ipv4Addr, Ipv6Addr, SocketAddr};
use std::path::PathBuf;
use std::time::Duration;

/// A certificate chain and its private key, PEM files.
#[derive(Debug, Clone)]
pub struct TlsFiles {
    pub cert: PathBuf,
    pub key: PathBuf,
}

/// A bridge's settings.
#[derive(Debug, Clone)]
pub struct BridgeConfig {
    /// Addresses to listen on; default 127.0.0.1 and [::1] on [`DEFAULT_PORT`].
    pub listen: Vec<SocketAddr>,
    /// TLS for every listener (required when one is not a loopback address).
    pub tls: Option<TlsFiles>,
    /// The token file.
    pub token_path: PathBuf,
    /// Web origins (`http://...`, `https://...`) allowed to connect; connections
    /// without an Origin (native clients, the UXP panel) are always allowed to try.
    pub allow_origins: Vec<String>,
    pub engine: EngineConfig,
    /// Memory the queue lets jobs hold at once (sources, selections, results).
    pub memory_budget: usize,
    /// Most pixels of one apply job.
    pub max_pixels: u64,
    /// Most pixels of a preview or agent job.
    pub max_preview_pixels: u64,
    /// Time a client has for its first message.
    pub auth_timeout: Duration,
    pub pairing: PairingPolicy,
    /// Memory store folder (`None`: the core's default data folder).
    pub memory_root: Option<PathBuf>,
    /// Whose memory ("photoshop" profile) edits go to.
    pub user: String,
}

impl BridgeConfig {
    /// The defaults, with the token at `token_path`.
    pub fn new(token_path: PathBuf) -> Self {
        BridgeConfig {
            listen: default_listen(DEFAULT_PORT),
            tls: None,
            token_path,
            allow_origins: Vec::new(),
            engine: EngineConfig::default(),
            memory_budget: 2 << 30,
            max_pixels: 200_000_000,
            max_preview_pixels: 4_000_000,
            auth_timeout: Duration::from_secs(2),
            pairing: PairingPolicy::default(),
            memory_root: None,
            user: std::env::var("USER")
                .or_else(|_| std::env::var("USERNAME"))
                .unwrap_or_else(|_| "default".into()),
        }
    }

    /// Refuses a non-loopback listener without TLS: LAN use is opt-in, and never
    /// in clear text.
    pub fn check(&self) -> Result<(), BridgeError> {
        if self.listen.is_empty() {
            return Err(BridgeError::Config("no address to listen on".into()));
        }
        if self.tls.is_none() {
            if let Some(a) = self.listen.iter().find(|a| !a.ip().is_loopback()) {
                return Err(BridgeError::Config(format!(
                    "{a} is not a loopback address: listening beyond this computer needs TLS (--tls-cert FILE --tls-key FILE, a certificate Photoshop trusts), or keep the bridge on 127.0.0.1 and reach it through an SSH tunnel"
                )));
            }
        }
        if self.memory_budget < 64 << 20 {
            return Err(BridgeError::Config(format!(
                "a memory budget of {} MiB is too small (at least 64)",
                self.memory_budget >> 20
            )));
        }
        Ok(())
    }
}

/// 127.0.0.1 and [::1] on `port`.
pub fn default_listen(port: u16) -> Vec<SocketAddr> {
    vec![
        SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        SocketAddr::from((Ipv6Addr::LOCALHOST, port)),
    ]
}
