//! Resampling and cropping rasters: what a render scale below 1 and a region of
//! interest cut out of a frame, shared by the renderers, the streamed save and the
//! agent's previews.

use super::Rect;
use crate::error::{Error, Result};
use crate::raster::{Raster, Samples};

/// Area-resamples a raster to `width` x `height` (for render scales below 1).
pub fn resample(src: &Raster, width: usize, height: usize) -> Raster {
    if (width, height) == (src.width(), src.height()) {
        return src.clone();
    }
    let img = crate::image_io::raster_to_dynamic(src);
    let resized = img.resize_exact(
        width as u32,
        height as u32,
        image::imageops::FilterType::Triangle,
    );
    crate::image_io::raster_from_dynamic(resized)
}

/// Copies a rectangle out of a raster.
pub fn crop(src: &Raster, r: Rect) -> Result<Raster> {
    if r.width == 0 || r.height == 0 || r.x + r.width > src.width() || r.y + r.height > src.height()
    {
        return Err(Error::InvalidRequest(format!(
            "region of interest {}x{} at ({}, {}) is outside the {}x{} frame",
            r.width,
            r.height,
            r.x,
            r.y,
            src.width(),
            src.height()
        )));
    }
    let ch = src.channels();
    fn cut<T: Copy>(v: &[T], w: usize, ch: usize, r: Rect) -> Vec<T> {
        let mut out = Vec::with_capacity(r.width * r.height * ch);
        for y in r.y..r.y + r.height {
            out.extend_from_slice(&v[(y * w + r.x) * ch..(y * w + r.x + r.width) * ch]);
        }
        out
    }
    let samples = match src.samples() {
        Samples::U8(v) => Samples::U8(cut(v, src.width(), ch, r)),
        Samples::U16(v) => Samples::U16(cut(v, src.width(), ch, r)),
        Samples::F32(v) => Samples::F32(cut(v, src.width(), ch, r)),
    };
    Ok(Raster::new(r.width, r.height, ch, samples).expect("crop keeps invariants"))
}
