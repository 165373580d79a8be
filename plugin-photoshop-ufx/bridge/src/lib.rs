//! `pertouch bridge`: the local server the PerTouch Photoshop panel talks to.
//!
//! A WebSocket server on the loopback interface (127.0.0.1 and [::1], port
//! [`protocol::DEFAULT_PORT`]) in front of the core's [`pertouch_core::host::Engine`],
//! as the OpenFX plug-in uses it. A panel authenticates with a token in its first
//! message ([`auth`]), describes a job in JSON and streams the document's pixels
//! as raw binary bands ([`protocol`]); jobs wait in a memory-bounded queue, render
//! on the core's threads with progress and cancellation, and the panel pulls the
//! result back band by band ([`jobs`]). Listening beyond loopback needs TLS.

pub mod auth;
pub mod client;
pub mod config;
mod error;
pub mod jobs;
pub mod protocol;
pub mod run;
pub mod server;

pub use config::{BridgeConfig, TlsFiles};
pub use error::BridgeError;
pub use server::{Bridge, Stats};
