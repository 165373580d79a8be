//! Named region masks as given by the user or a segmenter (rough, any resolution).

use crate::error::{Error, Result};
use crate::params::region_state::normalize_region_name;
use crate::plane::{area_downsample, fit_long_side, Plane};
use image::DynamicImage;
use rayon::prelude::*;
use std::path::{Path, PathBuf};

/// The most resolution anything reads from a rough mask: the parametric renderer
/// fits masks to a coefficient grid of at most 1024 pixels on the long side
/// (`render::refine`: 512 refined, 1024 unrefined), the agent's previews and the
/// analysis proxy are at most 1024 too. A mask file larger than this is area-averaged
/// down to it while it is read, so a full-size soft mask never becomes a full-size
/// float plane (a 22.5-megapixel mask was 90 MB of floats plus 90 MB of 16-bit
/// luma-alpha before).
pub const MASK_LONG_SIDE: usize = 1024;

/// Reads the mask file of region `name`: greyscale (or colour: its luma; or with
/// alpha: luma times alpha), values in [0, 1], through the same checked decoding
/// as photos. Files larger than [`MASK_LONG_SIDE`]
/// are area-averaged to fit it straight from the decoded 8- or 16-bit samples;
/// smaller ones are kept at their own size.
pub fn read_mask(name: &str, path: &Path) -> Result<Plane> {
    // The same checked decoding as photos (limits, cut-off JPEGs, decoder
    // failures as this file's error); EXIF orientation applied as to the photo.
    let (img, _) = crate::image_io::decode::decode_file(path, &Default::default())?;
    let (w, h) = (img.width() as usize, img.height() as usize);
    if w == 0 || h == 0 {
        return Err(Error::InvalidMask {
            region: name.to_string(),
            reason: format!("{} is an empty image", path.display()),
        });
    }
    let (ow, oh) = if w.max(h) > MASK_LONG_SIDE {
        fit_long_side(w, h, MASK_LONG_SIDE)
    } else {
        (w, h)
    };
    // One source row as mask values; the common mask formats are read from their
    // own samples, anything else through 16-bit luma-alpha as before.
    let data = match &img {
        DynamicImage::ImageLuma8(b) => {
            let raw = b.as_raw();
            resample(w, h, ow, oh, |y, out| {
                for (o, &v) in out.iter_mut().zip(&raw[y * w..(y + 1) * w]) {
                    *o = v as f32 / 255.0;
                }
            })
        }
        DynamicImage::ImageLumaA8(b) => {
            let raw = b.as_raw();
            resample(w, h, ow, oh, |y, out| {
                for (o, p) in out
                    .iter_mut()
                    .zip(raw[y * 2 * w..(y + 1) * 2 * w].chunks_exact(2))
                {
                    *o = (p[0] as f32 / 255.0) * (p[1] as f32 / 255.0);
                }
            })
        }
        DynamicImage::ImageLuma16(b) => {
            let raw = b.as_raw();
            resample(w, h, ow, oh, |y, out| {
                for (o, &v) in out.iter_mut().zip(&raw[y * w..(y + 1) * w]) {
                    *o = v as f32 / 65535.0;
                }
            })
        }
        other => {
            let la = other.to_luma_alpha16();
            let has_alpha = other.color().has_alpha();
            let raw = la.as_raw();
            resample(w, h, ow, oh, |y, out| {
                for (o, p) in out
                    .iter_mut()
                    .zip(raw[y * 2 * w..(y + 1) * 2 * w].chunks_exact(2))
                {
                    let l = p[0] as f32 / 65535.0;
                    *o = if has_alpha {
                        l * (p[1] as f32 / 65535.0)
                    } else {
                        l
                    };
                }
            })
        }
    };
    Plane::from_vec(ow, oh, data).ok_or_else(|| Error::InvalidMask {
        region: name.to_string(),
        reason: format!("{} is an empty image", path.display()),
    })
}

/// Source rows (`fetch`) to a `dw` x `dh` plane: area-averaged when smaller, the
/// rows themselves when the size is kept.
fn resample(
    w: usize,
    h: usize,
    dw: usize,
    dh: usize,
    fetch: impl Fn(usize, &mut [f32]) + Sync,
) -> Vec<f32> {
    if (dw, dh) == (w, h) {
        let mut data = vec![0f32; w * h];
        for (y, row) in data.chunks_exact_mut(w).enumerate() {
            fetch(y, row);
        }
        data
    } else {
        area_downsample::<1>(w, h, dw, dh, fetch)
    }
}

