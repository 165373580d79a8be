//! The OpenFX plug-in driven by our test host (tests/ofx_host): the action
//! sequence of a real host, tiles and render scales against full-frame renders,
//! concurrent frames, every pixel depth, the Apply button, mask inputs, and odd
//! host behaviour that must end in a clean failure status.
#![deny(unsafe_op_in_unsafe_fn)]
#![deny(clippy::undocumented_unsafe_blocks)]

use pertouch_core::host::{Engine, EngineConfig};
use pertouch_core::params::RegionState;
use pertouch_core::plane::Plane;
use pertouch_core::raster::{Depth, Raster, Samples};
use pertouch_core::render::Control;
use pertouch_e2e::ofx_host::{self as host, props, s, Footage, PValue, Plugin, Quirks, Value};
use pertouch_ofx::abi::*;
use std::ffi::CString;

const ONE_LEVEL: f32 = 1.0 / 255.0 + 1e-6;
const EDIT: &str =
    r#"{"global": {"brightness": 0.1}, "sky": {"temperature": -0.3, "colorfulness": 0.2}}"#;

fn photo(name: &str, long_side: usize) -> Raster {
    let path = pertouch_e2e::samples_dir().join(name);
    let img =
        pertouch_core::image_io::load(&path, &Default::default()).unwrap_or_else(|e| panic!("{e}"));
    pertouch_core::agent::preview(&img.raster, long_side)
}

fn with_alpha(r: &Raster) -> Raster {
    let Samples::U8(s) = r.samples() else {
        panic!("u8 photo")
    };
    let mut out = Vec::with_capacity(r.width() * r.height() * 4);
    for (i, px) in s.chunks_exact(3).enumerate() {
        out.extend_from_slice(px);
        out.push(if i % 7 == 0 { 128 } else { 255 });
    }
    Raster::new(r.width(), r.height(), 4, Samples::U8(out)).unwrap()
}

fn mean(r: &Raster) -> f64 {
    let v = r.unit_samples();
    v.iter().map(|&x| x as f64).sum::<f64>() / v.len() as f64
}

fn text(v: &str) -> PValue {
    PValue::Text(CString::new(v).unwrap())
}

fn whole(w: usize, h: usize, scale: f64) -> OfxRectI {
    OfxRectI {
        x1: 0,
        y1: 0,
        x2: (w as f64 * scale).ceil() as i32,
        y2: (h as f64 * scale).ceil() as i32,
    }
}

/// The plug-in, loaded by a host with `quirks`.
fn load(quirks: Quirks) -> Plugin {
    host::set_quirks(quirks);
    Plugin::load(&host::built_bundle()).unwrap_or_else(|e| panic!("loading the bundle: {e}"))
}

/// What the core renders for `state` on `image` directly (no plug-in).
fn core_render(image: &Raster, state: &str) -> Raster {
    core_render_state(image, &RegionState::from_json(state).unwrap())
}

/// [`core_render`] for a parsed state.
fn core_render_state(image: &Raster, state: &RegionState) -> Raster {
    pertouch_e2e::engine_render(image, state)
}

#[test]
fn a_host_loads_describes_instantiates_and_unloads_the_bundle() {
    let _serial = host::serial();
    let plugin = load(Quirks::default());
    assert_eq!(plugin.id, "org.pertouch.PerTouch");
    assert_eq!(plugin.api, "OfxImageEffectPluginAPI");
    // The crate's version, as the label says (hosts show one or the other).
    assert_eq!(
        plugin.version,
        (
            env!("CARGO_PKG_VERSION_MAJOR").parse().unwrap(),
            env!("CARGO_PKG_VERSION_MINOR").parse().unwrap()
        )
    );
    assert_eq!(
        props::get_str(plugin.descriptor_props(), "OfxPropVersionLabel").as_deref(),
        Some(env!("CARGO_PKG_VERSION"))
    );
    assert_eq!(
        props::get_doubles(plugin.descriptor_props(), "OfxPropVersion")
            .iter()
            .map(|v| v.to_string())
            .collect::<Vec<_>>()
            .join("."),
        env!("CARGO_PKG_VERSION")
    );
    let d = plugin.descriptor_props();
    assert_eq!(
        props::get_strs(d, "OfxImageEffectPropSupportedContexts"),
        [
            "OfxImageEffectContextFilter",
            "OfxImageEffectContextGeneral"
        ]
    );
    assert_eq!(
        props::get_strs(d, "OfxImageEffectPropSupportedPixelDepths"),
        ["OfxBitDepthByte", "OfxBitDepthShort", "OfxBitDepthFloat"]
    );
    assert_eq!(
        props::get_i32(d, "OfxImageEffectPropSupportsTiles"),
        Some(1)
    );
    assert_eq!(
        props::get_i32(d, "OfxImageEffectPropSupportsMultiResolution"),
        Some(1)
    );
    assert_eq!(
        props::get_str(d, "OfxImageEffectPluginRenderThreadSafety").as_deref(),
        Some("OfxImageEffectRenderFullySafe")
    );

    let names = |ctx: &str| -> Vec<String> {
        plugin
            .described_params(ctx)
            .into_iter()
            .map(|p| p.0)
            .collect()
    };
    let filter = names("OfxImageEffectContextFilter");
    for p in [
        "instruction",
        "apply",
        "state",
        "colorfulness",
        "contrast",
        "temperature",
        "brightness",
        "renderer",
        "mix",
        "view",
        "viewRegion",
    ] {
        assert!(
            filter.contains(&p.to_string()),
            "{p} missing from {filter:?}"
        );
    }
    let general = names("OfxImageEffectContextGeneral");
    assert!(
        general.contains(&"regionAName".to_string())
            && !filter.contains(&"regionAName".to_string())
    );
    let clips: Vec<(String, _)> = plugin.described_clips("OfxImageEffectContextGeneral");
    let names: Vec<&str> = clips.iter().map(|c| c.0.as_str()).collect();
    assert_eq!(names, ["Source", "Output", "RegionA", "RegionB"]);
    for (name, p) in &clips[2..] {
        assert_eq!(
            props::get_i32(*p, "OfxImageClipPropOptional"),
            Some(1),
            "{name}"
        );
        assert_eq!(
            props::get_i32(*p, "OfxImageClipPropIsMask"),
            Some(1),
            "{name}"
        );
    }
    let state = plugin
        .described_params("OfxImageEffectContextFilter")
        .into_iter()
        .find(|p| p.0 == "state")
        .unwrap();
    assert_eq!(state.1, "OfxParamTypeString");

    for ctx in [
        "OfxImageEffectContextFilter",
        "OfxImageEffectContextGeneral",
    ] {
        let inst = plugin.instance(ctx).unwrap();
        assert_ne!(
            props::get_ptr(inst.props(), "OfxPropInstanceData"),
            Some(0),
            "instance data stored"
        );
        // Region of definition, time domain, frames needed and the sequence
        // actions are left to the host's defaults (the output is the Source's).
        use pertouch_ofx::abi::names::*;
        let at = host::args(&[
            ("OfxPropTime", vec![Value::Double(0.0)]),
            (
                "OfxImageEffectPropRenderScale",
                vec![Value::Double(1.0), Value::Double(1.0)],
            ),
            (
                "OfxImageEffectPropFrameRange",
                vec![Value::Double(0.0), Value::Double(10.0)],
            ),
            ("OfxImageEffectPropFrameStep", vec![Value::Double(1.0)]),
            ("OfxPropIsInteractive", vec![Value::Int(0)]),
        ]);
        for action in [
            kOfxImageEffectActionGetRegionOfDefinition,
            kOfxImageEffectActionGetTimeDomain,
            kOfxImageEffectActionGetFramesNeeded,
            kOfxImageEffectActionBeginSequenceRender,
            kOfxImageEffectActionEndSequenceRender,
            kOfxActionSyncPrivateData,
            kOfxActionBeginInstanceEdit,
            kOfxActionEndInstanceEdit,
        ] {
            let st = plugin.call(action, inst.effect, at, host::args(&[]));
            assert_eq!(st, kOfxStatReplyDefault, "{action:?}");
        }
        assert_eq!(inst.purge_caches(), kOfxStatOK);
        assert_eq!(inst.destroy(), kOfxStatOK);
    }
    assert_eq!(plugin.unload(), kOfxStatOK);
}

