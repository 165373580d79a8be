//! The OpenFX bundle in a real host nobody on this project wrote: MLT's openfx
//! module (melt 7.42 from Debian sid, run in a chroot that
//! build/ofx-mlt-e2e.sh makes and caches). Each case renders a sample photo
//! through `melt` twice, without and with the plug-in, from the same decoded
//! input; the core then renders that input (the "before" picture melt wrote)
//! with the same edit, and the plug-in's output must equal it within 1/255,
//! with no pixel more transparent than the input.
//!
//! Needs `PERTOUCH_MLT_ROOT` (the host's root folder) and
//! `PERTOUCH_MLT_PLUGINS` (the folder inside it holding PerTouch.ofx.bundle);
//! build/ofx-mlt-e2e.sh sets both. Without them every case says it was skipped,
//! unless `PERTOUCH_REQUIRE_MLT` is set (CI), when they fail.
//! `PERTOUCH_MLT_OUT=DIR` keeps the before/after pictures and melt's logs.

use pertouch_core::host::{Engine, EngineConfig};
use pertouch_core::image_io::{load, LoadOptions};
use pertouch_core::params::RegionState;
use pertouch_core::raster::{Depth, Raster};
use pertouch_core::render::Control;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

const ONE_LEVEL: f32 = 1.0 / 255.0 + 1e-6;
const PLUGIN: &str = "openfx.org.pertouch.PerTouch";

/// The host's root folder and the plug-in folder inside it, or `None` (the case
/// is skipped) when build/ofx-mlt-e2e.sh did not set them up.
fn host() -> Option<(PathBuf, String)> {
    let root = std::env::var_os("PERTOUCH_MLT_ROOT").map(PathBuf::from);
    let plugins = std::env::var("PERTOUCH_MLT_PLUGINS").ok();
    match (root, plugins) {
        (Some(r), Some(p)) if r.join("usr/bin/melt").exists() => Some((r, p)),
        _ => {
            assert!(
                std::env::var_os("PERTOUCH_REQUIRE_MLT").is_none(),
                "PERTOUCH_REQUIRE_MLT is set but there is no MLT host: run build/ofx-mlt-e2e.sh"
            );
            eprintln!("note: skipped, no MLT host (build/ofx-mlt-e2e.sh runs these)");
            None
        }
    }
}

/// One case's work folder inside the host root.
struct Case {
    root: PathBuf,
    plugins: String,
    /// The folder as seen inside the root.
    inside: String,
    name: String,
}

impl Case {
    fn new(name: &str) -> Option<Case> {
        let (root, plugins) = host()?;
        let inside = format!("/pertouch-e2e/{}-{name}", std::process::id());
        let dir = root.join(inside.trim_start_matches('/'));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Some(Case {
            root,
            plugins,
            inside,
            name: name.to_string(),
        })
    }

    fn dir(&self) -> PathBuf {
        self.root.join(self.inside.trim_start_matches('/'))
    }

    /// Copies a sample photo in; its path inside the root.
    fn photo(&self, sample: &str) -> String {
        let from = pertouch_e2e::samples_dir().join(sample);
        std::fs::copy(&from, self.dir().join(sample)).unwrap();
        format!("{}/{sample}", self.inside)
    }

    /// Writes an MLT profile: `width` x `height` pixels of aspect `sar`, 25 fps
    /// (melt 7.42 crashes on a profile without a description line).
    fn profile(&self, name: &str, (width, height): (u32, u32), sar: (u32, u32)) -> String {
        let text = format!(
            "description={name}\nframe_rate_num=25\nframe_rate_den=1\nwidth={width}\nheight={height}\nprogressive=1\nsample_aspect_num={}\nsample_aspect_den={}\ndisplay_aspect_num={}\ndisplay_aspect_den={}\ncolorspace=709\n",
            sar.0,
            sar.1,
            width * sar.0,
            height * sar.1
        );
        std::fs::write(self.dir().join(format!("{name}.profile")), text).unwrap();
        format!("{}/{name}.profile", self.inside)
    }

