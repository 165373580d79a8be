//! The server: listeners (loopback by default; TLS required beyond it), one task
//! per connection, and what every connection shares (engine, token, pairing,
//! queue, counters).

mod connection;
mod session;
mod tls;

use crate::auth::{Pairing, Token};
use crate::config::BridgeConfig;
use crate::error::BridgeError;
use crate::jobs::queue::Queue;
use crate::jobs::render::MemoryTarget;
use pertouch_core::host::Engine;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use tokio::net::TcpListener;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// Counters a running bridge keeps (tests and `--stats` read them).
#[derive(Debug, Default)]
pub struct Stats {
    pub connections: AtomicU64,
    pub authenticated: AtomicU64,
    pub refused: AtomicU64,
    pub jobs_started: AtomicU64,
    pub jobs_done: AtomicU64,
    pub jobs_cancelled: AtomicU64,
    pub jobs_failed: AtomicU64,
    /// Jobs cancelled because their connection dropped.
    pub cancelled_by_disconnect: AtomicU64,
    /// Renders that stopped part way because their job was cancelled.
    pub renders_interrupted: AtomicU64,
}

/// A point-in-time copy of [`Stats`] and the queue's memory.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StatsSnapshot {
    pub connections: u64,
    pub authenticated: u64,
    pub refused: u64,
    pub jobs_started: u64,
    pub jobs_done: u64,
    pub jobs_cancelled: u64,
    pub jobs_failed: u64,
    pub cancelled_by_disconnect: u64,
    pub renders_interrupted: u64,
    /// Bytes admitted jobs hold now, and the most held at once.
    pub memory_reserved: u64,
    pub memory_peak: u64,
    pub jobs_waiting: usize,
}

/// What every connection shares.
pub(crate) struct Shared {
    pub config: BridgeConfig,
    pub engine: Arc<Engine>,
    pub token: Token,
    pub pairing: Pairing,
    pub queue: Queue,
    pub stats: Stats,
    pub memory: MemoryTarget,
    pub shutdown: watch::Receiver<bool>,
}

/// A running bridge.
pub struct Bridge {
    shared: Arc<Shared>,
    addrs: Vec<SocketAddr>,
    tasks: Vec<JoinHandle<()>>,
    stop: watch::Sender<bool>,
}

impl Bridge {
    /// Opens the engine, reads or creates the token, binds every listener and
    /// starts serving on the current tokio runtime.
    pub async fn start(config: BridgeConfig) -> Result<Bridge, BridgeError> {
        config.check()?;
        cap_wire_logs();
        let token = Token::load_or_create(&config.token_path)?;
        let acceptor = config.tls.as_ref().map(tls::acceptor).transpose()?;
        let engine = {
            let ec = config.engine.clone();
            tokio::task::spawn_blocking(move || Engine::open(&ec))
                .await
                .map_err(|e| BridgeError::Config(format!("engine start: {e}")))??
        };
        let mut listeners = Vec::new();
        let mut port = None;
        for (i, want) in config.listen.iter().enumerate() {
            // Port 0 (tests): every address gets the port the first one got.
            let mut addr = *want;
            if addr.port() == 0 {
                if let Some(p) = port {
                    addr.set_port(p);
                }
            }
            match TcpListener::bind(addr).await {
                Ok(l) => {
                    let local = l.local_addr().map_err(|e| BridgeError::Bind {
                        addr,
                        source: e,
                        hint: "",
                    })?;
                    port.get_or_insert(local.port());
                    listeners.push((l, local));
                }
                // [::1] is a courtesy: a machine without IPv6 still gets 127.0.0.1.
                Err(e) if i > 0 && addr.ip().is_loopback() && addr.is_ipv6() => {
                    tracing::warn!("not listening on {addr}: {e}");
                }
                Err(e) => {
                    let hint = if e.kind() == std::io::ErrorKind::AddrInUse {
                        " (is a bridge already running? `pertouch bridge pair` talks to it; or pass --port)"
                    } else {
                        ""
                    };
                    return Err(BridgeError::Bind {
                        addr,
                        source: e,
                        hint,
                    });
                }
            }
        }
        let (stop, shutdown) = watch::channel(false);
        let memory = MemoryTarget {
            root: config.memory_root.clone(),
            user: config.user.clone(),
        };
        let shared = Arc::new(Shared {
            queue: Queue::new(config.memory_budget),
            pairing: Pairing::new(config.pairing),
            config,
            engine: Arc::new(engine),
            token,
            stats: Stats::default(),
            memory,
            shutdown,
        });
        let addrs: Vec<SocketAddr> = listeners.iter().map(|(_, a)| *a).collect();
        let tasks = listeners
            .into_iter()
            .map(|(l, addr)| {
                tracing::info!(
                    "listening on {}://{addr}",
                    if acceptor.is_some() { "wss" } else { "ws" }
                );
                tokio::spawn(accept_loop(l, acceptor.clone(), shared.clone()))
            })
            .collect();
        Ok(Bridge {
            shared,
            addrs,
            tasks,
            stop,
        })
    }

