//! Rendering: the size a render's output must have, and the render of a region
//! state on a host's frame, whole or a region of interest, at a render scale.

use crate::boundary::args::{self, Out};
use crate::boundary::{self, status::PtStatus, Failure, Outcome};
use crate::handles::{CANCELS, ENGINES};
use crate::image::{self, PtImage, PtRect};
use crate::progress::{self, PtProgressFn, Reporter};
use crate::{PtCancel, PtEngine};
use pertouch_core::host::pixels::MAX_SIDE;
use pertouch_core::host::{Engine, FrameInputs, FrameKey, PixelView};
use pertouch_core::mask::MaskSet;
use pertouch_core::params::RegionState;
use pertouch_core::render::{scaled_size, CancelToken, Control, Rect, RenderRequest};
use std::borrow::Cow;
use std::ffi::{c_char, c_void};

/// The size of a render's output: the frame `width` x `height` at `scale`, or
/// `roi`'s size when given (`roi` must lie inside the frame at that scale).
#[no_mangle]
pub unsafe extern "C" fn pt_output_size(
    width: u32,
    height: u32,
    scale: f32,
    roi: *const PtRect,
    out_width: *mut u32,
    out_height: *mut u32,
) -> PtStatus {
    boundary::call(|| {
        // SAFETY: the header's contract: the outs are writable, `roi` is null or
        // a readable PtRect.
        let (out_width, out_height, roi) = unsafe {
            (
                Out::new(out_width, "out_width")?,
                Out::new(out_height, "out_height")?,
                args::read(roi, "roi")?,
            )
        };
        let (w, h) = (width as usize, height as usize);
        if !(1..=MAX_SIDE).contains(&w) || !(1..=MAX_SIDE).contains(&h) {
            return Err(Failure::invalid(format!(
                "a {width} x {height} frame (each side 1 to {MAX_SIDE})"
            )));
        }
        let (w, h) = output_size((w, h), check_scale(scale)?, roi.map(Rect::from))?;
        // Both at most MAX_SIDE: they fit a u32.
        out_width.set(w as u32);
        out_height.set(h as u32);
        Ok(())
    })
}

/// Renders `state_json` (a region state of changes, e.g. `{"global":
/// {"brightness": 0.1}, "sky": {"temperature": -0.3}}`) on the full frame `src`
/// at `scale` (0..1], the whole frame or the region of interest `roi` (in the
/// scaled frame's pixels), into `dst` (sized as `pt_output_size` says, same channel
/// count as `src`, any depth). Regions named in the state are found by the
/// engine's segmenters. `progress`, `user` and `cancel` may be null; `progress`
/// is called on this thread (see `PtProgressFn`). `src` and `dst` must not share
/// memory.
#[no_mangle]
pub unsafe extern "C" fn pt_render(
    engine: *mut PtEngine,
    src: *const PtImage,
    state_json: *const c_char,
    scale: f32,
    roi: *const PtRect,
    dst: *const PtImage,
    progress: PtProgressFn,
    user: *mut c_void,
    cancel: *mut PtCancel,
) -> PtStatus {
    boundary::call(|| {
        let engine = ENGINES.get(engine, "engine")?;
        let cancel = CANCELS.optional(cancel, "cancel")?;
        // SAFETY: the header's contract: `src` and `dst` point at PtImage structs,
        // `state_json` is a C string, `roi` is null or a readable PtRect.
        let (src, dst, state, roi) = unsafe {
            (
                args::required(src, "src")?,
                args::required(dst, "dst")?,
                args::required_text(state_json, "state_json")?,
                args::read(roi, "roi")?,
            )
        };
        // SAFETY: the header's contract: the views describe memory the host keeps
        // readable (`src`) and writable and not aliased (`dst`) during the call.
        let (src, mut dst) = unsafe { (image::view(&src, "src")?, image::view(&dst, "dst")?) };
        let job = Job {
            state: RegionState::from_json(state)?,
            scale: check_scale(scale)?,
            roi: roi.map(Rect::from),
        };
        job.check(&src, &dst)?;
        progress::run(progress, user, |reporter| {
            job.render(&engine, &src, &mut dst, cancel.as_deref(), reporter)
        })
    })
}

/// A render scale in (0, 1].
fn check_scale(scale: f32) -> Result<f32, Failure> {
    if scale > 0.0 && scale <= 1.0 {
        Ok(scale)
    } else {
        Err(Failure::invalid(format!("scale {scale} is not in (0, 1]")))
    }
}

