//! The parametric renderer's unit tests, and the synthetic photo other render
//! tests share.

use super::*;
use crate::mask::MaskSet;
use crate::params::{Attribute, RegionState};
use crate::render::{crop, CancelToken, Rect, RenderRequest};

/// A textured synthetic photo: bright blue "sky" on top, green-brown texture below.
pub(crate) fn photo(w: usize, h: usize) -> Raster {
    let mut v = Vec::with_capacity(w * h * 4);
    for y in 0..h {
        for x in 0..w {
            let n = ((x * 7919 + y * 104_729) % 97) as f32 / 97.0;
            let (r, g, b) = if y < h / 3 {
                (90.0 + 20.0 * n, 140.0 + 20.0 * n, 220.0 + 20.0 * n)
            } else {
                (80.0 + 60.0 * n, 110.0 + 50.0 * n, 40.0 + 30.0 * n)
            };
            v.extend_from_slice(&[r as u8, g as u8, b as u8, ((x + y) % 256) as u8]);
        }
    }
    Raster::new(w, h, 4, Samples::U8(v)).unwrap()
}

pub(crate) fn sky_mask(w: usize, h: usize) -> MaskSet {
    let mut m = MaskSet::new();
    m.insert(
        "sky",
        Plane::from_vec(
            w,
            h,
            (0..w * h)
                .map(|k| if k / w < h / 3 { 1.0 } else { 0.0 })
                .collect(),
        )
        .unwrap(),
    );
    m
}

/// The default renderer's plan of `state` on `img` with `masks`.
pub(crate) fn plan_of(img: &Raster, masks: &MaskSet, state: &RegionState) -> RenderPlan {
    let job = RenderJob {
        source: img,
        masks,
        state,
    };
    ParametricRenderer::default()
        .plan(&job, &Control::default())
        .unwrap()
}

fn u8s(r: &Raster) -> &[u8] {
    match r.samples() {
        Samples::U8(v) => v,
        _ => panic!("8-bit expected"),
    }
}

#[test]
fn empty_state_is_the_identity() {
    let img = photo(64, 48);
    let state = RegionState::new();
    let job = RenderJob {
        source: &img,
        masks: &MaskSet::new(),
        state: &state,
    };
    let out = ParametricRenderer::default()
        .render(&job, &RenderRequest::default(), &Control::default())
        .unwrap();
    assert_eq!(out.image, img);
    assert!(out.report.edits.is_empty());
}

#[test]
fn renders_are_deterministic_and_keep_alpha() {
    let img = photo(96, 64);
    let masks = sky_mask(96, 64);
    // The synthetic sky is bluer than the locus's end at infinite temperature, so
    // past the scale's cool end: it is warmed here, which white balance can do.
    let state = RegionState::from_json(
        r#"{"global": {"contrast": 0.2}, "sky": {"temperature": 0.3, "brightness": 0.2}}"#,
    )
    .unwrap();
    let job = RenderJob {
        source: &img,
        masks: &masks,
        state: &state,
    };
    let r = ParametricRenderer::default();
    let a = r
        .render(&job, &RenderRequest::default(), &Control::default())
        .unwrap();
    let b = r
        .render(&job, &RenderRequest::default(), &Control::default())
        .unwrap();
    assert_eq!(a.image, b.image);
    assert_ne!(a.image, img);
    let (s, d) = (u8s(&img), u8s(&a.image));
    assert!(
        s.iter().skip(3).step_by(4).eq(d.iter().skip(3).step_by(4)),
        "alpha untouched"
    );
    for e in &a.report.edits {
        assert!(e.error() < 0.05, "{e:?}");
    }
}

