//! Image views: the host's pixels, described by pointer, size, row stride,
//! channel count and sample type, checked before a single byte is read.

use pertouch_core::raster::{Raster, Samples};

/// Sample type of an image view.
#[repr(C)]
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PtDepth {
    PT_DEPTH_U8 = 0,
    PT_DEPTH_U16 = 1,
    PT_DEPTH_F32 = 2,
}

impl PtDepth {
    fn bytes(self) -> usize {
        match self {
            PtDepth::PT_DEPTH_U8 => 1,
            PtDepth::PT_DEPTH_U16 => 2,
            PtDepth::PT_DEPTH_F32 => 4,
        }
    }
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

/// A checked view.
pub struct View {
    pub data: *mut u8,
    pub width: usize,
    pub height: usize,
    pub row_bytes: usize,
    pub channels: usize,
    pub depth: PtDepth,
}

/// Largest image side accepted (a 2^15 side is beyond any camera or 16K frame).
const MAX_SIDE: u32 = 1 << 15;

/// Checks `img` (not its contents): non-null data, 3 or 4 channels, a known depth,
/// sizes in range, a stride that holds a row, aligned samples.
pub fn check(img: &PtImage, what: &str) -> Result<View, String> {
    let depth = match img.depth {
        0 => PtDepth::PT_DEPTH_U8,
        1 => PtDepth::PT_DEPTH_U16,
        2 => PtDepth::PT_DEPTH_F32,
        d => {
            return Err(format!(
                "{what}: depth {d} is not PT_DEPTH_U8, _U16 or _F32"
            ))
        }
    };
    if img.data.is_null() {
        return Err(format!("{what}: data is null"));
    }
    if img.channels != 3 && img.channels != 4 {
        return Err(format!("{what}: {} channels (3 or 4)", img.channels));
    }
    if img.width == 0 || img.height == 0 || img.width > MAX_SIDE || img.height > MAX_SIDE {
        return Err(format!(
            "{what}: size {} x {} (each side 1 to {MAX_SIDE})",
            img.width, img.height
        ));
    }
    let row = img.width as usize * img.channels as usize * depth.bytes();
    if img.row_bytes < row {
        return Err(format!(
            "{what}: row_bytes {} is less than a row ({row})",
            img.row_bytes
        ));
    }
    if !(img.data as usize).is_multiple_of(depth.bytes())
        || !img.row_bytes.is_multiple_of(depth.bytes())
    {
        return Err(format!(
            "{what}: data or row_bytes not aligned to the {}-byte sample size",
            depth.bytes()
        ));
    }
    Ok(View {
        data: img.data.cast(),
        width: img.width as usize,
        height: img.height as usize,
        row_bytes: img.row_bytes,
        channels: img.channels as usize,
        depth,
    })
}

/// Copies the view's pixels into an owned raster.
///
/// # Safety
/// `v` must describe memory the host keeps readable for `height * row_bytes`
/// bytes from `data` for the duration of the call (the API's documented contract).
pub unsafe fn read(v: &View) -> Raster {
    let n = v.width * v.channels;
    let rows = (0..v.height).map(|y| {
        // SAFETY: `check` verified the row fits the stride and the pointer is
        // aligned for the sample type; the caller guarantees the memory is
        // readable for `height` rows of `row_bytes`.
        unsafe { v.data.add(y * v.row_bytes) }
    });
    let samples = match v.depth {
        PtDepth::PT_DEPTH_U8 => Samples::U8(
            rows.flat_map(|p| {
                // SAFETY: see above; `n` u8 samples lie within the row.
                unsafe { std::slice::from_raw_parts(p, n) }.iter().copied()
            })
            .collect(),
        ),
        PtDepth::PT_DEPTH_U16 => Samples::U16(
            rows.flat_map(|p| {
                // SAFETY: see above; aligned for u16, `n` samples within the row.
                unsafe { std::slice::from_raw_parts(p.cast::<u16>(), n) }
                    .iter()
                    .copied()
            })
            .collect(),
        ),
        PtDepth::PT_DEPTH_F32 => Samples::F32(
            rows.flat_map(|p| {
                // SAFETY: see above; aligned for f32, `n` samples within the row.
                unsafe { std::slice::from_raw_parts(p.cast::<f32>(), n) }
                    .iter()
                    .map(|v| if v.is_finite() { *v } else { 0.0 })
            })
            .collect(),
        ),
    };
    Raster::new(v.width, v.height, v.channels, samples).expect("sizes checked")
}

/// Writes `r` into the view, converting to the view's depth. The view must have
/// the raster's size and channel count.
///
/// # Safety
/// `v` must describe memory the host keeps writable for `height * row_bytes`
/// bytes, not aliased by the source of the render.
pub unsafe fn write(v: &View, r: &Raster) -> Result<(), String> {
    if (v.width, v.height, v.channels) != (r.width(), r.height(), r.channels()) {
        return Err(format!(
            "dst is {} x {} x {}, the render is {} x {} x {}",
            v.width,
            v.height,
            v.channels,
            r.width(),
            r.height(),
            r.channels()
        ));
    }
    let n = v.width * v.channels;
    let unit = |i: usize| -> f32 {
        match r.samples() {
            Samples::U8(s) => s[i] as f32 / 255.0,
            Samples::U16(s) => s[i] as f32 / 65535.0,
            Samples::F32(s) => s[i],
        }
    };
    for y in 0..v.height {
        // SAFETY: `check` verified stride and alignment; the caller guarantees the
        // memory is writable for `height` rows of `row_bytes` and not aliased.
        let p = unsafe { v.data.add(y * v.row_bytes) };
        let base = y * n;
        match v.depth {
            PtDepth::PT_DEPTH_U8 => {
                // SAFETY: as above, `n` u8 samples within the row.
                let row = unsafe { std::slice::from_raw_parts_mut(p, n) };
                match r.samples() {
                    Samples::U8(s) => row.copy_from_slice(&s[base..base + n]),
                    _ => {
                        for (i, o) in row.iter_mut().enumerate() {
                            *o = (unit(base + i) * 255.0 + 0.5).clamp(0.0, 255.0) as u8;
                        }
                    }
                }
            }
            PtDepth::PT_DEPTH_U16 => {
                // SAFETY: as above, aligned for u16.
                let row = unsafe { std::slice::from_raw_parts_mut(p.cast::<u16>(), n) };
                match r.samples() {
                    Samples::U16(s) => row.copy_from_slice(&s[base..base + n]),
                    _ => {
                        for (i, o) in row.iter_mut().enumerate() {
                            *o = (unit(base + i) * 65535.0 + 0.5).clamp(0.0, 65535.0) as u16;
                        }
                    }
                }
            }
            PtDepth::PT_DEPTH_F32 => {
                // SAFETY: as above, aligned for f32.
                let row = unsafe { std::slice::from_raw_parts_mut(p.cast::<f32>(), n) };
                for (i, o) in row.iter_mut().enumerate() {
                    *o = unit(base + i);
                }
            }
        }
    }
    Ok(())
}
