//! The wire protocol between the panel and the bridge (version [`PROTO`]): JSON
//! control messages in text frames ([`messages`]) and pixels as raw binary bands
//! ([`header`]). `plugin-photoshop-ufx/PROTOCOL.md` describes a whole session;
//! `plugin-photoshop-ufx/fixtures/protocol.json` holds vectors that the Rust and
//! TypeScript codecs are both tested against.

#[doc(hidden)]
pub mod fuzzing;
pub mod header;
pub mod messages;

pub use header::{BandHeader, BandKind, HeaderError, HEADER_LEN};
pub use messages::{ClientMessage, JobStart, Limits, MessageError, Op, ServerMessage};

/// The protocol version a `hello` or `pair` must name.
pub const PROTO: u32 = 1;

/// The bridge's port. The panel's manifest lists exactly this port (UXP allows
/// only the network domains a manifest names), so changing it means changing the
/// manifest too.
pub const DEFAULT_PORT: u16 = 47863;

/// Largest WebSocket message or frame the bridge reads (tungstenite's defaults,
/// 64/16 MiB, are more than a band needs).
pub const MAX_MESSAGE: usize = 8 << 20;

/// Largest band payload: the panel cuts frames into bands of at most this many
/// bytes (a 6000-pixel-wide 16-bit RGB row is 36 000 bytes: 116 rows a band).
pub const MAX_BAND_BYTES: usize = 4 << 20;

/// WebSocket close codes the bridge uses (the 4000-4999 range is the
/// application's).
pub mod close {
    /// A message broke the protocol (binary before a job, malformed JSON...).
    pub const PROTOCOL: u16 = 4400;
    /// The first message was not `hello`/`pair`, or did not come in time.
    pub const UNAUTHENTICATED: u16 = 4401;
    /// A wrong token or pairing code, or a web page's origin.
    pub const FORBIDDEN: u16 = 4403;
    /// The client speaks another protocol version.
    pub const PROTO_MISMATCH: u16 = 4426;
    /// Too many wrong pairing codes: pairing is locked for a while.
    pub const LOCKED: u16 = 4429;
    /// The bridge is shutting down.
    pub const GOING_AWAY: u16 = 1001;
}