#[test]
fn a_region_past_the_scale_end_still_moves_and_says_how_far() {
    // A deep blue sky, bluer than any region of the reference photos.
    let (w, h) = (96, 64);
    let mut img = photo(w, h);
    if let Samples::U8(v) = img.samples_mut() {
        for (k, p) in v.chunks_mut(4).enumerate() {
            if k / w < h / 3 {
                let n = (k * 7919 % 97) as u8 / 8;
                p[..3].copy_from_slice(&[20 + n, 45 + n, 170 + n]);
            }
        }
    }
    let masks = sky_mask(w, h);
    let r = ParametricRenderer::default();
    for (change, cooler) in [(-0.3, true), (0.3, false)] {
        let mut state = RegionState::new();
        state.set("sky", Attribute::Temperature, change).unwrap();
        let job = RenderJob {
            source: &img,
            masks: &masks,
            state: &state,
        };
        let out = r
            .render(&job, &RenderRequest::default(), &Control::default())
            .unwrap();
        let e = &out.report.edits[0];
        // The sky is past the cool end: its level reads beyond -1, not -1.
        assert!(e.before < -1.0, "{e:?}");
        let achieved = e.achieved.unwrap();
        // Either way it moves the way asked, and a shortfall carries a reason.
        assert_eq!(achieved < e.before, cooler, "{e:?}");
        assert!((achieved - e.before).abs() > 0.05, "{e:?}");
        assert!(e.error() < 0.05 || e.note.is_some(), "{e:?}");
    }
}

