//! The shared protocol vectors (fixtures/protocol.json, also read by the panel's
//! tests) and the panel's manifest, checked from the bridge's side: the manifest
//! must allow exactly the bridge's port.

use pertouch_bridge::protocol::messages::ServerMessage;
use pertouch_bridge::protocol::{BandHeader, BandKind, ClientMessage, DEFAULT_PORT, PROTO};
use serde_json::Value;
use std::path::Path;

fn read(rel: &str) -> Value {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("..").join(rel);
    serde_json::from_str(
        &std::fs::read_to_string(&p).unwrap_or_else(|e| panic!("{}: {e}", p.display())),
    )
    .unwrap()
}

fn hex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

#[test]
fn header_vectors_decode_and_encode_exactly() {
    let f = read("fixtures/protocol.json");
    assert_eq!(f["proto"], PROTO);
    assert_eq!(f["port"], DEFAULT_PORT);
    for v in f["headers"].as_array().unwrap() {
        let bytes = hex(v["hex"].as_str().unwrap());
        let (h, rest) = BandHeader::parse(&bytes).unwrap();
        assert!(rest.is_empty());
        let kind = match v["kind"].as_u64().unwrap() {
            1 => BandKind::Source,
            2 => BandKind::Selection,
            3 => BandKind::Result,
            _ => BandKind::Preview,
        };
        let want = BandHeader {
            kind,
            job: v["job"].as_u64().unwrap() as u32,
            band: v["band"].as_u64().unwrap() as u32,
            y0: v["y0"].as_u64().unwrap() as u32,
            rows: v["rows"].as_u64().unwrap() as u32,
            width: v["width"].as_u64().unwrap() as u32,
            components: v["components"].as_u64().unwrap() as u8,
            bits: v["bits"].as_u64().unwrap() as u8,
        };
        assert_eq!(h, want);
        assert_eq!(want.encode().to_vec(), bytes);
    }
    for v in f["badHeaders"].as_array().unwrap() {
        let bytes = hex(v["hex"].as_str().unwrap());
        assert!(BandHeader::parse(&bytes).is_err(), "{}", v["why"]);
    }
}

#[test]
fn message_vectors_parse_and_bad_ones_do_not() {
    let f = read("fixtures/protocol.json");
    for m in f["client"].as_array().unwrap() {
        let parsed = ClientMessage::parse(&m.to_string()).unwrap_or_else(|e| panic!("{m}: {e}"));
        assert_eq!(parsed.kind(), m["type"].as_str().unwrap());
    }
    for m in f["badClient"].as_array().unwrap() {
        assert!(
            ClientMessage::parse(m["text"].as_str().unwrap()).is_err(),
            "{}",
            m["why"]
        );
    }
    for m in f["server"].as_array().unwrap() {
        let parsed: ServerMessage =
            serde_json::from_value(m.clone()).unwrap_or_else(|e| panic!("{m}: {e}"));
        // What the bridge writes is what the panel's tests read.
        let back: Value = serde_json::from_str(&parsed.to_text()).unwrap();
        assert_eq!(&back, m);
    }
}

#[test]
fn the_panel_manifest_allows_exactly_the_bridge_port() {
    let m = read("panel/manifest.json");
    assert_eq!(m["manifestVersion"], 5);
    assert_eq!(m["host"]["app"], "PS");
    assert_eq!(m["host"]["data"]["apiVersion"], 2);
    let min = m["host"]["minVersion"].as_str().unwrap();
    let major: u32 = min.split('.').next().unwrap().parse().unwrap();
    assert!(
        major >= 25,
        "imaging and the Selection DOM need Photoshop 25: {min}"
    );
    let domains = &m["requiredPermissions"]["network"]["domains"];
    assert_eq!(
        domains,
        &serde_json::json!([format!("ws://127.0.0.1:{DEFAULT_PORT}")])
    );
    // (Exactly that list: neither "all" nor other hosts.)
    assert!(m["requiredPermissions"]
        .get("allowCodeGenerationFromStrings")
        .is_none());
    assert!(m.get("allowCodeGenerationFromStrings").is_none());
    assert_eq!(m["entrypoints"][0]["id"], "pertouch.panel");
}
