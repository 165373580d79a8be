//! The bridge's own client: `pertouch bridge pair` reads the token file,
//! authenticates like a panel and asks the running bridge for a pairing code.

use crate::auth::Token;
use crate::error::BridgeError;
use crate::protocol::messages::ServerMessage;
use crate::protocol::{ClientMessage, PROTO};
use futures_util::{SinkExt, StreamExt};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

/// A pairing code and how long it lives.
#[derive(Debug, Clone)]
pub struct PairingCode {
    pub code: String,
    pub expires_in: Duration,
}

/// Asks the bridge at `addr` (plain WebSocket: the CLI runs beside the bridge)
/// for a one-time pairing code, authenticating with the token at `token_path`.
pub async fn request_pairing_code(
    addr: SocketAddr,
    token_path: &Path,
) -> Result<PairingCode, BridgeError> {
    let token = Token::load(token_path).map_err(|e| match e {
        BridgeError::Io { .. } => BridgeError::Config(format!(
            "no token file at {}: start the bridge first (`pertouch bridge`), it creates one",
            token_path.display()
        )),
        e => e,
    })?;
    let url = format!("ws://{addr}/");
    let connect = tokio_tungstenite::connect_async(url.as_str());
    let (mut ws, _) = match tokio::time::timeout(Duration::from_secs(5), connect).await {
        Ok(Ok(x)) => x,
        _ => return Err(BridgeError::NotRunning { addr }),
    };
    let send = |m: ClientMessage| Message::text(serde_json::to_string(&m).unwrap_or_default());
    let ws_err = |e: tokio_tungstenite::tungstenite::Error| BridgeError::WebSocket(e.to_string());
    ws.send(send(ClientMessage::Hello {
        proto: PROTO,
        token: token.expose().to_string(),
        client: format!("pertouch-cli {}", env!("CARGO_PKG_VERSION")),
        host: Default::default(),
    }))
    .await
    .map_err(ws_err)?;
    let mut asked = false;
    loop {
        let next = tokio::time::timeout(Duration::from_secs(5), ws.next())
            .await
            .map_err(|_| BridgeError::WebSocket("the bridge did not answer".into()))?;
        let text = match next {
            Some(Ok(Message::Text(t))) => t,
            Some(Ok(Message::Close(f))) => {
                return Err(BridgeError::Refused(
                    f.map(|f| f.reason.to_string()).unwrap_or_default(),
                ))
            }
            Some(Ok(_)) => continue,
            Some(Err(e)) => return Err(ws_err(e)),
            None => {
                return Err(BridgeError::WebSocket(
                    "the bridge closed the connection".into(),
                ))
            }
        };
        let msg: ServerMessage = serde_json::from_str(&text)
            .map_err(|e| BridgeError::WebSocket(format!("unexpected answer: {e}")))?;
        match msg {
            ServerMessage::Welcome { .. } if !asked => {
                asked = true;
                ws.send(send(ClientMessage::PairIssue))
                    .await
                    .map_err(ws_err)?;
            }
            ServerMessage::PairCode { code, expires_in } => {
                let _ = ws.close(None).await;
                return Ok(PairingCode {
                    code,
                    expires_in: Duration::from_secs(expires_in),
                });
            }
            ServerMessage::Error { message, .. } => return Err(BridgeError::Refused(message)),
            _ => {}
        }
    }
}
