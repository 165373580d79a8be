//! 32 panels each sending a 12-megapixel 16-bit apply job at the same moment to
//! the real `pertouch bridge` process: jobs queue for memory, every result is
//! checked against the engine's own render, and the bridge's peak RSS and the
//! throughput are printed (docs/BENCHMARKS.md). Heavy, so ignored by default:
//!
//!   cargo build --release -p pertouch-cli
//!   cargo test --release -p pertouch-bridge --test load -- --ignored --nocapture
//!
//! (PERTOUCH_BIN may name another `pertouch` binary.)

mod common;

use futures_util::{SinkExt, StreamExt};
use pertouch_bridge::protocol::{BandHeader, BandKind, MAX_BAND_BYTES, PROTO};
use pertouch_core::host::{Engine, EngineConfig, FrameInputs, FrameKey};
use pertouch_core::mask::MaskSet;
use pertouch_core::params::RegionState;
use pertouch_core::raster::Samples;
use pertouch_core::render::Control;
use serde_json::{json, Value};
use std::hash::{Hash, Hasher};
use std::io::{BufRead, BufReader};
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_tungstenite::tungstenite::Message;

const CLIENTS: usize = 32;
const W: usize = 4000;
const H: usize = 3000;
const PHOTOS: [&str; 4] = ["dune.jpg", "storm.jpg", "garden.jpg", "ladybird.jpg"];

fn hash(b: &[u8]) -> u64 {
    let mut h = std::collections::hash_map::DefaultHasher::new();
    b.hash(&mut h);
    h.finish()
}

fn state(k: usize) -> Value {
    json!({"global": {"contrast": 0.05 * k as f64}, "sky": {"temperature": -0.2}, "vegetation": {"colorfulness": 0.1 + 0.05 * k as f64}})
}

struct Job {
    bands: Vec<bytes::Bytes>,
    /// Hashes of the engine's result, band by band.
    want: Vec<u64>,
}

fn prepare(k: usize) -> Job {
    let frame = common::photo16(PHOTOS[k], W, H);
    let st = RegionState::from_value(&state(k)).unwrap();
    let engine = Engine::open(&EngineConfig::default()).unwrap();
    let ctl = Control::default();
    let f = engine
        .frame(
            FrameKey::for_raster(&frame, &st),
            &st,
            || {
                Ok(FrameInputs {
                    source: std::borrow::Cow::Borrowed(&frame),
                    masks: MaskSet::new(),
                })
            },
            &ctl,
        )
        .unwrap();
    let out = common::le_bytes(&f.render_tile(&frame, (0, 0), (W, H), &ctl).unwrap());
    let rows = MAX_BAND_BYTES / (W * 6);
    let want = out.chunks(rows * W * 6).map(hash).collect();
    let Samples::U16(_) = frame.samples() else {
        panic!()
    };
    let bands = (0..H)
        .step_by(rows)
        .enumerate()
        .map(|(b, y)| {
            let n = rows.min(H - y);
            let h = BandHeader {
                kind: BandKind::Source,
                job: 1,
                band: b as u32,
                y0: y as u32,
                rows: n as u32,
                width: W as u32,
                components: 3,
                bits: 16,
            };
            bytes::Bytes::from(h.with_payload(&common::band_bytes(&frame, y, n)))
        })
        .collect();
    Job { bands, want }
}

/// One client's job; returns (waited in the queue, seconds from start to last band).
async fn client(addr: String, token: String, k: usize, job: Arc<Job>) -> (bool, f64) {
    let t = Instant::now();
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/"))
        .await
        .unwrap();
    let text = |v: Value| Message::text(v.to_string());
    ws.send(text(
        json!({"type": "hello", "proto": PROTO, "token": token}),
    ))
    .await
    .unwrap();
    let mut queued = false;
    let next =
        async |ws: &mut tokio_tungstenite::WebSocketStream<_>| -> Result<Value, bytes::Bytes> {
            loop {
                match tokio::time::timeout(Duration::from_secs(900), ws.next())
                    .await
                    .unwrap()
                    .unwrap()
                    .unwrap()
                {
                    Message::Text(t) => {
                        let v: Value = serde_json::from_str(&t).unwrap();
                        if v["type"] != "progress" {
                            return Ok(v);
                        }
                    }
                    Message::Binary(b) => return Err(b),
                    _ => {}
                }
            }
        };
    assert_eq!(next(&mut ws).await.unwrap()["type"], "welcome");
    ws.send(text(
        json!({"type": "job.start", "job": 1, "op": "apply", "width": W, "height": H,
        "components": 3, "depth": 16, "state": state(k)}),
    ))
    .await
    .unwrap();
    loop {
        let m = next(&mut ws).await.unwrap();
        match m["type"].as_str() {
            Some("job.queued") => queued = true,
            Some("job.accepted") => break,
            _ => panic!("client {k}: {m}"),
        }
    }
    for b in &job.bands {
        ws.send(Message::binary(b.clone())).await.unwrap();
    }
    ws.send(text(json!({"type": "job.source_end", "job": 1})))
        .await
        .unwrap();
    let ready = next(&mut ws).await.unwrap();
    assert_eq!(ready["type"], "result.ready", "{ready}");
    assert_eq!(ready["bands"].as_u64().unwrap() as usize, job.want.len());
    for (i, want) in job.want.iter().enumerate() {
        ws.send(text(json!({"type": "result.get", "job": 1, "band": i})))
            .await
            .unwrap();
        let band = next(&mut ws).await.unwrap_err();
        assert_eq!(
            hash(&band[pertouch_bridge::protocol::HEADER_LEN..]),
            *want,
            "client {k}: band {i} differs from the engine"
        );
    }
    ws.send(text(json!({"type": "job.close", "job": 1})))
        .await
        .unwrap();
    (queued, t.elapsed().as_secs_f64())
}

