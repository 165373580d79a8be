//! Edits judged by what a person sees (issue 14): the eight plain global
//! instructions and "black and white", through the path `pertouch retouch IN -o OUT
//! --say "..."` takes (the offline agent's reading, its sizing and rethink loop on a
//! 1024-pixel preview, the parametric renderer), measured in CIEDE2000 on each
//! sample photo at 1024 pixels on the long side.
//!
//! Checks per photo: each instruction's mean ΔE00 within [0.8, 7.5]; the two
//! directions of one attribute within 2x of each other; no hot spots (p99 <= 4 x
//! mean + 2); warmer/cooler move b* the asked way with |mean Δa*| <= 0.8 |mean
//! Δb*| + 0.5 (no green or magenta cast); "black and white" leaves p99 chroma <= 4.
//! At least 95% must hold. The table of every check is printed, and the failures
//! with why.
//!
//! `PERTOUCH_PERCEPTUAL_PHOTOS=DIR` runs the same checks on the photos in DIR
//! instead (photos the tuning never saw).

use pertouch_core::agent::preview;
use pertouch_core::measure::{change_size, chroma_quantile, ChangeSize};
use pertouch_e2e::{photos_in, retouch_say, sample_photos};

/// (instruction, attribute label, direction).
const PLAIN: [(&str, &str, f64); 8] = [
    ("warmer", "temperature", 1.0),
    ("cooler", "temperature", -1.0),
    ("brighter", "brightness", 1.0),
    ("darker", "brightness", -1.0),
    ("more contrast", "contrast", 1.0),
    ("less contrast", "contrast", -1.0),
    ("more saturated", "colorfulness", 1.0),
    ("less saturated", "colorfulness", -1.0),
];

/// One check's outcome.
struct Check {
    photo: String,
    what: String,
    value: String,
    held: bool,
    why: String,
}

#[test]
fn plain_instructions_look_like_a_retouchers_edits() {
    let photos = match std::env::var_os("PERTOUCH_PERCEPTUAL_PHOTOS") {
        Some(dir) => photos_in(std::path::Path::new(&dir)),
        None => sample_photos(),
    };
    let mut checks: Vec<Check> = Vec::new();
    println!(
        "{:<12} {:<16} {:>6} {:>6} {:>6} {:>6} {:>6}",
        "photo", "instruction", "mean", "p99", "da*", "db*", "dL*"
    );
    for (name, full) in &photos {
        let photo = preview(full, 1024);
        let (w, h) = (photo.width(), photo.height());
        let before = photo.rgb_resized(w, h);
        let mut sizes: Vec<ChangeSize> = Vec::new();
        for (text, _, _) in PLAIN {
            let (out, outcome, _) = retouch_say(&photo, text);
            assert!(
                outcome.interpretation.regions().is_empty(),
                "{text:?} is global"
            );
            let s = change_size(&before, &out.rgb_resized(w, h), None).expect("whole frame");
            println!(
                "{name:<12} {text:<16} {:>6.2} {:>6.2} {:>+6.2} {:>+6.2} {:>+6.2}",
                s.mean, s.p99, s.mean_da, s.mean_db, s.mean_dl
            );
            sizes.push(s);
        }
        let mut check = |what: String, value: String, held: bool, why: String| {
            checks.push(Check {
                photo: name.clone(),
                what,
                value,
                held,
                why,
            })
        };
        for ((text, _, _), s) in PLAIN.iter().zip(&sizes) {
            check(
                format!("\"{text}\" mean ΔE00 in [0.8, 7.5]"),
                format!("{:.2}", s.mean),
                (0.8..=7.5).contains(&s.mean),
                if s.mean < 0.8 {
                    "too faint to see".into()
                } else {
                    "too strong for plain wording".into()
                },
            );
            let limit = 4.0 * s.mean + 2.0;
            check(
                format!("\"{text}\" p99 <= 4 x mean + 2"),
                format!("{:.2} <= {limit:.2}", s.p99),
                s.p99 <= limit,
                "a hot spot: a few colours change far more than the rest".into(),
            );
        }
        for pair in PLAIN.chunks(2).zip(sizes.chunks(2)) {
            let ((up, attr, _), (down, _, _)) = (pair.0[0], pair.0[1]);
            let (a, b) = (pair.1[0].mean, pair.1[1].mean);
            let ratio = a.max(b) / a.min(b).max(1e-6);
            check(
                format!("{attr}: \"{up}\" and \"{down}\" within 2x"),
                format!("{a:.2} vs {b:.2} ({ratio:.2}x)"),
                ratio <= 2.0,
                "one direction looks much stronger than the other".into(),
            );
        }
        for (i, sign) in [(0usize, 1.0f64), (1, -1.0)] {
            let s = &sizes[i];
            let text = PLAIN[i].0;
            let way = s.mean_db * sign > 0.0;
            let cast = s.mean_da.abs() <= 0.8 * s.mean_db.abs() + 0.5;
            check(
                format!("\"{text}\" moves b* the asked way without a cast"),
                format!("da* {:+.2}, db* {:+.2}", s.mean_da, s.mean_db),
                way && cast,
                if way {
                    "a green or magenta cast (a* moves as much as b*)".into()
                } else {
                    "b* moved the wrong way".into()
                },
            );
        }
        let (bw, _, _) = retouch_say(&photo, "black and white");
        let chroma = chroma_quantile(&bw.rgb_resized(w, h), 0.99);
        println!(
            "{name:<12} {:<16} p99 chroma {chroma:.2}",
            "black and white"
        );
        check(
            "\"black and white\" p99 chroma <= 4".into(),
            format!("{chroma:.2}"),
            chroma <= 4.0,
            "colour is left".into(),
        );
    }
    let held = checks.iter().filter(|c| c.held).count();
    println!();
    println!("{:<12} {:<64} {:<24} held", "photo", "check", "value");
    for c in &checks {
        println!(
            "{:<12} {:<64} {:<24} {}",
            c.photo,
            c.what,
            c.value,
            if c.held { "yes" } else { "NO" }
        );
    }
    println!(
        "\n{held} of {} checks hold ({:.1}%)",
        checks.len(),
        100.0 * held as f64 / checks.len() as f64
    );
    for c in checks.iter().filter(|c| !c.held) {
        println!("failed: {} {}: {} ({})", c.photo, c.what, c.value, c.why);
    }
    assert!(checks.len() >= 23 * photos.len(), "every check ran");
    assert!(
        held as f64 >= 0.95 * checks.len() as f64,
        "only {held} of {} checks hold",
        checks.len()
    );
}