#[test]
fn tiles_and_render_scales_equal_the_full_frame_render() {
    let _serial = host::serial();
    let plugin = load(Quirks::default());
    let inst = plugin.instance("OfxImageEffectContextFilter").unwrap();
    let image = photo("storm.jpg", 480);
    let (w, h) = (image.width(), image.height());
    assert!(inst.set_source(1.0, image.clone()));
    assert_eq!(inst.set_param("state", text(EDIT)), kOfxStatReplyDefault);
    for scale in [1.0, 0.5] {
        let full = inst.render(1.0, scale, whole(w, h, scale)).unwrap();
        assert_eq!(
            (full.width(), full.height()),
            (
                whole(w, h, scale).x2 as usize,
                whole(w, h, scale).y2 as usize
            )
        );
        for (tiles, threads) in [((1, 1), 1), ((2, 2), 4), ((4, 4), 4)] {
            let tiled = inst.render_tiled(1.0, scale, tiles, threads).unwrap();
            let d = host::max_diff(&full, &tiled);
            eprintln!(
                "scale {scale}, {} tiles: max difference {:.5} ({:.2}/255)",
                tiles.0 * tiles.1,
                d,
                d * 255.0
            );
            assert!(d <= ONE_LEVEL, "scale {scale}, tiles {tiles:?}: {d}");
        }
    }
    // The edit did something, and exactly what the core does on its own.
    let full = inst.render(1.0, 1.0, whole(w, h, 1.0)).unwrap();
    assert!(
        mean(&full) > mean(&image) + 0.01,
        "brighter: {} vs {}",
        mean(&full),
        mean(&image)
    );
    let direct = core_render(&image, EDIT);
    assert_eq!(
        host::max_diff(&full, &direct),
        0.0,
        "plug-in output differs from the core's"
    );
    inst.destroy();
    plugin.unload();
}

/// `r` with its rows in reverse order (another picture of the same layout).
fn upside_down(r: &Raster) -> Raster {
    fn flip<T: Clone>(v: &[T], row: usize) -> Vec<T> {
        v.chunks_exact(row).rev().flatten().cloned().collect()
    }
    let row = r.width() * r.channels();
    let samples = match r.samples() {
        Samples::U8(v) => Samples::U8(flip(v, row)),
        Samples::U16(v) => Samples::U16(flip(v, row)),
        Samples::F32(v) => Samples::F32(flip(v, row)),
    };
    Raster::new(r.width(), r.height(), r.channels(), samples).unwrap()
}

#[test]
fn every_pixel_depth_and_row_order_renders_what_the_core_renders() {
    let _serial = host::serial();
    let rgb = photo("garden.jpg", 320);
    let rgba = with_alpha(&rgb);
    // A host that pools output memory hands the plug-in an image still holding
    // another picture: every sample must be written all the same.
    for (top_down, pooled_outputs) in [(false, false), (true, false), (false, true)] {
        let plugin = load(Quirks {
            top_down,
            pooled_outputs,
            ..Quirks::default()
        });
        let inst = plugin.instance("OfxImageEffectContextFilter").unwrap();
        inst.set_param("state", text(EDIT));
        for (k, base) in [&rgb, &rgba].into_iter().enumerate() {
            for depth in [Depth::U8, Depth::U16, Depth::F32] {
                let src = base.with_depth(depth);
                let time = (k * 3 + depth as usize) as f64;
                if pooled_outputs {
                    let other = time + 100.0;
                    inst.set_source(other, upside_down(&src));
                    let window = whole(src.width(), src.height(), 1.0);
                    assert_eq!(inst.render_action(other, 1.0, window), 0);
                }
                inst.set_source(time, src.clone());
                let out = inst
                    .render(time, 1.0, whole(src.width(), src.height(), 1.0))
                    .unwrap();
                assert_eq!(out.depth(), depth);
                assert_eq!(out.channels(), base.channels());
                let direct = core_render(&src, EDIT);
                let d = host::max_diff(&out, &direct);
                eprintln!(
                    "top_down {top_down}, {} channels, {depth:?}: max difference to the core {d}",
                    base.channels()
                );
                assert!(
                    d <= 1e-6,
                    "{depth:?} {}ch top_down {top_down}: {d}",
                    base.channels()
                );
                if base.channels() == 4 {
                    // Alpha passes through.
                    let alpha = |r: &Raster| -> Vec<f32> {
                        let u = r.with_depth(Depth::F32);
                        let Samples::F32(v) = u.samples() else {
                            unreachable!()
                        };
                        v.chunks_exact(4).map(|p| p[3]).collect()
                    };
                    assert_eq!(alpha(&out), alpha(&src));
                }
            }
        }
        inst.destroy();
        plugin.unload();
    }
}

