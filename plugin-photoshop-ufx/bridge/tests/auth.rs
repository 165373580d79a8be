//! Who gets in: real WebSocket clients against a real bridge on 127.0.0.1:0.
//! Missing, wrong and late hellos; pairing codes (single use, lockout); protocol
//! versions; web origins; the token never in the logs; loopback by default; TLS.

mod common;

use common::{start, Client, Got};
use futures_util::{SinkExt, StreamExt};
use pertouch_bridge::auth::PairingPolicy;
use pertouch_bridge::protocol::messages::ServerMessage;
use pertouch_bridge::protocol::{close, PROTO};
use pertouch_bridge::{Bridge, BridgeConfig};
use serde_json::json;
use std::sync::{Arc, Mutex, OnceLock};
use std::time::Duration;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

/// Everything the bridge logs in this test binary, at every level.
fn captured_logs() -> Arc<Mutex<Vec<u8>>> {
    static LOGS: OnceLock<Arc<Mutex<Vec<u8>>>> = OnceLock::new();
    LOGS.get_or_init(|| {
        let buf = Arc::new(Mutex::new(Vec::new()));
        let sink = buf.clone();
        tracing_subscriber::fmt()
            .with_max_level(tracing::Level::TRACE)
            .with_ansi(false)
            .with_writer(move || Writer(sink.clone()))
            .init();
        buf
    })
    .clone()
}

