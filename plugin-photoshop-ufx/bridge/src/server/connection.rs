//! One connection up to its first job: the WebSocket handshake (message size
//! limits, web origins), then authentication by the first message: `hello` with
//! the token, or `pair` with a one-time code. Anything else, or nothing within
//! the time allowed, closes the connection with a code that says why.

use super::session;
use super::Shared;
use crate::protocol::messages::{Limits, ServerMessage};
use crate::protocol::{close, ClientMessage, HEADER_LEN, MAX_BAND_BYTES, MAX_MESSAGE, PROTO};
use futures_util::{SinkExt, StreamExt};
use parking_lot::Mutex;
use std::net::SocketAddr;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::handshake::server::{ErrorResponse, Request, Response};
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

/// Messages waiting for the socket; a full queue makes the connection's own
/// loop wait (and so stop reading): backpressure both ways.
const OUTGOING: usize = 16;

/// The outgoing side of a connection.
#[derive(Clone)]
pub(crate) struct Outgoing(mpsc::Sender<Message>);

impl Outgoing {
    /// Sends a control message (false once the connection is gone).
    pub async fn send(&self, m: ServerMessage) -> bool {
        self.0.send(Message::text(m.to_text())).await.is_ok()
    }

    /// Sends a binary message.
    pub async fn binary(&self, b: bytes::Bytes) -> bool {
        self.0.send(Message::Binary(b)).await.is_ok()
    }

    /// Sends `error {code, message}` and closes with `close_code`.
    pub async fn refuse(&self, close_code: u16, code: &str, message: &str) {
        self.send(ServerMessage::Error {
            code: code.into(),
            message: message.into(),
        })
        .await;
        self.close(close_code, message).await;
    }

    /// Closes with `code` and as much of `reason` as a close frame holds.
    pub async fn close(&self, code: u16, reason: &str) {
        let mut end = reason.len().min(120);
        while !reason.is_char_boundary(end) {
            end -= 1;
        }
        let frame = CloseFrame {
            code: CloseCode::from(code),
            reason: reason[..end].to_string().into(),
        };
        let _ = self.0.send(Message::Close(Some(frame))).await;
    }
}

/// The limits a welcome announces.
fn limits(shared: &Shared) -> Limits {
    Limits {
        max_message: MAX_MESSAGE,
        max_band_bytes: MAX_BAND_BYTES,
        max_pixels: shared.config.max_pixels,
        max_preview_pixels: shared.config.max_preview_pixels,
    }
}

fn welcome(shared: &Shared) -> ServerMessage {
    ServerMessage::Welcome {
        proto: PROTO,
        bridge: env!("CARGO_PKG_VERSION").into(),
        renderer: shared.engine.renderer_name().into(),
        limits: limits(shared),
        regions: pertouch_core::segment::ALL_REGIONS
            .iter()
            .map(|r| r.name().to_string())
            .collect(),
    }
}

/// Web pages may open sockets to 127.0.0.1 too: an `http(s)://` origin must be
/// listed with `--allow-origin`. Native clients send none; what UXP sends is
/// allowed unless it is a web origin (see the README's manual checks).
fn origin_refused(origin: Option<&str>, allowed: &[String]) -> bool {
    match origin {
        None => false,
        Some(o) => {
            let web = o.starts_with("http://") || o.starts_with("https://");
            web && !allowed.iter().any(|a| a.eq_ignore_ascii_case(o))
        }
    }
}

