//! The fuzz target's body (`protocol::fuzzing::exercise`) on random and mutated
//! inputs in every test run; `fuzz/fuzz_targets/bridge_protocol.rs` runs it
//! under libFuzzer.

use pertouch_bridge::protocol::fuzzing::exercise;
use pertouch_bridge::protocol::{BandHeader, BandKind};
use proptest::prelude::*;

fn valid_band(rows: u32, bits: u8, components: u8, kind: BandKind) -> Vec<u8> {
    let h = BandHeader {
        kind,
        job: 1,
        band: 0,
        y0: 2,
        rows,
        width: 16,
        components,
        bits,
    };
    let n = h.sample_bytes().unwrap();
    h.with_payload(&vec![7u8; n])
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(2000))]

    #[test]
    fn random_bytes(data in proptest::collection::vec(any::<u8>(), 0..300)) {
        let _ = exercise(&data);
    }

    #[test]
    fn mutated_bands(rows in 1u32..20, bits in prop::sample::select(vec![8u8, 16]),
                     sel in any::<bool>(), at in 0usize..64, byte in any::<u8>(), cut in 0usize..8) {
        let (kind, comps) = if sel { (BandKind::Selection, 1) } else { (BandKind::Source, 3) };
        let mut b = valid_band(rows, bits, comps, kind);
        let i = at % b.len();
        b[i] = byte;
        b.truncate(b.len() - cut.min(b.len()));
        let _ = exercise(&b);
    }

    #[test]
    fn json_like_text(s in r#"\{"type":"(job\.start|cancel|hello|pair|result\.get)"(,"[a-z_]{1,10}":(-?[0-9]{1,12}|"[a-z]{0,5}"|\{\}|null|true)){0,12}\}"#) {
        let _ = exercise(s.as_bytes());
    }
}

#[test]
fn valid_inputs_go_all_the_way() {
    let r = exercise(&valid_band(14, 16, 3, BandKind::Source));
    assert!(r.header && r.band && !r.message, "{r:?}");
    let r = exercise(&valid_band(14, 8, 1, BandKind::Selection));
    assert!(r.header && r.band, "{r:?}");
    let r = exercise(br#"{"type":"job.start","job":1,"op":"apply","width":16,"height":16,"components":3,"depth":16}"#);
    assert!(r.message && r.job && !r.header, "{r:?}");
    let r = exercise(&valid_band(15, 16, 3, BandKind::Source));
    assert!(r.header && !r.band, "rows 2..17 of 16 are outside: {r:?}");
}
