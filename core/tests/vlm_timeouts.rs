//! A hung, slow or flooding VLM server against the real client (issue 18 item 12),
//! on the scripted chat-completions server on 127.0.0.1 (tests/chat-server): a server that accepts the request and never
//! answers costs one timeout and is not asked again; a slow model that keeps
//! streaming tokens is not cut off; a reply that never ends or never stops growing
//! is bounded.

use pertouch_core::agent::Kind;
use pertouch_core::raster::{Raster, Samples};
use pertouch_core::vlm::{Message, VlmAgent, VlmClient, VlmConfig, VlmError};
use pertouch_test_server::{Reply, Server};
use std::time::Duration;

fn config(url: &str, idle_ms: u64) -> VlmConfig {
    let mut c = VlmConfig::new(url, "scripted-vlm");
    c.timeout = Duration::from_millis(idle_ms);
    c.retries = 2;
    c.backoff = Duration::from_millis(10);
    c
}

fn photo() -> Raster {
    let v = (0..64 * 48 * 3).map(|i| (i * 7 % 251) as u8).collect();
    Raster::new(64, 48, 3, Samples::U8(v)).unwrap()
}

fn finds(r: &str) -> bool {
    matches!(r, "sky" | "vegetation")
}

/// On main the hung server was asked three times per step (each attempt waiting
/// the whole timeout, then retried), and again at every later step: a `retouch
/// --agent vlm` did not finish in 150 s. Now: one request, one timeout, and the
/// rest of the session goes to the offline agent at once, saying so.
#[test]
fn a_hung_server_costs_one_timeout_for_the_whole_session() {
    let server = Server::start(std::iter::repeat_n(Reply::Silent, 8));
    let agent = VlmAgent::new(
        VlmClient::new(config(server.url(), 400)).unwrap(),
        vec!["sky".into()],
    );
    let plan = agent
        .plan("make the sky a bit warmer", &photo(), &finds, None)
        .unwrap();
    assert!(
        plan.trace[0].contains("sent nothing for 0.4 s"),
        "{:?}",
        plan.trace
    );
    assert_eq!(plan.interpretation.kind, Kind::Strong);
    assert_eq!(server.seen().len(), 1);
    let plan = agent.plan("more contrast", &photo(), &finds, None).unwrap();
    assert!(
        plan.trace[0].contains("not asking the VLM server at")
            && plan.trace[0].contains("earlier in this session"),
        "{:?}",
        plan.trace
    );
    let (_, greeting, line) = pertouch_core::vlm::session_scene(
        Some(&agent),
        &photo(),
        pertouch_core::measure::LevelTables::builtin(),
        None,
    );
    assert!(greeting.is_none() && line.contains("not asking"), "{line}");
    assert_eq!(server.seen().len(), 1, "the server was asked again");
}

/// On main the timeout was on the whole request: a model that streams its reply
/// over longer than the timeout was cut off. Silence is what is timed now.
#[test]
fn a_slow_model_that_keeps_streaming_is_not_cut_off() {
    let reply = r#"{"kind": "weak_optimize", "think": "the user wants it nicer"}"#;
    let pieces: Vec<String> = reply
        .as_bytes()
        .chunks(8)
        .map(|c| String::from_utf8(c.to_vec()).unwrap())
        .collect();
    assert!(pieces.len() >= 6);
    // 150 ms between pieces, 400 ms of silence allowed, over a second in all.
    let server = Server::start([Reply::Stream(pieces, Duration::from_millis(150))]);
    let client = VlmClient::new(config(server.url(), 400)).unwrap();
    let text = client.chat(&[Message::system("hi")], None).unwrap();
    assert_eq!(text, reply);
}

/// A reply that never ends is bounded by `max_duration`, and the server is then
/// not asked again.
#[test]
fn a_reply_that_never_ends_is_bounded() {
    let server = Server::start([Reply::Endless(Duration::from_millis(50))]);
    let mut cfg = config(server.url(), 400);
    cfg.max_duration = Duration::from_millis(1200);
    let client = VlmClient::new(cfg).unwrap();
    let e = client.chat(&[Message::system("hi")], None).unwrap_err();
    assert!(matches!(e, VlmError::TooSlow(_)), "{e}");
    let e = client.chat(&[Message::system("hi")], None).unwrap_err();
    assert!(matches!(e, VlmError::GaveUp { .. }), "{e}");
    assert!(e.to_string().contains("its reply took over 1 s"), "{e}");
}

/// On main a reply was read whole whatever its size.
#[test]
fn an_oversized_reply_is_refused() {
    let server = Server::start([Reply::Content("x".repeat(5 << 20))]);
    let client = VlmClient::new(config(server.url(), 2000)).unwrap();
    match client.chat(&[Message::system("hi")], None) {
        Ok(text) => panic!("a reply of {} bytes was read", text.len()),
        Err(e) => assert!(e.to_string().contains("larger than 4194304 bytes"), "{e}"),
    }
}
