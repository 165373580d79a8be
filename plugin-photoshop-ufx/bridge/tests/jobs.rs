//! Jobs through the real bridge with real WebSocket clients: results equal to
//! `host::Engine` on the same frame bit for bit (8 and 16 bit), the selection
//! rule, previews and the agent, cancel and disconnect mid-render, two clients
//! at once, the memory-bounded queue, and the "photoshop" memory profile.

mod common;

use common::*;
use pertouch_bridge::jobs::render::{frame_key, host_masks};
use pertouch_bridge::jobs::upload::Selection;
use pertouch_bridge::protocol::messages::{ServerMessage, Understood};
use pertouch_bridge::protocol::BandKind;
use pertouch_core::host::{AgentChoice, Engine, EngineConfig, FrameInputs};
use pertouch_core::params::RegionState;
use pertouch_core::raster::Raster;
use pertouch_core::render::Control;
use serde_json::{json, Value};
use std::time::Duration;

/// The core's own render of `r` with `state` (and the selection as a host mask
/// when the state names it), as a Rust host would call it.
fn engine_render(r: &Raster, state: &Value, selection: Option<&Selection>) -> Vec<u8> {
    let engine = Engine::open(&EngineConfig::default()).unwrap();
    let state = RegionState::from_value(state).unwrap();
    let masks = host_masks(&state, selection);
    let key = frame_key(r, &masks, selection, &state);
    let ctl = Control::default();
    let frame = engine
        .frame(
            key,
            &state,
            || {
                Ok(FrameInputs {
                    source: std::borrow::Cow::Borrowed(r),
                    masks,
                })
            },
            &ctl,
        )
        .unwrap();
    let out = frame
        .render_tile(r, (0, 0), (r.width(), r.height()), &ctl)
        .unwrap();
    le_bytes(&out)
}