    /// Runs melt in the host with `args`: `Some(log)`, or `None` when melt hung
    /// (killed after 45 s; a normal run takes a few seconds). Panics when melt fails.
    /// `terminate_on_pause=1` on the consumer: without it melt 7.42 hangs after
    /// the last frame in about one run of three (its transport loop never sees
    /// the consumer stop).
    fn melt(&self, log: &str, args: &[String]) -> Option<String> {
        let out = Command::new("timeout")
            .args(["-s", "KILL", "45", "chroot"])
            .arg(&self.root)
            .args([
                "/usr/bin/env",
                "-i",
                "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
                "HOME=/root",
                "LANG=C.UTF-8",
                "QT_QPA_PLATFORM=offscreen",
            ])
            .arg(format!("OFX_PLUGIN_PATH={}", self.plugins))
            .arg("melt")
            .args(args)
            .stdin(Stdio::null())
            .output()
            .expect("running chroot");
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        std::fs::write(self.dir().join(format!("{log}.log")), &text).unwrap();
        // Killed: `timeout` sends KILL to its process group, itself included.
        if out.status.code().is_none_or(|c| c == 124 || c == 137) {
            return None;
        }
        assert!(
            out.status.success(),
            "{}: melt {log} exited {:?}:\n{}",
            self.name,
            out.status.code(),
            text.lines().rev().take(12).collect::<Vec<_>>().join("\n")
        );
        Some(text)
    }

    /// One frame of `input` (frames `out` + 1 with `%03d` in the file name)
    /// through melt with `filter` args (none: the input alone) into `file`
    /// (PNG, RGBA; 16-bit with `depth16`), with extra consumer args.
    #[allow(clippy::too_many_arguments)]
    fn render(
        &self,
        file: &str,
        profile: &str,
        input: &str,
        last_frame: u32,
        filter: &[&str],
        consumer: &[&str],
        depth16: bool,
    ) -> String {
        let mut args: Vec<String> = vec![
            "-profile".into(),
            profile.into(),
            input.into(),
            format!("out={last_frame}"),
        ];
        if !filter.is_empty() {
            args.push("-filter".into());
            args.push(PLUGIN.into());
            args.extend(filter.iter().map(|s| s.to_string()));
        }
        let (format, pix) = if depth16 {
            ("rgba64", "rgba64be")
        } else {
            ("rgba", "rgba")
        };
        args.extend([
            "-consumer".into(),
            format!("avformat:{}/{file}", self.inside),
            "vcodec=png".into(),
            format!("pix_fmt={pix}"),
            format!("mlt_image_format={format}"),
            "f=image2".into(),
            "real_time=0".into(),
            "terminate_on_pause=1".into(),
        ]);
        if last_frame == 0 {
            args.push("update=1".into());
        }
        args.extend(consumer.iter().map(|s| s.to_string()));
        // The files melt writes: image2 numbers a sequence from 1.
        let written: Vec<String> = if last_frame == 0 {
            vec![file.to_string()]
        } else {
            (1..=last_frame + 1)
                .map(|i| file.replace("%03d", &format!("{i:03}")))
                .collect()
        };
        // melt 7.42 sometimes exits 0 without writing anything, or waits forever
        // for a consumer that never started (one thread left, asleep in its
        // transport loop), when several run at once, with or without any
        // plug-in loaded: a host race, so try again.
        for attempt in 1..=4 {
            match self.melt(file, &args) {
                Some(log) if written.iter().all(|f| self.dir().join(f).is_file()) => {
                    self.keep(file);
                    return log;
                }
                Some(_) => eprintln!(
                    "{}: melt wrote no {file} (attempt {attempt}); again",
                    self.name
                ),
                None => eprintln!(
                    "{}: melt hung on {file} (attempt {attempt}); again",
                    self.name
                ),
            }
        }
        panic!("{}: melt gave no {file} in 4 attempts", self.name);
    }

    fn load(&self, file: &str) -> Raster {
        load(&self.dir().join(file), &LoadOptions::default())
            .unwrap_or_else(|e| panic!("{}: {e}", self.name))
            .raster
    }

    /// Keeps a picture under PERTOUCH_MLT_OUT/<case>/.
    fn keep(&self, file: &str) {
        if let Some(out) = std::env::var_os("PERTOUCH_MLT_OUT").filter(|o| !o.is_empty()) {
            let d = Path::new(&out).join(&self.name);
            std::fs::create_dir_all(&d).unwrap();
            for f in std::fs::read_dir(self.dir()).unwrap().flatten() {
                let n = f.file_name().to_string_lossy().into_owned();
                if n.starts_with(file.split('%').next().unwrap_or(file)) {
                    let _ = std::fs::copy(f.path(), d.join(&n));
                }
            }
        }
    }
}

impl Drop for Case {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(self.dir());
    }
}

/// What the core renders for `state` on `image` (the whole frame, as one tile).
fn core_render(image: &Raster, state: &RegionState) -> Raster {
    pertouch_e2e::engine_render(image, state)
}

fn state(json: &str) -> RegionState {
    RegionState::from_json(json).unwrap()
}