#[test]
fn tiles_match_the_full_frame_exactly() {
    let (w, h) = (90, 70);
    let img = photo(w, h);
    let masks = sky_mask(w, h);
    let state =
        RegionState::from_json(r#"{"sky": {"colorfulness": 0.3}, "global": {"brightness": -0.2}}"#)
            .unwrap();
    let plan = plan_of(&img, &masks, &state);
    let full = plan
        .render_tile(&img, 0, 0, w, h, &Control::default())
        .unwrap();
    for (tx, ty, tw, th) in [
        (0, 0, 45, 35),
        (45, 0, 45, 35),
        (0, 35, 45, 35),
        (45, 35, 45, 35),
        (13, 7, 31, 50),
    ] {
        let rect = Rect {
            x: tx,
            y: ty,
            width: tw,
            height: th,
        };
        let tile = plan
            .render_tile(
                &crop(&img, rect).unwrap(),
                tx,
                ty,
                w,
                h,
                &Control::default(),
            )
            .unwrap();
        assert_eq!(tile, crop(&full, rect).unwrap(), "tile at ({tx}, {ty})");
    }
}

#[test]
fn half_scale_render_matches_full_render_downscaled() {
    let (w, h) = (128, 96);
    let img = photo(w, h);
    let masks = sky_mask(w, h);
    let state = RegionState::from_json(r#"{"sky": {"brightness": 0.3}}"#).unwrap();
    let job = RenderJob {
        source: &img,
        masks: &masks,
        state: &state,
    };
    let r = ParametricRenderer::default();
    let full = r
        .render(&job, &RenderRequest::default(), &Control::default())
        .unwrap()
        .image;
    let half = r
        .render(
            &job,
            &RenderRequest {
                scale: 0.5,
                roi: None,
            },
            &Control::default(),
        )
        .unwrap()
        .image;
    assert_eq!((half.width(), half.height()), (64, 48));
    // A proxy of the edit, not of the source: the mean levels agree closely.
    let a = full.analysis_rgb(64);
    let b = half.analysis_rgb(64);
    let diff: f32 = a
        .data
        .iter()
        .zip(&b.data)
        .map(|(p, q)| (0..3).map(|c| (p[c] - q[c]).abs()).sum::<f32>())
        .sum::<f32>()
        / (a.data.len() * 3) as f32;
    assert!(diff < 3.0, "mean difference {diff}/255");
}

#[test]
fn sixteen_bit_and_float_render_like_eight_bit() {
    let img8 = photo(64, 48);
    let to16 = Raster::new(
        64,
        48,
        4,
        Samples::U16(u8s(&img8).iter().map(|&v| v as u16 * 257).collect()),
    )
    .unwrap();
    let tof = Raster::new(
        64,
        48,
        4,
        Samples::F32(u8s(&img8).iter().map(|&v| v as f32 / 255.0).collect()),
    )
    .unwrap();
    let state = RegionState::from_json(r#"{"global": {"temperature": 0.3}}"#).unwrap();
    let masks = MaskSet::new();
    let r = ParametricRenderer::default();
    let render = |src: &Raster| {
        r.render(
            &RenderJob {
                source: src,
                masks: &masks,
                state: &state,
            },
            &RenderRequest::default(),
            &Control::default(),
        )
        .unwrap()
        .image
    };
    let o8 = render(&img8);
    let o16 = render(&to16);
    let of = render(&tof);
    for k in 0..64 * 48 {
        let (x, y) = (k % 64, k / 64);
        let (a, b, c) = (o8.rgb255(x, y), o16.rgb255(x, y), of.rgb255(x, y));
        for ch in 0..3 {
            assert!(
                (a[ch] - b[ch]).abs() <= 1.0 && (a[ch] - c[ch]).abs() <= 1.0,
                "pixel {k}"
            );
        }
    }
    assert!(matches!(o16.samples(), Samples::U16(_)));
}

#[test]
fn missing_region_is_a_clear_error() {
    let img = photo(32, 32);
    let state = RegionState::from_json(r#"{"face": {"brightness": 0.3}}"#).unwrap();
    let job = RenderJob {
        source: &img,
        masks: &sky_mask(32, 32),
        state: &state,
    };
    let err = ParametricRenderer::default()
        .plan(&job, &Control::default())
        .unwrap_err()
        .to_string();
    assert!(err.contains("\"face\"") && err.contains("sky"), "{err}");
}

#[test]
fn empty_region_is_reported_not_rendered() {
    let img = photo(32, 32);
    let mut masks = MaskSet::new();
    masks.insert("lake", Plane::filled(32, 32, 0.0));
    let state = RegionState::from_json(r#"{"lake": {"brightness": 0.3}}"#).unwrap();
    let job = RenderJob {
        source: &img,
        masks: &masks,
        state: &state,
    };
    let out = ParametricRenderer::default()
        .render(&job, &RenderRequest::default(), &Control::default())
        .unwrap();
    assert_eq!(out.image, img);
    assert!(out.report.edits[0]
        .note
        .as_deref()
        .is_some_and(|n| n.contains("empty")));
}

#[test]
fn cancellation_stops_the_render() {
    let img = photo(64, 64);
    let state = RegionState::from_json(r#"{"global": {"brightness": 0.3}}"#).unwrap();
    let job = RenderJob {
        source: &img,
        masks: &MaskSet::new(),
        state: &state,
    };
    let token = CancelToken::new();
    token.cancel();
    let ctl = Control {
        cancel: Some(&token),
        progress: None,
    };
    let err = ParametricRenderer::default()
        .render(&job, &RenderRequest::default(), &ctl)
        .unwrap_err();
    assert!(matches!(err, Error::Cancelled));
}

#[test]
fn progress_reaches_the_end_of_each_stage() {
    let img = photo(64, 64);
    let state = RegionState::from_json(r#"{"global": {"brightness": 0.3}}"#).unwrap();
    let job = RenderJob {
        source: &img,
        masks: &MaskSet::new(),
        state: &state,
    };
    let seen = std::sync::Mutex::new(Vec::<(String, f32)>::new());
    let cb = |s: &str, f: f32| seen.lock().unwrap().push((s.to_string(), f));
    let ctl = Control {
        cancel: None,
        progress: Some(&cb),
    };
    ParametricRenderer::default()
        .render(&job, &RenderRequest::default(), &ctl)
        .unwrap();
    let seen = seen.into_inner().unwrap();
    for stage in ["solve", "render", "verify"] {
        assert!(
            seen.iter().any(|(s, f)| s == stage && *f == 1.0),
            "{stage} completes: {seen:?}"
        );
    }
}

#[test]
fn bad_requests_are_errors() {
    let img = photo(32, 32);
    let state = RegionState::new();
    let job = RenderJob {
        source: &img,
        masks: &MaskSet::new(),
        state: &state,
    };
    let r = ParametricRenderer::default();
    assert!(r
        .render(
            &job,
            &RenderRequest {
                scale: 0.0,
                roi: None
            },
            &Control::default()
        )
        .is_err());
    let roi = Some(Rect {
        x: 30,
        y: 0,
        width: 10,
        height: 10,
    });
    assert!(r
        .render(
            &job,
            &RenderRequest { scale: 1.0, roi },
            &Control::default()
        )
        .is_err());
    let plan = r.plan(&job, &Control::default()).unwrap();
    assert!(plan
        .render_tile(&img, 10, 10, 32, 32, &Control::default())
        .is_err());
}

/// Float tiles go through float tables (exact transforms only in rough cells and
/// where three masks are soft): the result stays within 1e-3 of the exact
/// per-pixel path in linear light, on saturated colours and overlapping soft masks.
#[test]
fn float_render_is_within_1e3_of_the_exact_path() {
    let (w, h) = (240, 160);
    let data: Vec<f32> = (0..w * h)
        .flat_map(|k| {
            let (x, y) = ((k % w) as f32, (k / w) as f32);
            [
                0.5 + 0.5 * (x * 0.11).sin(),
                0.5 + 0.5 * (x * 0.07 + y * 0.05).sin(),
                0.5 + 0.5 * (y * 0.13 + 1.0).cos(),
            ]
        })
        .collect();
    let img = Raster::new(w, h, 3, Samples::F32(data)).unwrap();
    let (mw, mh) = (60, 40);
    let ramp = |d: f32| (0.5 - d / 0.2).clamp(0.0, 1.0);
    let mut masks = MaskSet::new();
    for name in ["sky", "water", "dune"] {
        let data = (0..mw * mh)
            .map(|k| {
                let (u, v) = ((k % mw) as f32 / mw as f32, (k / mw) as f32 / mh as f32);
                match name {
                    "sky" => ramp(v - 0.45),
                    "water" => ramp((v - 0.5).abs() - 0.15),
                    _ => ramp(((u - 0.5) / 0.3).hypot((v - 0.55) / 0.3) * 0.3 - 0.25),
                }
            })
            .collect();
        masks.insert(name, Plane::from_vec(mw, mh, data).unwrap());
    }
    let state = RegionState::from_json(
        r#"{"global": {"contrast": 0.2}, "sky": {"temperature": -0.4, "colorfulness": 0.3}, "water": {"brightness": 0.25}, "dune": {"colorfulness": 0.4, "temperature": 0.3}}"#,
    )
    .unwrap();
    let ctl = Control::default();
    let plan = plan_of(&img, &masks, &state);
    let fast = plan.render_tile(&img, 0, 0, w, h, &ctl).unwrap();
    let mut exact = img.clone();
    let geom = rows::Geometry {
        x0: 0,
        y0: 0,
        fw: w as f32,
        fh: h as f32,
        width: w,
        channels: 3,
    };
    let (Samples::F32(src), Samples::F32(dst)) = (img.samples(), exact.samples_mut()) else {
        unreachable!()
    };
    plan.render_rows_exact(
        src,
        dst,
        &geom,
        |v: f32| crate::color::srgb_to_linear(v.clamp(0.0, 1.0)),
        &ctl,
    )
    .unwrap();
    let (Samples::F32(a), Samples::F32(b)) = (fast.samples(), exact.samples()) else {
        unreachable!()
    };
    let lin = crate::color::srgb_to_linear;
    let worst = a
        .iter()
        .zip(b)
        .map(|(p, q)| (lin(*p) - lin(*q)).abs())
        .fold(0f32, f32::max);
    let moved = b
        .iter()
        .zip(src)
        .filter(|(p, q)| (**p - **q).abs() > 0.01)
        .count();
    eprintln!("float path vs exact: worst {worst:.2e} in linear light");
    assert!(moved > b.len() / 2, "the edit moved only {moved} samples");
    assert!(worst <= 1e-3, "worst {worst}");
}

/// A slider moved: the preview re-plan keeps the edits whose target did not change
/// (their strengths and predictions), solves the one that moved to its new target,
/// and refuses (`None`) a region the plan did not analyse.
#[test]
fn a_preview_replan_solves_only_what_changed() {
    let (w, h) = (160, 120);
    let img = photo(w, h);
    let masks = sky_mask(w, h);
    let before =
        RegionState::from_json(r#"{"global": {"contrast": 0.1}, "sky": {"temperature": -0.2}}"#)
            .unwrap();
    let ctl = Control::default();
    let plan = plan_of(&img, &masks, &before);
    let moved =
        RegionState::from_json(r#"{"global": {"contrast": 0.1}, "sky": {"temperature": -0.35}}"#)
            .unwrap();
    let preview = plan
        .replan_preview(&moved, &ctl)
        .unwrap()
        .expect("same regions");
    let edit = |p: &RenderPlan, region: &str| {
        p.report
            .edits
            .iter()
            .find(|e| e.region == region)
            .cloned()
            .unwrap()
    };
    // The global edit held: same strength, same prediction.
    assert_eq!(preview.global.contrast, plan.global.contrast);
    assert_eq!(
        edit(&preview, "global").predicted,
        edit(&plan, "global").predicted
    );
    // The sky moved to its new target, from the frame's strength.
    let sky = edit(&preview, "sky");
    assert!((sky.target - edit(&plan, "sky").target + 0.15).abs() < 1e-6);
    assert!(
        (sky.predicted - sky.target).abs() < 2.0 * crate::render::solve::TOLERANCE,
        "{sky:?}"
    );
    assert!(preview.regions[0].values[2] < plan.regions[0].values[2]);
    // Measured on the frame's analysis: the same levels before the edit.
    assert_eq!(sky.before, edit(&plan, "sky").before);
    // Tables on the preview grid, and a region the plan never analysed is refused.
    assert_eq!(preview.luts.grid(), crate::render::lut3d::PREVIEW_GRID);
    let other = RegionState::from_json(r#"{"water": {"brightness": 0.2}}"#).unwrap();
    assert!(plan.replan_preview(&other, &ctl).unwrap().is_none());
}

/// Rendering into a reused raster (holding another tile's pixels, another size
/// or depth) is the new-raster render, sample for sample, at every depth and for
/// the identity: nothing stale survives (alpha, pixels the edit leaves alone).
#[test]
fn rendering_into_a_reused_raster_is_the_render() {
    let (w, h) = (70, 60);
    let img = photo(w, h);
    let masks = sky_mask(w, h);
    let edit =
        RegionState::from_json(r#"{"sky": {"temperature": -0.4}, "global": {"contrast": 0.2}}"#)
            .unwrap();
    let sky_only = RegionState::from_json(r#"{"sky": {"brightness": 0.3}}"#).unwrap();
    let ctl = Control::default();
    for state in [&edit, &sky_only, &RegionState::default()] {
        let plan = plan_of(&img, &masks, state);
        let mut out = photo(9, 7).with_depth(crate::raster::Depth::F32);
        for depth in [
            crate::raster::Depth::U8,
            crate::raster::Depth::U16,
            crate::raster::Depth::F32,
        ] {
            let src = img.with_depth(depth);
            for (x, y, tw, th) in [(0, 0, w, h), (10, 15, 40, 30), (0, 0, w, h), (69, 59, 1, 1)] {
                let rect = Rect {
                    x,
                    y,
                    width: tw,
                    height: th,
                };
                let tile = crop(&src, rect).unwrap();
                plan.render_tile_into(&tile, (x, y), (w, h), &mut out, &ctl)
                    .unwrap();
                let fresh = plan.render_tile(&tile, x, y, w, h, &ctl).unwrap();
                assert_eq!(out, fresh, "{depth:?} tile {rect:?} of {state:?}");
            }
        }
    }
}
