//! Render-time actions: render (tiles, render scales, all depths, several threads
//! at once), identity, regions of interest and clip preferences.

use crate::abi::names::{self, *};
use crate::abi::*;
use crate::effect;
use crate::engines::engine;
use crate::failure;
use crate::handles::{Clip, Effect, PropSet};
use crate::host_values::{self, FrameFacts, Rect, Settings};
use crate::image::Image;
use crate::instance::{self, Instance};
use crate::params::MASK_CLIPS;
use crate::suites::{self, ofx_fn, Host, OfxError, OfxResult, Props};
use crate::words;
use pertouch_core::color::luminance;
use pertouch_core::host::{Engine, Frame, FrameInputs, FrameKey};
use pertouch_core::mask::MaskSet;
use pertouch_core::params::{param_map::diverging, Attribute, RegionState};
use pertouch_core::plane::Plane;
use pertouch_core::raster::{Raster, Samples};
use pertouch_core::render::{CancelToken, Control};
use std::hash::{Hash, Hasher};
use std::sync::Arc;

fn core_err(e: pertouch_core::Error) -> OfxError {
    match e {
        pertouch_core::Error::Cancelled => {
            OfxError::new(kOfxStatFailed, "render aborted by the host")
        }
        e => OfxError::failed(e.to_string()),
    }
}

/// The frame in pixels at the render scale (see [`host_values::frame_rect`]).
fn frame_rect(
    host: &Host,
    source_clip: Clip,
    source: &Image<'_>,
    time: f64,
    scale: [f64; 2],
) -> OfxResult<Rect> {
    let image_rod = source.rod;
    let clip_rod = match image_rod {
        // The image says where the frame is; the clip's RoD is not needed.
        Some(r) if !Rect::from(r).is_empty() => OfxRectD::default(),
        _ => effect::clip_rod(host, source_clip, "Source", time)?,
    };
    host_values::frame_rect(&FrameFacts {
        image_rod,
        bounds: source.bounds,
        host_tiles: host.supports_tiles,
        clip_rod,
        par: source.par,
        scale,
    })
}

/// kOfxImageEffectActionRender. A failure leaves a failure picture in the
/// output (see [`failure`]) and a persistent error on the node; a render that
/// goes well clears the error and shows its notes (values clamped, regions at
/// the end of a scale) as a persistent warning.
pub fn render(host: &Host, effect: Effect, in_args: Option<PropSet>) -> OfxResult<()> {
    let args = Props::new(host, in_args, "the render's in-args")?;
    let inst = instance::get(host, effect)?;
    let time = args.double(kOfxPropTime, 0)?;
    let window = Rect::from(args.rect_i(kOfxImageEffectPropRenderWindow)?);
    if window.is_empty() {
        return Err(OfxError::new(
            kOfxStatErrValue,
            format!("empty render window {window:?}"),
        ));
    }
    let output = Image::fetch(host, inst.output, time)?
        .ok_or_else(|| OfxError::failed("the host gave no output image"))?;
    if !output.bounds.contains(&window) {
        return Err(OfxError::new(
            kOfxStatErrValue,
            format!(
                "the output image {:?} does not hold the render window {window:?}",
                output.bounds
            ),
        ));
    }
    let mut frame = None;
    match render_window(host, effect, inst, &args, time, window, &output, &mut frame) {
        Ok(notes) => {
            if notes.is_empty() {
                suites::clear_persistent(host, effect);
            } else {
                suites::persist(
                    host,
                    effect,
                    kOfxMessageWarning,
                    &format!("PerTouch: {}", notes.join("; ")),
                );
            }
            Ok(())
        }
        Err(e) => {
            show_failure(host, inst, time, window, frame, &output, &e.message);
            Err(e)
        }
    }
}

