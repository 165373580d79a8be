//! A 24-megapixel 16-bit frame (6000 x 4000 RGB) through the bridge, as the
//! panel sends it (job.start, 35 source bands of 4 MiB over a loopback
//! WebSocket, render, 35 result bands pulled back), against the same render
//! called on the engine directly (`Engine::frame` + `Frame::render_tile` on the
//! whole frame, as a Rust host would). The difference is the bridge's overhead:
//! band transfer both ways, assembly, checks, queueing.
//!
//!   cargo bench -p pertouch-bridge --bench bridge_overhead
//!
//! Two cases each: a new edit (every iteration changes the state, so the frame
//! is segmented and solved again: what each Apply of a new edit costs) and the
//! same edit again (render only).
//!
//! On a shared, loaded machine wall times drift between cases, so the bench
//! ends with a paired report: direct and bridge runs alternate, and besides wall
//! time it compares the CPU time the process used (`/proc/self/stat`), which
//! other processes' load does not inflate. The client's side (masking and
//! sending 137 MB, reading the result) runs in this process too and is counted
//! as overhead, though in use it is Photoshop's work: the figure is an upper bound.

use criterion::{criterion_group, criterion_main, Criterion};
use futures_util::{SinkExt, StreamExt};
use pertouch_bridge::protocol::{BandHeader, BandKind, PROTO};
use pertouch_bridge::{Bridge, BridgeConfig};
use pertouch_core::host::{Engine, EngineConfig, FrameInputs, FrameKey};
use pertouch_core::mask::MaskSet;
use pertouch_core::params::RegionState;
use pertouch_core::raster::{Raster, Samples};
use pertouch_core::render::Control;
use serde_json::{json, Value};
use std::net::SocketAddr;
use std::path::Path;
use std::time::Duration;
use tokio_tungstenite::tungstenite::Message;

const W: usize = 6000;
const H: usize = 4000;

fn frame() -> Raster {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/samples/storm.jpg");
    let photo = pertouch_core::image_io::load(&path, &Default::default()).expect("sample photo");
    let rgb = photo.raster.rgb_resized(W, H);
    let v: Vec<u16> = rgb
        .data
        .iter()
        .enumerate()
        .flat_map(|(i, p)| {
            let wiggle = ((i % W * 7 + i / W * 13) % 97) as f32 - 48.0;
            p.map(|c| (c / 255.0 * 65535.0 + wiggle).round().clamp(0.0, 65535.0) as u16)
        })
        .collect();
    Raster::new(W, H, 3, Samples::U16(v)).expect("frame")
}

fn state(i: u32) -> Value {
    json!({"global": {"contrast": 0.1, "brightness": 0.05 + (i % 50) as f64 * 0.002}, "sky": {"temperature": -0.3}})
}

fn direct(engine: &Engine, frame: &Raster, st: &Value) -> Raster {
    let st = RegionState::from_value(st).expect("state");
    let ctl = Control::default();
    let f = engine
        .frame(
            FrameKey::for_raster(frame, &st),
            &st,
            || {
                Ok(FrameInputs {
                    source: std::borrow::Cow::Borrowed(frame),
                    masks: MaskSet::new(),
                })
            },
            &ctl,
        )
        .expect("plan");
    f.render_tile(frame, (0, 0), (W, H), &ctl).expect("render")
}

/// Band messages of the source, encoded once (the panel gets them from Photoshop).
fn source_bands(frame: &Raster) -> Vec<bytes::Bytes> {
    let Samples::U16(s) = frame.samples() else {
        panic!("16-bit")
    };
    let rows = pertouch_bridge::protocol::MAX_BAND_BYTES / (W * 6);
    (0..H)
        .step_by(rows)
        .enumerate()
        .map(|(b, y)| {
            let n = rows.min(H - y);
            let h = BandHeader {
                kind: BandKind::Source,
                job: 0,
                band: b as u32,
                y0: y as u32,
                rows: n as u32,
                width: W as u32,
                components: 3,
                bits: 16,
            };
            let payload: Vec<u8> = s[y * W * 3..(y + n) * W * 3]
                .iter()
                .flat_map(|v| v.to_le_bytes())
                .collect();
            bytes::Bytes::from(h.with_payload(&payload))
        })
        .collect()
}

type Ws =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// The next control message (progress skipped), or a band's bytes.
async fn recv(ws: &mut Ws) -> Result<Value, bytes::Bytes> {
    loop {
        match ws.next().await.expect("open").expect("message") {
            Message::Text(t) => {
                let v: Value = serde_json::from_str(&t).expect("json");
                if v["type"] != "progress" {
                    return Ok(v);
                }
            }
            Message::Binary(b) => return Err(b),
            _ => {}
        }
    }
}

