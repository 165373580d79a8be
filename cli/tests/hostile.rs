//! Hostile and broken input against the real `pertouch` program (issue 18): files
//! that crash decoders, cut-off photos, size bombs, panoramas, killed saves. Each
//! test names the item it holds and how main failed it.

mod common;

use common::{p, pertouch, sample_path as sample, text};
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

fn hostile(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("../core/tests/data/hostile")
        .join(name)
}

/// A failure that is an error, not a crash: exit status 1, the file named, no
/// panic text.
fn assert_clean_failure(o: &Output, needles: &[&str]) {
    let t = text(o);
    assert_eq!(o.status.code(), Some(1), "{t}");
    assert!(!t.contains("panicked"), "{t}");
    for n in needles {
        assert!(t.contains(n), "expected {n:?} in: {t}");
    }
}

/// Item 4. On main `measure` exited 101 with the `tiff` crate's assertion, and
/// `calibrate` over a folder holding the file aborted.
#[test]
fn a_file_that_crashes_its_decoder_fails_alone() {
    let o = pertouch(&["measure", p(&hostile("tiled-planar.tif"))]);
    assert_clean_failure(&o, &["tiled-planar.tif", "TIFF decoder failed"]);

    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    std::fs::copy(sample("coffee.png"), photos.join("a.png")).unwrap();
    std::fs::copy(sample("chelsea.png"), photos.join("b.png")).unwrap();
    std::fs::copy(hostile("tiled-planar.tif"), photos.join("c.tif")).unwrap();
    let tables = dir.path().join("t.json");
    let o = pertouch(&["calibrate", p(&photos), "-o", p(&tables), "-q"]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(t.contains("skipping") && t.contains("c.tif"), "{t}");
    assert!(t.contains("from 2 photos"), "{t}");
    assert!(!t.contains("panicked"), "{t}");
}

/// Item 6. On main a JPEG cut in half was read with its lower half grey, and
/// `retouch`, `measure`, `calibrate` and `--mask` carried on (exit 0).
#[test]
fn cut_off_jpegs_are_refused_wherever_an_image_is_read() {
    let dir = tempfile::tempdir().unwrap();
    let whole = std::fs::read(sample("dune.jpg")).unwrap();
    let cut = dir.path().join("cut.jpg");
    std::fs::write(&cut, &whole[..whole.len() / 2]).unwrap();
    let out = dir.path().join("out.png");
    let needles = ["cut.jpg", "cut off"];
    assert_clean_failure(&pertouch(&["retouch", p(&cut), "-o", p(&out)]), &needles);
    assert_clean_failure(&pertouch(&["measure", p(&cut)]), &needles);
    let mask = format!("sky={}", p(&cut));
    let dune = sample("dune.jpg");
    assert_clean_failure(
        &pertouch(&["retouch", p(&dune), "-o", p(&out), "--mask", &mask]),
        &needles,
    );
    assert_clean_failure(&pertouch(&["measure", p(&dune), "--mask", &mask]), &needles);
    assert!(!out.exists());
    // calibrate skips it, naming it, and fits on the rest.
    let photos = dir.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    std::fs::copy(sample("coffee.png"), photos.join("a.png")).unwrap();
    std::fs::copy(sample("chelsea.png"), photos.join("b.png")).unwrap();
    std::fs::copy(&cut, photos.join("c.jpg")).unwrap();
    let o = pertouch(&[
        "calibrate",
        p(&photos),
        "-o",
        p(&dir.path().join("t.json")),
        "-q",
    ]);
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains("c.jpg") && t.contains("cut off") && t.contains("from 2 photos"),
        "{t}"
    );
}

/// Item 8. On main `--max-megapixels NaN` switched the bomb guard off (NaN
/// compares false), and the 30 KB 249,000,000 x 1 PNG was decoded (6.5 GB peak).
#[test]
fn size_limits_hold() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.png");
    for bad in ["NaN", "inf", "0", "-5"] {
        let limit = format!("--max-megapixels={bad}");
        let o = pertouch(&["retouch", p(&sample("coffee.png")), "-o", p(&out), &limit]);
        assert_clean_failure(&o, &["not a positive number"]);
    }
    let o = pertouch(&["measure", p(&hostile("wide-bomb.png"))]);
    assert_clean_failure(&o, &["wide-bomb.png", "249000000 x 1", "100000"]);
    assert!(!out.exists());
}

