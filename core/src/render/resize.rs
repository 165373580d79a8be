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
    inside(src, r)?;
    // Sized up front (zeroed lazily by the system): no fill before the copy.
    let mut out = Raster::zeroed(r.width, r.height, src.channels(), src.depth())
        .expect("a rectangle inside a raster has a raster's layout");
    crop_into(src, r, &mut out)?;
    Ok(out)
}

/// An error unless `r` is a non-empty rectangle inside `src`.
fn inside(src: &Raster, r: Rect) -> Result<()> {
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
    Ok(())
}

/// [`crop`] into `out`, keeping its memory where it has the rectangle's layout
/// already (a band buffer reused from band to band).
pub fn crop_into(src: &Raster, r: Rect, out: &mut Raster) -> Result<()> {
    inside(src, r)?;
    let ch = src.channels();
    if !out.reshape(r.width, r.height, ch, src.depth()) {
        unreachable!("a rectangle inside a raster has a raster's layout");
    }
    fn cut<T: Copy>(v: &[T], w: usize, ch: usize, r: Rect, out: &mut [T]) {
        let n = r.width * ch;
        for (row, y) in out.chunks_exact_mut(n).zip(r.y..) {
            row.copy_from_slice(&v[(y * w + r.x) * ch..(y * w + r.x) * ch + n]);
        }
    }
    let w = src.width();
    match (src.samples(), out.samples_mut()) {
        (Samples::U8(v), Samples::U8(o)) => cut(v, w, ch, r, o),
        (Samples::U16(v), Samples::U16(o)) => cut(v, w, ch, r, o),
        (Samples::F32(v), Samples::F32(o)) => cut(v, w, ch, r, o),
        _ => unreachable!("reshaped to the source's depth"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::raster::Depth;

    /// Cropping into one reused raster gives each crop, whatever it held before.
    #[test]
    fn crops_into_a_reused_raster_are_the_crops() {
        let src = Raster::new(7, 5, 3, Samples::U8((0..105).map(|v| v as u8).collect())).unwrap();
        let mut out = Raster::zeroed(2, 2, 4, Depth::F32).unwrap();
        for (x, y, width, height) in [(0, 0, 7, 5), (2, 1, 3, 3), (6, 4, 1, 1), (0, 2, 7, 2)] {
            let r = Rect {
                x,
                y,
                width,
                height,
            };
            crop_into(&src, r, &mut out).unwrap();
            assert_eq!(out, crop(&src, r).unwrap(), "{r:?}");
        }
        let Samples::U8(v) = crop(
            &src,
            Rect {
                x: 2,
                y: 1,
                width: 2,
                height: 2,
            },
        )
        .unwrap()
        .samples()
        .clone() else {
            panic!("8-bit")
        };
        assert_eq!(v, [27, 28, 29, 30, 31, 32, 48, 49, 50, 51, 52, 53]);
        let outside = Rect {
            x: 6,
            y: 0,
            width: 2,
            height: 1,
        };
        assert!(crop_into(&src, outside, &mut out).is_err());
    }
}