/// Serves one accepted connection to its end.
pub(crate) async fn serve<S>(stream: S, peer: SocketAddr, shared: Arc<Shared>)
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let origin: Arc<Mutex<Option<String>>> = Arc::default();
    let seen = origin.clone();
    // The callback's type is tungstenite's (its error is an HTTP response).
    #[allow(clippy::result_large_err)]
    let callback = move |req: &Request, resp: Response| -> Result<Response, ErrorResponse> {
        *seen.lock() = req
            .headers()
            .get("origin")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Ok(resp)
    };
    // A band message is a header and at most MAX_BAND_BYTES; larger messages are
    // refused by the WebSocket layer before they are buffered whole.
    let ws_config = WebSocketConfig::default()
        .max_message_size(Some(MAX_MESSAGE + HEADER_LEN))
        .max_frame_size(Some(MAX_MESSAGE + HEADER_LEN));
    let handshake =
        tokio_tungstenite::accept_hdr_async_with_config(stream, callback, Some(ws_config));
    let ws = match tokio::time::timeout(shared.config.auth_timeout * 2, handshake).await {
        Ok(Ok(ws)) => ws,
        Ok(Err(e)) => {
            tracing::debug!(%peer, "WebSocket handshake failed: {e}");
            return;
        }
        Err(_) => {
            tracing::debug!(%peer, "WebSocket handshake timed out");
            return;
        }
    };
    let origin = origin.lock().clone();
    let (sink, incoming) = ws.split();
    let (tx, rx) = mpsc::channel(OUTGOING);
    let writer = tokio::spawn(write_loop(sink, rx));
    let out = Outgoing(tx);
    if origin_refused(origin.as_deref(), &shared.config.allow_origins) {
        shared.stats.refused.fetch_add(1, Relaxed);
        let o = origin.unwrap_or_default();
        tracing::warn!(%peer, origin = %o, "refused a web page's connection (not in --allow-origin)");
        out.refuse(
            close::FORBIDDEN,
            "origin",
            &format!("the bridge does not accept connections from web pages ({o}); if this is the PerTouch panel, start the bridge with --allow-origin {o}"),
        )
        .await;
    } else {
        serve_ws(incoming, &out, peer, origin, shared).await;
    }
    drop(out);
    let _ = writer.await;
}

async fn serve_ws<S>(
    mut incoming: futures_util::stream::SplitStream<WebSocketStream<S>>,
    out: &Outgoing,
    peer: SocketAddr,
    origin: Option<String>,
    shared: Arc<Shared>,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let Some(client) = authenticate(&mut incoming, out, peer, &shared).await else {
        return;
    };
    shared.stats.authenticated.fetch_add(1, Relaxed);
    tracing::info!(%peer, client = %client, origin = origin.as_deref().unwrap_or("-"), "client authenticated");
    session::run(incoming, out.clone(), shared, peer).await;
    tracing::info!(%peer, client = %client, "client left");
}