/// The size of a render of a `frame` at `scale`: the scaled frame's, or the
/// region of interest's, which must lie inside the scaled frame.
fn output_size(
    frame: (usize, usize),
    scale: f32,
    roi: Option<Rect>,
) -> Result<(usize, usize), Failure> {
    let (fw, fh) = scaled_size(frame.0, frame.1, scale);
    let Some(r) = roi else {
        return Ok((fw, fh));
    };
    let inside = |at: usize, len: usize, side: usize| {
        len > 0 && at.checked_add(len).is_some_and(|end| end <= side)
    };
    if !inside(r.x, r.width, fw) || !inside(r.y, r.height, fh) {
        return Err(Failure::invalid(format!(
            "roi {} x {} at ({}, {}) is not inside the {fw} x {fh} frame (at scale {scale})",
            r.width, r.height, r.x, r.y
        )));
    }
    Ok((r.width, r.height))
}

/// One `pt_render` call's request, its arguments checked.
struct Job {
    state: RegionState,
    scale: f32,
    roi: Option<Rect>,
}

impl Job {
    /// Checks what can be checked before any work: the region of interest lies
    /// inside the frame, `dst` has the render's size and shares no memory with
    /// `src`.
    fn check(&self, src: &PixelView<'_>, dst: &PixelView<'_>) -> Outcome {
        let expected = output_size((src.width(), src.height()), self.scale, self.roi)?;
        if (dst.width(), dst.height()) != expected {
            return Err(Failure::invalid(format!(
                "dst is {} x {}, the render is {} x {} (see pt_output_size)",
                dst.width(),
                dst.height(),
                expected.0,
                expected.1
            )));
        }
        if src.overlaps(dst) {
            return Err(Failure::invalid(
                "src and dst overlap in memory (dst is written while src is read): \
                 render into a separate buffer",
            ));
        }
        Ok(())
    }

    /// The rectangle rendered: the region of interest, or the whole frame.
    fn region(&self, src: &PixelView<'_>) -> Rect {
        self.roi.unwrap_or(Rect {
            x: 0,
            y: 0,
            width: src.width(),
            height: src.height(),
        })
    }

    /// Plans the frame (or reuses the engine's plan of it) and renders into `dst`.
    fn render(
        &self,
        engine: &Engine,
        src: &PixelView<'_>,
        dst: &mut PixelView<'_>,
        cancel: Option<&CancelToken>,
        reporter: &Reporter,
    ) -> Outcome {
        reporter.control(cancel, |ctl| {
            self.render_with(engine, src, dst, ctl, reporter)
        })
    }

    fn render_with(
        &self,
        engine: &Engine,
        src: &PixelView<'_>,
        dst: &mut PixelView<'_>,
        ctl: &Control<'_>,
        reporter: &Reporter,
    ) -> Outcome {
        // A proxy is resampled from the whole frame; at full scale only a frame not
        // planned yet is read whole.
        let read_all = || src.read().map_err(pertouch_core::Error::InvalidRequest);
        let whole = if self.scale < 1.0 {
            Some(read_all()?)
        } else {
            None
        };
        // One plan per frame and state: tiles and render scales reuse it.
        let key = FrameKey::new(src.width(), src.height(), src.content_hash(), &self.state);
        let inputs = || {
            Ok(FrameInputs {
                source: match &whole {
                    Some(w) => Cow::Borrowed(w),
                    None => Cow::Owned(read_all()?),
                },
                masks: MaskSet::new(),
            })
        };
        let frame = engine.frame(key, &self.state, inputs, ctl)?;
        // The plan is in the engine's cache and nobody waits for this call: let
        // the host see the planning's reports (and perhaps cancel) before pixels.
        reporter.settle();
        let region = self.region(src);
        let Some(source) = whole else {
            // Full scale: straight from the host's pixels into the host's buffer.
            frame.render_into(
                (src, (region.x, region.y)),
                dst,
                (region.x, region.y),
                (src.width(), src.height()),
                ctl,
            )?;
            return Ok(());
        };
        let request = RenderRequest {
            scale: self.scale,
            roi: self.roi,
        };
        let framed = request.frame(&source)?;
        let out = frame.render_tile(
            &framed.tile,
            (framed.roi.x, framed.roi.y),
            (framed.frame_width, framed.frame_height),
            ctl,
        )?;
        dst.write_rect(0, 0, &out)
            .map_err(|m| Failure::invalid(format!("dst: {m}")))
    }
}
