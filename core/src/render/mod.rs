//! Renderers: turn a source photo, region masks and a region state of changes into
//! the retouched photo. The API is shaped for hosts: requests carry a scale and a
//! region of interest, work can be cancelled, progress is reported, and everything
//! is `Send + Sync` so hosts may render from many threads.

pub(crate) mod blend;
pub mod lut3d;
pub mod ops;
pub mod parametric;
pub mod refine;
mod report;
mod resize;
mod solve;
mod stream;
pub(crate) mod targets;

pub use parametric::{ParametricRenderer, RenderOptions, RenderPlan};
pub use report::{RegionReport, RenderReport};
pub use resize::{crop, crop_into, resample};
pub use stream::{render_bands, Band, BAND_ROWS};

use crate::error::{Error, Result};
use crate::mask::MaskSet;
use crate::params::RegionState;
use crate::raster::Raster;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

/// A cancellation flag shared between the caller and the work.
#[derive(Debug, Clone, Default)]
pub struct CancelToken(Arc<AtomicBool>);

impl CancelToken {
    /// A token that is not cancelled.
    pub fn new() -> Self {
        Self::default()
    }
    /// Asks the work to stop at its next check.
    pub fn cancel(&self) {
        self.0.store(true, Ordering::Relaxed);
    }
    /// True once [`CancelToken::cancel`] was called.
    pub fn is_cancelled(&self) -> bool {
        self.0.load(Ordering::Relaxed)
    }
}

/// Progress callback: a stage name and the fraction of that stage done (0..=1).
pub type ProgressFn<'a> = dyn Fn(&str, f32) + Send + Sync + 'a;

/// Cancellation and progress for one call.
#[derive(Clone, Copy, Default)]
pub struct Control<'a> {
    pub cancel: Option<&'a CancelToken>,
    pub progress: Option<&'a ProgressFn<'a>>,
}

impl Control<'_> {
    /// Err(Cancelled) once cancellation was asked for.
    pub fn check(&self) -> Result<()> {
        match self.cancel {
            Some(c) if c.is_cancelled() => Err(Error::Cancelled),
            _ => Ok(()),
        }
    }
    /// Reports progress, if anyone listens.
    pub fn report(&self, stage: &str, fraction: f32) {
        if let Some(p) = self.progress {
            p(stage, fraction.clamp(0.0, 1.0));
        }
    }
}

/// A pixel rectangle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x: usize,
    pub y: usize,
    pub width: usize,
    pub height: usize,
}

/// What to render: the whole frame or a region of interest, at a render scale.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RenderRequest {
    /// Render scale in (0, 1]: 0.5 renders a half-size proxy of the frame.
    pub scale: f32,
    /// Region of interest in the scaled frame's pixels; `None` for the whole frame.
    pub roi: Option<Rect>,
}

impl Default for RenderRequest {
    fn default() -> Self {
        RenderRequest {
            scale: 1.0,
            roi: None,
        }
    }
}

impl RenderRequest {
    /// Checks the scale and cuts what this request renders out of `source`: the
    /// frame at the render scale, or the region of interest of it. Renderers call
    /// this, then render the tile at [`Framed::roi`]'s origin in a frame of
    /// [`Framed::frame_width`] x [`Framed::frame_height`].
    pub fn frame<'a>(&self, source: &'a Raster) -> Result<Framed<'a>> {
        if !(self.scale > 0.0 && self.scale <= 1.0) {
            return Err(Error::InvalidRequest(format!(
                "render scale {} is not in (0, 1]",
                self.scale
            )));
        }
        let (fw, fh) = scaled_size(source.width(), source.height(), self.scale);
        let frame = if self.scale == 1.0 {
            std::borrow::Cow::Borrowed(source)
        } else {
            std::borrow::Cow::Owned(resample(source, fw, fh))
        };
        let roi = self.roi.unwrap_or(Rect {
            x: 0,
            y: 0,
            width: fw,
            height: fh,
        });
        let whole = (roi.x, roi.y, roi.width, roi.height) == (0, 0, fw, fh);
        let tile = if whole {
            frame
        } else {
            std::borrow::Cow::Owned(crop(&frame, roi)?)
        };
        Ok(Framed {
            tile,
            roi,
            frame_width: fw,
            frame_height: fh,
            full_frame: self.scale == 1.0 && whole,
        })
    }
}

