//! The `pertouch` program end to end: real files in, real files out.

mod common;

use common::{p, pertouch, sample, text};

#[test]
fn retouch_writes_the_photo_and_a_report_that_hits_the_target() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jpg");
    let report = dir.path().join("report.json");
    let o = pertouch(&[
        "retouch",
        &sample("coffee.png"),
        "-o",
        p(&out),
        "--set",
        "brightness=+0.2",
        "--set",
        "saturation=-0.2",
        "--report",
        p(&report),
        "-q",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let img = image::open(&out).unwrap();
    let src = image::open(sample("coffee.png")).unwrap();
    assert_eq!((img.width(), img.height()), (src.width(), src.height()));
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let edits = r["edits"].as_array().unwrap();
    assert_eq!(edits.len(), 2);
    for e in edits {
        let err = (e["achieved"].as_f64().unwrap() - e["target"].as_f64().unwrap()).abs();
        assert!(err < 0.05, "{e}");
    }
    assert!(text(&o).contains("brightness"));
}

/// The README's own command as a state: global attributes measured on different
/// parts of the photo (temperature where the sky's mask is not, contrast on the
/// whole frame) solved together. Measuring the whole group on the first one's
/// weights drove the global temperature to +0.88 for a -0.35 target (an orange
/// frame around a blue sky) before the fix.
#[test]
fn global_attributes_on_different_weights_hit_their_targets() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jpg");
    let report = dir.path().join("report.json");
    let state = r#"{"global": {"brightness": 0.07, "temperature": 0.17, "contrast": 0.24}, "sky": {"temperature": -0.05}}"#;
    let o = pertouch(&[
        "retouch",
        &sample("rocket.jpg"),
        "-o",
        p(&out),
        "--state",
        state,
        "--report",
        p(&report),
        "-q",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let r: serde_json::Value = serde_json::from_slice(&std::fs::read(&report).unwrap()).unwrap();
    let edits = r["edits"].as_array().unwrap();
    assert_eq!(edits.len(), 4);
    for e in edits {
        let err = (e["achieved"].as_f64().unwrap() - e["target"].as_f64().unwrap()).abs();
        assert!(err < 0.06, "{e}");
    }
}

#[test]
fn masked_region_edit_with_state_json() {
    let dir = tempfile::tempdir().unwrap();
    let src = image::open(sample("rocket.jpg")).unwrap();
    let (w, h) = (src.width(), src.height());
    // A rough sky mask at a quarter of the size: masks may be any size with the same aspect.
    let mask = image::GrayImage::from_fn(w / 4, h / 4, |_, y| {
        image::Luma([if y < h / 12 { 255 } else { 0 }])
    });
    let mask_path = dir.path().join("sky.png");
    mask.save(&mask_path).unwrap();
    let out = dir.path().join("out.png");
    let o = pertouch(&[
        "retouch",
        &sample("rocket.jpg"),
        "-o",
        p(&out),
        "--mask",
        &format!("sky={}", p(&mask_path)),
        "--state",
        r#"{"sky": {"temperature": 0.3}}"#,
        "-q",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let a = src.to_rgb8();
    let b = image::open(&out).unwrap().to_rgb8();
    // Top rows warmer (more red relative to blue), bottom rows untouched.
    let warmth = |img: &image::RgbImage, y: u32| {
        (0..w)
            .map(|x| img.get_pixel(x, y)[0] as f64 - img.get_pixel(x, y)[2] as f64)
            .sum::<f64>()
    };
    assert!(warmth(&b, 5) > warmth(&a, 5) + w as f64);
    assert_eq!(a.get_pixel(w / 2, h - 3), b.get_pixel(w / 2, h - 3));
}

#[test]
fn sixteen_bit_png_with_alpha_stays_sixteen_bit_with_alpha() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.png");
    let img = image::ImageBuffer::<image::Rgba<u16>, _>::from_fn(64, 40, |x, y| {
        image::Rgba([
            (x * 1000) as u16,
            (y * 1500) as u16,
            30000,
            (x * y * 20) as u16,
        ])
    });
    img.save(&input).unwrap();
    let out = dir.path().join("out.png");
    let o = pertouch(&[
        "retouch",
        p(&input),
        "-o",
        p(&out),
        "--set",
        "contrast=0.2",
        "-q",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let back = image::open(&out).unwrap();
    assert_eq!(back.color(), image::ColorType::Rgba16);
    let back = back.to_rgba16();
    for (a, b) in img.pixels().zip(back.pixels()) {
        assert_eq!(a[3], b[3], "alpha preserved");
    }
}

#[test]
fn measure_json_gives_levels_for_global_and_masks() {
    let dir = tempfile::tempdir().unwrap();
    let src = image::open(sample("dune.jpg")).unwrap();
    let mask = image::GrayImage::from_fn(src.width(), src.height(), |_, y| {
        image::Luma([if y < src.height() / 3 { 255 } else { 0 }])
    });
    let mask_path = dir.path().join("top.png");
    mask.save(&mask_path).unwrap();
    let o = pertouch(&[
        "measure",
        &sample("dune.jpg"),
        "--mask",
        &format!("top={}", p(&mask_path)),
        "--json",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).unwrap();
    for region in ["global", "top"] {
        for attr in ["colorfulness", "contrast", "temperature", "brightness"] {
            let l = v[region]["levels"][attr]
                .as_f64()
                .unwrap_or_else(|| panic!("{region}.{attr} in {v}"));
            assert!((-1.0..=1.0).contains(&l));
        }
        assert!(v[region]["raw"]["brightness"].as_f64().unwrap() > 0.0);
    }
    let human = pertouch(&["measure", &sample("dune.jpg")]);
    assert!(text(&human).contains("colorfulness"));
}

#[test]
fn map_writes_a_four_panel_false_colour_png() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("map.png");
    let o = pertouch(&[
        "map",
        &sample("chelsea.png"),
        "-o",
        p(&out),
        "--set",
        "warmth=0.5",
        "--size",
        "100",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let m = image::open(&out).unwrap().to_rgb8();
    let src = image::open(sample("chelsea.png")).unwrap();
    let pw = 100u32;
    let ph = (src.height() as f64 * 100.0 / src.width() as f64).round() as u32;
    assert_eq!((m.width(), m.height()), (2 * pw + 1, 2 * ph + 1));
    // Temperature panel (bottom left) is orange; colourfulness panel (top left) neutral.
    let t = m.get_pixel(pw / 2, ph + 1 + ph / 2);
    let c = m.get_pixel(pw / 2, ph / 2);
    assert!(t[0] > t[2] + 60, "{t:?}");
    assert!((c[0] as i32 - c[2] as i32).abs() < 10, "{c:?}");
}

#[test]
fn bad_input_gives_clear_errors_and_writes_nothing() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.jpg");
    let junk = dir.path().join("junk.jpg");
    std::fs::write(&junk, b"\xff\xd8\xff garbage that is not a jpeg").unwrap();
    let cases: Vec<(Vec<String>, &str)> = vec![
        (
            vec![
                "retouch".into(),
                p(&junk).into(),
                "-o".into(),
                p(&out).into(),
            ],
            "junk.jpg",
        ),
        (
            vec![
                "retouch".into(),
                "/nonexistent/x.png".into(),
                "-o".into(),
                p(&out).into(),
            ],
            "/nonexistent/x.png",
        ),
        (
            vec![
                "retouch".into(),
                sample("coffee.png"),
                "-o".into(),
                p(&out).into(),
                "--set".into(),
                "sky.hue=0.2".into(),
            ],
            "unknown attribute \"hue\"",
        ),
        (
            vec![
                "retouch".into(),
                sample("coffee.png"),
                "-o".into(),
                p(&out).into(),
                "--set".into(),
                "car.brightness=0.2".into(),
            ],
            "no segmenter can find \"car\"",
        ),
        (
            vec![
                "retouch".into(),
                sample("coffee.png"),
                "-o".into(),
                p(&out).into(),
                "--state".into(),
                "{\"sky\": [1]}".into(),
            ],
            "region \"sky\"",
        ),
        (
            vec![
                "retouch".into(),
                sample("coffee.png"),
                "-o".into(),
                dir.path().join("x.bmpx").to_string_lossy().into_owned(),
            ],
            "unknown output extension",
        ),
        (
            vec![
                "retouch".into(),
                sample("coffee.png"),
                "-o".into(),
                p(&out).into(),
                "--max-megapixels".into(),
                "0.01".into(),
            ],
            "megapixels",
        ),
        (
            vec![
                "retouch".into(),
                sample("coffee.png"),
                "-o".into(),
                p(&out).into(),
                "--mask".into(),
                format!("sky={}", sample("astronaut.png")),
            ],
            "aspect ratios differ",
        ),
    ];
    for (args, needle) in cases {
        let args: Vec<&str> = args.iter().map(String::as_str).collect();
        let o = pertouch(&args);
        assert!(!o.status.success(), "{args:?} should fail");
        let t = text(&o);
        assert!(t.contains(needle), "{args:?}: expected {needle:?} in {t}");
        assert!(!t.contains("panicked"), "{t}");
        assert!(!out.exists(), "{args:?} wrote an output");
    }
}

#[test]
fn refuses_to_overwrite_the_input_without_force() {
    let dir = tempfile::tempdir().unwrap();
    let input = dir.path().join("in.png");
    std::fs::copy(sample("chelsea.png"), &input).unwrap();
    let before = std::fs::read(&input).unwrap();
    let o = pertouch(&[
        "retouch",
        p(&input),
        "-o",
        p(&input),
        "--set",
        "brightness=0.1",
    ]);
    assert!(!o.status.success());
    assert!(text(&o).contains("--force"));
    assert_eq!(std::fs::read(&input).unwrap(), before);
}

#[test]
fn calibrate_fits_tables_that_retouch_accepts() {
    let dir = tempfile::tempdir().unwrap();
    let photos = dir.path().join("photos");
    std::fs::create_dir(&photos).unwrap();
    for f in ["coffee.png", "chelsea.png", "rocket.jpg"] {
        std::fs::copy(sample(f), photos.join(f)).unwrap();
    }
    let tables = dir.path().join("t.json");
    let o = pertouch(&["calibrate", p(&photos), "-o", p(&tables), "-q"]);
    assert!(o.status.success(), "{}", text(&o));
    let out = dir.path().join("o.png");
    let o = pertouch(&[
        "retouch",
        &sample("coffee.png"),
        "-o",
        p(&out),
        "--tables",
        p(&tables),
        "--set",
        "contrast=0.2",
        "-q",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let bad = dir.path().join("bad.json");
    std::fs::write(&bad, r#"{"analysis_long_side": 512}"#).unwrap();
    let o = pertouch(&["measure", &sample("coffee.png"), "--tables", p(&bad)]);
    assert!(!o.status.success());
    assert!(text(&o).contains("bad.json"), "{}", text(&o));
}

#[test]
fn help_teaches_with_examples() {
    let o = pertouch(&["--help"]);
    let t = text(&o);
    assert!(
        t.contains("Examples:") && t.contains("--set sky.temperature"),
        "{t}"
    );
    let o = pertouch(&["retouch", "--help"]);
    assert!(text(&o).contains("[REGION.]ATTRIBUTE=VALUE"));
}

#[test]
fn segment_writes_refined_masks_and_explains_unknown_regions() {
    let dir = tempfile::tempdir().unwrap();
    let sky = dir.path().join("sky.png");
    let trees = dir.path().join("trees.png");
    let o = pertouch(&[
        "segment",
        &sample("dune.jpg"),
        "-r",
        "sky",
        "-o",
        p(&sky),
        "-r",
        "trees",
        "-o",
        p(&trees),
        "--size",
        "400",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    for f in [&sky, &trees] {
        let m = image::open(f).unwrap().to_luma8();
        assert_eq!((m.width(), m.height()), (400, 250));
        // Soft edges: values between the extremes exist, and both extremes do.
        let v: Vec<u8> = m.pixels().map(|p| p.0[0]).collect();
        assert!(v.contains(&0) && v.contains(&255));
        assert!(v.iter().any(|&x| x > 20 && x < 235));
    }
    // The sky is at the top of this photo, the grass at the bottom.
    let sky = image::open(&sky).unwrap().to_luma8();
    assert!(sky.get_pixel(200, 10).0[0] > 200 && sky.get_pixel(200, 240).0[0] < 50);
    let o = pertouch(&[
        "segment",
        &sample("dune.jpg"),
        "-r",
        "building",
        "-o",
        p(&trees),
    ]);
    assert!(!o.status.success());
    let t = text(&o);
    assert!(
        t.contains("\"building\"") && t.contains("vegetation (grass, trees"),
        "{t}"
    );
    let o = pertouch(&["segment", &sample("dune.jpg"), "--list"]);
    assert!(text(&o).contains("skin") && text(&o).contains("face"));
}
