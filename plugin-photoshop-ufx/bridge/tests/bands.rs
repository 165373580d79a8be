//! Bands that break the rules fail their job (the connection and the bridge go
//! on); a message beyond the WebSocket limit closes the connection. Every check
//! happens before a band's bytes are used.

mod common;

use common::*;
use pertouch_bridge::protocol::messages::ServerMessage;
use pertouch_bridge::protocol::{BandHeader, BandKind, MAX_BAND_BYTES, MAX_MESSAGE};
use serde_json::json;

fn header(job: u32, y0: u32, rows: u32, width: u32) -> BandHeader {
    BandHeader {
        kind: BandKind::Source,
        job,
        band: 0,
        y0,
        rows,
        width,
        components: 3,
        bits: 8,
    }
}

/// Expects `job.failed` for `job` with `code`.
async fn failed(c: &mut Client, job: u32, code: &str) -> String {
    match c.msg().await {
        ServerMessage::JobFailed {
            job: j,
            code: k,
            message,
        } if j == job && k == code => message,
        m => panic!("expected job.failed {code} for {job}, got {m:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_bands_fail_the_job_and_the_connection_goes_on() {
    let b = start(|_| {}).await;
    let (mut c, _) = Client::hello(b.addr, &b.token).await;
    let frame = photo8_sized("coffee.png", 600, 400);
    let row = 600 * 3;
    let start_job = |job: u32| {
        start_msg(
            job,
            "apply",
            &frame,
            json!({"global": {"brightness": 0.1}}),
            false,
        )
    };

    // Overlapping rows.
    c.json(start_job(1)).await;
    accepted(&mut c, 1).await;
    c.binary(header(1, 0, 10, 600).with_payload(&band_bytes(&frame, 0, 10)))
        .await;
    c.binary(header(1, 5, 10, 600).with_payload(&band_bytes(&frame, 5, 10)))
        .await;
    let m = failed(&mut c, 1, "band_overlap").await;
    assert!(m.contains("row 5"), "{m}");

    // Missing rows at the end.
    c.json(start_job(2)).await;
    accepted(&mut c, 2).await;
    c.binary(header(2, 0, 100, 600).with_payload(&band_bytes(&frame, 0, 100)))
        .await;
    c.binary(header(2, 200, 200, 600).with_payload(&band_bytes(&frame, 200, 200)))
        .await;
    c.json(json!({"type": "job.source_end", "job": 2})).await;
    let m = failed(&mut c, 2, "bands_missing").await;
    assert!(m.contains("100-199"), "{m}");

    // Outside the frame, short payload, wrong width, a malformed header.
    c.json(start_job(3)).await;
    accepted(&mut c, 3).await;
    c.binary(header(3, 395, 10, 600).with_payload(&vec![0; 10 * row]))
        .await;
    failed(&mut c, 3, "band_outside").await;
    c.json(start_job(4)).await;
    accepted(&mut c, 4).await;
    c.binary(header(4, 0, 10, 600).with_payload(&vec![0; 10 * row - 1]))
        .await;
    failed(&mut c, 4, "band_size").await;
    c.json(start_job(5)).await;
    accepted(&mut c, 5).await;
    c.binary(header(5, 0, 10, 599).with_payload(&vec![0; 10 * 599 * 3]))
        .await;
    failed(&mut c, 5, "band_format").await;
    c.json(start_job(6)).await;
    accepted(&mut c, 6).await;
    let mut bad = header(6, 0, 1, 600).with_payload(&vec![0; row]);
    bad[0] = b'X';
    c.binary(bad).await;
    failed(&mut c, 6, "band_header").await;

    // A band larger than a band may be (within the message limit).
    let wide = photo8_sized("coffee.png", 3000, 2000);
    c.json(start_msg(7, "apply", &wide, json!({}), false)).await;
    accepted(&mut c, 7).await;
    let rows = (MAX_BAND_BYTES / (3000 * 3) + 1) as u32;
    c.binary(header(7, 0, rows, 3000).with_payload(&band_bytes(&wide, 0, rows as usize)))
        .await;
    failed(&mut c, 7, "band_too_big").await;

    // After all that, a good job on the same connection.
    let got = apply(
        &mut c,
        8,
        &frame,
        json!({"global": {"brightness": 0.1}}),
        None,
    )
    .await;
    assert_eq!(got.len(), 600 * 400 * 3);
    let s = b.bridge.stats();
    assert_eq!((s.jobs_failed, s.jobs_done, s.memory_reserved), (7, 1, 0));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_band_while_queued_fails_the_job() {
    let b = start(|c| c.memory_budget = 64 << 20).await;
    let (mut c1, _) = Client::hello(b.addr, &b.token).await;
    let (mut c2, _) = Client::hello(b.addr, &b.token).await;
    let frame = photo16("dune.jpg", 2000, 1500);
    c1.json(start_msg(1, "apply", &frame, json!({}), false))
        .await;
    accepted(&mut c1, 1).await;
    c2.json(start_msg(1, "apply", &frame, json!({}), false))
        .await;
    assert!(matches!(
        c2.msg().await,
        ServerMessage::JobQueued { job: 1, .. }
    ));
    let mut h = header(1, 0, 10, 2000);
    h.bits = 16;
    c2.binary(h.with_payload(&band_bytes(&frame, 0, 10))).await;
    let m = failed(&mut c2, 1, "flow").await;
    assert!(m.contains("job.accepted"), "{m}");
    assert_eq!(b.bridge.stats().jobs_waiting, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_message_over_the_limit_closes_the_connection() {
    let b = start(|_| {}).await;
    let (mut c, _) = Client::hello(b.addr, &b.token).await;
    let frame = photo8_sized("coffee.png", 3000, 2000);
    c.json(start_msg(1, "apply", &frame, json!({}), false))
        .await;
    accepted(&mut c, 1).await;
    let rows = (MAX_MESSAGE / (3000 * 3) + 1) as u32;
    let _ = futures_util::SinkExt::send(
        &mut c.ws,
        tokio_tungstenite::tungstenite::Message::binary(
            header(1, 0, rows, 3000).with_payload(&band_bytes(&frame, 0, rows as usize)),
        ),
    )
    .await;
    let (code, _) = c.closed().await;
    assert_eq!(code, 1009, "Message Too Big");
    // The bridge dropped the job and serves others.
    let (mut c, _) = Client::hello(b.addr, &b.token).await;
    let small = photo8_sized("coffee.png", 60, 40);
    apply(&mut c, 1, &small, json!({}), None).await;
    assert_eq!(b.bridge.stats().memory_reserved, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn job_descriptions_are_checked() {
    let b = start(|_| {}).await;
    let (mut c, _) = Client::hello(b.addr, &b.token).await;
    let base = json!({"type": "job.start", "job": 1, "op": "apply", "width": 100, "height": 100, "components": 3, "depth": 8});
    let with = |k: &str, v: serde_json::Value| {
        let mut m = base.clone();
        m[k] = v;
        m
    };
    c.json(with("depth", json!(32))).await;
    failed(&mut c, 1, "depth").await;
    c.json(with("components", json!(1))).await;
    failed(&mut c, 1, "layout").await;
    c.json(with("width", json!(40000))).await;
    failed(&mut c, 1, "size").await;
    c.json(with("state", json!({"sky": {"sparkle": 1}}))).await;
    let m = failed(&mut c, 1, "state").await;
    assert!(m.contains("sparkle"), "{m}");
    let mut preview = with("op", json!("preview"));
    preview["width"] = json!(5000);
    preview["height"] = json!(5000);
    c.json(preview).await;
    failed(&mut c, 1, "too_many_pixels").await;
    // A result asked for before there is one.
    c.json(json!({"type": "result.get", "job": 9, "band": 0}))
        .await;
    failed(&mut c, 9, "no_result").await;
    // Garbage text is a protocol error and closes.
    c.json(json!({"type": "make_coffee"})).await;
    assert_eq!(c.closed().await.1.as_deref(), Some("protocol"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn late_bands_of_a_superseded_job_are_dropped() {
    let b = start(|_| {}).await;
    let (mut c, _) = Client::hello(b.addr, &b.token).await;
    let frame = photo8_sized("coffee.png", 600, 400);
    let st = json!({"global": {"brightness": 0.1}});
    c.json(start_msg(1, "preview", &frame, st.clone(), false))
        .await;
    accepted(&mut c, 1).await;
    c.binary(header(1, 0, 10, 600).with_payload(&band_bytes(&frame, 0, 10)))
        .await;
    // A new job supersedes job 1 while its bands are still coming.
    c.json(start_msg(2, "apply", &frame, st.clone(), false))
        .await;
    assert!(matches!(
        c.msg().await,
        ServerMessage::JobCancelled { job: 1 }
    ));
    let rows = accepted(&mut c, 2).await;
    c.binary(header(1, 10, 10, 600).with_payload(&band_bytes(&frame, 10, 10)))
        .await;
    c.json(json!({"type": "job.source_end", "job": 1})).await;
    send_source(&mut c, 2, &frame, rows).await;
    c.json(json!({"type": "job.source_end", "job": 2})).await;
    let got = pull_result(&mut c, 2).await;
    assert_eq!(got.len(), 600 * 400 * 3);
    assert_eq!(b.bridge.stats().jobs_failed, 0);
}