/// The size of a `width` x `height` frame at render scale `scale`: each side
/// rounded, at least 1.
pub fn scaled_size(width: usize, height: usize, scale: f32) -> (usize, usize) {
    let side = |n: usize| ((n as f32 * scale).round() as usize).max(1);
    (side(width), side(height))
}

/// Checks that a `tile` placed at (`x0`, `y0`) lies inside a `frame_width` x
/// `frame_height` frame: what every renderer's tile call requires.
pub fn check_tile(
    tile: &Raster,
    (x0, y0): (usize, usize),
    (frame_width, frame_height): (usize, usize),
) -> Result<()> {
    if frame_width == 0
        || frame_height == 0
        || x0 + tile.width() > frame_width
        || y0 + tile.height() > frame_height
    {
        return Err(Error::InvalidRequest(format!(
            "tile {}x{} at ({x0}, {y0}) does not fit a {frame_width}x{frame_height} frame",
            tile.width(),
            tile.height()
        )));
    }
    Ok(())
}

/// What a [`RenderRequest`] cut out of a source.
#[derive(Debug)]
pub struct Framed<'a> {
    /// The pixels to render (the source itself for a full-frame request).
    pub tile: std::borrow::Cow<'a, Raster>,
    /// Where the tile sits in the scaled frame.
    pub roi: Rect,
    pub frame_width: usize,
    pub frame_height: usize,
    /// The whole frame at full resolution (worth verifying).
    pub full_frame: bool,
}

/// Everything a renderer needs to know about one edit.
#[derive(Debug, Clone, Copy)]
pub struct RenderJob<'a> {
    /// The full-resolution source photo.
    pub source: &'a Raster,
    /// Rough masks of the named regions in `state`.
    pub masks: &'a MaskSet,
    /// Changes per region, in level units.
    pub state: &'a RegionState,
}

/// A rendered image and what the renderer measured on the way.
#[derive(Debug, Clone)]
pub struct RenderOutput {
    pub image: Raster,
    pub report: RenderReport,
}

/// A frame's solved edit, whichever renderer solved it: immutable, `Send + Sync`,
/// and able to render any tile at any render scale as that part of the full frame.
/// The expensive part of a render (analysis, solving, a model run) happens once,
/// when the plan is made; hosts then render tiles from many threads.
pub trait FramePlan: Send + Sync {
    /// What was asked and what the plan predicts (achieved levels once verified).
    fn report(&self) -> &RenderReport;

    /// Renders `tile`, the source pixels of the rectangle at (`x0`, `y0`) inside a
    /// frame of `frame_width` x `frame_height` (the planned size or any render
    /// scale of it); the output has the tile's size, depth and channels.
    fn render_tile(
        &self,
        tile: &Raster,
        x0: usize,
        y0: usize,
        frame_width: usize,
        frame_height: usize,
        ctl: &Control<'_>,
    ) -> Result<Raster>;

    /// [`FramePlan::render_tile`] into `out`, which is made the tile's size,
    /// channels and depth, keeping its memory where it has them already: a host
    /// that renders frame after frame (a compositor's output image, a band buffer
    /// of its own) pays for no new pages. Renderers that cannot render in place
    /// render a new raster and move it in.
    fn render_tile_into(
        &self,
        tile: &Raster,
        (x0, y0): (usize, usize),
        (frame_width, frame_height): (usize, usize),
        out: &mut Raster,
        ctl: &Control<'_>,
    ) -> Result<()> {
        *out = self.render_tile(tile, x0, y0, frame_width, frame_height, ctl)?;
        Ok(())
    }

    /// Measures `output`, the whole frame rendered from this plan at full
    /// resolution, and records the achieved levels in the report.
    fn verify_output(&mut self, output: &Raster);