/// The largest difference in 0..1 units, and how many pixels lost alpha.
fn compare(case: &str, after: &Raster, want: &Raster, before: &Raster) -> f32 {
    assert_eq!(
        (after.width(), after.height(), after.channels()),
        (want.width(), want.height(), want.channels()),
        "{case}: sizes"
    );
    let (a, w, b) = (
        after.unit_samples(),
        want.unit_samples(),
        before.unit_samples(),
    );
    let d = a
        .iter()
        .zip(&w)
        .map(|(x, y)| (x - y).abs())
        .fold(0.0, f32::max);
    let ch = after.channels();
    let lost = a
        .chunks_exact(ch)
        .zip(b.chunks_exact(ch))
        .filter(|(p, q)| ch == 4 && p[3] < q[3])
        .count();
    let transparent = a
        .chunks_exact(ch)
        .filter(|p| ch == 4 && p[3] == 0.0)
        .count();
    let was = b
        .chunks_exact(ch)
        .filter(|p| ch == 4 && p[3] == 0.0)
        .count();
    eprintln!(
        "{case}: {}x{} {:?}, max difference to the core {:.5} ({:.2}/255), transparent pixels {transparent} (input {was})",
        after.width(),
        after.height(),
        after.depth(),
        d,
        d * 255.0
    );
    assert_eq!(
        lost, 0,
        "{case}: {lost} pixels more transparent than the input"
    );
    d
}

/// Renders `sample` with and without the plug-in under a profile and checks the
/// result against the core's render of melt's own "before".
fn edit_matches_the_core(
    name: &str,
    sample: &str,
    size: Option<(u32, u32)>,
    sar: (u32, u32),
    consumer: &[&str],
    depth16: bool,
) {
    let Some(c) = Case::new(name) else { return };
    let input = format!("qimage:{}", c.photo(sample));
    let size = size.unwrap_or_else(|| {
        let r = load(
            &pertouch_e2e::samples_dir().join(sample),
            &LoadOptions::default(),
        )
        .unwrap()
        .raster;
        (r.width() as u32, r.height() as u32)
    });
    let profile = c.profile(name, size, sar);
    let json = r#"{"global": {"brightness": 0.1}, "sky": {"temperature": 0.4}}"#;
    let set = format!("state={json}");
    c.render("before.png", &profile, &input, 0, &[], consumer, depth16);
    let log = c.render(
        "after.png",
        &profile,
        &input,
        0,
        &[&set, "contrast=0.15"],
        consumer,
        depth16,
    );
    assert!(
        !log.contains("OfxMessageError"),
        "{name}: the plug-in reported an error:\n{log}"
    );
    let (before, after) = (c.load("before.png"), c.load("after.png"));
    assert_eq!(
        after.depth(),
        if depth16 { Depth::U16 } else { Depth::U8 },
        "{name}"
    );
    let mut s = state(json);
    s.set("global", pertouch_core::params::Attribute::Contrast, 0.15)
        .unwrap();
    let want = core_render(&before, &s);
    let d = compare(name, &after, &want, &before);
    assert!(d <= ONE_LEVEL, "{name}: {d}");
    assert!(
        pertouch_e2e::ofx_host::max_diff(&after, &before) > 0.02,
        "{name}: the edit shows"
    );
}

#[test]
fn square_pixels_8_bit() {
    edit_matches_the_core("square", "rocket.jpg", None, (1, 1), &[], false);
}

#[test]
fn ntsc_dv_pixel_aspect_8_9() {
    edit_matches_the_core("ntsc", "storm.jpg", Some((720, 480)), (8, 9), &[], false);
}

#[test]
fn pal_dv_pixel_aspect_16_15() {
    edit_matches_the_core("pal", "garden.jpg", Some((720, 576)), (16, 15), &[], false);
}

#[test]
fn hdv_pixel_aspect_4_3() {
    edit_matches_the_core("hdv", "meadow.jpg", Some((1440, 1080)), (4, 3), &[], false);
}

#[test]
fn render_scale_one_half() {
    edit_matches_the_core(
        "scale-half",
        "dune.jpg",
        Some((960, 600)),
        (1, 1),
        &["scale=0.5"],
        false,
    );
}

#[test]
fn sixteen_bit() {
    edit_matches_the_core("16-bit", "coffee.png", None, (1, 1), &[], true);
}

#[test]
fn nothing_set_at_render_scale_one_half_is_the_input_bit_for_bit() {
    let Some(c) = Case::new("identity-half") else {
        return;
    };
    let input = format!("qimage:{}", c.photo("rocket.jpg"));
    let profile = c.profile("p", (640, 427), (1, 1));
    c.render(
        "before.png",
        &profile,
        &input,
        0,
        &[],
        &["scale=0.5"],
        false,
    );
    c.render(
        "after.png",
        &profile,
        &input,
        0,
        &["mix=1"],
        &["scale=0.5"],
        false,
    );
    let (before, after) = (c.load("before.png"), c.load("after.png"));
    assert_eq!(pertouch_e2e::ofx_host::max_diff(&before, &after), 0.0);
}