/// Item 9. On main a 12000 x 360 panorama failed with `mask "shadows": aspect
/// ratios differ` although the user gave no mask: the segmenter's 512 x 15 mask
/// was 2.4% off the photo's aspect.
#[test]
fn panoramas_retouch_by_tonal_and_found_regions() {
    let dir = tempfile::tempdir().unwrap();
    for (w, h) in [(12000u32, 360u32), (20000, 400)] {
        let pano = dir.path().join(format!("pano-{w}.png"));
        image::RgbImage::from_fn(w, h, |x, y| {
            let sky = y < h / 3;
            let v = ((x / 37 + y) % 200) as u8;
            if sky {
                image::Rgb([90, 140, 200u8.saturating_sub(v / 8)])
            } else {
                image::Rgb([v / 2 + 20, v / 2 + 40, v / 3])
            }
        })
        .save(&pano)
        .unwrap();
        let out = dir.path().join(format!("out-{w}.jpg"));
        let o = pertouch(&[
            "retouch",
            p(&pano),
            "-o",
            p(&out),
            "--set",
            "shadows.brightness=0.2",
            "--set",
            "sky.temperature=-0.1",
            "-q",
        ]);
        assert!(o.status.success(), "{w} x {h}: {}", text(&o));
        let img = image::open(&out).unwrap();
        assert_eq!((img.width(), img.height()), (w, h));
    }
}

