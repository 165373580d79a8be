//! Image views: the host's pixels, described by pointer, size, row stride,
//! channel count and sample type, checked before a single byte is read.

use pertouch_core::host::PixelView;
use pertouch_core::raster::Depth;

/// Sample type of an image view.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PtDepth {
    PT_DEPTH_U8 = 0,
    PT_DEPTH_U16 = 1,
    PT_DEPTH_F32 = 2,
}

/// A view of interleaved RGB or RGBA pixels the host owns. Rows are `row_bytes`
/// apart (at least `width * channels * sample size`); u16 and f32 data must be
/// aligned to their sample size. Float samples are sRGB-encoded, 0..1 nominal.
#[repr(C)]
#[derive(Debug, Clone, Copy)]
pub struct PtImage {
    pub data: *mut std::ffi::c_void,
    pub width: u32,
    pub height: u32,
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
    pub x: u32,
    pub y: u32,
    pub width: u32,
    pub height: u32,
}

/// The view of `img` the core reads and writes: depth and channel count checked
/// here, pointer, sizes, stride and alignment by [`PixelView::new`].
///
/// # Safety
/// `img` must describe memory the host keeps readable (and, for a destination,
/// writable and not aliased) for `height` rows of `row_bytes` from `data` during
/// the call: the API's documented contract.
pub unsafe fn view<'a>(img: &PtImage, what: &str) -> Result<PixelView<'a>, String> {
    let depth = match img.depth {
        0 => Depth::U8,
        1 => Depth::U16,
        2 => Depth::F32,
        d => {
            return Err(format!(
                "{what}: depth {d} is not PT_DEPTH_U8, _U16 or _F32"
            ))
        }
    };
    if img.channels != 3 && img.channels != 4 {
        return Err(format!("{what}: {} channels (3 or 4)", img.channels));
    }
    let step = isize::try_from(img.row_bytes)
        .map_err(|_| format!("{what}: row_bytes {} is too large", img.row_bytes))?;
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
    .map_err(|m| format!("{what}: {m}"))
}
