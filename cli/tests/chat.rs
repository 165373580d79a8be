//! `pertouch chat` driven through its standard input, as a person would type.

mod common;

use common::sample;
use std::io::Write;
use std::process::{Command, Stdio};

#[test]
fn instructions_undo_and_save() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("chat.jpg");
    let mut child = Command::new(env!("CARGO_BIN_EXE_pertouch"))
        .args(["chat", &sample("dune.jpg"), "-o", out.to_str().unwrap()])
        .env("PERTOUCH_DATA_DIR", dir.path().join("data"))
        .env("USER", "tester")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(
            b"make the sky a bit warmer\nmore contrast\nundo\nmake the car redder\nsave\naccept\nquit\n",
        )
        .unwrap();
    let o = child.wait_with_output().unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    // The first instruction, then the second on top, then undone. Since issue 14
    // the words are sized to a visible change on this photo, so the level changes
    // are no longer the nominal 0.1 and 0.2: the states must stack and undo exactly.
    let states: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| l.split_once("state: ").map(|(_, s)| s))
        .map(|s| serde_json::from_str(s).unwrap_or_else(|e| panic!("{s}: {e}")))
        .collect();
    assert_eq!(states.len(), 3, "{text}");
    let warm = states[0]["sky"]["temperature"].as_f64().unwrap();
    assert!(warm > 0.0 && warm < 0.2, "a bit warmer: {warm}: {text}");
    assert_eq!(states[0].as_object().unwrap().len(), 1, "{text}");
    assert_eq!(
        states[1]["sky"]["temperature"].as_f64(),
        Some(warm),
        "{text}"
    );
    let contrast = states[1]["global"]["contrast"].as_f64().unwrap();
    assert!(contrast > 0.0, "more contrast: {contrast}: {text}");
    assert!(text.contains("undone; state: "), "{text}");
    assert_eq!(
        states[2], states[0],
        "undo restores the first state: {text}"
    );
    // An unknown region is explained, and the session goes on.
    assert!(
        text.contains("\"car\" is not a region I can find"),
        "{text}"
    );
    // Saving renders the undone state at full resolution.
    assert!(text.contains("sky          temperature"), "{text}");
    assert!(!text.contains("global       contrast"), "{text}");
    assert!(out.exists());
    assert!(text.contains("remembered (1 records)"), "{text}");
}