/// A region name with its rough mask, values in [0, 1].
#[derive(Debug, Clone, PartialEq)]
pub struct NamedMask {
    pub name: String,
    pub mask: Plane,
}

/// The masks available for a photo, in the order given.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct MaskSet {
    masks: Vec<NamedMask>,
}

impl MaskSet {
    /// No masks: only `global` edits are possible.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds or replaces a mask under a normalised name.
    pub fn insert(&mut self, name: &str, mask: Plane) {
        let name = normalize_region_name(name);
        if let Some(m) = self.masks.iter_mut().find(|m| m.name == name) {
            m.mask = mask;
        } else {
            self.masks.push(NamedMask { name, mask });
        }
    }

    /// Loads a greyscale (or colour: its luma; or alpha-only: its alpha) image as a
    /// mask, read at no more than [`MASK_LONG_SIDE`] (see [`read_mask`]).
    pub fn insert_file(&mut self, name: &str, path: &Path) -> Result<()> {
        let plane = read_mask(name, path)?;
        self.insert(name, plane);
        Ok(())
    }

    /// Loads several `(name, file)` masks at once, decoding the files in parallel
    /// (PNG decoding is single-threaded; three full-size masks take three times one
    /// otherwise). Inserted in the order given; the first failure is returned.
    pub fn insert_files(&mut self, files: &[(String, PathBuf)]) -> Result<()> {
        let read: Vec<Result<Plane>> = files
            .par_iter()
            .map(|(name, path)| read_mask(name, path))
            .collect();
        for ((name, _), plane) in files.iter().zip(read) {
            self.insert(name, plane?);
        }
        Ok(())
    }

    /// The mask of a region, by (normalised) name.
    pub fn get(&self, name: &str) -> Option<&Plane> {
        let name = normalize_region_name(name);
        self.masks.iter().find(|m| m.name == name).map(|m| &m.mask)
    }

    /// Names, in order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.masks.iter().map(|m| m.name.as_str())
    }

    /// All masks.
    pub fn iter(&self) -> impl Iterator<Item = &NamedMask> {
        self.masks.iter()
    }

    /// Comma-separated names for messages ("global" always available).
    pub fn available(&self) -> String {
        std::iter::once("global")
            .chain(self.names())
            .collect::<Vec<_>>()
            .join(", ")
    }

    /// Checks that a mask can be stretched onto a `width` x `height` image: the aspect
    /// ratios must agree within 2% (a mask of another photo is a mistake, not a
    /// resize), or within the one pixel a mask's short side is rounded to: a
    /// 12000 x 360 panorama's masks are 512 x 15, an aspect 2% off.
    pub fn check_fits(&self, width: usize, height: usize) -> Result<()> {
        for m in &self.masks {
            if !aspect_fits(m.mask.width(), m.mask.height(), width, height) {
                return Err(Error::InvalidMask {
                    region: m.name.clone(),
                    reason: format!(
                        "mask is {} x {} but the image is {} x {}: the aspect ratios differ (a mask of another photo, or cropped?)",
                        m.mask.width(),
                        m.mask.height(),
                        width,
                        height
                    ),
                });
            }
        }
        Ok(())
    }
}

/// True when a `mw` x `mh` mask has the aspect of a `w` x `h` image: one side,
/// predicted from the other, is within 2% or one pixel of what it is.
fn aspect_fits(mw: usize, mh: usize, w: usize, h: usize) -> bool {
    let (mw, mh, w, h) = (mw as f64, mh as f64, w as f64, h as f64);
    let near = |actual: f64, predicted: f64| (actual - predicted).abs() <= (0.02 * actual).max(1.0);
    near(mh, mw * h / w) || near(mw, mh * w / h)
}

#[cfg(test)]
mod tests {
    use super::*;
    use image::{GrayAlphaImage, GrayImage, ImageBuffer, Luma};

    fn set_of(w: usize, h: usize) -> MaskSet {
        let mut s = MaskSet::new();
        s.insert("shadows", Plane::from_vec(w, h, vec![0.5; w * h]).unwrap());
        s
    }

    /// Issue 18 item 9: on main the 512 x 15 mask of a 12000 x 360 panorama was
    /// refused ("mask \"shadows\": aspect ratios differ").
    #[test]
    fn panorama_masks_rounded_to_a_pixel_fit() {
        for (w, h) in [
            (12000, 360),
            (20000, 400),
            (360, 12000),
            (100_000, 100),
            (6000, 4000),
        ] {
            let (mw, mh) = crate::plane::fit_long_side(w, h, 512);
            assert!(
                set_of(mw, mh).check_fits(w, h).is_ok(),
                "{w} x {h}: {mw} x {mh}"
            );
        }
        // Another photo's mask is still refused.
        let e = set_of(400, 300)
            .check_fits(600, 400)
            .unwrap_err()
            .to_string();
        assert!(e.contains("aspect ratios differ"), "{e}");
        assert!(set_of(512, 20).check_fits(12000, 360).is_err());
    }