/// Checks the first message; `Some(client name)` once the client may go on.
async fn authenticate<S>(
    incoming: &mut futures_util::stream::SplitStream<WebSocketStream<S>>,
    out: &Outgoing,
    peer: SocketAddr,
    shared: &Shared,
) -> Option<String>
where
    S: AsyncRead + AsyncWrite + Unpin,
{
    let wait = shared.config.auth_timeout;
    let refused = |what: &str| {
        shared.stats.refused.fetch_add(1, Relaxed);
        tracing::warn!(%peer, "refused: {what}");
    };
    let text = match tokio::time::timeout(wait, incoming.next()).await {
        Err(_) => {
            refused("no hello in time");
            out.refuse(
                close::UNAUTHENTICATED,
                "auth_timeout",
                &format!("no hello within {} ms: the first message must be hello (with the token) or pair (with a code)", wait.as_millis()),
            )
            .await;
            return None;
        }
        Ok(None) | Ok(Some(Err(_))) => return None,
        Ok(Some(Ok(Message::Text(t)))) => t,
        Ok(Some(Ok(_))) => {
            refused("first message is not text");
            out.refuse(
                close::UNAUTHENTICATED,
                "auth_required",
                "authenticate first: the first message must be hello (with the token) or pair (with a code)",
            )
            .await;
            return None;
        }
    };
    let msg = match ClientMessage::parse(&text) {
        Ok(m) => m,
        Err(e) => {
            refused("first message unreadable");
            out.refuse(
                close::UNAUTHENTICATED,
                "auth_required",
                &format!("authenticate first ({e})"),
            )
            .await;
            return None;
        }
    };
    let proto_ok = |proto: u32| proto == PROTO;
    let mismatch = |proto: u32| {
        format!(
            "the panel speaks protocol {proto}, this bridge {PROTO}: update {}",
            if proto > PROTO {
                "pertouch (the bridge) to the panel's version"
            } else {
                "the PerTouch panel to the bridge's version"
            }
        )
    };
    match msg {
        ClientMessage::Hello {
            proto,
            token,
            client,
            host,
        } => {
            if !proto_ok(proto) {
                refused("protocol version");
                out.refuse(close::PROTO_MISMATCH, "proto", &mismatch(proto))
                    .await;
                return None;
            }
            if !shared.token.matches(&token) {
                refused("wrong token");
                out.refuse(
                    close::FORBIDDEN,
                    "bad_token",
                    "this panel's token is not the bridge's (was the token file replaced?): pair again with the code from `pertouch bridge pair`",
                )
                .await;
                return None;
            }
            out.send(welcome(shared)).await;
            Some(if host.app.is_empty() {
                client
            } else {
                format!("{client} in {} {}", host.app, host.version)
            })
        }
        ClientMessage::Pair {
            proto,
            code,
            client,
        } => {
            if !proto_ok(proto) {
                refused("protocol version");
                out.refuse(close::PROTO_MISMATCH, "proto", &mismatch(proto))
                    .await;
                return None;
            }
            match shared.pairing.attempt(&code) {
                crate::auth::PairOutcome::Paired => {
                    tracing::info!(%peer, client = %client, "paired a client");
                    out.send(ServerMessage::Paired {
                        token: shared.token.expose().to_string(),
                    })
                    .await;
                    out.send(welcome(shared)).await;
                    Some(client)
                }
                crate::auth::PairOutcome::BadCode => {
                    refused("wrong pairing code");
                    out.refuse(
                        close::FORBIDDEN,
                        "bad_code",
                        "wrong, expired or used pairing code: run `pertouch bridge pair` for a new one",
                    )
                    .await;
                    None
                }
                crate::auth::PairOutcome::Locked(left) => {
                    refused("pairing locked");
                    out.refuse(
                        close::LOCKED,
                        "locked",
                        &format!(
                            "too many wrong pairing codes: pairing is locked for {} s; then run `pertouch bridge pair` for a new code",
                            left.as_secs() + 1
                        ),
                    )
                    .await;
                    None
                }
            }
        }
        other => {
            refused("not authenticated");
            out.refuse(
                close::UNAUTHENTICATED,
                "auth_required",
                &format!("authenticate first (got {} before hello)", other.kind()),
            )
            .await;
            None
        }
    }
}

async fn write_loop<S>(
    mut sink: futures_util::stream::SplitSink<WebSocketStream<S>, Message>,
    mut rx: mpsc::Receiver<Message>,
) where
    S: AsyncRead + AsyncWrite + Unpin,
{
    while let Some(m) = rx.recv().await {
        let closing = matches!(m, Message::Close(_));
        if sink.send(m).await.is_err() || closing {
            break;
        }
    }
    let _ = sink.close().await;
}

#[cfg(test)]
mod tests {
    use super::origin_refused;

    #[test]
    fn only_unlisted_web_origins_are_refused() {
        let allowed = vec!["http://127.0.0.1:8123".to_string()];
        assert!(!origin_refused(None, &allowed));
        assert!(!origin_refused(Some("null"), &allowed));
        assert!(!origin_refused(Some("http://127.0.0.1:8123"), &allowed));
        assert!(origin_refused(Some("https://evil.example"), &allowed));
        assert!(origin_refused(Some("http://127.0.0.1:9999"), &allowed));
    }
}
