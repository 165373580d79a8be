//! Test support: a real bridge on 127.0.0.1:0, real WebSocket clients
//! (tokio-tungstenite) that speak the protocol, and frames made from the shared
//! sample photos.
#![allow(dead_code)]

use futures_util::{SinkExt, StreamExt};
use pertouch_bridge::protocol::messages::ServerMessage;
use pertouch_bridge::protocol::{BandHeader, BandKind, PROTO};
use pertouch_bridge::{Bridge, BridgeConfig};
use pertouch_core::raster::{Raster, Samples};
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::Duration;
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::{MaybeTlsStream, WebSocketStream};

/// How long a test waits for any one message (renders on 2 cores included).
pub const WAIT: Duration = Duration::from_secs(120);

pub struct TestBridge {
    pub bridge: Bridge,
    pub addr: SocketAddr,
    pub token: String,
    pub token_path: PathBuf,
    pub dir: tempfile::TempDir,
}

/// A bridge on 127.0.0.1 with an ephemeral port, a fresh token and memory in a
/// scratch folder; `tweak` changes the config first.
pub async fn start(tweak: impl FnOnce(&mut BridgeConfig)) -> TestBridge {
    let dir = tempfile::tempdir().unwrap();
    let token_path = dir.path().join("config/bridge-token.json");
    let mut config = BridgeConfig::new(token_path.clone());
    config.listen = vec!["127.0.0.1:0".parse().unwrap()];
    config.memory_root = Some(dir.path().join("memory"));
    config.user = "tester".into();
    config.auth_timeout = Duration::from_millis(500);
    tweak(&mut config);
    let bridge = Bridge::start(config).await.unwrap();
    let addr = bridge.local_addrs()[0];
    let text = std::fs::read_to_string(&token_path).unwrap();
    let token = serde_json::from_str::<Value>(&text).unwrap()["token"]
        .as_str()
        .unwrap()
        .to_string();
    TestBridge {
        bridge,
        addr,
        token,
        token_path,
        dir,
    }
}

/// Something a client received.
#[derive(Debug)]
pub enum Got {
    Msg(ServerMessage),
    Band(BandHeader, Vec<u8>),
    /// The bridge closed the connection (code, reason).
    Closed(u16, String),
}

pub struct Client {
    pub ws: WebSocketStream<MaybeTlsStream<TcpStream>>,
}