/// Item 11. A save killed with SIGKILL leaves its `.pertouch-*.tmp` file; on main
/// nothing ever removed it. The photo under the target name is whole or absent,
/// and the next save in the folder removes the leftover once it is old enough to
/// be sure no writer holds it (here: aged by setting its time back).
#[cfg(unix)]
#[test]
fn a_save_killed_midway_leaves_no_lasting_leftover() {
    let dir = tempfile::tempdir().unwrap();
    let big = dir.path().join("big.png");
    // Noise does not compress: a slow, long save.
    image::RgbImage::from_fn(3000, 2000, |x, y| {
        let h = (x.wrapping_mul(2654435761) ^ y.wrapping_mul(40503)).wrapping_mul(2246822519);
        image::Rgb([h as u8, (h >> 8) as u8, (h >> 16) as u8])
    })
    .save(&big)
    .unwrap();
    let outs = dir.path().join("outs");
    std::fs::create_dir(&outs).unwrap();
    let out = outs.join("out.png");
    let leftovers = || -> Vec<PathBuf> {
        std::fs::read_dir(&outs)
            .unwrap()
            .map(|e| e.unwrap().path())
            .filter(|p| {
                let n = p.file_name().unwrap().to_string_lossy().into_owned();
                n.starts_with(".pertouch-") && n.ends_with(".tmp")
            })
            .collect()
    };
    let mut seen = Vec::new();
    for delay_ms in [300u64, 600, 900, 1200, 1600, 2000, 2500, 3000, 4000, 5000] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_pertouch"))
            .args([
                "retouch",
                p(&big),
                "-o",
                p(&out),
                "--set",
                "contrast=0.1",
                "-q",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(std::time::Duration::from_millis(delay_ms));
        let _ = child.kill();
        let _ = child.wait();
        if out.exists() {
            let img = image::open(&out).expect("a photo under the target name is whole");
            assert_eq!((img.width(), img.height()), (3000, 2000));
        }
        seen = leftovers();
        if !seen.is_empty() {
            break;
        }
    }
    assert!(!seen.is_empty(), "no kill landed inside a save");
    // The killed process's lock died with it; the file only has to be old.
    for f in &seen {
        let file = std::fs::File::options().write(true).open(f).unwrap();
        file.set_modified(std::time::SystemTime::now() - std::time::Duration::from_secs(3600))
            .unwrap();
    }
    let small = dir.path().join("small.png");
    image::RgbImage::from_pixel(64, 48, image::Rgb([120, 110, 100]))
        .save(&small)
        .unwrap();
    let o = pertouch(&["retouch", p(&small), "-o", p(&outs.join("next.png")), "-q"]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(leftovers(), Vec::<PathBuf>::new());
}

/// A package folder `dir` with one listed file and the manifest `name`.
fn write_package(dir: &Path, name: &str, listed: &[(&str, &str)]) {
    std::fs::create_dir_all(dir).unwrap();
    let files: Vec<serde_json::Value> = listed
        .iter()
        .enumerate()
        .map(|(i, (path, sha))| {
            serde_json::json!({"path": path, "sha256": sha, "role": if i == 0 { "model" } else { "data" }})
        })
        .collect();
    let m = serde_json::json!({
        "schema": 1, "name": name, "task": "test", "version": "1",
        "licence": "CC0-1.0", "source": "hostile test", "files": files,
    });
    std::fs::write(dir.join("manifest.json"), m.to_string()).unwrap();
}

fn models(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pertouch"))
        .arg("models")
        .args(args)
        .env("PERTOUCH_DATA_DIR", data)
        .output()
        .expect("run pertouch")
}

/// Item 7 through the program. On main: a package named "." failed with "Device
/// or resource busy"; a listed file reached through `sub -> /etc` was imported;
/// a killed import's `.import-*` folder was listed as installed.
#[cfg(unix)]
#[test]
fn model_imports_refuse_hostile_packages() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    // The SHA-256 of "graph".
    let graph_sha = "eef93e1d14482804277fca0172464032d1a4fdbcc338524059fa1e861454ad4d";
    let dot = dir.path().join("dot");
    write_package(&dot, ".", &[("m.onnx", graph_sha)]);
    std::fs::write(dot.join("m.onnx"), b"graph").unwrap();
    let o = models(&data, &["import", p(&dot)]);
    assert_clean_failure(
        &o,
        &["not a plain folder name", "start with a letter or digit"],
    );

    let linked = dir.path().join("linked");
    write_package(
        &linked,
        "pkg",
        &[("m.onnx", graph_sha), ("sub/passwd", &"0".repeat(64))],
    );
    std::fs::write(linked.join("m.onnx"), b"graph").unwrap();
    std::os::unix::fs::symlink("/etc", linked.join("sub")).unwrap();
    let o = models(&data, &["import", p(&linked)]);
    assert_clean_failure(&o, &["sub/passwd", "symbolic link"]);

    // What a killed import leaves is not a package.
    let staging = data.join("models").join(".import-x1");
    write_package(&staging, "seg", &[("m.onnx", graph_sha)]);
    let o = models(&data, &["list"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("no model packages"), "{}", text(&o));
    assert_clean_failure(
        &models(&data, &["path", "seg"]),
        &["no model package named \"seg\""],
    );
}

fn with_data(data: &Path, args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_pertouch"))
        .args(args)
        .env("PERTOUCH_DATA_DIR", data)
        .env("USER", "tester")
        .output()
        .expect("run pertouch")
}

/// Item 10. On main a memory export's records went into the store unchecked; one
/// unusable record made every `--recall` of a similar photo fail without naming
/// the file, and `memory list` printed record text raw (terminal escapes).
#[test]
fn memory_records_from_files_are_checked_and_shown_inert() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let record = |id: &str, instruction: &str, state: serde_json::Value| {
        serde_json::json!({
            "id": id, "created": 1_700_000_000u64, "instruction": instruction,
            "scene": {"tags": ["sky", "outdoor"], "features": [0.3, 0.1, 0.0, 0.0, 0.1, 0.0, -0.2, 0.05]},
            "state": state, "accepted": true,
        })
    };
    let export = dir.path().join("export.json");
    let doc = serde_json::json!({"version": 1, "user": "tester", "profile": "cli", "records": [
        record("ok-1", "warmer", serde_json::json!({"sky": {"temperature": 0.1}})),
        record("evil-1", "\u{1b}]0;pwned\u{7}\u{1b}[2J", serde_json::json!({"sky": {"temperature": 0.1}})),
    ]});
    std::fs::write(&export, doc.to_string()).unwrap();
    let o = with_data(&data, &["memory", "import", p(&export)]);
    assert_clean_failure(
        &o,
        &["export.json", "record 2", "evil-1", "control characters"],
    );
    assert!(!o.stderr.contains(&0x1b) && !o.stdout.contains(&0x1b));

    // A store edited by hand: an unusable record and one with escapes. Recall
    // passes over them and says which file; list shows them escaped.
    let folder = data.join("memory").join("tester");
    std::fs::create_dir_all(&folder).unwrap();
    let store = serde_json::json!({"version": 1, "user": "tester", "profile": "cli", "records": [
        record("ok-1", "warmer", serde_json::json!({"sky": {"temperature": 0.1}})),
        record("broken-2", "x", serde_json::json!({"sky": [1]})),
        record("evil-3", "\u{1b}]0;pwned\u{7}", serde_json::json!({"sky": {"temperature": 0.3}})),
    ]});
    std::fs::write(folder.join("cli.json"), store.to_string()).unwrap();
    let out = dir.path().join("out.jpg");
    let o = with_data(
        &data,
        &[
            "retouch",
            p(&sample("dune.jpg")),
            "-o",
            p(&out),
            "--recall",
            "-q",
        ],
    );
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains("recalled: {\"sky\":{\"temperature\":0.1}}"),
        "{t}"
    );
    assert!(t.contains("cli.json") && t.contains("broken-2"), "{t}");
    assert!(
        !o.stdout.contains(&0x1b) && !o.stderr.contains(&0x1b),
        "{t}"
    );
    let o = with_data(&data, &["memory", "list"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(!o.stdout.contains(&0x1b), "{}", text(&o));
    assert!(text(&o).contains("\\u{1b}]0;pwned\\u{7}"), "{}", text(&o));
}

/// Item 12. A VLM server that accepts requests and never answers. On main each
/// attempt waited the whole timeout and was retried, at every step: `retouch
/// --agent vlm` did not finish in 150 s. Now the server is asked once, and the
/// offline agent takes over for the rest of the run, saying so.
#[test]
fn a_hung_vlm_server_is_asked_once_then_the_offline_agent_takes_over() {
    use pertouch_test_server::{Reply, Server};
    // Every request gets silence (the offline agent must not depend on how many
    // the client would have sent).
    let server = Server::start(std::iter::repeat_n(Reply::Silent, 8));
    let dir = tempfile::tempdir().unwrap();
    let config = dir.path().join("config.toml");
    std::fs::write(
        &config,
        format!(
            "[agent]\nkind = \"vlm\"\n[vlm]\nurl = \"{}\"\nmodel = \"m\"\ntimeout_s = 1\nretries = 2\n",
            server.url()
        ),
    )
    .unwrap();
    let out = dir.path().join("out.jpg");
    let o = Command::new(env!("CARGO_BIN_EXE_pertouch"))
        .args(["retouch", p(&sample("dune.jpg")), "-o", p(&out), "-q"])
        .args(["--say", "make the sky a bit warmer"])
        .env("PERTOUCH_CONFIG", &config)
        .env("PERTOUCH_DATA_DIR", dir.path().join("data"))
        .output()
        .unwrap();
    let t = text(&o);
    assert!(o.status.success(), "{t}");
    assert!(
        t.contains("agent: VLM classification failed (the VLM server sent nothing for 1.0 s)"),
        "{t}"
    );
    assert!(t.contains("the offline agent read the instruction"), "{t}");
    assert!(out.exists());
    assert_eq!(server.seen().len(), 1, "{t}");
}

/// Item 5. On main `--report IN` wrote JSON over the input photo, `--report OUT`
/// replaced the photo just written, and `segment`, `map`, `calibrate` and `chat`
/// with `-o IN` overwrote their input. Every output is now checked against every
/// input and every other output (symbolic and hard links included) before any
/// work, and nothing is written.
#[test]
fn outputs_never_overwrite_inputs() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let photo = d.join("in.png");
    std::fs::copy(sample("chelsea.png"), &photo).unwrap();
    let (w, h) = image::image_dimensions(&photo).unwrap();
    let mask = d.join("sky.png");
    image::GrayImage::from_fn(w / 4, h / 4, |_, y| {
        image::Luma([if y < h / 16 { 255 } else { 0 }])
    })
    .save(&mask)
    .unwrap();
    let photo_bytes = std::fs::read(&photo).unwrap();
    let mask_bytes = std::fs::read(&mask).unwrap();
    let data = d.join("data");
    let run = |args: &[&str]| {
        Command::new(env!("CARGO_BIN_EXE_pertouch"))
            .args(args)
            .env("PERTOUCH_DATA_DIR", &data)
            .env("USER", "tester")
            .stdin(Stdio::null())
            .output()
            .unwrap()
    };
    let out = d.join("out.png");
    let mask_arg = format!("sky={}", p(&mask));
    let symlink = d.join("link.png");
    let hardlink = d.join("hard.png");
    #[cfg(unix)]
    std::os::unix::fs::symlink(&photo, &symlink).unwrap();
    #[cfg(not(unix))]
    std::fs::copy(&photo, &symlink).unwrap();
    std::fs::hard_link(&photo, &hardlink).unwrap();
    let photos = d.join("photos");
    std::fs::create_dir(&photos).unwrap();
    std::fs::copy(sample("coffee.png"), photos.join("a.png")).unwrap();
    std::fs::copy(sample("chelsea.png"), photos.join("b.png")).unwrap();
    let photo_a = photos.join("a.png");
    let a_bytes = std::fs::read(&photo_a).unwrap();
    let cases: Vec<(Vec<&str>, &str)> = vec![
        (
            vec!["retouch", p(&photo), "-o", p(&out), "--report", p(&photo)],
            "the input photo",
        ),
        (
            vec!["retouch", p(&photo), "-o", p(&out), "--report", p(&out)],
            "the -o output",
        ),
        (
            vec![
                "retouch",
                p(&photo),
                "-o",
                p(&photo),
                "--force",
                "--report",
                p(&photo),
            ],
            "the -o output",
        ),
        (
            vec!["retouch", p(&photo), "-o", p(&symlink)],
            "--force replaces it",
        ),
        (
            vec!["retouch", p(&photo), "-o", p(&hardlink)],
            "--force replaces it",
        ),
        (
            vec![
                "retouch",
                p(&photo),
                "-o",
                p(&mask),
                "--mask",
                &mask_arg,
                "--force",
            ],
            "the mask \"sky\"",
        ),
        (
            vec![
                "retouch",
                p(&photo),
                "-o",
                p(&out),
                "--mask",
                &mask_arg,
                "--report",
                p(&mask),
            ],
            "the mask \"sky\"",
        ),
        (
            vec!["segment", p(&photo), "-r", "sky", "-o", p(&photo)],
            "the input photo",
        ),
        (
            vec![
                "segment",
                p(&photo),
                "-r",
                "sky",
                "-o",
                p(&out),
                "-r",
                "shadows",
                "-o",
                p(&out),
            ],
            "the mask for \"sky\"",
        ),
        (vec!["map", p(&photo), "-o", p(&photo)], "the input photo"),
        (
            vec!["map", p(&photo), "-o", p(&mask), "--mask", &mask_arg],
            "the mask \"sky\"",
        ),
        (
            vec!["calibrate", p(&photos), "-o", p(&photo_a)],
            "a photo being measured",
        ),
        (
            vec!["chat", p(&photo), "-o", p(&hardlink)],
            "the input photo",
        ),
    ];
    for (args, what) in cases {
        let o = run(&args);
        assert_clean_failure(&o, &["is the same file as", what, "nothing was written"]);
        assert_eq!(
            std::fs::read(&photo).unwrap(),
            photo_bytes,
            "{args:?} changed the photo"
        );
        assert_eq!(
            std::fs::read(&mask).unwrap(),
            mask_bytes,
            "{args:?} changed the mask"
        );
        assert_eq!(
            std::fs::read(photos.join("a.png")).unwrap(),
            a_bytes,
            "{args:?}"
        );
        assert!(!out.exists(), "{args:?} wrote an output");
    }
    // The memory file itself is not an export target.
    let export = d.join("e.json");
    let rec = serde_json::json!({"version": 1, "user": "tester", "profile": "cli", "records": []});
    std::fs::write(&export, rec.to_string()).unwrap();
    assert!(run(&["memory", "import", p(&export)]).status.success());
    let store = data.join("memory").join("tester").join("cli.json");
    let before = std::fs::read(&store).unwrap();
    let o = run(&["memory", "export", p(&store)]);
    assert_clean_failure(&o, &["the memory file"]);
    assert_eq!(std::fs::read(&store).unwrap(), before);
    // What is still allowed: a retouch in place with --force, and a report.
    let report = d.join("r.json");
    let o = run(&[
        "retouch",
        p(&photo),
        "-o",
        p(&photo),
        "--force",
        "--report",
        p(&report),
        "-q",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(report.exists());
}
