//! `pertouch bridge`: the local server the PerTouch Photoshop panel talks to, and
//! `pertouch bridge pair`, which prints a one-time code to pair the panel with it.

use anyhow::{Context, Result};
use clap::{Args, Subcommand, ValueEnum};
use pertouch_bridge::protocol::DEFAULT_PORT;
use pertouch_bridge::{BridgeConfig, TlsFiles};
use pertouch_core::host::{EngineConfig, RendererKind};
use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;

#[derive(Args, Debug)]
#[command(after_help = "\
The panel connects to ws://127.0.0.1:47863 (its manifest allows only that port).
First time: start the bridge, then run `pertouch bridge pair` in another terminal
and type the code it prints into the panel.

Examples:
  pertouch bridge
  pertouch bridge pair
  pertouch bridge --listen 192.168.1.10:47863 --tls-cert cert.pem --tls-key key.pem")]
pub struct BridgeArgs {
    #[command(subcommand)]
    pub command: Option<BridgeCommand>,
    /// Port on 127.0.0.1 and [::1]. The panel's manifest allows only the default.
    #[arg(long, default_value_t = DEFAULT_PORT, global = true)]
    pub port: u16,
    /// Listen on ADDR:PORT instead of loopback (repeatable). Addresses beyond this
    /// computer need --tls-cert and --tls-key.
    #[arg(long, value_name = "ADDR:PORT")]
    pub listen: Vec<SocketAddr>,
    /// PEM certificate chain for TLS (wss://).
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// PEM private key for TLS.
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// The token file (default: bridge-token.json in pertouch's config folder).
    #[arg(long, value_name = "FILE", global = true)]
    pub token_file: Option<PathBuf>,
    /// Also accept WebSocket connections from this web origin (http://host:port).
    #[arg(long, value_name = "ORIGIN")]
    pub allow_origin: Vec<String>,
    /// Memory jobs may hold at once, in MiB (more jobs wait in the queue).
    #[arg(long, default_value_t = 2048, value_name = "MIB")]
    pub memory_mib: usize,
    /// Largest document an apply job takes, in megapixels.
    #[arg(long, default_value_t = 200.0, value_name = "MP")]
    pub max_megapixels: f64,
    /// Renderer for previews and applies.
    #[arg(long, value_enum, default_value_t = Renderer::Parametric)]
    pub renderer: Renderer,
    /// Also print a pairing code when the bridge starts.
    #[arg(long)]
    pub pair: bool,
    /// Whose memory (profile "photoshop") applied edits go to (default: login name).
    #[arg(long)]
    pub user: Option<String>,
}

#[derive(Subcommand, Debug)]
pub enum BridgeCommand {
    /// Print a one-time code (valid 5 minutes) to pair the panel with the running bridge.
    Pair,
}

#[derive(ValueEnum, Debug, Clone, Copy)]
pub enum Renderer {
    Parametric,
    Diffusion,
}

fn token_path(a: &BridgeArgs) -> Result<PathBuf> {
    match &a.token_file {
        Some(p) => Ok(p.clone()),
        None => pertouch_bridge::auth::default_token_path()
            .context("no config folder on this platform: pass --token-file"),
    }
}

pub fn run(a: BridgeArgs) -> Result<()> {
    let token_path = token_path(&a)?;
    if let Some(BridgeCommand::Pair) = a.command {
        let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, a.port));
        let code = pertouch_bridge::run::pair(addr, &token_path)?;
        println!(
            "Pairing code: {}\nType it into the PerTouch panel in Photoshop within {} minutes. It works once.",
            code.code,
            code.expires_in.as_secs().div_ceil(60)
        );
        return Ok(());
    }
    let mut config = BridgeConfig::new(token_path);
    if a.listen.is_empty() {
        config.listen = pertouch_bridge::config::default_listen(a.port);
    } else {
        config.listen = a.listen.clone();
    }
    config.tls = match (&a.tls_cert, &a.tls_key) {
        (Some(cert), Some(key)) => Some(TlsFiles {
            cert: cert.clone(),
            key: key.clone(),
        }),
        _ => None,
    };
    config.allow_origins = a.allow_origin.clone();
    config.memory_budget = a.memory_mib.saturating_mul(1 << 20);
    config.max_pixels = (a.max_megapixels * 1e6) as u64;
    config.engine = EngineConfig {
        renderer: match a.renderer {
            Renderer::Parametric => RendererKind::Parametric,
            Renderer::Diffusion => RendererKind::Diffusion,
        },
        ..EngineConfig::default()
    };
    if let Some(u) = &a.user {
        config.user = u.clone();
    }
    let token_file = config.token_path.clone();
    let pair_at_start = a.pair;
    pertouch_bridge::run::serve(config, |bridge| {
        let scheme = if a.tls_cert.is_some() { "wss" } else { "ws" };
        let addrs: Vec<String> = bridge
            .local_addrs()
            .iter()
            .map(|s| format!("{scheme}://{s}"))
            .collect();
        println!(
            "PerTouch bridge {} ({} renderer) listening on {}",
            env!("CARGO_PKG_VERSION"),
            bridge.renderer(),
            addrs.join(", ")
        );
        println!("Token file: {}", token_file.display());
        if pair_at_start {
            match bridge.issue_pairing_code() {
                Ok(code) => println!(
                    "Pairing code: {code} (type it into the PerTouch panel within {} minutes)",
                    bridge.pairing_ttl().as_secs().div_ceil(60)
                ),
                Err(e) => eprintln!("error: no pairing code: {e}"),
            }
        } else {
            println!("To pair the panel, run `pertouch bridge pair` in another terminal.");
        }
        println!("Stop with Ctrl-C.");
    })?;
    Ok(())
}
