//! The VLM agent against a real HTTP server on 127.0.0.1 that speaks the OpenAI
//! chat-completions protocol and answers from a script per test. The server checks
//! what it receives (model name, JSON mode, images that decode) and the tests check
//! that every path ends in a correct state or a clear error.

use pertouch_core::agent::{preview, Guidance, Kind, Session};
use pertouch_core::image_io::{load, LoadOptions};
use pertouch_core::measure::LevelTables;
use pertouch_core::memory::{Record, Store};
use pertouch_core::params::{Attribute, RegionState};
use pertouch_core::raster::Raster;
use pertouch_core::render::{CancelToken, Control, ParametricRenderer};
use pertouch_core::segment::{masks_for, BuiltinSegmenter};
use pertouch_core::vlm::{session_scene, ApiKey, VlmAgent, VlmClient, VlmConfig, VlmError};
use pertouch_test_server::{Reply, Server};
use serde_json::json;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn config(url: &str) -> VlmConfig {
    let mut c = VlmConfig::new(url, "scripted-vlm");
    c.timeout = Duration::from_millis(1500);
    c.backoff = Duration::from_millis(20);
    c.image_long_side = 256;
    c
}

fn agent(cfg: VlmConfig) -> VlmAgent {
    VlmAgent::new(
        VlmClient::new(cfg).unwrap(),
        vec![
            "sky".into(),
            "vegetation".into(),
            "water".into(),
            "skin".into(),
        ],
    )
}

fn photo(name: &str) -> Raster {
    let p = PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/samples")
        .join(name);
    load(&p, &LoadOptions::default()).unwrap().raster
}

fn finds(r: &str) -> bool {
    pertouch_core::segment::resolve(r).is_some()
}

