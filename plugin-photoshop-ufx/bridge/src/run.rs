//! Running a bridge from a program's `main` (the `pertouch bridge` command):
//! a runtime of its own, served until Ctrl-C or SIGTERM.

use crate::client::{request_pairing_code, PairingCode};
use crate::config::BridgeConfig;
use crate::error::BridgeError;
use crate::server::Bridge;
use std::net::SocketAddr;
use std::path::Path;

fn runtime() -> Result<tokio::runtime::Runtime, BridgeError> {
    tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .map_err(|e| BridgeError::Config(format!("cannot start the async runtime: {e}")))
}

/// Starts a bridge with `config`, calls `ready` with it, and serves until the
/// process is interrupted (Ctrl-C, or SIGTERM on Unix).
pub fn serve(config: BridgeConfig, ready: impl FnOnce(&Bridge)) -> Result<(), BridgeError> {
    runtime()?.block_on(async {
        let bridge = Bridge::start(config).await?;
        ready(&bridge);
        bridge.run_until(interrupted()).await;
        Ok(())
    })
}

/// Asks the bridge at `addr` for a pairing code (see [`request_pairing_code`]).
pub fn pair(addr: SocketAddr, token_path: &Path) -> Result<PairingCode, BridgeError> {
    runtime()?.block_on(request_pairing_code(addr, token_path))
}

async fn interrupted() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{signal, SignalKind};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}
