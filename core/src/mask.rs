//! Named region masks as given by the user or a segmenter (rough, any resolution).

use crate::error::{Error, Result};
use crate::params::region_state::normalize_region_name;
use crate::plane::Plane;
use std::path::Path;

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
    /// mask, through the same checked decoding as photos (limits, cut-off JPEGs,
    /// decoder failures); EXIF orientation is applied as it is to the photo.
    pub fn insert_file(&mut self, name: &str, path: &Path) -> Result<()> {
        let (img, _) = crate::image_io::decode::decode_file(path, &Default::default())?;
        let (w, h) = (img.width() as usize, img.height() as usize);
        let la = img.to_luma_alpha16();
        let has_alpha = img.color().has_alpha();
        let data: Vec<f32> = la
            .pixels()
            .map(|p| {
                let l = p.0[0] as f32 / 65535.0;
                let a = p.0[1] as f32 / 65535.0;
                if has_alpha {
                    l * a
                } else {
                    l
                }
            })
            .collect();
        let plane = Plane::from_vec(w, h, data).ok_or_else(|| Error::InvalidMask {
            region: name.to_string(),
            reason: "empty image".into(),
        })?;
        self.insert(name, plane);
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
}