#[test]
fn well_formed_fenced_and_prose_replies_are_read() {
    let server = Server::start(vec![
        Reply::Content(r#"{"think": "names the sky", "kind": "strong"}"#.into()),
        Reply::Content(
            "Here is my analysis:\n```json\n{\"think\": \"sky is a bit dull\", \"edits\": [{\"region\": \"sky\", \"attribute\": \"colorfulness\", \"change\": 0.1}], \"holds\": [\"water\"]}\n```\nHope that helps!"
                .into(),
        ),
    ]);
    let a = agent(config(server.url()));
    let img = photo("dune.jpg");
    let plan = a
        .plan(
            "make the sky a little more vivid but keep the sea",
            &img,
            &finds,
            None,
        )
        .unwrap();
    server.assert_clean();
    assert_eq!(plan.interpretation.kind, Kind::Strong);
    assert_eq!(plan.interpretation.edits.len(), 1);
    let e = &plan.interpretation.edits[0];
    assert_eq!(
        (e.region.as_str(), e.attribute),
        ("sky", Attribute::Colorfulness)
    );
    assert!((e.amount - 0.1).abs() < 1e-6);
    assert_eq!(plan.interpretation.holds, vec!["water".to_string()]);
    let seen = server.seen();
    assert_eq!(seen.len(), 2);
    assert!(seen
        .iter()
        .all(|s| s.model == "scripted-vlm" && s.json_mode));
    assert!(
        seen.iter().all(|s| s.auth.is_none()),
        "no key configured, none sent"
    );
    // The analysis step sends the photo, downscaled to the configured size.
    assert_eq!(seen[0].images.len(), 0);
    assert_eq!(seen[1].images.len(), 1);
    let (w, h) = seen[1].images[0];
    assert_eq!(w.max(h), 256);
    assert!(seen[1]
        .texts
        .iter()
        .any(|t| t.contains("a little more vivid")));
}

#[test]
fn malformed_replies_fall_back_to_the_offline_agent() {
    for bad in [
        "I would make the sky warmer.",
        r#"{"kind": "strong""#,
        r#"{"type": "strong"}"#,
        r#"{"kind": "very strong"}"#,
    ] {
        let server = Server::start(vec![Reply::Content(bad.into())]);
        let a = agent(config(server.url()));
        let plan = a
            .plan(
                "make the sky a bit warmer",
                &photo("dune.jpg"),
                &finds,
                None,
            )
            .unwrap();
        assert!(
            plan.trace
                .iter()
                .any(|t| t.contains("failed") && t.contains("offline")),
            "{bad}: {:?}",
            plan.trace
        );
        // The offline agent's reading: sky temperature +0.1.
        let e = &plan.interpretation.edits[0];
        assert_eq!(
            (e.region.as_str(), e.attribute),
            ("sky", Attribute::Temperature)
        );
        assert!((e.amount - 0.1).abs() < 1e-6);
    }
    // A reply whose edits use an unknown attribute is refused, not guessed at.
    let server = Server::start(vec![
        Reply::Content(r#"{"kind": "strong"}"#.into()),
        Reply::Content(
            r#"{"edits": [{"region": "sky", "attribute": "hue", "change": 0.2}]}"#.into(),
        ),
    ]);
    let plan = agent(config(server.url()))
        .plan(
            "make the sky a bit warmer",
            &photo("dune.jpg"),
            &finds,
            None,
        )
        .unwrap();
    assert!(
        plan.trace.iter().any(|t| t.contains("hue")),
        "{:?}",
        plan.trace
    );
}

#[test]
fn rate_limits_and_server_errors_are_retried_then_reported() {
    // 429 with Retry-After, then a 503, then the answer: three requests, one result.
    let server = Server::start(vec![
        Reply::Raw(429, "slow down".into(), Some("0.05")),
        Reply::Raw(503, "warming up".into(), None),
        Reply::Content(r#"{"kind": "weak_optimize"}"#.into()),
    ]);
    let mut cfg = config(server.url());
    cfg.retries = 2;
    let plan = agent(cfg)
        .plan("make it look better", &photo("dune.jpg"), &finds, None)
        .unwrap();
    assert_eq!(plan.interpretation.kind, Kind::WeakOptimize);
    assert_eq!(server.seen().len(), 3);
    // Persistent 500s: retried `retries` times, then a clear error.
    let server = Server::start(vec![Reply::Raw(500, "boom".into(), None); 3]);
    let mut cfg = config(server.url());
    cfg.retries = 2;
    let client = VlmClient::new(cfg).unwrap();
    let err = client
        .chat(&[pertouch_core::vlm::Message::system("hi")], None)
        .unwrap_err();
    assert_eq!(
        err,
        VlmError::Status {
            status: 500,
            body: "boom".into()
        }
    );
    assert!(err.to_string().contains("HTTP 500"));
    assert_eq!(server.seen().len(), 3);
    // A 400 is not retried.
    let server = Server::start(vec![Reply::Raw(400, "bad model".into(), None)]);
    let client = VlmClient::new(config(server.url())).unwrap();
    assert!(matches!(
        client.chat(&[pertouch_core::vlm::Message::system("hi")], None),
        Err(VlmError::Status { status: 400, .. })
    ));
    assert_eq!(server.seen().len(), 1);
}

#[test]
fn slow_and_dead_servers_time_out_or_fail_fast_and_cancel() {
    let server = Server::start(vec![
        Reply::Slow(
            Duration::from_secs(3),
            r#"{"kind": "strong"}"#.into()
        );
        2
    ]);
    let mut cfg = config(server.url());
    cfg.timeout = Duration::from_millis(300);
    cfg.retries = 1;
    let client = VlmClient::new(cfg).unwrap();
    let err = client
        .chat(&[pertouch_core::vlm::Message::system("hi")], None)
        .unwrap_err();
    assert!(matches!(err, VlmError::Timeout(_)), "{err}");
    // A port nobody listens on.
    let dead = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        l.local_addr().unwrap()
    };
    let a = agent(config(&format!("http://{dead}/v1")));
    let plan = a
        .plan("more contrast", &photo("dune.jpg"), &finds, None)
        .unwrap();
    assert!(
        plan.trace[0].contains("cannot be reached"),
        "{:?}",
        plan.trace
    );
    assert_eq!(plan.interpretation.edits[0].attribute, Attribute::Contrast);
    // Later steps of the session do not wait through the retries again: the
    // agent remembers the server was down and says so.
    let plan = a
        .plan("more contrast", &photo("dune.jpg"), &finds, None)
        .unwrap();
    assert!(
        plan.trace[0].contains("earlier in this session"),
        "{:?}",
        plan.trace
    );
    // Cancelling a call in flight ends it at once.
    let server = Server::start(vec![Reply::Slow(Duration::from_secs(5), "{}".into())]);
    let mut cfg = config(server.url());
    cfg.timeout = Duration::from_secs(10);
    let client = VlmClient::new(cfg).unwrap();
    let token = CancelToken::new();
    let t2 = token.clone();
    std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(150));
        t2.cancel();
    });
    // Uncancelled, the server would answer "{}" after 5 s and the call succeed.
    let r = client.chat(&[pertouch_core::vlm::Message::system("hi")], Some(&token));
    assert_eq!(r, Err(VlmError::Cancelled));
}