/// Writes the failure picture into the output's render window (best effort: the
/// error itself is what the host gets).
fn show_failure(
    host: &Host,
    inst: &Instance,
    time: f64,
    window: Rect,
    frame: Option<Rect>,
    output: &Image<'_>,
    message: &str,
) {
    let source = Image::fetch(host, inst.source, time).ok().flatten();
    let pixels = source
        .as_ref()
        .filter(|s| s.bounds.contains(&window))
        .and_then(|s| s.view(window).ok()?.read().ok());
    let frame = frame
        .or_else(|| source.as_ref().map(|s| s.bounds))
        .unwrap_or(window);
    let painted = failure::picture(frame, window, output.channels, pixels.as_ref(), message)
        .ok_or_else(|| "failure picture size".to_string())
        .and_then(|p| {
            output
                .view(window)
                .map_err(|e| e.message)?
                .write_rect(0, 0, &p)
        });
    if let Err(e) = painted {
        tracing::warn!("PerTouch: could not draw the failure into the output: {e}");
    }
}

/// Renders `window` of the output; the notes for the user.
#[allow(clippy::too_many_arguments)]
fn render_window(
    host: &Host,
    effect: Effect,
    inst: &Instance,
    args: &Props<'_>,
    time: f64,
    window: Rect,
    output: &Image<'_>,
    frame_out: &mut Option<Rect>,
) -> OfxResult<Vec<String>> {
    let scale = host_values::render_scale(args.doubles::<2>(kOfxImageEffectPropRenderScale)?)?;
    let settings = inst.settings(host, time)?;
    let source = Image::fetch(host, inst.source, time)?
        .ok_or_else(|| OfxError::failed("the Source input has no image (is it connected?)"))?;
    if (output.channels, output.depth) != (source.channels, source.depth) || source.channels < 3 {
        return Err(OfxError::new(
            kOfxStatErrImageFormat,
            "Source and Output must both be RGB or RGBA of one depth",
        ));
    }
    let frame_rect = frame_rect(host, inst.source, &source, time, scale)?;
    *frame_out = Some(frame_rect);
    if !source.bounds.contains(&frame_rect) {
        // Segmentation and measurement need the whole frame (our regions of
        // interest ask for it); a part would give each tile a different edit.
        return Err(OfxError::failed(format!(
            "the host gave a Source image of {:?}, not the whole frame {frame_rect:?} asked for in the regions of interest",
            source.bounds
        )));
    }
    let inside = window.intersect(&frame_rect);
    let mut out_view = output.view(window)?;
    if inside != window {
        // Outside the Source: transparent black.
        let zero = Raster::new(
            window.width(),
            window.height(),
            output.channels,
            Samples::F32(vec![
                0.0;
                window.width() * window.height() * output.channels
            ]),
        )
        .ok_or_else(|| OfxError::failed("window size"))?;
        out_view.write_rect(0, 0, &zero).map_err(OfxError::failed)?;
    }
    if inside.is_empty() {
        return Ok(settings.notes);
    }
    let src_view = source.view(inside)?;
    if settings.is_identity() {
        // Nothing to do (hosts that never ask IsIdentity, like MLT, still get the
        // Source untouched, bit for bit).
        let pixels = src_view.read().map_err(OfxError::failed)?;
        output
            .view(inside)?
            .write_rect(0, 0, &pixels)
            .map_err(OfxError::failed)?;
        return Ok(settings.notes);
    }
    let abort = CancelToken::new();
    let flag = abort.clone();
    // A host without an abort function never aborts.
    let abort_fn = ofx_fn!(host.effects => OfxImageEffectSuiteV1::abort).ok();
    let poll = move |_: &str, _: f32| {
        if let Some(aborted) = abort_fn {
            // SAFETY: the host's abort for the instance handle of this render; it
            // may be called from any thread while the render runs.
            if unsafe { aborted(effect.as_ptr()) } != 0 {
                flag.cancel();
            }
        }
    };
    let ctl = Control {
        cancel: Some(&abort),
        progress: Some(&poll),
    };

    let engine = engine(settings.diffusion)?;
    let masks = mask_images(host, &settings, time)?;
    let hash = content_hash(&source, &masks, frame_rect)?;
    let base = match &settings.words {
        None => settings.stored.clone(),
        Some(words) => words::state_for(
            words,
            hash,
            (frame_rect.width(), frame_rect.height()),
            || source.view(frame_rect)?.read().map_err(OfxError::failed),
            &ctl,
        )?,
    };
    let (state, slider_notes) = settings.with_sliders(base)?;
    let frame = solve_frame(&engine, &source, &masks, frame_rect, hash, &state, &ctl)?;
    let mut notes = settings.notes.clone();
    notes.extend(slider_notes);
    notes.extend(plan_notes(&frame));
    let at = (
        (inside.x1 - frame_rect.x1) as usize,
        (frame_rect.y2 - inside.y2) as usize,
    );
    let (w, h) = (inside.width(), inside.height());
    if settings.view == 0 && !source.premultiplied && settings.mix >= 1.0 {
        // The common case: from the host's Source straight into its Output.
        let mut dst = output.view(inside)?;
        frame
            .render_into(
                (&src_view, (0, 0)),
                &mut dst,
                at,
                (frame.width, frame.height),
                &ctl,
            )
            .map_err(core_err)?;
        return Ok(notes);
    }
    let src_tile = src_view.read().map_err(OfxError::failed)?;
    let result = match settings.view {
        0 => {
            let straight = if source.premultiplied {
                std::borrow::Cow::Owned(unpremultiply(&src_tile))
            } else {
                std::borrow::Cow::Borrowed(&src_tile)
            };
            let mut out = frame
                .render_tile(&straight, at, (frame.width, frame.height), &ctl)
                .map_err(core_err)?;
            if source.premultiplied {
                out = premultiply(&out);
            }
            if settings.mix < 1.0 {
                out = mix(&src_tile, &out, settings.mix);
            }
            out
        }
        v @ 1..=4 => {
            let map = frame.param_map_tile(at.0, at.1, w, h).map_err(core_err)?;
            let attr = Attribute::ALL[v - 1].channel();
            picture(&src_tile, |x, y, luma| diverging(map.at(x, y)[attr], luma))
        }
        _ => {
            let region = if settings.view_region.is_empty() {
                state
                    .named_regions()
                    .map(|(n, _)| n.to_string())
                    .next()
                    .unwrap_or_default()
            } else {
                settings.view_region.clone()
            };
            let mask = frame.mask_tile(&region, at.0, at.1, w, h).ok_or_else(|| {
                OfxError::failed(format!(
                    "no mask for region \"{region}\" on this frame: it shows masks of the regions in the state ({})",
                    frame.masks.available()
                ))
            })?;
            picture(&src_tile, |x, y, _| {
                let m = (mask.at(x, y).clamp(0.0, 1.0) * 255.0).round() as u8;
                [m, m, m]
            })
        }
    };
    let mut view = output.view(inside)?;
    view.write_rect(0, 0, &result).map_err(OfxError::failed)?;
    Ok(notes)
}

