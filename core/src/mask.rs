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

    /// Loads a greyscale (or colour: its luma; or alpha-only: its alpha) image as a mask.
    pub fn insert_file(&mut self, name: &str, path: &Path) -> Result<()> {
        let img = image::ImageReader::open(path)
            .map_err(|e| Error::io(path, e))?
            .with_guessed_format()
            .map_err(|e| Error::io(path, e))?
            .decode()
            .map_err(|e| Error::Decode {
                path: path.to_path_buf(),
                reason: e.to_string(),
            })?;
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
    /// ratios must agree within 2% (a mask of another photo is a mistake, not a resize).
    pub fn check_fits(&self, width: usize, height: usize) -> Result<()> {
        let aspect = width as f64 / height as f64;
        for m in &self.masks {
            let ma = m.mask.width() as f64 / m.mask.height() as f64;
            if (ma / aspect - 1.0).abs() > 0.02 {
                return Err(Error::InvalidMask {
                    region: m.name.clone(),
                    reason: format!(
                        "mask is {} x {} but the image is {} x {}: the aspect ratios differ",
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