    /// The addresses listened on (with the real port when 0 was asked for).
    pub fn local_addrs(&self) -> &[SocketAddr] {
        &self.addrs
    }

    /// A new one-time pairing code (as `pertouch bridge pair` gets).
    pub fn issue_pairing_code(&self) -> Result<String, BridgeError> {
        self.shared.pairing.issue()
    }

    /// Seconds a pairing code lives.
    pub fn pairing_ttl(&self) -> std::time::Duration {
        self.shared.pairing.code_ttl()
    }

    /// The engine's renderer name.
    pub fn renderer(&self) -> &'static str {
        self.shared.engine.renderer_name()
    }

    /// Counters and memory now.
    pub fn stats(&self) -> StatsSnapshot {
        let s = &self.shared.stats;
        let (reserved, peak) = self.shared.queue.reserved();
        StatsSnapshot {
            connections: s.connections.load(Relaxed),
            authenticated: s.authenticated.load(Relaxed),
            refused: s.refused.load(Relaxed),
            jobs_started: s.jobs_started.load(Relaxed),
            jobs_done: s.jobs_done.load(Relaxed),
            jobs_cancelled: s.jobs_cancelled.load(Relaxed),
            jobs_failed: s.jobs_failed.load(Relaxed),
            cancelled_by_disconnect: s.cancelled_by_disconnect.load(Relaxed),
            renders_interrupted: s.renders_interrupted.load(Relaxed),
            memory_reserved: reserved,
            memory_peak: peak,
            jobs_waiting: self.shared.queue.waiting(),
        }
    }

    /// Stops accepting, closes every connection (their jobs are cancelled) and
    /// waits for the listeners to stop.
    pub async fn shutdown(self) {
        let _ = self.stop.send(true);
        for t in self.tasks {
            let _ = t.await;
        }
    }

    /// Serves until `signal` completes, then shuts down.
    pub async fn run_until(self, signal: impl std::future::Future<Output = ()>) {
        signal.await;
        tracing::info!("shutting down");
        self.shutdown().await;
    }
}

/// tungstenite logs every frame's payload at TRACE through the `log` crate, and
/// `hello` and `paired` carry the token: `log` records stop at DEBUG in a
/// process running a bridge, whatever RUST_LOG asks for.
fn cap_wire_logs() {
    if log::max_level() > log::LevelFilter::Debug {
        log::set_max_level(log::LevelFilter::Debug);
    }
}

async fn accept_loop(
    listener: TcpListener,
    acceptor: Option<tokio_rustls::TlsAcceptor>,
    shared: Arc<Shared>,
) {
    let mut shutdown = shared.shutdown.clone();
    loop {
        let (stream, peer) = tokio::select! {
            r = listener.accept() => match r {
                Ok(x) => x,
                Err(e) => {
                    // Out of file descriptors and the like: wait a little, go on.
                    tracing::warn!("accept: {e}");
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                    continue;
                }
            },
            _ = shutdown.changed() => break,
        };
        let _ = stream.set_nodelay(true);
        shared.stats.connections.fetch_add(1, Relaxed);
        let shared = shared.clone();
        match acceptor.clone() {
            None => {
                tokio::spawn(connection::serve(stream, peer, shared));
            }
            Some(tls) => {
                tokio::spawn(async move {
                    let handshake =
                        tokio::time::timeout(shared.config.auth_timeout * 5, tls.accept(stream));
                    match handshake.await {
                        Ok(Ok(s)) => connection::serve(s, peer, shared).await,
                        Ok(Err(e)) => tracing::info!(%peer, "TLS handshake failed: {e}"),
                        Err(_) => tracing::info!(%peer, "TLS handshake timed out"),
                    }
                });
            }
        }
    }
}