/// The notes of a frame's plan (the CLI prints the same under its report): a
/// change asked past the end of a scale, an operator at its limit, an empty mask.
fn plan_notes(frame: &Frame) -> Vec<String> {
    frame
        .plan
        .report()
        .edits
        .iter()
        .filter_map(|e| {
            e.note
                .as_ref()
                .map(|n| format!("{} {}: {n}", e.region, e.attribute))
        })
        .collect()
}

/// Images of the mask inputs standing for regions the state edits.
fn mask_images<'h>(
    host: &'h Host,
    settings: &Settings,
    time: f64,
) -> OfxResult<Vec<(String, Image<'h>)>> {
    let mut masks = Vec::new();
    for (clip, name) in &settings.mask_regions {
        if let Some(img) = Image::fetch(host, *clip, time)? {
            masks.push((name.clone(), img));
        }
    }
    Ok(masks)
}

/// What tells this frame from another: the Source's content and the masks'.
fn content_hash(
    source: &Image<'_>,
    masks: &[(String, Image<'_>)],
    frame_rect: Rect,
) -> OfxResult<u64> {
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    source.view(frame_rect)?.content_hash().hash(&mut hasher);
    for (name, img) in masks {
        name.hash(&mut hasher);
        let r = img.bounds.intersect(&frame_rect);
        (r.x1, r.y1, r.x2, r.y2).hash(&mut hasher);
        if !r.is_empty() {
            img.view(r)?.content_hash().hash(&mut hasher);
        }
    }
    Ok(hasher.finish())
}

/// The solved frame: cached by the engine, keyed by the frame's content (Source
/// and any mask inputs) and the state, so tiles, threads and render scales of a
/// frame share one segmentation and plan.
fn solve_frame(
    engine: &Engine,
    source: &Image<'_>,
    masks: &[(String, Image<'_>)],
    frame_rect: Rect,
    hash: u64,
    state: &RegionState,
    ctl: &Control<'_>,
) -> OfxResult<Arc<Frame>> {
    // Only the mask inputs for regions the state edits.
    let masks: Vec<&(String, Image<'_>)> = masks
        .iter()
        .filter(|(name, _)| state.region(name).is_some_and(|v| !v.is_empty()))
        .collect();
    let src_view = source.view(frame_rect)?;
    let key = FrameKey::new(frame_rect.width(), frame_rect.height(), hash, state);
    engine
        .frame(
            key,
            state,
            || {
                let source = src_view
                    .read()
                    .map_err(pertouch_core::Error::InvalidRequest)?;
                let mut set = MaskSet::new();
                for (name, img) in &masks {
                    set.insert(
                        name,
                        mask_plane(img, frame_rect)
                            .map_err(|e| pertouch_core::Error::InvalidRequest(e.message))?,
                    );
                }
                Ok(FrameInputs {
                    source: std::borrow::Cow::Owned(source),
                    masks: set,
                })
            },
            ctl,
        )
        .map_err(core_err)
}

/// A mask input's alpha over the frame (0 where the input has no pixels).
fn mask_plane(img: &Image<'_>, frame: Rect) -> OfxResult<Plane> {
    let mut plane = Plane::filled(frame.width(), frame.height(), 0.0);
    let r = img.bounds.intersect(&frame);
    if r.is_empty() {
        return Ok(plane);
    }
    let part = img
        .view(r)?
        .read_channel(img.channels - 1)
        .map_err(OfxError::failed)?;
    let (ox, oy) = ((r.x1 - frame.x1) as usize, (frame.y2 - r.y2) as usize);
    let fw = frame.width();
    for y in 0..part.height() {
        let row = part.row(y);
        plane.data_mut()[(oy + y) * fw + ox..(oy + y) * fw + ox + row.len()].copy_from_slice(row);
    }
    Ok(plane)
}

fn float_raster(like: &Raster, data: Vec<f32>) -> Raster {
    Raster::new(
        like.width(),
        like.height(),
        like.channels(),
        Samples::F32(data),
    )
    .expect("same size as `like`")
}

/// `a * (1 - t) + b * t`, sample by sample (alpha included).
fn mix(a: &Raster, b: &Raster, t: f32) -> Raster {
    let (x, y) = (a.unit_samples(), b.unit_samples());
    float_raster(a, x.iter().zip(&y).map(|(p, q)| p + (q - p) * t).collect())
}

/// Colour divided by alpha (RGBA only; zero alpha stays zero).
fn unpremultiply(r: &Raster) -> Raster {
    let mut s = r.unit_samples();
    for px in s.chunks_exact_mut(4) {
        let a = px[3];
        if a > 0.0 {
            for c in &mut px[..3] {
                *c /= a;
            }
        }
    }
    float_raster(r, s)
}

fn premultiply(r: &Raster) -> Raster {
    let mut s = r.unit_samples();
    for px in s.chunks_exact_mut(4) {
        let a = px[3];
        for c in &mut px[..3] {
            *c *= a;
        }
    }
    float_raster(r, s)
}

/// An inspection picture the size of `src`, opaque, coloured by `colour(x, y,
/// luma)` (luma of the source pixel in 0..1).
fn picture(src: &Raster, colour: impl Fn(usize, usize, f32) -> [u8; 3]) -> Raster {
    let ch = src.channels();
    let (w, h) = (src.width(), src.height());
    let mut out = vec![255u8; w * h * ch];
    for y in 0..h {
        for x in 0..w {
            let luma = luminance(src.rgb255(x, y).map(|v| v / 255.0));
            let o = (y * w + x) * ch;
            out[o..o + 3].copy_from_slice(&colour(x, y, luma.clamp(0.0, 1.0)));
        }
    }
    Raster::new(w, h, ch, Samples::U8(out)).expect("sizes match")
}

/// kOfxImageEffectActionIsIdentity: the Source itself when nothing is set or the
/// mix is 0 (and the view shows the result).
pub fn is_identity(
    host: &Host,
    effect: Effect,
    in_args: Option<PropSet>,
    out_args: Option<PropSet>,
) -> OfxResult<OfxStatus> {
    let args = Props::new(host, in_args, "the in-args")?;
    let inst = instance::get(host, effect)?;
    let time = args.double(kOfxPropTime, 0)?;
    if inst.settings(host, time)?.is_identity() {
        let out = Props::new(host, out_args, "the out-args")?;
        out.set_string(
            kOfxPropName,
            0,
            &kOfxImageEffectSimpleSourceClipName.to_string_lossy(),
        )?;
        let _ = out.set_double(kOfxPropTime, 0, time);
        return Ok(kOfxStatOK);
    }
    Ok(kOfxStatReplyDefault)
}

/// kOfxImageEffectActionGetRegionsOfInterest: measuring and segmenting need the
/// whole frame, so every input is asked for its whole region of definition
/// whatever the render window (the frame is then solved once and cached).
pub fn regions_of_interest(
    host: &Host,
    effect: Effect,
    in_args: Option<PropSet>,
    out_args: Option<PropSet>,
) -> OfxResult<()> {
    let args = Props::new(host, in_args, "the in-args")?;
    let inst = instance::get(host, effect)?;
    let time = args.double(kOfxPropTime, 0)?;
    let out = Props::new(host, out_args, "the out-args")?;
    let rod = effect::clip_rod(host, inst.source, "Source", time)?;
    let whole = [rod.x1, rod.y1, rod.x2, rod.y2];
    out.set_doubles(
        &names::clip_prop(names::ROI_PREFIX, kOfxImageEffectSimpleSourceClipName),
        &whole,
    )?;
    for (i, (clip, _)) in inst.masks.iter().enumerate() {
        if effect::clip_connected(host, *clip) {
            out.set_doubles(&names::clip_prop(names::ROI_PREFIX, MASK_CLIPS[i]), &whole)?;
        }
    }
    Ok(())
}

/// kOfxImageEffectActionGetClipPreferences: the output has the Source's
/// components and premultiplication (colour is edited unpremultiplied and put
/// back); mask inputs are read as alpha.
pub fn clip_preferences(host: &Host, effect: Effect, out_args: Option<PropSet>) -> OfxResult<()> {
    let inst = instance::get(host, effect)?;
    let out = Props::new(host, out_args, "the out-args")?;
    let src = effect::clip_props(host, inst.source, "Source")?;
    let comps = src
        .string(kOfxImageEffectPropComponents, 0)
        .unwrap_or_default();
    let comps = if comps.as_bytes() == kOfxImageComponentRGB.to_bytes() {
        kOfxImageComponentRGB
    } else {
        kOfxImageComponentRGBA
    };
    out.set_string(
        &names::clip_prop(names::COMPONENTS_PREFIX, kOfxImageEffectOutputClipName),
        0,
        &comps.to_string_lossy(),
    )?;
    if let Ok(premult) = src.string(kOfxImageEffectPropPreMultiplication, 0) {
        out.set_string(kOfxImageEffectPropPreMultiplication, 0, &premult)?;
    }
    for clip in MASK_CLIPS.iter().take(inst.masks.len()) {
        out.set_string(
            &names::clip_prop(names::COMPONENTS_PREFIX, clip),
            0,
            &kOfxImageComponentAlpha.to_string_lossy(),
        )?;
    }
    Ok(())
}