/// A strong instruction with a VLM that first over- then under-shoots: the
/// measurements keep the loop on the words, which converges within 0.05 in at
/// most 3 rounds.
#[test]
fn a_strong_session_converges_despite_an_overshooting_vlm() {
    let server = Server::start(vec![
        Reply::Content(r#"{"think": "region and attribute named", "kind": "strong"}"#.into()),
        // "a little warmer" is about +0.1; this VLM starts at +0.45.
        Reply::Content(r#"{"edits": [{"region": "sky", "attribute": "temperature", "change": 0.45}]}"#.into()),
        // Rethink 1: it now undershoots far below.
        Reply::Content(r#"{"think": "too warm", "done": false, "edits": [{"region": "sky", "attribute": "temperature", "value": -0.2}]}"#.into()),
        // Rethink 2 (if asked): overshoots again.
        Reply::Content(r#"{"think": "too cold", "done": false, "edits": [{"region": "sky", "attribute": "temperature", "value": 0.6}]}"#.into()),
    ]);
    let a = agent(config(server.url()));
    let img = photo("dune.jpg");
    let instruction = "make the sky a little warmer";
    let plan = a.plan(instruction, &img, &finds, None).unwrap();
    assert_eq!(plan.start.as_deref(), Some(&[0.45f32][..]));
    let asked = plan.interpretation.edits[0].amount;
    assert!(
        (asked - 0.1).abs() < 1e-6,
        "the words ask for +0.1, not {asked}"
    );
    let view = preview(&img, 512);
    let masks = masks_for(&BuiltinSegmenter, &view, &["sky"]).unwrap();
    let renderer = ParametricRenderer::default();
    let session = Session {
        renderer: &renderer,
        preview: &view,
        masks: &masks,
        tables: LevelTables::builtin(),
    };
    let advisor = a.advisor(None);
    let outcome = session
        .apply_with(
            &RegionState::default(),
            &plan.interpretation,
            &Guidance {
                instruction,
                start: plan.start.as_deref(),
                advisor: Some(&advisor),
            },
            &Control::default(),
        )
        .unwrap();
    server.assert_clean();
    for r in &outcome.trace {
        eprintln!(
            "round {}: {:?} -> {}",
            r.round, r.checks[0].measured, r.decision
        );
    }
    assert!(outcome.converged, "{:#?}", outcome.trace);
    assert!(outcome.trace.len() <= 3);
    let last = outcome.trace.last().unwrap();
    let c = &last.checks[0];
    let measured = c.measured.unwrap();
    // Since issue 14 the words' +0.1 is a visible size (ΔE00 1.5 for "a little"),
    // turned into this photo's level change before the loop; the loop lands on it.
    assert!(
        matches!(outcome.visible[..], [Some(v)] if (v - 1.5).abs() < 1e-6),
        "{:?}",
        outcome.visible
    );
    assert!(c.asked > 0.0 && c.asked < 0.2, "asked {}", c.asked);
    assert!(
        (measured - c.asked).abs() <= 0.05,
        "measured {measured} for {} asked",
        c.asked
    );
    // Round 1 rendered the VLM's +0.45 and was off; the VLM's -0.2 was refused.
    assert!(outcome.trace.len() >= 2);
    assert!(
        outcome.trace[0].decision.contains("the VLM proposed -0.20"),
        "{}",
        outcome.trace[0].decision
    );
    // The rethink request carried both images and the measured levels.
    let seen = server.seen();
    assert_eq!(seen[2].images.len(), 2);
    assert!(
        seen[2]
            .texts
            .iter()
            .any(|t| t.contains("measured change +0.4")),
        "{:?}",
        seen[2].texts
    );
}

#[test]
fn a_weak_style_session_applies_the_vlm_look_once() {
    let server = Server::start(vec![
        Reply::Content(r#"{"kind": "weak_style"}"#.into()),
        Reply::Content(
            r#"{"think": "teal and orange", "edits": [
                {"region": "global", "attribute": "contrast", "change": 0.25},
                {"region": "global", "attribute": "colorfulness", "change": -0.1},
                {"region": "shadows", "attribute": "temperature", "change": -0.2},
                {"region": "the moon", "attribute": "brightness", "change": 0.3}]}"#
                .into(),
        ),
    ]);
    let a = agent(config(server.url()));
    let img = photo("storm.jpg");
    let no_moon = |r: &str| finds(r);
    let plan = a.plan("cinematic", &img, &no_moon, None).unwrap();
    assert_eq!(plan.interpretation.kind, Kind::WeakStyle);
    assert_eq!(plan.interpretation.edits.len(), 3);
    assert!(
        plan.notes.iter().any(|n| n.contains("\"moon\"")),
        "{:?}",
        plan.notes
    );
    let view = preview(&img, 400);
    let masks = masks_for(&BuiltinSegmenter, &view, &["shadows"]).unwrap();
    let renderer = ParametricRenderer::default();
    let session = Session {
        renderer: &renderer,
        preview: &view,
        masks: &masks,
        tables: LevelTables::builtin(),
    };
    let out = session
        .apply_with(
            &RegionState::default(),
            &plan.interpretation,
            &Guidance::default(),
            &Control::default(),
        )
        .unwrap();
    assert_eq!(out.trace.len(), 1, "a look is applied once");
    // Since issue 14 a look's changes are sized as visible changes (ΔE00 15 per
    // level of the VLM's numbers) on this photo: the VLM's directions and relative
    // sizes stand, the level changes are this photo's.
    let size = |region: &str, attr: Attribute| {
        let i = out
            .edits
            .iter()
            .position(|e| e.region == region && e.attribute == attr)
            .unwrap();
        (out.edits[i].amount, out.visible[i])
    };
    let (contrast, seen) = size("global", Attribute::Contrast);
    assert!(contrast > 0.0, "{contrast}");
    assert!((seen.unwrap() - 15.0 * 0.25).abs() < 1e-6, "{seen:?}");
    assert_eq!(out.state.get("global", Attribute::Contrast), Some(contrast));
    let (temperature, seen) = size("shadows", Attribute::Temperature);
    assert!(temperature < 0.0, "{temperature}");
    assert!((seen.unwrap() - 15.0 * 0.2).abs() < 1e-6, "{seen:?}");
    assert_eq!(
        out.state.get("shadows", Attribute::Temperature),
        Some(temperature)
    );
}

#[test]
fn session_start_recalls_a_matching_scene_with_vlm_tags() {
    let tables = LevelTables::builtin();
    let img = photo("dune.jpg");
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), "ana", "cli").unwrap();
    // Earlier session: the VLM tagged the scene and the user accepted an edit.
    let server = Server::start(vec![Reply::Content(
        r#"{"tags": ["Beach", "dunes", "sea", "summer"], "greeting": "Lovely dunes!"}"#.into(),
    )]);
    let a = agent(config(server.url()));
    let (scene, greeting, line) = session_scene(Some(&a), &img, tables, None);
    assert_eq!(scene.tags, vec!["beach", "dunes", "sea", "summer"]);
    assert_eq!(greeting.as_deref(), Some("Lovely dunes!"));
    assert!(line.contains("from the VLM"));
    store
        .append(Record::new(
            "warmer sky",
            scene,
            json!({"sky": {"temperature": 0.2}}),
            true,
        ))
        .unwrap();
    // New session on a similar photo (the same one, re-tagged in other words).
    let server = Server::start(vec![Reply::Content(
        r#"{"tags": ["beach", "sea", "sand dunes"]}"#.into(),
    )]);
    let a = agent(config(server.url()));
    let (scene, _, _) = session_scene(Some(&a), &img, tables, None);
    let found = store.propose(&scene, 0.6).unwrap().value;
    let (record, similarity) = found.expect("the earlier edit is recalled");
    assert_eq!(record.state, json!({"sky": {"temperature": 0.2}}));
    assert!(similarity >= 0.6);
    // The VLM down: built-in tags, still a scene to match.
    let dead = config("http://127.0.0.1:9/v1");
    let a = agent(dead);
    let (scene, greeting, line) = session_scene(Some(&a), &img, tables, None);
    assert!(
        greeting.is_none() && line.contains("built-in tags used"),
        "{line}"
    );
    assert!(!scene.tags.is_empty());
}

/// A writer the test's tracing subscriber logs into.
#[derive(Clone, Default)]
struct LogBuffer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for LogBuffer {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

#[test]
fn the_api_key_appears_in_no_log_trace_error_or_memory_file() {
    const KEY: &str = "sk-test-9f8e7d6c5b4a";
    // The process-wide subscriber (a thread-local one can miss events whose
    // callsites another test thread registered first): every test's logs land in
    // the buffer, which is fine for checking that the key is in none of them.
    static LOGS: std::sync::OnceLock<LogBuffer> = std::sync::OnceLock::new();
    let logs = LOGS
        .get_or_init(|| {
            let buffer = LogBuffer::default();
            let sink = buffer.clone();
            tracing_subscriber::fmt()
                .with_max_level(tracing::Level::TRACE)
                .with_writer(move || sink.clone())
                .with_ansi(false)
                .init();
            buffer
        })
        .clone();

    let server = Server::start(vec![
        Reply::EchoAuth,
        Reply::EchoAuth,
        Reply::EchoAuth,
        Reply::Content(r#"{"kind": "strong"}"#.into()),
        Reply::EchoAuth,
        Reply::EchoAuth,
        Reply::EchoAuth,
    ]);
    let mut cfg = config(server.url());
    cfg.api_key = ApiKey::new(KEY);
    let debug_of_config = format!("{cfg:?}");
    let a = agent(cfg);
    let img = photo("dune.jpg");
    // Scene: three echoing 500s (the error text would carry the key), then fallback.
    let (scene, _, line) = session_scene(Some(&a), &img, LevelTables::builtin(), None);
    // Plan: classified, then the analysis fails three times with the echo.
    let plan = a.plan("make the sky warmer", &img, &finds, None).unwrap();
    // The key did go to the server, as a bearer token.
    assert!(server
        .seen()
        .iter()
        .all(|s| s.auth.as_deref() == Some(&format!("Bearer {KEY}")[..])));
    let dir = tempfile::tempdir().unwrap();
    let store = Store::open(dir.path(), "ana", "cli").unwrap();
    store
        .append(Record::new("make the sky warmer", scene, json!({}), true))
        .unwrap();
    let memory_file = std::fs::read_to_string(store.path()).unwrap();
    let err = VlmClient::new({
        let mut c = config(server.url());
        c.api_key = ApiKey::new(KEY);
        c.retries = 0;
        c
    })
    .unwrap()
    .chat(&[pertouch_core::vlm::Message::system("hi")], None)
    .unwrap_err()
    .to_string();
    let logged = String::from_utf8(logs.0.lock().unwrap().clone()).unwrap();
    assert!(
        line.contains("***"),
        "the echoed key is redacted in the error: {line}"
    );
    for (what, text) in [
        ("scene trace", line.as_str()),
        ("plan trace", &plan.trace.join("\n")),
        ("memory file", &memory_file),
        ("error", &err),
        ("logs", &logged),
        ("config Debug", &debug_of_config),
        ("agent Debug", &format!("{a:?}")),
    ] {
        assert!(
            !text.contains(KEY),
            "the key leaked into the {what}: {text}"
        );
    }
    assert!(
        logged.contains("retrying"),
        "the retries were logged: {logged}"
    );
}
