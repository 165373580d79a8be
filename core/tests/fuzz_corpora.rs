//! The fuzz targets' checks (`fuzz/src/checks.rs`, included here by path) run on
//! stable over every committed input: the seed corpora (`fuzz/corpus/<target>/`)
//! and the inputs fuzzing once found wrong (`fuzz/regressions/<target>/`). This is
//! how CI holds what fuzzing found without building the fuzz targets; fuzzing
//! itself is in docs/RELIABILITY.md. Each target also gets a short, seeded,
//! deterministic mutation smoke on stable ([`MUTANTS`] inputs made from its corpus
//! by bit flips, byte edits, cuts, splices and repeats): the CI smoke that needs no
//! nightly build (building the instrumented targets costs about 10 CPU-minutes).

#[path = "../../fuzz/src/checks.rs"]
mod checks;

use std::path::Path;

/// Runs `check` on every file of the target's corpus and regressions; the number
/// of inputs run.
fn run(target: &str, check: fn(&[u8])) -> usize {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut n = 0;
    for kind in ["corpus", "regressions"] {
        let Ok(entries) = std::fs::read_dir(fuzz.join(kind).join(target)) else {
            continue;
        };
        let mut files: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
        files.sort();
        for f in files {
            let bytes = std::fs::read(&f).unwrap();
            let outcome = std::panic::catch_unwind(|| check(&bytes));
            assert!(outcome.is_ok(), "{target}: {} fails its check", f.display());
            n += 1;
        }
    }
    n
}

/// Mutated inputs per target in the stable smoke.
const MUTANTS: usize = 20_000;

/// A small deterministic generator (xorshift64*): the same mutants every run,
/// so a failure reproduces.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Bytes that often matter to our parsers.
const INTERESTING: &[u8] = b"\0\xff{}[]\":,.-0123456789e\\\n\x1bnullture";

/// One mutant of `seeds[i]`: one to four edits, as libFuzzer's simplest
/// mutators make them.
fn mutant(rng: &mut Rng, seeds: &[Vec<u8>]) -> Vec<u8> {
    let mut d = seeds[rng.below(seeds.len())].clone();
    for _ in 0..=rng.below(4) {
        let at = rng.below(d.len() + 1);
        match rng.below(7) {
            0 if !d.is_empty() => {
                let i = at.min(d.len() - 1);
                d[i] ^= 1 << rng.below(8);
            }
            1 if !d.is_empty() => {
                let i = at.min(d.len() - 1);
                d[i] = INTERESTING[rng.below(INTERESTING.len())];
            }
            2 => d.insert(at, INTERESTING[rng.below(INTERESTING.len())]),
            3 => d.truncate(at),
            4 if at < d.len() => {
                let n = rng.below(d.len() - at + 1);
                d.drain(at..at + n);
            }
            5 => {
                let other = &seeds[rng.below(seeds.len())];
                let from = rng.below(other.len() + 1);
                d.splice(at..at, other[from..].iter().copied().take(64));
            }
            _ if at < d.len() => {
                let n = rng.below(16).min(d.len() - at);
                let piece: Vec<u8> = d[at..at + n].to_vec();
                d.splice(at..at, piece.iter().copied().cycle().take(n * rng.below(8)));
            }
            _ => {}
        }
    }
    d
}

/// Runs `check` on [`MUTANTS`] mutants of the target's committed inputs.
fn smoke(target: &str, check: fn(&[u8])) {
    let fuzz = Path::new(env!("CARGO_MANIFEST_DIR")).join("../fuzz");
    let mut seeds = Vec::new();
    for kind in ["corpus", "regressions"] {
        if let Ok(entries) = std::fs::read_dir(fuzz.join(kind).join(target)) {
            let mut files: Vec<_> = entries.map(|e| e.unwrap().path()).collect();
            files.sort();
            seeds.extend(files.iter().map(|f| std::fs::read(f).unwrap()));
        }
    }
    assert!(!seeds.is_empty(), "{target} has no committed inputs");
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15 ^ target.len() as u64);
    for n in 0..MUTANTS {
        let input = mutant(&mut rng, &seeds);
        let outcome = std::panic::catch_unwind(|| check(&input));
        assert!(
            outcome.is_ok(),
            "{target}: mutant {n} fails its check: {:?}",
            String::from_utf8_lossy(&input)
        );
    }
}

#[test]
fn region_state_inputs() {
    assert!(run("region_state", checks::region_state) >= 10);
}

#[cfg(feature = "vlm")]
#[test]
fn vlm_reply_inputs() {
    assert!(run("vlm_reply", checks::vlm_reply) >= 10);
}

#[test]
fn manifest_inputs() {
    assert!(run("manifest", checks::manifest) >= 8);
}

#[test]
fn image_decode_inputs() {
    assert!(run("image_decode", checks::image_decode) >= 15);
}

#[test]
fn pixel_view_inputs() {
    assert!(run("pixel_view", checks::pixel_view) >= 7);
}

#[test]
fn region_state_mutation_smoke() {
    smoke("region_state", checks::region_state);
}

#[cfg(feature = "vlm")]
#[test]
fn vlm_reply_mutation_smoke() {
    smoke("vlm_reply", checks::vlm_reply);
}

#[test]
fn manifest_mutation_smoke() {
    smoke("manifest", checks::manifest);
}

#[test]
fn image_decode_mutation_smoke() {
    smoke("image_decode", checks::image_decode);
}

#[test]
fn pixel_view_mutation_smoke() {
    smoke("pixel_view", checks::pixel_view);
}
