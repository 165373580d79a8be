//! `pertouch chat` driven through its standard input, as a person would type.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

fn sample(name: &str) -> String {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../../shared/samples")
        .join(name)
        .to_string_lossy()
        .into_owned()
}

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
    // The first instruction, then the second on top, then undone.
    assert!(
        text.contains("state: {\"sky\":{\"temperature\":0.1}}"),
        "{text}"
    );
    assert!(
        text.contains("state: {\"global\":{\"contrast\":0.2},\"sky\":{\"temperature\":0.1}}"),
        "{text}"
    );
    assert!(
        text.contains("undone; state: {\"sky\":{\"temperature\":0.1}}"),
        "{text}"
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