/// One apply job through the bridge; returns the result's byte count.
async fn through_bridge(
    addr: SocketAddr,
    token: &str,
    job: u32,
    bands: &[bytes::Bytes],
    st: &Value,
) -> usize {
    let (mut ws, _) = tokio_tungstenite::connect_async(format!("ws://{addr}/"))
        .await
        .expect("connect");
    let text = |v: Value| Message::text(v.to_string());
    ws.send(text(
        json!({"type": "hello", "proto": PROTO, "token": token}),
    ))
    .await
    .expect("hello");
    assert_eq!(recv(&mut ws).await.expect("welcome")["type"], "welcome");
    ws.send(text(
        json!({"type": "job.start", "job": job, "op": "apply", "width": W, "height": H,
        "components": 3, "depth": 16, "state": st}),
    ))
    .await
    .expect("start");
    let accepted = recv(&mut ws).await.expect("accepted");
    assert_eq!(accepted["type"], "job.accepted", "{accepted}");
    for b in bands {
        // The job number sits at bytes 8..12 of the header.
        let mut m = b.to_vec();
        m[8..12].copy_from_slice(&job.to_le_bytes());
        ws.send(Message::binary(m)).await.expect("band");
    }
    ws.send(text(json!({"type": "job.source_end", "job": job})))
        .await
        .expect("end");
    let ready = recv(&mut ws).await.expect("ready");
    assert_eq!(ready["type"], "result.ready", "{ready}");
    let n = ready["bands"].as_u64().expect("bands") as u32;
    let mut total = 0;
    for band in 0..n {
        ws.send(text(
            json!({"type": "result.get", "job": job, "band": band}),
        ))
        .await
        .expect("get");
        total += recv(&mut ws).await.expect_err("a band").len();
    }
    ws.send(text(json!({"type": "job.close", "job": job})))
        .await
        .expect("close");
    total
}

fn bench(c: &mut Criterion) {
    let f = frame();
    let engine = Engine::open(&EngineConfig::default()).expect("engine");
    let bands = source_bands(&f);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = BridgeConfig::new(dir.path().join("token.json"));
    config.listen = vec!["127.0.0.1:0".parse().expect("addr")];
    let bridge = rt.block_on(Bridge::start(config)).expect("bridge");
    let addr = bridge.local_addrs()[0];
    let token: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("token.json")).expect("token"),
    )
    .expect("json");
    let token = token["token"].as_str().expect("token").to_string();

    let mut g = c.benchmark_group("photoshop_bridge_24mp_16bit");
    g.sample_size(10)
        .measurement_time(Duration::from_secs(40))
        .warm_up_time(Duration::from_secs(3));
    let mut i = 0u32;
    g.bench_function("engine_direct_new_edit", |b| {
        b.iter(|| {
            i += 1;
            direct(&engine, &f, &state(i))
        })
    });
    g.bench_function("engine_direct_same_edit", |b| {
        b.iter(|| direct(&engine, &f, &state(0)))
    });
    let mut job = 0u32;
    g.bench_function("bridge_new_edit", |b| {
        b.iter(|| {
            job += 1;
            i += 1;
            rt.block_on(through_bridge(addr, &token, job, &bands, &state(i)))
        })
    });
    g.bench_function("bridge_same_edit", |b| {
        b.iter(|| {
            job += 1;
            rt.block_on(through_bridge(addr, &token, job, &bands, &state(0)))
        })
    });
    g.finish();
    rt.block_on(bridge.shutdown());
}

/// CPU time this process has used (user + system), in seconds (Linux).
fn cpu_seconds() -> f64 {
    let stat = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    // Fields after the command name (which may hold spaces): utime is the 14th
    // field of the line, stime the 15th.
    let rest = stat.rsplit(')').next().unwrap_or("");
    let f: Vec<f64> = rest
        .split_whitespace()
        .filter_map(|x| x.parse().ok())
        .collect();
    // rest starts at field 3 (state, not a number, is skipped by the filter).
    let ticks = f.get(10).copied().unwrap_or(0.0) + f.get(11).copied().unwrap_or(0.0);
    ticks / 100.0
}

fn median(v: &mut [f64]) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

/// Direct and bridge runs of the same edit, alternating; medians of wall and CPU time.
fn paired(_: &mut Criterion) {
    const PAIRS: usize = 5;
    let f = frame();
    let engine = Engine::open(&EngineConfig::default()).expect("engine");
    let bands = source_bands(&f);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = BridgeConfig::new(dir.path().join("token.json"));
    config.listen = vec!["127.0.0.1:0".parse().expect("addr")];
    let bridge = rt.block_on(Bridge::start(config)).expect("bridge");
    let addr = bridge.local_addrs()[0];
    let token: Value = serde_json::from_str(
        &std::fs::read_to_string(dir.path().join("token.json")).expect("token"),
    )
    .expect("json");
    let token = token["token"].as_str().expect("token").to_string();
    // Warm both engines' frame caches with the edit.
    direct(&engine, &f, &state(0));
    rt.block_on(through_bridge(addr, &token, 1, &bands, &state(0)));
    let (mut dw, mut dc, mut bw, mut bc) = (vec![], vec![], vec![], vec![]);
    for i in 0..PAIRS {
        let (t, c) = (std::time::Instant::now(), cpu_seconds());
        std::hint::black_box(direct(&engine, &f, &state(0)));
        dw.push(t.elapsed().as_secs_f64());
        dc.push(cpu_seconds() - c);
        let (t, c) = (std::time::Instant::now(), cpu_seconds());
        std::hint::black_box(rt.block_on(through_bridge(
            addr,
            &token,
            2 + i as u32,
            &bands,
            &state(0),
        )));
        bw.push(t.elapsed().as_secs_f64());
        bc.push(cpu_seconds() - c);
    }
    let (dw, dc, bw, bc) = (
        median(&mut dw),
        median(&mut dc),
        median(&mut bw),
        median(&mut bc),
    );
    println!("paired, same edit, {PAIRS} pairs (medians):");
    println!(
        "  wall: engine {dw:.2} s, bridge {bw:.2} s: overhead {:+.1}%",
        (bw / dw - 1.0) * 100.0
    );
    println!(
        "  CPU:  engine {dc:.2} s, bridge {bc:.2} s: overhead {:+.1}%",
        (bc / dc - 1.0) * 100.0
    );
    rt.block_on(bridge.shutdown());
}

criterion_group!(benches, bench, paired);
criterion_main!(benches);