impl Client {
    pub async fn connect(addr: SocketAddr) -> Client {
        let (ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/"))
            .await
            .unwrap();
        Client { ws }
    }

    /// Connected and authenticated with `token`; returns the welcome.
    pub async fn hello(addr: SocketAddr, token: &str) -> (Client, ServerMessage) {
        let mut c = Client::connect(addr).await;
        c.json(json!({"type": "hello", "proto": PROTO, "token": token, "client": "test"}))
            .await;
        let w = c.msg().await;
        assert!(matches!(w, ServerMessage::Welcome { .. }), "{w:?}");
        (c, w)
    }

    pub async fn json(&mut self, v: Value) {
        self.ws.send(Message::text(v.to_string())).await.unwrap();
    }

    pub async fn binary(&mut self, b: Vec<u8>) {
        self.ws.send(Message::binary(b)).await.unwrap();
    }

    /// The next message, band or close.
    pub async fn next(&mut self) -> Got {
        loop {
            let m = tokio::time::timeout(WAIT, self.ws.next())
                .await
                .expect("a message in time");
            match m {
                Some(Ok(Message::Text(t))) => {
                    return Got::Msg(
                        serde_json::from_str(&t).unwrap_or_else(|e| panic!("{t}: {e}")),
                    )
                }
                Some(Ok(Message::Binary(b))) => {
                    let (h, p) = BandHeader::parse(&b).unwrap();
                    return Got::Band(h, p.to_vec());
                }
                Some(Ok(Message::Close(f))) => {
                    return match f {
                        Some(f) => Got::Closed(u16::from(f.code), f.reason.to_string()),
                        None => Got::Closed(1005, String::new()),
                    }
                }
                Some(Ok(_)) => continue,
                Some(Err(e)) => return Got::Closed(0, e.to_string()),
                None => return Got::Closed(1006, String::new()),
            }
        }
    }

    /// The next control message that is not progress.
    pub async fn msg(&mut self) -> ServerMessage {
        loop {
            match self.next().await {
                Got::Msg(ServerMessage::Progress { .. }) => continue,
                Got::Msg(m) => return m,
                other => panic!("expected a message, got {other:?}"),
            }
        }
    }

    /// Reads until the bridge closes; returns (close code, last error message's code).
    pub async fn closed(&mut self) -> (u16, Option<String>) {
        let mut error = None;
        loop {
            match self.next().await {
                Got::Closed(code, _) => return (code, error),
                Got::Msg(ServerMessage::Error { code, .. }) => error = Some(code),
                _ => {}
            }
        }
    }
}

/// Interleaved samples of `r` as little-endian bytes, rows `y0..y0 + n`.
pub fn band_bytes(r: &Raster, y0: usize, n: usize) -> Vec<u8> {
    let row = r.width() * r.channels();
    match r.samples() {
        Samples::U8(v) => v[y0 * row..(y0 + n) * row].to_vec(),
        Samples::U16(v) => v[y0 * row..(y0 + n) * row]
            .iter()
            .flat_map(|s| s.to_le_bytes())
            .collect(),
        Samples::F32(_) => panic!("float frames are not sent"),
    }
}

pub fn bits(r: &Raster) -> u8 {
    match r.samples() {
        Samples::U8(_) => 8,
        _ => 16,
    }
}

/// A job.start message for `r`.
pub fn start_msg(job: u32, op: &str, r: &Raster, state: Value, selection: bool) -> Value {
    json!({
        "type": "job.start", "job": job, "op": op,
        "width": r.width(), "height": r.height(), "components": r.channels(),
        "depth": bits(r), "profile": "sRGB IEC61966-2.1",
        "selection": selection, "state": state,
    })
}

/// Sends `r` in bands of `rows` rows.
pub async fn send_source(c: &mut Client, job: u32, r: &Raster, rows: usize) {
    let mut y = 0;
    let mut band = 0;
    while y < r.height() {
        let n = rows.min(r.height() - y);
        let h = BandHeader {
            kind: BandKind::Source,
            job,
            band,
            y0: y as u32,
            rows: n as u32,
            width: r.width() as u32,
            components: r.channels() as u8,
            bits: bits(r),
        };
        c.binary(h.with_payload(&band_bytes(r, y, n))).await;
        y += n;
        band += 1;
    }
}

/// Sends an 8-bit selection in one or more bands.
pub async fn send_selection(c: &mut Client, job: u32, width: usize, sel: &[u8], rows: usize) {
    let height = sel.len() / width;
    let mut y = 0;
    while y < height {
        let n = rows.min(height - y);
        let h = BandHeader {
            kind: BandKind::Selection,
            job,
            band: y as u32,
            y0: y as u32,
            rows: n as u32,
            width: width as u32,
            components: 1,
            bits: 8,
        };
        c.binary(h.with_payload(&sel[y * width..(y + n) * width]))
            .await;
        y += n;
    }
}

/// Waits for `job.accepted` (through `job.queued`); returns rows per band.
pub async fn accepted(c: &mut Client, job: u32) -> usize {
    loop {
        match c.msg().await {
            ServerMessage::JobQueued { job: j, .. } if j == job => continue,
            ServerMessage::JobAccepted {
                job: j,
                rows_per_band,
            } if j == job => return rows_per_band as usize,
            m => panic!("waiting for job.accepted of {job}: {m:?}"),
        }
    }
}

/// Pulls every result band of a ready apply job; returns the samples in order.
pub async fn pull_result(c: &mut Client, job: u32) -> Vec<u8> {
    let bands = match c.msg().await {
        ServerMessage::ResultReady { job: j, bands, .. } if j == job => bands,
        m => panic!("waiting for result.ready of {job}: {m:?}"),
    };
    let mut out = Vec::new();
    let mut next_row = 0u32;
    for b in 0..bands {
        c.json(json!({"type": "result.get", "job": job, "band": b}))
            .await;
        match c.next().await {
            Got::Band(h, p) => {
                assert_eq!(
                    (h.kind, h.job, h.band, h.y0),
                    (BandKind::Result, job, b, next_row)
                );
                assert_eq!(p.len(), h.sample_bytes().unwrap());
                next_row += h.rows;
                out.extend_from_slice(&p);
            }
            other => panic!("expected result band {b}: {other:?}"),
        }
    }
    c.json(json!({"type": "job.close", "job": job})).await;
    assert!(matches!(c.msg().await, ServerMessage::JobDone { job: j } if j == job));
    out
}

/// A whole apply job: start, bands, end, result.
pub async fn apply(
    c: &mut Client,
    job: u32,
    r: &Raster,
    state: Value,
    sel: Option<&[u8]>,
) -> Vec<u8> {
    c.json(start_msg(job, "apply", r, state, sel.is_some()))
        .await;
    let rows = accepted(c, job).await;
    send_source(c, job, r, rows).await;
    if let Some(s) = sel {
        send_selection(c, job, r.width(), s, rows).await;
    }
    c.json(json!({"type": "job.source_end", "job": job})).await;
    pull_result(c, job).await
}

pub fn samples_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/samples")
}

/// A sample photo, 8-bit.
pub fn photo8(name: &str) -> Raster {
    pertouch_core::image_io::load(&samples_dir().join(name), &Default::default())
        .unwrap_or_else(|e| panic!("{name}: {e} (the samples are expected in ../shared/samples)"))
        .raster
}

/// A sample photo resampled to `w` x `h` as 16-bit samples with a fixed
/// low-order pattern, so that 16-bit values are not just 8-bit ones times 257.
pub fn photo16(name: &str, w: usize, h: usize) -> Raster {
    let rgb = photo8(name).rgb_resized(w, h);
    let mut v = Vec::with_capacity(w * h * 3);
    for (i, p) in rgb.data.iter().enumerate() {
        let (x, y) = (i % w, i / w);
        for (k, c) in p.iter().enumerate() {
            let wiggle = ((x * 7 + y * 13 + k * 5) % 97) as f32 - 48.0;
            v.push((c / 255.0 * 65535.0 + wiggle).round().clamp(0.0, 65535.0) as u16);
        }
    }
    Raster::new(w, h, 3, Samples::U16(v)).unwrap()
}

/// The same frame as 8-bit samples at `w` x `h`.
pub fn photo8_sized(name: &str, w: usize, h: usize) -> Raster {
    let rgb = photo8(name).rgb_resized(w, h);
    let v: Vec<u8> = rgb
        .data
        .iter()
        .flat_map(|p| p.map(|c| c.round().clamp(0.0, 255.0) as u8))
        .collect();
    Raster::new(w, h, 3, Samples::U8(v)).unwrap()
}

/// A raster's samples as little-endian bytes.
pub fn le_bytes(r: &Raster) -> Vec<u8> {
    band_bytes(r, 0, r.height())
}
