//! Render-time actions: render (tiles, render scales, all depths, several threads
//! at once), identity, regions of interest and clip preferences.

use crate::abi::names::{self, *};
use crate::abi::*;
use crate::image::{Image, Rect};
use crate::instance::{self, Settings};
use crate::suites::{Host, OfxError, OfxResult, Props};
use parking_lot::Mutex;
use pertouch_core::color::luminance;
use pertouch_core::host::{Engine, EngineConfig, Frame, FrameInputs, FrameKey, RendererKind};
use pertouch_core::mask::MaskSet;
use pertouch_core::params::{param_map::diverging, Attribute};
use pertouch_core::plane::Plane;
use pertouch_core::raster::{Raster, Samples};
use pertouch_core::render::{CancelToken, Control};
use std::hash::{Hash, Hasher};
use std::sync::{Arc, OnceLock};

static PARAMETRIC: OnceLock<Result<Arc<Engine>, String>> = OnceLock::new();
static DIFFUSION: Mutex<Option<Arc<Engine>>> = Mutex::new(None);

/// The engine for the chosen renderer (opened on first use, shared by every
/// instance and thread; its frame cache is keyed by content, so sharing is safe).
pub fn engine(diffusion: bool) -> OfxResult<Arc<Engine>> {
    if diffusion {
        let mut slot = DIFFUSION.lock();
        if let Some(e) = slot.as_ref() {
            return Ok(e.clone());
        }
        let config = EngineConfig {
            renderer: RendererKind::Diffusion,
            ..EngineConfig::default()
        };
        let e = Arc::new(Engine::open(&config).map_err(|e| {
            OfxError::failed(format!(
                "the diffusion renderer is not available: {e}. Install a PerTouch diffusion package (pertouch models import DIR) or choose the parametric renderer."
            ))
        })?);
        *slot = Some(e.clone());
        return Ok(e);
    }
    PARAMETRIC
        .get_or_init(|| {
            Engine::open(&EngineConfig::default())
                .map(Arc::new)
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(OfxError::failed)
}

/// kOfxActionPurgeCaches: forget solved frames.
pub fn purge() {
    if let Some(Ok(e)) = PARAMETRIC.get() {
        e.purge();
    }
    if let Some(e) = DIFFUSION.lock().as_ref() {
        e.purge();
    }
}

fn core_err(e: pertouch_core::Error) -> OfxError {
    match e {
        pertouch_core::Error::Cancelled => {
            OfxError::new(kOfxStatFailed, "render aborted by the host")
        }
        e => OfxError::failed(e.to_string()),
    }
}

/// The frame in pixels at the render scale: the Source's region of definition.
fn frame_rect(host: &Host, source: usize, time: f64, scale: [f64; 2]) -> OfxResult<Rect> {
    let rod = instance::clip_rod(host, source, "Source", time)?;
    let r = Rect {
        x1: (rod.x1 * scale[0]).floor() as i32,
        y1: (rod.y1 * scale[1]).floor() as i32,
        x2: (rod.x2 * scale[0]).ceil() as i32,
        y2: (rod.y2 * scale[1]).ceil() as i32,
    };
    if r.is_empty() {
        return Err(OfxError::new(
            kOfxStatErrValue,
            format!("the Source's region of definition is empty ({rod:?})"),
        ));
    }
    Ok(r)
}

fn render_scale(args: &Props<'_>) -> OfxResult<[f64; 2]> {
    let s = args.doubles::<2>(kOfxImageEffectPropRenderScale)?;
    if !(s[0] > 0.0 && s[0] <= 1.0 && s[1] > 0.0 && s[1] <= 1.0) {
        return Err(OfxError::new(
            kOfxStatErrValue,
            format!("render scale {s:?} is not in (0, 1]"),
        ));
    }
    Ok(s)
}

/// kOfxImageEffectActionRender.
pub fn render(
    host: &Host,
    effect: OfxImageEffectHandle,
    in_args: OfxPropertySetHandle,
) -> OfxResult<()> {
    let args = Props::new(host, in_args)?;
    let inst = instance::get(host, effect)?;
    let time = args.double(kOfxPropTime, 0)?;
    let window = Rect::from(args.rect_i(kOfxImageEffectPropRenderWindow)?);
    if window.is_empty() {
        return Err(OfxError::new(
            kOfxStatErrValue,
            format!("empty render window {window:?}"),
        ));
    }
    let scale = render_scale(&args)?;
    let settings = inst.settings(host, time)?;
    let output = Image::fetch(host, inst.output, time)?
        .ok_or_else(|| OfxError::failed("the host gave no output image"))?;
    let source = Image::fetch(host, inst.source, time)?
        .ok_or_else(|| OfxError::failed("the Source input has no image (is it connected?)"))?;
    if !output.bounds.contains(&window) {
        return Err(OfxError::new(
            kOfxStatErrValue,
            format!(
                "the output image {:?} does not hold the render window {window:?}",
                output.bounds
            ),
        ));
    }
    if (output.channels, output.depth) != (source.channels, source.depth) || source.channels < 3 {
        return Err(OfxError::new(
            kOfxStatErrImageFormat,
            "Source and Output must both be RGB or RGBA of one depth",
        ));
    }
    let frame_rect = frame_rect(host, inst.source, time, scale)?;
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
        return Ok(());
    }
    let abort = CancelToken::new();
    let effect_addr = effect as usize;
    let flag = abort.clone();
    let poll = move |_: &str, _: f32| {
        // SAFETY: the instance handle of this render; the host's abort may be
        // called from any thread while the render runs.
        if unsafe { (host.effects.abort)(effect_addr as OfxImageEffectHandle) } != 0 {
            flag.cancel();
        }
    };
    let ctl = Control {
        cancel: Some(&abort),
        progress: Some(&poll),
    };

    let engine = engine(settings.diffusion)?;
    let frame = solve_frame(host, &engine, &source, frame_rect, time, &settings, &ctl)?;
    let at = (
        (inside.x1 - frame_rect.x1) as usize,
        (frame_rect.y2 - inside.y2) as usize,
    );
    let (w, h) = (inside.width(), inside.height());
    let src_view = source.view(inside)?;
    if settings.view == 0 && !source.premultiplied && settings.mix >= 1.0 {
        // The common case: from the host's Source straight into its Output.
        let mut dst = output.view(inside)?;
        return frame
            .render_into(
                (&src_view, (0, 0)),
                &mut dst,
                at,
                (frame.width, frame.height),
                &ctl,
            )
            .map_err(core_err);
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
                settings
                    .state
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
    view.write_rect(0, 0, &result).map_err(OfxError::failed)
}

/// The solved frame: cached by the engine, keyed by the frame's content (Source
/// and any mask inputs) and the state, so tiles, threads and render scales of a
/// frame share one segmentation and plan.
fn solve_frame(
    host: &Host,
    engine: &Engine,
    source: &Image<'_>,
    frame_rect: Rect,
    time: f64,
    settings: &Settings,
    ctl: &Control<'_>,
) -> OfxResult<Arc<Frame>> {
    let wanted: Vec<&(usize, String)> = settings
        .mask_regions
        .iter()
        .filter(|(_, name)| settings.state.region(name).is_some_and(|v| !v.is_empty()))
        .collect();
    let mut masks = Vec::new();
    for (clip, name) in wanted {
        if let Some(img) = Image::fetch(host, *clip, time)? {
            masks.push((name.clone(), img));
        }
    }
    let src_view = source.view(frame_rect)?;
    let mut hasher = std::collections::hash_map::DefaultHasher::new();
    src_view.content_hash().hash(&mut hasher);
    for (name, img) in &masks {
        name.hash(&mut hasher);
        let r = img.bounds.intersect(&frame_rect);
        (r.x1, r.y1, r.x2, r.y2).hash(&mut hasher);
        if !r.is_empty() {
            img.view(r)?.content_hash().hash(&mut hasher);
        }
    }
    let key = FrameKey::new(
        frame_rect.width(),
        frame_rect.height(),
        hasher.finish(),
        &settings.state,
    );
    engine
        .frame(
            key,
            &settings.state,
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
    effect: OfxImageEffectHandle,
    in_args: OfxPropertySetHandle,
    out_args: OfxPropertySetHandle,
) -> OfxResult<OfxStatus> {
    let args = Props::new(host, in_args)?;
    let inst = instance::get(host, effect)?;
    let time = args.double(kOfxPropTime, 0)?;
    let s = inst.settings(host, time)?;
    if s.view == 0 && (s.state.is_empty() || s.mix == 0.0) {
        let out = Props::new(host, out_args)?;
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
    effect: OfxImageEffectHandle,
    in_args: OfxPropertySetHandle,
    out_args: OfxPropertySetHandle,
) -> OfxResult<()> {
    let args = Props::new(host, in_args)?;
    let inst = instance::get(host, effect)?;
    let time = args.double(kOfxPropTime, 0)?;
    let out = Props::new(host, out_args)?;
    let rod = instance::clip_rod(host, inst.source, "Source", time)?;
    let whole = [rod.x1, rod.y1, rod.x2, rod.y2];
    out.set_doubles(
        &names::clip_prop(names::ROI_PREFIX, kOfxImageEffectSimpleSourceClipName),
        &whole,
    )?;
    for (i, (clip, _)) in inst.masks.iter().enumerate() {
        if instance::clip_connected(host, *clip) {
            out.set_doubles(
                &names::clip_prop(names::ROI_PREFIX, crate::describe::MASK_CLIPS[i]),
                &whole,
            )?;
        }
    }
    Ok(())
}

/// kOfxImageEffectActionGetClipPreferences: the output has the Source's
/// components and premultiplication (colour is edited unpremultiplied and put
/// back); mask inputs are read as alpha.
pub fn clip_preferences(
    host: &Host,
    effect: OfxImageEffectHandle,
    out_args: OfxPropertySetHandle,
) -> OfxResult<()> {
    let inst = instance::get(host, effect)?;
    let out = Props::new(host, out_args)?;
    let src = instance::clip_props(host, inst.source, "Source")?;
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
    for clip in crate::describe::MASK_CLIPS.iter().take(inst.masks.len()) {
        out.set_string(
            &names::clip_prop(names::COMPONENTS_PREFIX, clip),
            0,
            &kOfxImageComponentAlpha.to_string_lossy(),
        )?;
    }
    Ok(())
}