#[test]
fn eight_frames_rendered_at_once_match_each_rendered_alone() {
    let _serial = host::serial();
    let plugin = load(Quirks::default());
    let inst = plugin.instance("OfxImageEffectContextFilter").unwrap();
    inst.set_param("state", text(EDIT));
    let names = [
        "storm.jpg",
        "garden.jpg",
        "dune.jpg",
        "meadow.jpg",
        "ladybird.jpg",
        "rocket.jpg",
        "coffee.png",
        "chelsea.png",
    ];
    let frames: Vec<Raster> = names.iter().map(|n| photo(n, 256)).collect();
    for (t, f) in frames.iter().enumerate() {
        inst.set_source(t as f64, f.clone());
    }
    let together: Vec<Raster> = std::thread::scope(|sc| {
        let handles: Vec<_> = frames
            .iter()
            .enumerate()
            .map(|(t, f)| {
                let inst = &inst;
                sc.spawn(move || {
                    inst.render(t as f64, 1.0, whole(f.width(), f.height(), 1.0))
                        .unwrap()
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().unwrap()).collect()
    });
    assert_eq!(inst.purge_caches(), kOfxStatOK);
    for (t, f) in frames.iter().enumerate() {
        let alone = inst
            .render(t as f64, 1.0, whole(f.width(), f.height(), 1.0))
            .unwrap();
        let d = host::max_diff(&alone, &together[t]);
        assert!(d <= ONE_LEVEL, "frame {t} ({}): {d}", names[t]);
        // Each frame got its own edit (not a neighbour's pixels).
        assert_eq!(
            host::max_diff(&alone, &core_render(f, EDIT)),
            0.0,
            "frame {t}"
        );
    }
    inst.destroy();
    plugin.unload();
}

#[test]
fn apply_runs_the_agent_once_and_stores_the_state_renders_never_do() {
    let _serial = host::serial();
    let plugin = load(Quirks::default());
    let inst = plugin.instance("OfxImageEffectContextFilter").unwrap();
    let image = photo("storm.jpg", 400);
    inst.set_source(3.0, image.clone());
    // Apply without an instruction: a clear failure, state untouched.
    assert_eq!(inst.press("apply", 3.0), kOfxStatFailed);
    assert!(
        host::messages()
            .iter()
            .any(|m| m.1.contains("type an instruction")),
        "{:?}",
        host::messages()
    );
    inst.set_param("instruction", text("make the sky a little warmer"));
    host::PLUGIN_SETS.lock().clear();
    assert_eq!(inst.press("apply", 3.0), kOfxStatOK);
    assert_eq!(*host::PLUGIN_SETS.lock(), ["state"]);
    let Some(PValue::Text(t)) = inst.param("state") else {
        panic!("state is text")
    };
    let state = RegionState::from_json(t.to_str().unwrap()).unwrap();
    let warmer = state
        .get("sky", pertouch_core::params::Attribute::Temperature)
        .unwrap();
    assert!(warmer > 0.0 && warmer < 0.6, "sky temperature {warmer}");
    // Renders read the stored state: deterministic, and no further parameter writes.
    let a = inst
        .render(3.0, 1.0, whole(image.width(), image.height(), 1.0))
        .unwrap();
    inst.purge_caches();
    let b = inst
        .render(3.0, 1.0, whole(image.width(), image.height(), 1.0))
        .unwrap();
    assert_eq!(host::max_diff(&a, &b), 0.0);
    assert_eq!(*host::PLUGIN_SETS.lock(), ["state"]);
    // A nonsense instruction fails with the agent's message; the state stays.
    inst.set_param("instruction", text("qwerty zxcv"));
    assert_eq!(inst.press("apply", 3.0), kOfxStatFailed);
    assert_eq!(inst.param("state"), Some(PValue::Text(t)));
    inst.destroy();
    plugin.unload();
}

#[test]
fn identity_clip_preferences_and_regions_of_interest_are_honest() {
    let _serial = host::serial();
    let plugin = load(Quirks::default());
    let inst = plugin.instance("OfxImageEffectContextGeneral").unwrap();
    let image = with_alpha(&photo("dune.jpg", 300));
    let (w, h) = (image.width(), image.height());
    inst.set_footage(
        "Source",
        0.0,
        Footage::Picture {
            image,
            premultiplied: true,
        },
    );
    let win = OfxRectI {
        x1: 10,
        y1: 20,
        x2: 50,
        y2: 60,
    };
    assert_eq!(
        inst.is_identity(0.0, 1.0, win).unwrap().as_deref(),
        Some("Source"),
        "nothing set"
    );
    inst.set_param("brightness", PValue::Doubles(vec![0.2]));
    assert_eq!(inst.is_identity(0.0, 1.0, win).unwrap(), None);
    inst.set_param("mix", PValue::Doubles(vec![0.0]));
    assert_eq!(
        inst.is_identity(0.0, 1.0, win).unwrap().as_deref(),
        Some("Source"),
        "mix 0"
    );
    inst.set_param("mix", PValue::Doubles(vec![1.0]));

    let prefs = inst.clip_preferences().unwrap();
    assert_eq!(
        prefs
            .get("OfxImageClipPropComponents_Output")
            .map(String::as_str),
        Some("OfxImageComponentRGBA")
    );
    assert_eq!(
        prefs
            .get("OfxImageEffectPropPreMultiplication")
            .map(String::as_str),
        Some("OfxImageAlphaPremultiplied")
    );
    assert_eq!(
        prefs
            .get("OfxImageClipPropComponents_RegionA")
            .map(String::as_str),
        Some("OfxImageComponentAlpha")
    );

    // A small window still asks for the whole Source: the frame is measured and
    // segmented whole.
    let roi = inst
        .regions_of_interest(
            0.0,
            0.5,
            OfxRectD {
                x1: 5.0,
                y1: 5.0,
                x2: 20.0,
                y2: 20.0,
            },
        )
        .unwrap();
    assert_eq!(
        roi["OfxImageClipPropRoI_Source"],
        [0.0, 0.0, w as f64, h as f64]
    );
    assert!(
        !roi.contains_key("OfxImageClipPropRoI_RegionA"),
        "unconnected masks are not asked for"
    );

    // Premultiplied input: colour edited unpremultiplied; alpha kept; a fully
    // transparent pixel stays black.
    let out = inst.render(0.0, 1.0, whole(w, h, 1.0)).unwrap();
    let Samples::U8(o) = out.samples() else {
        panic!()
    };
    assert!(
        o.chunks_exact(4)
            .all(|p| p[0] <= p[3] && p[1] <= p[3] && p[2] <= p[3]),
        "premultiplied output"
    );
    inst.destroy();
    plugin.unload();
}

#[test]
fn mask_inputs_stand_for_named_regions_and_the_views_show_map_and_mask() {
    let _serial = host::serial();
    let plugin = load(Quirks::default());
    let inst = plugin.instance("OfxImageEffectContextGeneral").unwrap();
    let image = photo("meadow.jpg", 320);
    let (w, h) = (image.width(), image.height());
    inst.set_source(0.0, image.clone());
    // A matte of the left half, as a compositor would wire it.
    let mask = Plane::from_vec(
        w,
        h,
        (0..w * h)
            .map(|i| if i % w < w / 2 { 1.0 } else { 0.0 })
            .collect(),
    )
    .unwrap();
    inst.set_footage(
        "RegionA",
        0.0,
        Footage::Matte {
            mask,
            depth: Depth::F32,
        },
    );
    inst.set_param("regionAName", text("subject"));
    inst.set_param("state", text(r#"{"subject": {"brightness": 0.5}}"#));
    let roi = inst
        .regions_of_interest(
            0.0,
            1.0,
            OfxRectD {
                x1: 0.0,
                y1: 0.0,
                x2: 8.0,
                y2: 8.0,
            },
        )
        .unwrap();
    assert!(roi.contains_key("OfxImageClipPropRoI_RegionA"));
    let out = inst.render(0.0, 1.0, whole(w, h, 1.0)).unwrap();
    let half = |r: &Raster, left: bool| -> f64 {
        let Samples::U8(s) = r.samples() else {
            panic!()
        };
        let mut sum = 0.0;
        let mut n = 0.0;
        for y in 0..h {
            let xs = if left { 0..w / 2 - 8 } else { w / 2 + 8..w };
            for x in xs {
                let i = (y * w + x) * 3;
                sum += (s[i] as f64 + s[i + 1] as f64 + s[i + 2] as f64) / 3.0;
                n += 1.0;
            }
        }
        sum / n
    };
    let (dl, dr) = (
        half(&out, true) - half(&image, true),
        half(&out, false) - half(&image, false),
    );
    eprintln!("mask input: left half {dl:+.1} levels, right half {dr:+.1}");
    assert!(dl > 10.0 && dr.abs() < 2.0, "left {dl}, right {dr}");

    // Region mask view: the matte (white left, black right).
    inst.set_param("view", PValue::Ints(vec![5]));
    let view = inst.render(0.0, 1.0, whole(w, h, 1.0)).unwrap();
    let Samples::U8(v) = view.samples() else {
        panic!()
    };
    let row = h / 2 * w * 3;
    assert_eq!(&v[row..row + 3], &[255, 255, 255]);
    assert_eq!(&v[row + (w - 1) * 3..row + w * 3], &[0, 0, 0]);
    // Brightness map view: orange-ish (+0.5) on the left, neutral on the right.
    inst.set_param("view", PValue::Ints(vec![4]));
    let map = inst.render(0.0, 1.0, whole(w, h, 1.0)).unwrap();
    let Samples::U8(m) = map.samples() else {
        panic!()
    };
    assert!(
        m[row] > m[row + 2],
        "left is warm-coloured (+): {:?}",
        &m[row..row + 3]
    );
    let r = &m[row + (w - 1) * 3..row + w * 3];
    assert!(r[0].abs_diff(r[2]) < 8, "right is grey (0): {r:?}");
    // A region nobody can find: a clean failure naming it.
    inst.set_param("view", PValue::Ints(vec![0]));
    inst.set_param("regionAName", text(""));
    assert_eq!(
        inst.render(0.0, 1.0, whole(w, h, 1.0)).err(),
        Some(kOfxStatFailed)
    );
    assert!(
        host::messages().iter().any(|m| m.1.contains("subject")),
        "{:?}",
        host::messages()
    );
    inst.destroy();
    plugin.unload();
}

#[test]
fn odd_hosts_get_a_clean_failure_never_a_crash() {
    let _serial = host::serial();
    // A host without fetchSuite cannot load it.
    host::set_quirks(Quirks {
        no_fetch_suite: true,
        ..Quirks::default()
    });
    let err = Plugin::load(&host::built_bundle()).err().unwrap();
    assert!(
        err.contains(&format!("load returned {kOfxStatErrMissingHostFeature}")),
        "{err}"
    );

    // Without the optional suites, and refusing optional properties, it works.
    let plugin = load(Quirks {
        omit_optional_suites: true,
        refuse_props: vec![
            "OfxPropVersionLabel".into(),
            "OfxParamPropHint".into(),
            "OfxParamPropDigits".into(),
        ],
        ..Quirks::default()
    });
    let inst = plugin.instance("OfxImageEffectContextFilter").unwrap();
    let image = photo("rocket.jpg", 200);
    let (w, h) = (image.width(), image.height());
    let full = whole(w, h, 1.0);
    // No Source connected.
    assert_eq!(inst.render(0.0, 1.0, full).err(), Some(kOfxStatFailed));
    inst.set_source(0.0, image);
    inst.set_param("state", text(EDIT));
    assert!(inst.render(0.0, 1.0, full).is_ok());
    // Zero-size window, missing and odd in-args, a scale of 0.
    let zero = OfxRectI {
        x1: 5,
        y1: 5,
        x2: 5,
        y2: 9,
    };
    assert_eq!(inst.render(0.0, 1.0, zero).err(), Some(kOfxStatErrValue));
    assert_eq!(
        inst.render_with(0.0, 1.0, full, &[("OfxImageEffectPropRenderScale", vec![])])
            .err(),
        Some(kOfxStatErrUnknown)
    );
    assert_eq!(
        inst.render_with(
            0.0,
            1.0,
            full,
            &[(
                "OfxImageEffectPropRenderScale",
                vec![Value::Double(0.0), Value::Double(0.0)]
            )]
        )
        .err(),
        Some(kOfxStatErrValue)
    );
    assert_eq!(
        inst.render_with(
            0.0,
            1.0,
            full,
            &[("OfxImageEffectPropRenderWindow", vec![s("not a rect")])]
        )
        .err(),
        Some(kOfxStatErrValue)
    );
    // A window outside the output image the host gave.
    let outside = OfxRectI {
        x1: 0,
        y1: 0,
        x2: w as i32 + 10,
        y2: h as i32,
    };
    assert!(
        inst.render(0.0, 1.0, outside).is_ok(),
        "a window past the frame is filled with transparent black"
    );
    // A time with no frame.
    assert_eq!(inst.render(99.0, 1.0, full).err(), Some(kOfxStatFailed));
    // Malformed state JSON.
    inst.set_param("state", text("{\"sky\": {\"warmth\": 2}"));
    assert_eq!(inst.render(0.0, 1.0, full).err(), Some(kOfxStatErrValue));
    inst.set_param("state", text(EDIT));
    // The host aborts the render.
    inst.set_abort(true);
    inst.purge_caches();
    assert_eq!(inst.render(0.0, 1.0, full).err(), Some(kOfxStatFailed));
    inst.set_abort(false);
    assert!(inst.render(0.0, 1.0, full).is_ok());
    // Unknown actions are left to the host; a null handle is refused.
    assert_eq!(
        plugin.call(
            c"OfxActionSomethingNew",
            inst.effect,
            std::ptr::null_mut(),
            std::ptr::null_mut()
        ),
        kOfxStatReplyDefault
    );
    assert_eq!(
        plugin.call(
            pertouch_ofx::abi::names::kOfxImageEffectActionRender,
            std::ptr::null_mut(),
            std::ptr::null_mut(),
            std::ptr::null_mut()
        ),
        kOfxStatErrBadHandle
    );
    // Render on a descriptor (no instance data): a bad handle, not a crash.
    let st = plugin.call(
        pertouch_ofx::abi::names::kOfxImageEffectActionRender,
        plugin.descriptor,
        host::args(&[("OfxPropTime", vec![Value::Double(0.0)])]),
        std::ptr::null_mut(),
    );
    assert_ne!(st, kOfxStatOK);
    inst.destroy();
    plugin.unload();

    // A host that hands over only the render window of the Source, despite the
    // regions of interest: refused with a message, not a wrong edit per tile.
    let plugin = load(Quirks {
        window_only_inputs: true,
        ..Quirks::default()
    });
    let inst = plugin.instance("OfxImageEffectContextFilter").unwrap();
    inst.set_source(0.0, photo("rocket.jpg", 200));
    inst.set_param("state", text(EDIT));
    assert_eq!(
        inst.render(
            0.0,
            1.0,
            OfxRectI {
                x1: 0,
                y1: 0,
                x2: 40,
                y2: 40
            }
        )
        .err(),
        Some(kOfxStatFailed)
    );
    assert!(
        host::messages()
            .iter()
            .any(|m| m.1.contains("not the whole frame")),
        "{:?}",
        host::messages()
    );
    inst.destroy();
    plugin.unload();
}

#[test]
fn the_diffusion_renderer_choice_needs_a_package_and_then_tiles_like_the_full_frame() {
    let _serial = host::serial();
    // A data folder of our own: first without any package.
    let data = std::env::temp_dir().join(format!("pertouch-ofx-data-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&data);
    std::fs::create_dir_all(data.join("models")).unwrap();
    std::env::set_var("PERTOUCH_DATA_DIR", &data);
    let plugin = load(Quirks::default());
    let inst = plugin.instance("OfxImageEffectContextFilter").unwrap();
    let image = photo("storm.jpg", 160);
    let (w, h) = (image.width(), image.height());
    inst.set_source(0.0, image);
    inst.set_param("state", text(EDIT));
    inst.set_param("renderer", PValue::Ints(vec![1]));
    assert_eq!(
        inst.render(0.0, 1.0, whole(w, h, 1.0)).err(),
        Some(kOfxStatFailed)
    );
    assert!(
        host::messages()
            .iter()
            .any(|m| m.1.contains("diffusion renderer is not available")),
        "{:?}",
        host::messages()
    );
    // With the tiny fixture package installed (and ONNX Runtime present): one
    // model run per frame, tiles equal to the full frame.
    let ort = pertouch_core::onnx::load(&pertouch_core::onnx::RuntimeConfig::default());
    if let Err(e) = ort {
        assert!(
            std::env::var_os("PERTOUCH_REQUIRE_ORT").is_none(),
            "ONNX Runtime is required here: {e}"
        );
        eprintln!("note: diffusion part skipped, no ONNX Runtime: {e}");
    } else {
        let fixture = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../models/fixtures/diffusion_tiny");
        let dest = data.join("models/diffusion_tiny");
        std::fs::create_dir_all(&dest).unwrap();
        for f in std::fs::read_dir(&fixture).unwrap() {
            let f = f.unwrap().path();
            std::fs::copy(&f, dest.join(f.file_name().unwrap())).unwrap();
        }
        let full = inst.render(0.0, 1.0, whole(w, h, 1.0)).unwrap();
        let tiled = inst.render_tiled(0.0, 1.0, (2, 2), 2).unwrap();
        let d = host::max_diff(&full, &tiled);
        eprintln!("diffusion renderer through the plug-in: 4 tiles vs full frame {d}");
        assert!(d <= ONE_LEVEL, "{d}");
        // It is the model's edit (random tiny weights), not the parametric one.
        inst.set_param("renderer", PValue::Ints(vec![0]));
        let parametric = inst.render(0.0, 1.0, whole(w, h, 1.0)).unwrap();
        let apart = host::max_diff(&full, &parametric);
        eprintln!("diffusion vs parametric render: max difference {apart}");
        assert!(apart > 0.02, "{apart}");
    }
    inst.destroy();
    plugin.unload();
    std::env::remove_var("PERTOUCH_DATA_DIR");
    let _ = std::fs::remove_dir_all(&data);
}

#[test]
fn the_test_hosts_own_suites_keep_the_openfx_contract() {
    use pertouch_ofx::abi::names::*;
    use std::ffi::{c_uint, c_void};
    use std::sync::atomic::{AtomicU32, Ordering};
    let _serial = host::serial();
    host::set_quirks(Quirks::default());
    let suite = |name, version| host::fetch(name, version);

    let mem = suite(kOfxMemorySuite, 1).cast::<OfxMemorySuiteV1>();
    assert!(!mem.is_null());
    // SAFETY: a non-null memory suite of our host, called as OpenFX documents:
    // 1000 bytes allocated, written within bounds, freed (twice, the second
    // refused).
    unsafe {
        let mem = &*mem;
        let mut p: *mut c_void = std::ptr::null_mut();
        assert_eq!(
            (mem.memoryAlloc.unwrap())(std::ptr::null_mut(), 1000, &mut p),
            kOfxStatOK
        );
        assert!(!p.is_null() && (p as usize).is_multiple_of(8));
        std::ptr::write_bytes(p.cast::<u8>(), 7, 1000);
        assert_eq!((mem.memoryFree.unwrap())(p), kOfxStatOK);
        assert_eq!(
            (mem.memoryFree.unwrap())(p),
            kOfxStatErrBadHandle,
            "double free"
        );
    }

    static SEEN: AtomicU32 = AtomicU32::new(0);
    unsafe extern "C" fn work(i: c_uint, n: c_uint, arg: *mut c_void) {
        assert_eq!(n, 4);
        SEEN.fetch_or(1 << i, Ordering::Relaxed);
        // SAFETY: the test passes its multithread suite as the argument; the
        // calls are the suite's documented ones with valid out pointers.
        unsafe {
            let mt = &*arg.cast::<OfxMultiThreadSuiteV1>();
            let mut idx = 99;
            assert_eq!((mt.multiThreadIndex.unwrap())(&mut idx), kOfxStatOK);
            assert_eq!(idx, i);
            assert_eq!((mt.multiThreadIsSpawnedThread.unwrap())(), 1);
            // No recursion.
            assert_eq!((mt.multiThread.unwrap())(work, 2, arg), kOfxStatErrExists);
        }
    }
    let mt = suite(kOfxMultiThreadSuite, 1).cast::<OfxMultiThreadSuiteV1>();
    assert!(!mt.is_null());
    // SAFETY: a non-null multithread suite of our host; `work` has the thread
    // function's signature and gets the suite itself as its argument; out
    // pointers are valid; the mutex is used only while it lives, then once after
    // destruction to see it refused.
    unsafe {
        let m_t = &*mt;
        assert_eq!(
            (m_t.multiThread.unwrap())(work, 4, mt.cast_mut().cast()),
            kOfxStatOK
        );
        assert_eq!(SEEN.load(Ordering::Relaxed), 0b1111);
        assert_eq!((m_t.multiThreadIsSpawnedThread.unwrap())(), 0);
        let mut cpus = 0;
        assert_eq!((m_t.multiThreadNumCPUs.unwrap())(&mut cpus), kOfxStatOK);
        assert!(cpus >= 1);
        let mut m: OfxMutexHandle = std::ptr::null_mut();
        assert_eq!((m_t.mutexCreate.unwrap())(&mut m, 0), kOfxStatOK);
        assert_eq!((m_t.mutexLock.unwrap())(m), kOfxStatOK);
        assert_eq!((m_t.mutexTryLock.unwrap())(m), kOfxStatFailed, "held");
        assert_eq!((m_t.mutexUnLock.unwrap())(m), kOfxStatOK);
        assert_eq!((m_t.mutexTryLock.unwrap())(m), kOfxStatOK);
        assert_eq!((m_t.mutexUnLock.unwrap())(m), kOfxStatOK);
        assert_eq!((m_t.mutexDestroy.unwrap())(m), kOfxStatOK);
        assert_eq!(
            (m_t.mutexLock.unwrap())(m),
            kOfxStatErrBadHandle,
            "destroyed"
        );
    }

    // Messages go through the variadic C side with printf formatting.
    let msg = suite(kOfxMessageSuite, 2).cast::<OfxMessageSuiteV2>();
    assert!(!msg.is_null());
    // SAFETY: a non-null message suite; a printf format whose arguments match it.
    let st = unsafe {
        ((*msg).message.unwrap())(
            std::ptr::null_mut(),
            kOfxMessageWarning.as_ptr(),
            std::ptr::null(),
            c"%s has %d regions".as_ptr(),
            c"frame".as_ptr(),
            3,
        )
    };
    assert_eq!(st, kOfxStatOK);
    assert!(host::messages()
        .iter()
        .any(|m| m.0 == "OfxMessageWarning" && m.1 == "frame has 3 regions"));
    // Suites and versions it does not have are null.
    assert!(suite(c"OfxInteractSuite", 1).is_null());
    assert!(suite(kOfxPropertySuite, 2).is_null());
}

/// Every pixel's alpha is 1 (RGBA), or the raster has no alpha.
fn opaque(r: &Raster) -> bool {
    r.channels() != 4 || r.unit_samples().chunks_exact(4).all(|p| p[3] == 1.0)
}

/// Persistent messages of `kind` the plug-in has up now.
fn persistent(kind: &str) -> Vec<String> {
    host::messages()
        .into_iter()
        .filter(|m| m.2 && m.0 == kind)
        .map(|m| m.1)
        .collect()
}

#[test]
fn non_square_pixels_render_the_whole_frame_as_the_core_does() {
    let _serial = host::serial();
    let image = with_alpha(&photo("rocket.jpg", 360));
    let opaque_image = {
        let Samples::U8(s) = image.samples() else {
            panic!()
        };
        let mut s = s.clone();
        s.chunks_exact_mut(4).for_each(|p| p[3] = 255);
        Raster::new(image.width(), image.height(), 4, Samples::U8(s)).unwrap()
    };
    let (w, h) = (image.width(), image.height());
    let direct = core_render(&opaque_image, EDIT);
    for par in [8.0 / 9.0, 16.0 / 15.0, 4.0 / 3.0] {
        // MLT's way (whole images, RoD at the render scale times the aspect),
        // and a tiling host's way with the canonical RoD alone to go by.
        for (how, quirks) in [
            ("MLT-like", Quirks::mlt(par)),
            (
                "canonical RoD",
                Quirks {
                    pixel_aspect: par,
                    no_image_rod: true,
                    ..Quirks::default()
                },
            ),
        ] {
            let plugin = load(quirks);
            let inst = plugin.instance("OfxImageEffectContextFilter").unwrap();
            inst.set_source(0.0, opaque_image.clone());
            inst.set_param("state", text(EDIT));
            let out = inst.render(0.0, 1.0, whole(w, h, 1.0)).unwrap();
            let d = host::max_diff(&out, &direct);
            eprintln!("pixel aspect {par:.4} ({how}): max difference to the core {d}");
            assert_eq!(d, 0.0, "pixel aspect {par} ({how})");
            assert!(
                opaque(&out),
                "pixel aspect {par} ({how}): nothing transparent"
            );
            inst.destroy();
            plugin.unload();
        }
    }
}

#[test]
fn render_scale_half_in_an_mlt_like_host_renders_the_whole_scaled_frame() {
    let _serial = host::serial();
    let image = photo("storm.jpg", 400);
    let (w, h) = (image.width(), image.height());
    for (how, quirks) in [
        ("MLT-like", Quirks::mlt(1.0)),
        (
            "MLT-like, no image RoD",
            Quirks {
                no_image_rod: true,
                ..Quirks::mlt(1.0)
            },
        ),
    ] {
        let plugin = load(quirks);
        let inst = plugin.instance("OfxImageEffectContextFilter").unwrap();
        inst.set_source(0.0, image.clone());
        // Nothing set, no IsIdentity asked: the scaled Source, bit for bit.
        let win = whole(w, h, 0.5);
        let input = inst.render(0.0, 0.5, win).unwrap();
        let nearest = Raster::new(
            win.x2 as usize,
            win.y2 as usize,
            3,
            Samples::U8(
                (0..win.y2 as usize)
                    .flat_map(|y| (0..win.x2 as usize).map(move |x| (x, y)))
                    .flat_map(|(x, y)| {
                        let sx =
                            (((x as f64 + 0.5) * w as f64 / win.x2 as f64) as usize).min(w - 1);
                        let sy =
                            (((y as f64 + 0.5) * h as f64 / win.y2 as f64) as usize).min(h - 1);
                        image.rgb255(sx, sy).map(|v| v as u8)
                    })
                    .collect(),
            ),
        )
        .unwrap();
        assert_eq!(host::max_diff(&input, &nearest), 0.0, "{how}: nothing set");
        inst.set_param("state", text(EDIT));
        let out = inst.render(0.0, 0.5, win).unwrap();
        let d = host::max_diff(&out, &core_render(&input, EDIT));
        eprintln!("render scale 0.5 ({how}): max difference to the core on the scaled frame {d}");
        assert_eq!(d, 0.0, "{how}");
        // The whole frame was edited: its bottom-right quarter too.
        let quarter = |r: &Raster| {
            let (qw, qh) = (r.width() / 2, r.height() / 2);
            let mut sum = 0.0;
            for y in qh..r.height() {
                for x in qw..r.width() {
                    sum += r.rgb255(x, y).iter().sum::<f32>() as f64;
                }
            }
            sum
        };
        assert!(
            quarter(&out) > quarter(&input) * 1.02,
            "{how}: the edit reaches every quarter"
        );
        inst.destroy();
        plugin.unload();
    }
}

#[test]
fn words_render_without_apply_where_the_host_has_no_buttons() {
    let _serial = host::serial();
    let plugin = load(Quirks::mlt(1.0));
    let inst = plugin.instance("OfxImageEffectContextFilter").unwrap();
    let image = photo("storm.jpg", 320);
    let (w, h) = (image.width(), image.height());
    inst.set_source(0.0, image.clone());
    let words = "make the sky a little warmer";
    inst.set_param("instruction", text(words));
    assert_eq!(
        inst.press("apply", 0.0),
        kOfxStatErrUnsupported,
        "no button"
    );
    host::PLUGIN_SETS.lock().clear();
    let a = inst.render(0.0, 1.0, whole(w, h, 1.0)).unwrap();
    // What Apply would have stored for this frame, rendered by the core.
    let engine = Engine::open(&EngineConfig::default()).unwrap();
    let state = engine
        .agent_apply(&image, words, &RegionState::default(), &Control::default())
        .unwrap();
    assert!(
        state
            .get("sky", pertouch_core::params::Attribute::Temperature)
            .unwrap()
            > 0.0
    );
    assert_eq!(host::max_diff(&a, &core_render_state(&image, &state)), 0.0);
    assert!(host::max_diff(&a, &image) > 0.01, "the words did something");
    // Deterministic, and renders never write parameters.
    inst.purge_caches();
    let b = inst.render(0.0, 1.0, whole(w, h, 1.0)).unwrap();
    assert_eq!(host::max_diff(&a, &b), 0.0);
    assert!(host::PLUGIN_SETS.lock().is_empty());
    // A stored state wins over the words.
    inst.set_param("state", text(EDIT));
    let stored = inst.render(0.0, 1.0, whole(w, h, 1.0)).unwrap();
    assert_eq!(host::max_diff(&stored, &core_render(&image, EDIT)), 0.0);
    // Words the agent cannot read: a failure the picture shows.
    inst.set_param("state", text(""));
    inst.set_param("instruction", text("qwerty zxcv"));
    let (st, shown) = inst.render_shown(0.0, 1.0, whole(w, h, 1.0));
    assert_eq!(st, kOfxStatFailed);
    let shown = shown.expect("the output image");
    assert!(
        host::max_diff(&shown, &image) > 0.2,
        "not the unedited frame"
    );
    assert!(
        persistent("OfxMessageError")
            .iter()
            .any(|m| m.contains("qwerty zxcv")),
        "{:?}",
        host::messages()
    );
    inst.destroy();
    plugin.unload();
}

#[test]
fn a_failed_render_shows_a_failure_and_a_persistent_error_until_it_renders_again() {
    let _serial = host::serial();
    let plugin = load(Quirks::mlt(1.0));
    let inst = plugin.instance("OfxImageEffectContextFilter").unwrap();
    let image = with_alpha(&photo("garden.jpg", 300));
    let (w, h) = (image.width(), image.height());
    inst.set_source(0.0, image.clone());
    inst.set_param("state", text(r#"{"global": {"brightness": 0.3}"#));
    let (st, shown) = inst.render_shown(0.0, 1.0, whole(w, h, 1.0));
    assert_eq!(st, kOfxStatErrValue);
    let shown = shown.expect("the output image");
    assert!(opaque(&shown), "a failure is opaque");
    // The red band at the top, the frame dimmed to grey below it.
    let top = shown.rgb255(w / 2, 1);
    assert!(top[0] > 150.0 && top[1] < 40.0 && top[2] < 40.0, "{top:?}");
    let mid = shown.rgb255(w / 2, h * 3 / 4);
    assert!(
        mid[0] == mid[1] && mid[1] == mid[2] && mid[0] < 90.0,
        "{mid:?}"
    );
    let errors = persistent("OfxMessageError");
    assert!(
        errors
            .iter()
            .any(|m| m.contains("Region state") && m.contains("not valid JSON")),
        "{errors:?}"
    );
    // Fixed: the error goes away, the edit shows.
    inst.set_param("state", text(EDIT));
    let out = inst.render(0.0, 1.0, whole(w, h, 1.0)).unwrap();
    assert!(
        persistent("OfxMessageError").is_empty(),
        "{:?}",
        host::messages()
    );
    assert_eq!(host::max_diff(&out, &core_render(&image, EDIT)), 0.0);
    inst.destroy();
    plugin.unload();
}

#[test]
fn clamped_values_and_the_plans_notes_are_shown() {
    let _serial = host::serial();
    let plugin = load(Quirks::mlt(1.0));
    let inst = plugin.instance("OfxImageEffectContextFilter").unwrap();
    // Since issue 14 the level scale continues past the tables' ends, so a
    // region at +1 still moves and gets no note; a plan note comes from a
    // region this photo does not have (no sky in the coffee cup).
    let image = photo("coffee.png", 300);
    let (w, h) = (image.width(), image.height());
    inst.set_source(0.0, image.clone());
    inst.set_param(
        "state",
        text(r#"{"global": {"brightness": 3}, "sky": {"temperature": 0.2}}"#),
    );
    let out = inst.render(0.0, 1.0, whole(w, h, 1.0)).unwrap();
    assert_eq!(
        host::max_diff(
            &out,
            &core_render(
                &image,
                r#"{"global": {"brightness": 1}, "sky": {"temperature": 0.2}}"#
            )
        ),
        0.0,
        "clamped to 1"
    );
    let notes = persistent("OfxMessageWarning");
    assert!(
        notes
            .iter()
            .any(|n| n.contains("brightness 3 is outside [-1, 1]; using +1")),
        "{notes:?}"
    );
    assert!(
        notes
            .iter()
            .any(|n| n.contains("sky temperature: the region's mask is empty")),
        "the plan's note on a region the photo lacks: {notes:?}"
    );
    // Nothing to say: the note goes.
    inst.set_param("state", text(r#"{"global": {"brightness": 0.1}}"#));
    inst.render(0.0, 1.0, whole(w, h, 1.0)).unwrap();
    assert!(
        persistent("OfxMessageWarning").is_empty(),
        "{:?}",
        host::messages()
    );
    inst.destroy();
    plugin.unload();
}

#[test]
fn null_suite_slots_get_a_clean_status_that_names_the_function() {
    let _serial = host::serial();
    // Describing needs propSetString: load fails cleanly.
    host::set_quirks(Quirks {
        null_slots: vec!["OfxPropertySuiteV1::propSetString"],
        ..Quirks::default()
    });
    let err = Plugin::load(&host::built_bundle()).err().unwrap();
    assert!(
        err.contains(&format!(
            "describe returned {kOfxStatErrMissingHostFeature}"
        )),
        "{err}"
    );
    let image = photo("rocket.jpg", 200);
    let (w, h) = (image.width(), image.height());
    for slot in [
        "OfxImageEffectSuiteV1::clipGetRegionOfDefinition",
        "OfxParameterSuiteV1::paramGetValueAtTime",
    ] {
        let plugin = load(Quirks {
            null_slots: vec![slot],
            no_image_rod: true,
            ..Quirks::default()
        });
        let inst = plugin.instance("OfxImageEffectContextFilter").unwrap();
        inst.set_source(0.0, image.clone());
        inst.set_param("state", text(EDIT));
        assert_eq!(
            inst.render(0.0, 1.0, whole(w, h, 1.0)).err(),
            Some(kOfxStatErrMissingHostFeature),
            "{slot}"
        );
        assert!(
            persistent("OfxMessageError")
                .iter()
                .any(|m| m.contains(slot)),
            "{slot}: {:?}",
            host::messages()
        );
        inst.destroy();
        plugin.unload();
    }
    // Slots the plug-in can do without: it renders as ever.
    let plugin = load(Quirks {
        null_slots: vec![
            "OfxImageEffectSuiteV1::abort",
            "OfxMessageSuiteV2::setPersistentMessage",
            "OfxMessageSuiteV2::clearPersistentMessage",
        ],
        ..Quirks::default()
    });
    let inst = plugin.instance("OfxImageEffectContextFilter").unwrap();
    inst.set_source(0.0, image.clone());
    inst.set_param("state", text(EDIT));
    let out = inst.render(0.0, 1.0, whole(w, h, 1.0)).unwrap();
    assert_eq!(host::max_diff(&out, &core_render(&image, EDIT)), 0.0);
    // Without persistent messages an error still reaches the user.
    inst.set_param("state", text("{"));
    assert_eq!(
        inst.render(0.0, 1.0, whole(w, h, 1.0)).err(),
        Some(kOfxStatErrValue)
    );
    assert!(
        host::messages()
            .iter()
            .any(|m| !m.2 && m.0 == "OfxMessageError" && m.1.contains("Region state")),
        "{:?}",
        host::messages()
    );
    inst.destroy();
    plugin.unload();
    // A host that cannot take images back: the render still ends cleanly (its
    // output is never handed back, so this host cannot read it).
    let plugin = load(Quirks {
        null_slots: vec!["OfxImageEffectSuiteV1::clipReleaseImage"],
        ..Quirks::default()
    });
    let inst = plugin.instance("OfxImageEffectContextFilter").unwrap();
    inst.set_source(0.0, image);
    inst.set_param("state", text(EDIT));
    assert_eq!(inst.render_shown(0.0, 1.0, whole(w, h, 1.0)).0, kOfxStatOK);
    inst.destroy();
    plugin.unload();
}