#[test]
fn animated_brightness_over_ten_frames_two_at_once() {
    let Some(c) = Case::new("animated") else {
        return;
    };
    let input = format!("qimage:{}", c.photo("chelsea.png"));
    let profile = c.profile("p", (451, 300), (1, 1));
    c.render("before.png", &profile, &input, 0, &[], &[], false);
    let log = c.render(
        "seq%03d.png",
        &profile,
        &input,
        9,
        &["brightness=0=0;9=0.5"],
        &["real_time=-2"],
        false,
    );
    assert!(!log.contains("OfxMessageError"), "{log}");
    let before = c.load("before.png");
    let mut worst = 0.0f32;
    for i in 0..10u32 {
        let file = format!("seq{:03}.png", i + 1);
        let after = c.load(&file);
        let v = 0.5 * f64::from(i) / 9.0;
        let want = core_render(
            &before,
            &state(&format!(r#"{{"global": {{"brightness": {v}}}}}"#)),
        );
        let d = compare(&format!("animated frame {i}"), &after, &want, &before);
        worst = worst.max(d);
    }
    assert!(worst <= ONE_LEVEL, "{worst}");
}

#[test]
fn words_render_without_apply() {
    let Some(c) = Case::new("words") else { return };
    let input = format!("qimage:{}", c.photo("storm.jpg"));
    let profile = c.profile("p", (800, 533), (1, 1));
    let words = "make the sky a little warmer";
    c.render("before.png", &profile, &input, 0, &[], &[], false);
    let log = c.render(
        "after.png",
        &profile,
        &input,
        0,
        &[&format!("instruction={words}")],
        &[],
        false,
    );
    assert!(!log.contains("OfxMessageError"), "{log}");
    let (before, after) = (c.load("before.png"), c.load("after.png"));
    // What Apply would have stored for this frame.
    let engine = Engine::open(&EngineConfig::default()).unwrap();
    let s = engine
        .agent_apply(&before, words, &RegionState::default(), &Control::default())
        .unwrap();
    let d = compare("words", &after, &core_render(&before, &s), &before);
    assert!(d <= ONE_LEVEL, "{d}");
    assert!(pertouch_e2e::ofx_host::max_diff(&after, &before) > 0.02);
}

#[test]
fn bad_state_json_shows_a_failure_not_the_unedited_frame() {
    let Some(c) = Case::new("bad-state") else {
        return;
    };
    let input = format!("qimage:{}", c.photo("ladybird.jpg"));
    let profile = c.profile("p", (800, 500), (1, 1));
    c.render("before.png", &profile, &input, 0, &[], &[], false);
    let log = c.render(
        "after.png",
        &profile,
        &input,
        0,
        &[r#"state={"global": {"brightness": 0.3}"#],
        &[],
        false,
    );
    assert!(
        log.lines()
            .any(|l| l.contains("persistent type=OfxMessageError") && l.contains("Region state")),
        "the error is in melt's log:\n{log}"
    );
    let (before, after) = (c.load("before.png"), c.load("after.png"));
    assert!(
        pertouch_e2e::ofx_host::max_diff(&after, &before) > 0.2,
        "not the unedited frame"
    );
    // Opaque, with the red band at the top.
    assert!(after.unit_samples().chunks_exact(4).all(|p| p[3] == 1.0));
    let top = after.rgb255(after.width() / 2, 1);
    assert!(top[0] > 150.0 && top[1] < 40.0 && top[2] < 40.0, "{top:?}");
}

#[test]
fn out_of_range_values_are_clamped_with_a_note_in_the_log() {
    let Some(c) = Case::new("clamped") else {
        return;
    };
    let input = format!("qimage:{}", c.photo("astronaut.png"));
    let profile = c.profile("p", (512, 512), (1, 1));
    c.render("before.png", &profile, &input, 0, &[], &[], false);
    let log = c.render(
        "after.png",
        &profile,
        &input,
        0,
        &[r#"state={"global": {"brightness": 3}}"#],
        &[],
        false,
    );
    assert!(
        log.lines()
            .any(|l| l.contains("persistent type=OfxMessageWarning")
                && l.contains("brightness 3 is outside [-1, 1]; using +1")),
        "{log}"
    );
    let (before, after) = (c.load("before.png"), c.load("after.png"));
    let d = compare(
        "clamped",
        &after,
        &core_render(&before, &state(r#"{"global": {"brightness": 1}}"#)),
        &before,
    );
    assert!(d <= ONE_LEVEL, "{d}");
}