struct Writer(Arc<Mutex<Vec<u8>>>);
impl std::io::Write for Writer {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_job_before_hello_is_refused() {
    let b = start(|_| {}).await;
    let mut c = Client::connect(b.addr).await;
    c.json(json!({"type": "job.start", "job": 1, "op": "apply", "width": 2, "height": 2, "components": 3, "depth": 8}))
        .await;
    assert_eq!(
        c.closed().await,
        (close::UNAUTHENTICATED, Some("auth_required".into()))
    );
    // A binary first message too.
    let mut c = Client::connect(b.addr).await;
    c.binary(vec![0; 40]).await;
    assert_eq!(
        c.closed().await,
        (close::UNAUTHENTICATED, Some("auth_required".into()))
    );
    assert_eq!(b.bridge.stats().authenticated, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_token_is_refused() {
    let b = start(|_| {}).await;
    let mut c = Client::connect(b.addr).await;
    let mut wrong = b.token.clone().into_bytes();
    wrong[10] ^= 1;
    c.json(json!({"type": "hello", "proto": PROTO, "token": String::from_utf8(wrong).unwrap()}))
        .await;
    assert_eq!(
        c.closed().await,
        (close::FORBIDDEN, Some("bad_token".into()))
    );
    let mut c = Client::connect(b.addr).await;
    c.json(json!({"type": "hello", "proto": PROTO, "token": ""}))
        .await;
    assert_eq!(
        c.closed().await,
        (close::FORBIDDEN, Some("bad_token".into()))
    );
    // The right one works.
    let (_c, _) = Client::hello(b.addr, &b.token).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_late_hello_finds_the_connection_closed() {
    let b = start(|c| c.auth_timeout = Duration::from_millis(300)).await;
    let mut c = Client::connect(b.addr).await;
    tokio::time::sleep(Duration::from_millis(900)).await;
    // The bridge has closed already; whatever we send, we read its close.
    let _ =
        c.ws.send(Message::text(
            json!({"type": "hello", "proto": PROTO, "token": b.token}).to_string(),
        ))
        .await;
    let mut saw_welcome = false;
    let code = loop {
        match c.next().await {
            Got::Msg(ServerMessage::Welcome { .. }) => saw_welcome = true,
            Got::Closed(code, _) => break code,
            _ => {}
        }
    };
    assert!(!saw_welcome);
    assert_eq!(code, close::UNAUTHENTICATED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_protocol_version_is_told_what_to_update() {
    let b = start(|_| {}).await;
    for proto in [PROTO + 1, 0] {
        let mut c = Client::connect(b.addr).await;
        c.json(json!({"type": "hello", "proto": proto, "token": b.token}))
            .await;
        let mut message = String::new();
        let code = loop {
            match c.next().await {
                Got::Msg(ServerMessage::Error { code, message: m }) => {
                    assert_eq!(code, "proto");
                    message = m;
                }
                Got::Closed(code, _) => break code,
                other => panic!("{other:?}"),
            }
        };
        assert_eq!(code, close::PROTO_MISMATCH);
        let want = if proto > PROTO {
            "update pertouch"
        } else {
            "update the PerTouch panel"
        };
        assert!(message.contains(want), "{message}");
    }
}

/// Asks the bridge for a code the way `pertouch bridge pair` does.
async fn pairing_code(b: &common::TestBridge) -> String {
    pertouch_bridge::client::request_pairing_code(b.addr, &b.token_path)
        .await
        .unwrap()
        .code
}

async fn pair(addr: std::net::SocketAddr, code: &str) -> Result<String, (u16, Option<String>)> {
    let mut c = Client::connect(addr).await;
    c.json(json!({"type": "pair", "proto": PROTO, "code": code, "client": "test"}))
        .await;
    match c.next().await {
        Got::Msg(ServerMessage::Paired { token }) => {
            assert!(matches!(c.msg().await, ServerMessage::Welcome { .. }));
            Ok(token)
        }
        Got::Msg(ServerMessage::Error { code, .. }) => match c.next().await {
            Got::Closed(close, _) => Err((close, Some(code))),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pairing_code_gives_the_token_once() {
    let logs = captured_logs();
    let b = start(|_| {}).await;
    let code = pairing_code(&b).await;
    assert_eq!(code.len(), 9);
    let token = pair(b.addr, &code.to_lowercase()).await.unwrap();
    assert_eq!(token, b.token);
    // Replayed: refused.
    assert_eq!(
        pair(b.addr, &code).await.unwrap_err(),
        (close::FORBIDDEN, Some("bad_code".into()))
    );
    // The token from pairing works for hello.
    let (_c, _) = Client::hello(b.addr, &token).await;
    // Neither the token nor the code reached the logs (everything at TRACE).
    let text = String::from_utf8_lossy(&logs.lock().unwrap()).into_owned();
    assert!(text.contains("paired a client"), "the capture works");
    assert!(!text.contains(&b.token), "the token is in the logs");
    assert!(!text.contains(&code), "the pairing code is in the logs");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_codes_lock_pairing_and_burn_the_code() {
    let b = start(|c| {
        c.pairing = PairingPolicy {
            lockout: Duration::from_millis(600),
            ..PairingPolicy::default()
        }
    })
    .await;
    let code = pairing_code(&b).await;
    for _ in 0..5 {
        assert_eq!(
            pair(b.addr, "0000-0000").await.unwrap_err(),
            (close::FORBIDDEN, Some("bad_code".into()))
        );
    }
    // Locked, even for the right code.
    assert_eq!(
        pair(b.addr, &code).await.unwrap_err(),
        (close::LOCKED, Some("locked".into()))
    );
    tokio::time::sleep(Duration::from_millis(700)).await;
    // The lock is over but the code was burned.
    assert_eq!(
        pair(b.addr, &code).await.unwrap_err(),
        (close::FORBIDDEN, Some("bad_code".into()))
    );
    let fresh = pairing_code(&b).await;
    assert_eq!(pair(b.addr, &fresh).await.unwrap(), b.token);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pair_issue_needs_authentication_and_hello_only_once() {
    let b = start(|_| {}).await;
    let mut c = Client::connect(b.addr).await;
    c.json(json!({"type": "pair.issue"})).await;
    assert_eq!(
        c.closed().await,
        (close::UNAUTHENTICATED, Some("auth_required".into()))
    );
    let (mut c, _) = Client::hello(b.addr, &b.token).await;
    c.json(json!({"type": "hello", "proto": PROTO, "token": b.token}))
        .await;
    assert_eq!(c.closed().await, (close::PROTOCOL, Some("protocol".into())));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn web_pages_need_to_be_allowed() {
    let b = start(|c| c.allow_origins = vec!["http://127.0.0.1:8123".into()]).await;
    let connect = |origin: &'static str| {
        let mut req = format!("ws://{}/", b.addr).into_client_request().unwrap();
        req.headers_mut().insert("Origin", origin.parse().unwrap());
        tokio_tungstenite::connect_async(req)
    };
    let (ws, _) = connect("https://evil.example").await.unwrap();
    let mut c = Client { ws };
    assert_eq!(c.closed().await, (close::FORBIDDEN, Some("origin".into())));
    let (ws, _) = connect("http://127.0.0.1:8123").await.unwrap();
    let mut c = Client { ws };
    c.json(json!({"type": "hello", "proto": PROTO, "token": b.token}))
        .await;
    assert!(matches!(c.msg().await, ServerMessage::Welcome { .. }));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn listens_on_loopback_only_by_default() {
    let dir = tempfile::tempdir().unwrap();
    let config = BridgeConfig::new(dir.path().join("t.json"));
    assert!(!config.listen.is_empty());
    assert!(config.listen.iter().all(|a| a.ip().is_loopback()));
    assert_eq!(
        config.listen[0].port(),
        pertouch_bridge::protocol::DEFAULT_PORT
    );
    assert!(config.tls.is_none());
    // The defaults on port 0 (the real port may be taken by a running bridge).
    let mut c = config.clone();
    for a in &mut c.listen {
        a.set_port(0);
    }
    let bridge = Bridge::start(c).await.unwrap();
    assert!(!bridge.local_addrs().is_empty());
    for a in bridge.local_addrs() {
        assert!(a.ip().is_loopback(), "{a}");
    }
    bridge.shutdown().await;
    // A LAN address without TLS is refused, naming what to do.
    let mut lan = config.clone();
    lan.listen = vec!["0.0.0.0:0".parse().unwrap()];
    let e = Bridge::start(lan).await.err().unwrap().to_string();
    assert!(e.contains("--tls-cert"), "{e}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tls_listener_serves_wss() {
    use tokio_rustls::rustls;
    let dir = tempfile::tempdir().unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".into()]).unwrap();
    let (cert_path, key_path) = (dir.path().join("cert.pem"), dir.path().join("key.pem"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.signing_key.serialize_pem()).unwrap();
    let b = start(|c| {
        c.tls = Some(pertouch_bridge::TlsFiles {
            cert: cert_path.clone(),
            key: key_path.clone(),
        })
    })
    .await;
    // Plain WebSocket to the TLS port fails.
    assert!(
        tokio_tungstenite::connect_async(format!("ws://{}/", b.addr))
            .await
            .is_err()
    );
    // wss with the certificate trusted works end to end.
    let mut roots = rustls::RootCertStore::empty();
    roots.add(cert.cert.der().clone()).unwrap();
    let config = rustls::ClientConfig::builder_with_provider(Arc::new(
        rustls::crypto::ring::default_provider(),
    ))
    .with_safe_default_protocol_versions()
    .unwrap()
    .with_root_certificates(roots)
    .with_no_client_auth();
    let tcp = tokio::net::TcpStream::connect(b.addr).await.unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config))
        .connect("localhost".try_into().unwrap(), tcp)
        .await
        .unwrap();
    let (mut ws, _) =
        tokio_tungstenite::client_async(format!("wss://localhost:{}/", b.addr.port()), tls)
            .await
            .unwrap();
    ws.send(Message::text(
        json!({"type": "hello", "proto": PROTO, "token": b.token}).to_string(),
    ))
    .await
    .unwrap();
    let Some(Ok(Message::Text(t))) = ws.next().await else {
        panic!("no welcome")
    };
    assert!(t.contains("\"welcome\""), "{t}");
}