fn state() -> Value {
    json!({"global": {"contrast": 0.15}, "sky": {"temperature": -0.3, "brightness": 0.1}, "vegetation": {"colorfulness": 0.2}})
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn apply_equals_the_engine_bit_for_bit_in_8_and_16_bit() {
    let b = start(|_| {}).await;
    let (mut c, _) = Client::hello(b.addr, &b.token).await;
    for (job, frame) in [
        (1, photo8("dune.jpg")),
        (2, photo16("storm.jpg", 1200, 801)),
    ] {
        let got = apply(&mut c, job, &frame, state(), None).await;
        let want = engine_render(&frame, &state(), None);
        assert_eq!(got.len(), want.len());
        let differ = got.iter().zip(&want).filter(|(a, b)| a != b).count();
        assert_eq!(
            differ, 0,
            "job {job}: {differ} bytes differ from the engine"
        );
        // And the edit did something.
        assert_ne!(got, le_bytes(&frame), "job {job} changed nothing");
    }
    let s = b.bridge.stats();
    assert_eq!((s.jobs_done, s.jobs_failed, s.memory_reserved), (2, 0, 0));
}

/// An 8-bit selection: a feathered ellipse in the left half.
fn ellipse(w: usize, h: usize) -> Vec<u8> {
    let mut v = vec![0u8; w * h];
    for y in 0..h {
        for x in 0..w {
            let dx = (x as f32 - w as f32 * 0.3) / (w as f32 * 0.2);
            let dy = (y as f32 - h as f32 * 0.5) / (h as f32 * 0.3);
            let d = (dx * dx + dy * dy).sqrt();
            v[y * w + x] = ((1.2 - d) / 0.2 * 255.0).clamp(0.0, 255.0) as u8;
        }
    }
    v
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_selection_changes_only_selected_pixels() {
    let b = start(|_| {}).await;
    let (mut c, _) = Client::hello(b.addr, &b.token).await;
    let frame = photo16("garden.jpg", 1000, 625);
    let (w, h) = (frame.width(), frame.height());
    let sel = ellipse(w, h);
    let source = le_bytes(&frame);
    let selection = Selection {
        width: w,
        height: h,
        values: sel.iter().map(|&v| v as u16 * 257).collect(),
    };
    // A global edit limited by the selection, and an edit of the selection as a region.
    for (job, st) in [
        (
            1,
            json!({"global": {"brightness": 0.3, "colorfulness": 0.2}}),
        ),
        (2, json!({"selection": {"brightness": 0.3}})),
    ] {
        let got = apply(&mut c, job, &frame, st.clone(), Some(&sel)).await;
        let render = engine_render(&frame, &st, Some(&selection));
        let (mut inside_changed, mut inside, mut outside) = (0, 0, 0);
        for (i, &m) in sel.iter().enumerate() {
            let px = i * 6..i * 6 + 6;
            if m == 0 {
                outside += 1;
                assert_eq!(
                    got[px.clone()],
                    source[px.clone()],
                    "job {job}: unselected pixel {i} changed"
                );
            } else {
                inside += 1;
                assert_eq!(
                    got[px.clone()],
                    render[px.clone()],
                    "job {job}: selected pixel {i} is not the engine's"
                );
                inside_changed += (got[px.clone()] != source[px]) as usize;
            }
        }
        assert!(
            outside > w * h / 3 && inside > w * h / 10,
            "{outside} {inside}"
        );
        assert!(
            inside_changed > inside / 2,
            "job {job}: only {inside_changed} of {inside} selected pixels changed"
        );
    }
}

/// Sends `photo` with `words` as agent job `job` and returns the bridge's reading:
/// the region state and what it understood.
async fn read_words(
    c: &mut Client,
    job: u32,
    photo: &Raster,
    words: &str,
) -> (Value, Vec<Understood>) {
    let mut agent = start_msg(job, "agent", photo, json!({}), false);
    agent["instruction"] = json!(words);
    c.json(agent).await;
    let rows = accepted(c, job).await;
    send_source(c, job, photo, rows).await;
    c.json(json!({"type": "job.source_end", "job": job})).await;
    let ServerMessage::AgentState {
        state, understood, ..
    } = c.msg().await
    else {
        panic!("no agent.state")
    };
    (state, understood)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_agent_reads_an_instruction_and_a_preview_shows_it() {
    let b = start(|_| {}).await;
    let (mut c, _) = Client::hello(b.addr, &b.token).await;
    let small = photo8_sized("dune.jpg", 640, 400);
    let (state, understood) = read_words(&mut c, 1, &small, "make the sky a bit warmer").await;
    let warm = state["sky"]["temperature"].as_f64().unwrap();
    assert!(warm > 0.0 && warm < 0.6, "{state}");
    assert!(
        understood
            .iter()
            .any(|u| u.region == "sky" && u.attribute == "temperature"),
        "{understood:?}"
    );
    assert!(matches!(c.msg().await, ServerMessage::JobDone { job: 1 }));

    let mut preview = start_msg(2, "preview", &small, state, false);
    preview["mix"] = json!(0.8);
    c.json(preview).await;
    let rows = accepted(&mut c, 2).await;
    send_source(&mut c, 2, &small, rows).await;
    c.json(json!({"type": "job.source_end", "job": 2})).await;
    let mut jpegs = Vec::new();
    while jpegs.len() < 2 {
        match c.next().await {
            Got::Band(h, p) => {
                assert_eq!(
                    (h.kind, h.job, h.band),
                    (BandKind::Preview, 2, jpegs.len() as u32)
                );
                jpegs.push(image::load_from_memory(&p).unwrap().to_rgb8());
            }
            Got::Msg(ServerMessage::Progress { .. }) => {}
            other => panic!("{other:?}"),
        }
    }
    assert!(matches!(c.msg().await, ServerMessage::JobDone { job: 2 }));
    let (after, before) = (&jpegs[0], &jpegs[1]);
    assert_eq!(after.dimensions(), (640, 400));
    // The sky (top rows) got warmer: more red than blue than before.
    let warmth = |img: &image::RgbImage| {
        let mut s = 0.0;
        for y in 0..60 {
            for x in 0..640 {
                let p = img.get_pixel(x, y);
                s += p[0] as f64 - p[2] as f64;
            }
        }
        s / (60.0 * 640.0)
    };
    assert!(
        warmth(after) > warmth(before) + 1.0,
        "{} {}",
        warmth(after),
        warmth(before)
    );
}

/// A bridge started with the VLM agent (as `pertouch bridge --agent vlm
/// --vlm-url ...` sets it) reads the panel's words through the chat server: the
/// state and what was understood are the VLM's reading, checked by the rethink
/// loop, not the offline agent's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bridge_with_the_vlm_agent_reads_words_through_the_vlm() {
    let server = pertouch_test_server::Server::replying(&[
        r#"{"kind": "weak_style"}"#,
        r#"{"edits": [{"region": "global", "attribute": "contrast", "change": 0.2}, {"region": "global", "attribute": "temperature", "change": -0.1}]}"#,
        r#"{"done": true, "edits": []}"#,
        r#"{"done": true, "edits": []}"#,
        r#"{"done": true, "edits": []}"#,
    ]);
    let url = server.url().to_string();
    let b = start(|c| {
        c.agent = AgentChoice {
            kind: Some("vlm".into()),
            vlm_url: Some(url),
            vlm_model: Some(pertouch_test_server::MODEL.into()),
        };
    })
    .await;
    let (mut c, _) = Client::hello(b.addr, &b.token).await;
    let small = photo8_sized("dune.jpg", 640, 400);
    let (state, understood) = read_words(&mut c, 1, &small, "make it cinematic").await;
    assert!(matches!(c.msg().await, ServerMessage::JobDone { job: 1 }));
    let got: Vec<(String, String)> = understood
        .iter()
        .map(|u| (u.region.clone(), u.attribute.clone()))
        .collect();
    assert_eq!(
        got,
        vec![
            ("global".to_string(), "contrast".to_string()),
            ("global".to_string(), "temperature".to_string())
        ],
        "{understood:?}"
    );
    assert!(
        state["global"]["contrast"].as_f64().unwrap() > 0.0,
        "{state}"
    );
    assert!(
        state["global"]["temperature"].as_f64().unwrap() < 0.0,
        "{state}"
    );
    let seen = server.seen();
    assert!(seen.len() >= 2, "{seen:?}");
    assert!(seen
        .iter()
        .any(|s| s.texts.iter().any(|t| t.contains("make it cinematic"))));
    server.assert_clean();
}

/// A VLM that is asked for but cannot be set up (no URL anywhere) stops the
/// bridge at start with the reason, rather than failing every word job later.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vlm_agent_without_a_server_is_a_startup_error() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = pertouch_bridge::config::BridgeConfig::new(dir.path().join("token.json"));
    config.listen = vec!["127.0.0.1:0".parse().unwrap()];
    config.agent = AgentChoice {
        kind: Some("vlm".into()),
        ..AgentChoice::default()
    };
    let e = pertouch_bridge::server::Bridge::start(config)
        .await
        .err()
        .expect("refused")
        .to_string();
    assert!(e.contains("agent") && e.contains("--vlm-url"), "{e}");
}

/// Starts an apply of a large 16-bit frame and waits for its first render progress.
async fn start_big_render(c: &mut Client, job: u32) {
    let frame = photo16("dune.jpg", 4800, 3400);
    c.json(start_msg(job, "apply", &frame, state(), false))
        .await;
    let rows = accepted(c, job).await;
    send_source(c, job, &frame, rows).await;
    drop(frame);
    c.json(json!({"type": "job.source_end", "job": job})).await;
    loop {
        match c.next().await {
            Got::Msg(ServerMessage::Progress { stage, .. }) if stage == "render" => return,
            Got::Msg(ServerMessage::Progress { .. }) => {}
            other => panic!("waiting for render progress: {other:?}"),
        }
    }
}

async fn wait_for(
    b: &TestBridge,
    what: &str,
    ok: impl Fn(&pertouch_bridge::server::StatsSnapshot) -> bool,
) {
    for _ in 0..600 {
        if ok(&b.bridge.stats()) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{what}: {:?}", b.bridge.stats());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancel_stops_a_render_midway() {
    let b = start(|_| {}).await;
    let (mut c, _) = Client::hello(b.addr, &b.token).await;
    start_big_render(&mut c, 7).await;
    c.json(json!({"type": "cancel", "job": 7})).await;
    loop {
        match c.next().await {
            Got::Msg(ServerMessage::JobCancelled { job: 7 }) => break,
            Got::Msg(ServerMessage::Progress { .. }) => {}
            other => panic!("after cancel: {other:?}"),
        }
    }
    wait_for(&b, "render interrupted, memory free", |s| {
        s.renders_interrupted == 1 && s.memory_reserved == 0
    })
    .await;
    // Nothing more arrives for job 7, and the connection still works.
    let small = photo8_sized("rocket.jpg", 320, 214);
    let got = apply(&mut c, 8, &small, state(), None).await;
    assert_eq!(got, engine_render(&small, &state(), None));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dropped_connection_cancels_its_job() {
    let b = start(|_| {}).await;
    let (mut c, _) = Client::hello(b.addr, &b.token).await;
    start_big_render(&mut c, 1).await;
    drop(c);
    wait_for(&b, "disconnect cancels the render", |s| {
        s.cancelled_by_disconnect == 1 && s.renders_interrupted == 1 && s.memory_reserved == 0
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_clients_at_once_get_their_own_results() {
    let b = start(|_| {}).await;
    let (mut c1, _) = Client::hello(b.addr, &b.token).await;
    let (mut c2, _) = Client::hello(b.addr, &b.token).await;
    let f1 = photo8("ladybird.jpg");
    let f2 = photo16("meadow.jpg", 900, 720);
    let s2 = json!({"global": {"brightness": -0.2}});
    let (g1, g2) = tokio::join!(
        apply(&mut c1, 1, &f1, state(), None),
        apply(&mut c2, 1, &f2, s2.clone(), None)
    );
    assert!(g1 == engine_render(&f1, &state(), None), "client 1");
    assert!(g2 == engine_render(&f2, &s2, None), "client 2");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn jobs_wait_for_memory_and_keep_within_the_budget() {
    let budget = 64 << 20;
    let b = start(|c| c.memory_budget = budget).await;
    let (mut c1, _) = Client::hello(b.addr, &b.token).await;
    let (mut c2, _) = Client::hello(b.addr, &b.token).await;
    // Each needs 2 x 18 MB + 1 MiB: one at a time fits.
    let frame = photo16("dune.jpg", 2000, 1500);
    c1.json(start_msg(1, "apply", &frame, state(), false)).await;
    let rows = accepted(&mut c1, 1).await;
    c2.json(start_msg(1, "apply", &frame, state(), false)).await;
    assert!(matches!(
        c2.msg().await,
        ServerMessage::JobQueued { job: 1, ahead: 0 }
    ));
    send_source(&mut c1, 1, &frame, rows).await;
    c1.json(json!({"type": "job.source_end", "job": 1})).await;
    let first = pull_result(&mut c1, 1).await;
    // Now the second is admitted.
    let rows = accepted(&mut c2, 1).await;
    send_source(&mut c2, 1, &frame, rows).await;
    c2.json(json!({"type": "job.source_end", "job": 1})).await;
    let second = pull_result(&mut c2, 1).await;
    assert!(first == second && first == engine_render(&frame, &state(), None));
    let s = b.bridge.stats();
    assert!(s.memory_peak <= budget as u64, "{s:?}");
    assert_eq!(s.memory_reserved, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn applied_edits_are_remembered_and_recalled_in_the_photoshop_profile() {
    let b = start(|_| {}).await;
    let (mut c, _) = Client::hello(b.addr, &b.token).await;
    let frame = photo8_sized("dune.jpg", 800, 500);
    let st = json!({"sky": {"temperature": 0.25}});
    let mut m = start_msg(1, "apply", &frame, st.clone(), false);
    m["remember"] = json!(true);
    m["instruction"] = json!("warmer sky");
    c.json(m).await;
    let rows = accepted(&mut c, 1).await;
    send_source(&mut c, 1, &frame, rows).await;
    c.json(json!({"type": "job.source_end", "job": 1})).await;
    pull_result(&mut c, 1).await;
    let file = b.dir.path().join("memory/tester/photoshop.json");
    let saved: Value = serde_json::from_str(&std::fs::read_to_string(&file).unwrap()).unwrap();
    assert_eq!(saved["profile"], "photoshop");
    assert_eq!(saved["records"][0]["instruction"], "warmer sky");

    // A similar photo (the same one, smaller) recalls it.
    let small = photo8_sized("dune.jpg", 480, 300);
    let mut m = start_msg(2, "agent", &small, json!({}), false);
    m["recall"] = json!(true);
    c.json(m).await;
    let rows = accepted(&mut c, 2).await;
    send_source(&mut c, 2, &small, rows).await;
    c.json(json!({"type": "job.source_end", "job": 2})).await;
    let ServerMessage::AgentState {
        state, recalled, ..
    } = c.msg().await
    else {
        panic!("no agent.state")
    };
    let r = recalled.expect("a recalled edit");
    assert_eq!(r.instruction, "warmer sky");
    assert_eq!(state, st);
}
