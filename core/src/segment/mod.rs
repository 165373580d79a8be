//! Finding named regions ("sky", "face", "shadows") in a photo.
//!
//! A [`Segmenter`] turns a region name into a soft mask at the analysis size; the
//! renderer refines it edge-aware at full resolution. The built-in segmenter needs
//! no model files; ONNX models plug in behind the same trait. Names go through
//! [`resolve`] first, so "trees", "foliage" and "grass" all mean `vegetation`.

mod builtin;
mod names;

pub use builtin::BuiltinSegmenter;
pub use names::{resolve, Region, ALL_REGIONS};

use crate::error::{Error, Result};
use crate::mask::MaskSet;
use crate::plane::Plane;
use crate::raster::{Raster, RgbF32};

/// Long side of the image segmenters look at: the analysis size of the level tables.
pub const SEGMENT_LONG_SIDE: usize = 512;

/// Finds named regions in photos.
pub trait Segmenter: Send + Sync {
    /// Short identifier ("builtin", "segformer-ade20k").
    fn name(&self) -> &str;
    /// The canonical region names this segmenter can find.
    fn regions(&self) -> Vec<Region>;
    /// Soft masks in [0, 1] of `regions`, at the size of `image` (8-bit sRGB units).
    fn segment(&self, image: &RgbF32, regions: &[Region]) -> Result<Vec<Plane>>;
}

/// Masks for the region names `names` (any alias), found by `segmenter` on `image`,
/// stored under the names as given so a region state that says "trees" finds them.
/// An unknown name is an error listing what is available.
pub fn masks_for(segmenter: &dyn Segmenter, image: &Raster, names: &[&str]) -> Result<MaskSet> {
    let available = segmenter.regions();
    let mut wanted = Vec::with_capacity(names.len());
    for name in names {
        match resolve(name).filter(|r| available.contains(r)) {
            Some(r) => wanted.push(r),
            None => {
                return Err(Error::UnknownRegion {
                    region: name.to_string(),
                    available: describe(&available),
                })
            }
        }
    }
    let rgb = image.analysis_rgb(SEGMENT_LONG_SIDE);
    let planes = segmenter.segment(&rgb, &wanted)?;
    let mut set = MaskSet::new();
    for (name, plane) in names.iter().zip(planes) {
        set.insert(name, plane);
    }
    Ok(set)
}

/// "sky (clouds, heaven), vegetation (grass, trees, ...), ..." for messages.
pub fn describe(regions: &[Region]) -> String {
    regions
        .iter()
        .map(|r| match r.aliases().get(..3) {
            Some(a) if !a.is_empty() => format!("{} ({}, ...)", r.name(), a.join(", ")),
            _ if !r.aliases().is_empty() => format!("{} ({})", r.name(), r.aliases().join(", ")),
            _ => r.name().to_string(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
