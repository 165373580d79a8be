//! Image views: the host's pixels, described by pointer, size, row stride,
//! channel count and sample type, checked before a single byte is read.

use crate::boundary::Failure;
use pertouch_core::host::PixelView;
use pertouch_core::raster::Depth;
use pertouch_core::render::Rect;

/// Sample type of an image view.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PtDepth {
    /// 8-bit unsigned samples, 0..255.
    PT_DEPTH_U8 = 0,
    /// 16-bit unsigned samples, 0..65535.
    PT_DEPTH_U16 = 1,
    /// 32-bit float samples, sRGB-encoded, 0..1 nominal.
    PT_DEPTH_F32 = 2,
}

/// A view of interleaved RGB or RGBA pixels the host owns, top row first. Sides
/// are 1 to 32768 pixels; rows are `row_bytes` apart, at least a row
/// (`width * channels * sample size`) and at most 2 GiB; u16 and f32 data must
/// be aligned to their sample size. Float samples are sRGB-encoded, 0..1 nominal.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct PtImage {
    /// The first sample of the top row.
    pub data: *mut std::ffi::c_void,
    /// Pixels per row.
    pub width: u32,
    /// Rows.
    pub height: u32,
    /// Bytes from the start of one row to the start of the next one down.
    pub row_bytes: usize,
    /// 3 (RGB) or 4 (RGBA).
    pub channels: u32,
    /// A `PtDepth` value (an integer, so that a bad value is caught, not UB).
    pub depth: u32,
}

/// A pixel rectangle.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PtRect {
    /// Left column.
    pub x: u32,
    /// Top row.
    pub y: u32,
    /// Columns.
    pub width: u32,
    /// Rows.
    pub height: u32,
}

impl From<PtRect> for Rect {
    fn from(r: PtRect) -> Rect {
        Rect {
            x: r.x as usize,
            y: r.y as usize,
            width: r.width as usize,
            height: r.height as usize,
        }
    }
}

/// The view of `img` (the argument `what`) the core reads and writes: depth and
/// channel count checked here, pointer, sizes, stride and alignment by
/// [`PixelView::new`].
///
/// # Safety
/// `img` must describe memory the host keeps readable (and, for a destination,
/// writable and not aliased) for `height` rows of `row_bytes` from `data` during
/// the call: the API's documented contract.
pub(crate) unsafe fn view<'a>(img: &PtImage, what: &str) -> Result<PixelView<'a>, Failure> {
    let depth = match img.depth {
        0 => Depth::U8,
        1 => Depth::U16,
        2 => Depth::F32,
        d => {
            return Err(Failure::invalid(format!(
                "{what}: depth {d} is not PT_DEPTH_U8, _U16 or _F32"
            )))
        }
    };
    if img.channels != 3 && img.channels != 4 {
        return Err(Failure::invalid(format!(
            "{what}: {} channels (3 or 4)",
            img.channels
        )));
    }
    let step = isize::try_from(img.row_bytes).map_err(|_| {
        Failure::invalid(format!("{what}: row_bytes {} is too large", img.row_bytes))
    })?;
    // SAFETY: the caller passes on the host's promise about `img`'s memory.
    unsafe {
        PixelView::new(
            img.data.cast(),
            img.width as usize,
            img.height as usize,
            step,
            img.channels as usize,
            depth,
        )
    }
    .map_err(|m| Failure::invalid(format!("{what}: {m}")))
}