    /// A soft diagonal ramp with a hard disc in it, 8-bit.
    fn ramp(w: u32, h: u32) -> GrayImage {
        GrayImage::from_fn(w, h, |x, y| {
            let d = (x as f32 - w as f32 * 0.3).hypot(y as f32 - h as f32 * 0.6);
            if d < h as f32 * 0.2 {
                Luma([255])
            } else {
                Luma([((x + y) * 255 / (w + h)) as u8])
            }
        })
    }

    fn full_plane(img: &GrayImage) -> Plane {
        Plane::from_vec(
            img.width() as usize,
            img.height() as usize,
            img.as_raw().iter().map(|&v| v as f32 / 255.0).collect(),
        )
        .unwrap()
    }

    #[test]
    fn large_masks_are_read_straight_at_the_mask_size() {
        let dir = tempfile::tempdir().unwrap();
        let img = ramp(3000, 1875);
        let path = dir.path().join("m.png");
        img.save(&path).unwrap();
        let m = read_mask("sky", &path).unwrap();
        assert_eq!((m.width(), m.height()), (1024, 640));
        // The same as reading it whole and area-averaging it.
        let reference = full_plane(&img).resized(1024, 640);
        let worst = m
            .data()
            .iter()
            .zip(reference.data())
            .map(|(a, b)| (a - b).abs())
            .fold(0f32, f32::max);
        assert!(worst < 1e-5, "{worst}");
    }

    #[test]
    fn small_masks_keep_their_size_and_values() {
        let dir = tempfile::tempdir().unwrap();
        let img = ramp(300, 200);
        let path = dir.path().join("m.png");
        img.save(&path).unwrap();
        let m = read_mask("sky", &path).unwrap();
        assert_eq!(m, full_plane(&img));
    }

    #[test]
    fn alpha_and_sixteen_bit_masks_read_as_before() {
        let dir = tempfile::tempdir().unwrap();
        // Luma times alpha.
        let la = GrayAlphaImage::from_fn(2048, 1024, |x, y| {
            image::LumaA([(x % 256) as u8, if y < 512 { 255 } else { 0 }])
        });
        let p = dir.path().join("la.png");
        la.save(&p).unwrap();
        let m = read_mask("water", &p).unwrap();
        assert_eq!((m.width(), m.height()), (1024, 512));
        assert!(m.row(10).iter().any(|&v| v > 0.5));
        assert!(m.row(300).iter().all(|&v| v == 0.0));
        // 16 bits: the full range.
        let l16: ImageBuffer<Luma<u16>, Vec<u16>> =
            ImageBuffer::from_fn(1500, 1000, |x, _| Luma([(x * 43) as u16]));
        let p = dir.path().join("l16.png");
        l16.save(&p).unwrap();
        let m = read_mask("water", &p).unwrap();
        assert_eq!((m.width(), m.height()), (1024, 683));
        let top = m.row(0)[1023];
        assert!(top > 0.97 && top <= 1.0, "{top}");
    }

    #[test]
    fn files_load_in_parallel_in_order_and_errors_name_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let a = dir.path().join("a.png");
        let b = dir.path().join("b.png");
        ramp(1200, 800).save(&a).unwrap();
        ramp(600, 400).save(&b).unwrap();
        let mut set = MaskSet::new();
        set.insert_files(&[("Sky".into(), a.clone()), ("trees".into(), b.clone())])
            .unwrap();
        assert_eq!(set.names().collect::<Vec<_>>(), ["sky", "trees"]);
        assert_eq!(set.get("sky").unwrap().width(), 1024);
        assert_eq!(set.get("trees").unwrap().width(), 600);
        let missing = dir.path().join("nope.png");
        let e = MaskSet::new()
            .insert_files(&[("sky".into(), a), ("water".into(), missing)])
            .unwrap_err()
            .to_string();
        assert!(e.contains("nope.png"), "{e}");
        let junk = dir.path().join("junk.png");
        std::fs::write(&junk, b"not a png").unwrap();
        let e = read_mask("sky", &junk).unwrap_err().to_string();
        assert!(e.contains("junk.png"), "{e}");
    }
}
