//! Host images: fetched from a clip, described by their properties, seen through
//! the core's pixel views (OpenFX rows run bottom-up; a view's row 0 is the top),
//! and released when dropped.

use crate::abi::names::*;
use crate::abi::*;
use crate::suites::{check, Host, OfxError, OfxResult, Props};
use pertouch_core::host::PixelView;
use pertouch_core::raster::Depth;

/// A pixel rectangle in OpenFX's pixel coordinates (y up, x2/y2 exclusive).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rect {
    pub x1: i32,
    pub y1: i32,
    pub x2: i32,
    pub y2: i32,
}

impl Rect {
    pub fn from(r: OfxRectI) -> Self {
        Rect {
            x1: r.x1,
            y1: r.y1,
            x2: r.x2,
            y2: r.y2,
        }
    }
    pub fn width(&self) -> usize {
        (self.x2 - self.x1).max(0) as usize
    }
    pub fn height(&self) -> usize {
        (self.y2 - self.y1).max(0) as usize
    }
    pub fn is_empty(&self) -> bool {
        self.width() == 0 || self.height() == 0
    }
    pub fn intersect(&self, o: &Rect) -> Rect {
        Rect {
            x1: self.x1.max(o.x1),
            y1: self.y1.max(o.y1),
            x2: self.x2.min(o.x2),
            y2: self.y2.min(o.y2),
        }
    }
    pub fn contains(&self, o: &Rect) -> bool {
        o.x1 >= self.x1 && o.y1 >= self.y1 && o.x2 <= self.x2 && o.y2 <= self.y2
    }
}

/// An image the host lent us; released on drop.
pub struct Image<'h> {
    host: &'h Host,
    handle: OfxPropertySetHandle,
    data: *mut u8,
    pub bounds: Rect,
    row_bytes: isize,
    pub channels: usize,
    pub depth: Depth,
    pub premultiplied: bool,
}

impl<'h> Image<'h> {
    /// The image of `clip` at `time` (whole image), or `None` when the host has
    /// none there (an unconnected optional input).
    pub fn fetch(host: &'h Host, clip: usize, time: f64) -> OfxResult<Option<Image<'h>>> {
        let mut h = std::ptr::null_mut();
        // SAFETY: a clip handle of the instance; a null region asks for the RoI.
        let status = unsafe {
            (host.effects.clipGetImage)(clip as OfxImageClipHandle, time, std::ptr::null(), &mut h)
        };
        if status == kOfxStatFailed || (status == kOfxStatOK && h.is_null()) {
            return Ok(None);
        }
        check(status, || "fetching an image".into())?;
        let mut img = Image {
            host,
            handle: h,
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
        };
        // `img` releases the handle from here on, whatever fails below.
        let p = Props::new(host, h)?;
        img.data = p.pointer(kOfxImagePropData)?.cast();
        img.bounds = Rect::from(p.rect_i(kOfxImagePropBounds)?);
        img.row_bytes = p.int(kOfxImagePropRowBytes, 0)? as isize;
        let comps = p.string(kOfxImageEffectPropComponents, 0)?;
        img.channels = match comps.as_bytes() {
            c if c == kOfxImageComponentRGBA.to_bytes() => 4,
            c if c == kOfxImageComponentRGB.to_bytes() => 3,
            c if c == kOfxImageComponentAlpha.to_bytes() => 1,
            _ => {
                return Err(OfxError::new(
                    kOfxStatErrImageFormat,
                    format!("unsupported components {comps}"),
                ))
            }
        };
        let depth = p.string(kOfxImageEffectPropPixelDepth, 0)?;
        img.depth = match depth.as_bytes() {
            d if d == kOfxBitDepthByte.to_bytes() => Depth::U8,
            d if d == kOfxBitDepthShort.to_bytes() => Depth::U16,
            d if d == kOfxBitDepthFloat.to_bytes() => Depth::F32,
            _ => {
                return Err(OfxError::new(
                    kOfxStatErrImageFormat,
                    format!("unsupported depth {depth}"),
                ))
            }
        };
        img.premultiplied = p
            .string(kOfxImageEffectPropPreMultiplication, 0)
            .map(|s| s.as_bytes() == kOfxImagePreMultiplied.to_bytes())
            .unwrap_or(false);
        if img.bounds.is_empty() {
            return Err(OfxError::new(
                kOfxStatErrImageFormat,
                "the host gave an empty image",
            ));
        }
        Ok(Some(img))
    }

    fn sample_bytes(&self) -> usize {
        match self.depth {
            Depth::U8 => 1,
            Depth::U16 => 2,
            Depth::F32 => 4,
        }
    }

    /// A view of `rect` (inside the bounds), top row first.
    pub fn view(&self, rect: Rect) -> OfxResult<PixelView<'_>> {
        if rect.is_empty() || !self.bounds.contains(&rect) {
            return Err(OfxError::new(
                kOfxStatErrValue,
                format!(
                    "{rect:?} is not inside the image's bounds {:?}",
                    self.bounds
                ),
            ));
        }
        let px = self.channels * self.sample_bytes();
        let top = (rect.y2 - 1 - self.bounds.y1) as isize;
        let left = (rect.x1 - self.bounds.x1) as usize;
        if self.row_bytes.unsigned_abs() < self.bounds.width() * px {
            return Err(OfxError::new(
                kOfxStatErrImageFormat,
                format!("row bytes {} hold less than a row", self.row_bytes),
            ));
        }
        let start = self
            .data
            .wrapping_offset(top * self.row_bytes)
            .wrapping_add(left * px);
        // SAFETY: the host's image holds `bounds.height()` rows of `row_bytes`
        // (negative for top-down memory) from `data`, each at least a bounds-wide
        // row (checked); `rect` lies inside the bounds, so every row of the view,
        // stepping down from its top row, lies inside the image. The image stays
        // fetched while the view (borrowing `self`) lives; render windows of
        // concurrent renders do not overlap, so written pixels are ours.
        unsafe {
            PixelView::new(
                start,
                rect.width(),
                rect.height(),
                -self.row_bytes,
                self.channels,
                self.depth,
            )
        }
        .map_err(|m| OfxError::new(kOfxStatErrImageFormat, m))
    }
}

impl Drop for Image<'_> {
    fn drop(&mut self) {
        // SAFETY: the handle clipGetImage gave, released once.
        unsafe { (self.host.effects.clipReleaseImage)(self.handle) };
    }
}