    /// A plan of `state` for 8-bit previews of this frame that reuses what this
    /// plan learnt of the frame (the parametric renderer: its analysis proxy and
    /// refined masks, its strengths as the start, only changed edits solved
    /// again); `None` when this plan cannot, and the preview is planned whole.
    fn plan_preview(
        &self,
        _state: &crate::params::RegionState,
        _ctl: &Control<'_>,
    ) -> Result<Option<Box<dyn FramePlan>>> {
        Ok(None)
    }
}

/// A way of turning a [`RenderJob`] into pixels: a renderer plans a frame
/// ([`Renderer::plan_frame`]); rendering in memory and the streamed save are the
/// same frame -> plan -> tiles -> verify shape for every renderer, written once here.
pub trait Renderer: Send + Sync {
    /// Short identifier ("parametric", "diffusion").
    fn name(&self) -> &'static str;

    /// Analyses `job` and solves its edit: everything but the pixels.
    fn plan_frame(&self, job: &RenderJob<'_>, ctl: &Control<'_>) -> Result<Box<dyn FramePlan>>;

    /// True when full-frame renders are measured again for the report.
    fn verifies(&self) -> bool;

    /// Renders `job` as `request` asks: the frame (or region of interest) at the
    /// render scale, from one plan; a full-resolution full frame is verified.
    fn render(
        &self,
        job: &RenderJob<'_>,
        request: &RenderRequest,
        ctl: &Control<'_>,
    ) -> Result<RenderOutput> {
        let framed = request.frame(job.source)?;
        let t0 = std::time::Instant::now();
        let mut plan = self.plan_frame(job, ctl)?;
        tracing::debug!(elapsed = ?t0.elapsed(), renderer = self.name(), "planned");
        let t1 = std::time::Instant::now();
        let image = plan.render_tile(
            &framed.tile,
            framed.roi.x,
            framed.roi.y,
            framed.frame_width,
            framed.frame_height,
            ctl,
        )?;
        tracing::debug!(elapsed = ?t1.elapsed(), "rendered");
        if framed.full_frame {
            verify(self, plan.as_mut(), &image, ctl);
        }
        Ok(RenderOutput {
            image,
            report: plan.report().clone(),
        })
    }

    /// Plans `job`, renders it at full resolution and saves it to `path`, encoding
    /// each band while later ones render, then verifies the achieved levels.
    /// Nothing is written if rendering fails or is cancelled.
    fn render_and_save(
        &self,
        job: &RenderJob<'_>,
        path: &std::path::Path,
        metadata: &crate::image_io::Metadata,
        save: &crate::image_io::SaveOptions,
        ctl: &Control<'_>,
    ) -> Result<RenderReport> {
        let t0 = std::time::Instant::now();
        let mut plan = self.plan_frame(job, ctl)?;
        tracing::debug!(elapsed = ?t0.elapsed(), renderer = self.name(), "planned");
        let src = job.source;
        let t1 = std::time::Instant::now();
        let image = render_bands(plan.as_ref(), src, BAND_ROWS, ctl, |bands| {
            crate::image_io::save_bands(path, src.width(), src.height(), metadata, save, bands)
        })?;
        tracing::debug!(elapsed = ?t1.elapsed(), "rendered and saved");
        verify(self, plan.as_mut(), &image, ctl);
        Ok(plan.report().clone())
    }
}

/// Measures the full frame `image` rendered from `plan` into its report, when the
/// renderer verifies (progress stage "verify").
fn verify<R: Renderer + ?Sized>(
    renderer: &R,
    plan: &mut dyn FramePlan,
    image: &Raster,
    ctl: &Control<'_>,
) {
    if !renderer.verifies() {
        return;
    }
    ctl.report("verify", 0.0);
    let t = std::time::Instant::now();
    plan.verify_output(image);
    tracing::debug!(elapsed = ?t.elapsed(), "verified");
    ctl.report("verify", 1.0);
}
