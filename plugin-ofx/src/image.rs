//! Host images: fetched from a clip, described by their properties, seen through
//! the core's pixel views (OpenFX rows run bottom-up; a view's row 0 is the top),
//! and released when dropped.

use crate::abi::names::*;
use crate::abi::*;
use crate::handles::{Clip, PropSet};
use crate::host_values::{self, Rect};
use crate::suites::{check, ofx_fn, Host, OfxError, OfxResult, Props};
use pertouch_core::host::PixelView;
use pertouch_core::raster::Depth;

/// An image the host lent us; released on drop.
pub struct Image<'h> {
    host: &'h Host,
    handle: PropSet,
    data: *mut u8,
    pub bounds: Rect,
    row_bytes: i32,
    pub channels: usize,
    pub depth: Depth,
    pub premultiplied: bool,
    /// The image's own region of definition in pixels, where the host sets it.
    pub rod: Option<OfxRectI>,
    /// Pixel aspect ratio (1 when the host does not say).
    pub par: f64,
}

impl<'h> Image<'h> {
    /// The image of `clip` at `time` (whole image), or `None` when the host has
    /// none there (an unconnected optional input).
    pub fn fetch(host: &'h Host, clip: Clip, time: f64) -> OfxResult<Option<Image<'h>>> {
        let mut h = std::ptr::null_mut();
        let f = ofx_fn!(host.effects => OfxImageEffectSuiteV1::clipGetImage)?;
        // SAFETY: a clip handle of the instance; a null region asks for the RoI;
        // a valid out pointer.
        let status = unsafe { f(clip.as_ptr(), time, std::ptr::null(), &mut h) };
        // SAFETY: on success `h` is the image's property set, valid until released.
        let handle = unsafe { PropSet::new(h) };
        if status == kOfxStatFailed {
            return Ok(None);
        }
        check(status, || "fetching an image".into())?;
        let Some(handle) = handle else {
            return Ok(None);
        };
        let mut img = Image {
            host,
            handle,
            data: std::ptr::null_mut(),
            bounds: Rect {
                x1: 0,
                y1: 0,
                x2: 0,
                y2: 0,
            },
            row_bytes: 0,
            channels: 0,
            depth: Depth::U8,
            premultiplied: false,
            rod: None,
            par: 1.0,
        };
        // `img` releases the handle from here on, whatever fails below.
        let p = Props::new(host, Some(handle), "an image")?;
        img.data = p.pointer(kOfxImagePropData)?.cast();
        img.bounds = Rect::from(p.rect_i(kOfxImagePropBounds)?);
        img.row_bytes = p.int(kOfxImagePropRowBytes, 0)?;
        img.channels = host_values::channels(&p.string(kOfxImageEffectPropComponents, 0)?)?;
        img.depth = host_values::depth(&p.string(kOfxImageEffectPropPixelDepth, 0)?)?;
        img.premultiplied = p
            .string(kOfxImageEffectPropPreMultiplication, 0)
            .is_ok_and(|s| host_values::premultiplied(&s));
        // Optional (OpenFX 1.4 and later): older hosts refuse them.
        img.rod = p.rect_i(kOfxImagePropRegionOfDefinition).ok();
        img.par = p.double(kOfxImagePropPixelAspectRatio, 0).unwrap_or(1.0);
        if img.bounds.is_empty() {
            return Err(OfxError::new(
                kOfxStatErrImageFormat,
                "the host gave an empty image",
            ));
        }
        if img.data.is_null() {
            return Err(OfxError::new(
                kOfxStatErrImageFormat,
                "the host gave an image without pixels (a null data pointer)",
            ));
        }
        Ok(Some(img))
    }

    /// A view of `rect` (inside the bounds), top row first.
    pub fn view(&self, rect: Rect) -> OfxResult<PixelView<'_>> {
        let layout =
            host_values::view_layout(self.bounds, self.row_bytes, self.channels, self.depth, rect)?;
        let start = self.data.wrapping_offset(layout.offset);
        // SAFETY: the host's image holds `bounds.height()` rows of `row_bytes`
        // (negative for top-down memory) from `data`, each at least a bounds-wide
        // row; `view_layout` checked that and that `rect` lies inside the bounds,
        // so every row of the view, stepping down from its top row, lies inside
        // the image. The image stays fetched while the view (borrowing `self`)
        // lives; render windows of concurrent renders do not overlap, so written
        // pixels are ours.
        unsafe {
            PixelView::new(
                start,
                rect.width(),
                rect.height(),
                layout.row_step,
                self.channels,
                self.depth,
            )
        }
        .map_err(|m| OfxError::new(kOfxStatErrImageFormat, m))
    }
}

impl Drop for Image<'_> {
    fn drop(&mut self) {
        if let Ok(release) = ofx_fn!(self.host.effects => OfxImageEffectSuiteV1::clipReleaseImage) {
            // SAFETY: the handle clipGetImage gave, released once.
            unsafe { release(self.handle.as_ptr()) };
        } else {
            tracing::warn!("the host left OfxImageEffectSuiteV1::clipReleaseImage null: an image is not released");
        }
    }
}