fn status_kib(pid: u32, field: &str) -> u64 {
    let s = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    s.lines()
        .find(|l| l.starts_with(field))
        .and_then(|l| l.split_whitespace().nth(1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

#[test]
#[ignore = "heavy (32 x 12 MP 16-bit renders, minutes on 2 cores): see the header for the command"]
fn thirty_two_clients_send_12_megapixel_16_bit_jobs_at_once() {
    let bin = std::env::var_os("PERTOUCH_BIN")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| {
            let exe = std::env::current_exe().unwrap();
            exe.parent().unwrap().parent().unwrap().join("pertouch")
        });
    assert!(
        bin.exists(),
        "{} not found: cargo build --release -p pertouch-cli",
        bin.display()
    );
    println!(
        "preparing {} frames and their reference renders...",
        PHOTOS.len()
    );
    let jobs: Vec<Arc<Job>> = (0..PHOTOS.len()).map(|k| Arc::new(prepare(k))).collect();

    let dir = tempfile::tempdir().unwrap();
    let token_path = dir.path().join("token.json");
    let budget_mib = 2048;
    let mut child = std::process::Command::new(&bin)
        .args([
            "bridge",
            "--port",
            "0",
            "--memory-mib",
            &budget_mib.to_string(),
            "--token-file",
        ])
        .arg(&token_path)
        .env("PERTOUCH_DATA_DIR", dir.path().join("data"))
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let pid = child.id();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let l = lines.next().expect("bridge output").unwrap();
        if let Some(rest) = l.split("ws://").nth(1) {
            break rest.split([',', ' ']).next().unwrap().to_string();
        }
    };
    let token: Value =
        serde_json::from_str(&std::fs::read_to_string(&token_path).unwrap()).unwrap();
    let token = token["token"].as_str().unwrap().to_string();
    let rss_idle = status_kib(pid, "VmRSS:");

    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let t = Instant::now();
    let results = rt.block_on(async {
        let tasks: Vec<_> = (0..CLIENTS)
            .map(|i| {
                tokio::spawn(client(
                    addr.clone(),
                    token.clone(),
                    i % PHOTOS.len(),
                    jobs[i % PHOTOS.len()].clone(),
                ))
            })
            .collect();
        let mut out = Vec::new();
        for t in tasks {
            out.push(t.await.unwrap());
        }
        out
    });
    let wall = t.elapsed().as_secs_f64();
    let peak_kib = status_kib(pid, "VmHWM:");
    let _ = child.kill();
    let _ = child.wait();

    let queued = results.iter().filter(|r| r.0).count();
    let mut times: Vec<f64> = results.iter().map(|r| r.1).collect();
    times.sort_by(f64::total_cmp);
    let mp = (CLIENTS * W * H) as f64 / 1e6;
    println!(
        "{CLIENTS} clients x {W}x{H} 16-bit RGB ({:.0} MP in all), memory budget {budget_mib} MiB",
        mp
    );
    println!("all {CLIENTS} results equal the engine's render, band by band");
    println!("jobs that waited in the queue: {queued}");
    println!(
        "wall {wall:.1} s; throughput {:.2} MP/s, {:.1} jobs/min; per job (start to last band) min {:.1} s, median {:.1} s, max {:.1} s",
        mp / wall,
        CLIENTS as f64 / wall * 60.0,
        times[0],
        times[CLIENTS / 2],
        times[CLIENTS - 1]
    );
    println!(
        "bridge RSS: idle {} MiB, peak (VmHWM) {} MiB",
        rss_idle / 1024,
        peak_kib / 1024
    );
    assert!(
        queued > 0,
        "with 32 jobs of 145 MB each and a 2 GiB budget some must wait"
    );
    assert!(
        peak_kib / 1024 < budget_mib + 1024,
        "peak RSS {} MiB is not bounded by the {budget_mib} MiB budget (+1 GiB for the engine and buffers)",
        peak_kib / 1024
    );
}
