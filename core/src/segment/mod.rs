//! Finding named regions ("sky", "face", "shadows", "the red car") in a photo.
//!
//! A [`Segmenter`] turns region names into soft masks at the analysis size; the
//! renderer refines them edge-aware at full resolution. The built-in segmenter
//! needs no model files; ONNX models (a label-set model such as SegFormer, a
//! text-prompted one such as CLIPSeg) plug in behind the same trait, and
//! [`Layered`] puts them in front of the built-in one.

mod builtin;
pub mod clip_tokenizer;
mod labels;
mod layered;
pub mod model_io;
mod names;
mod photo;
mod text;

pub use builtin::{BuiltinAnalysis, BuiltinSegmenter};
pub use labels::LabelSegmenter;
pub use layered::{Layered, SegmenterConfig};
pub use names::{resolve, Region, ALL_REGIONS};
pub use photo::PhotoSegments;
pub use text::{prompt_for, TextSegmenter};

use crate::error::{Error, Result};
use crate::mask::MaskSet;
use crate::plane::Plane;
use crate::raster::{Raster, RgbF32};

/// Long side of the image segmenters look at: the analysis size of the level tables.
pub const SEGMENT_LONG_SIDE: usize = 512;

/// A region a segmenter offers, for lists and error messages.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Offer {
    pub name: String,
    pub aliases: Vec<String>,
}

impl Offer {
    /// One of our named regions with its aliases.
    pub fn region(r: Region) -> Self {
        Offer {
            name: r.name().to_string(),
            aliases: r.aliases().iter().map(|a| a.to_string()).collect(),
        }
    }
}

/// Finds named regions in photos.
pub trait Segmenter: Send + Sync {
    /// Short identifier ("builtin", "segformer-ade20k").
    fn name(&self) -> &str;
    /// The regions it can find, for lists and messages.
    fn offers(&self) -> Vec<Offer>;
    /// True when it finds any words at all (a text-prompted model).
    fn open_vocabulary(&self) -> bool {
        false
    }
    /// True when it can find the region a user calls `name`.
    fn finds(&self, name: &str) -> bool;
    /// Soft masks in [0, 1] of the regions `names`, at the size of `image` (8-bit
    /// sRGB units). A name it does not find is an [`Error::UnknownRegion`].
    fn segment(&self, image: &RgbF32, names: &[&str]) -> Result<Vec<Plane>>;
}

/// Masks for the region names `names` (any alias), found by `segmenter` on `image`,
/// stored under the names as given so a region state that says "trees" finds them.
/// An unknown name is an error listing what is available.
pub fn masks_for(segmenter: &dyn Segmenter, image: &Raster, names: &[&str]) -> Result<MaskSet> {
    if let Some(name) = names.iter().find(|n| !segmenter.finds(n)) {
        return Err(Error::UnknownRegion {
            region: name.to_string(),
            available: describe(&segmenter.offers()),
        });
    }
    let rgb = image.analysis_rgb(SEGMENT_LONG_SIDE);
    let planes = segmenter.segment(&rgb, names)?;
    let mut set = MaskSet::new();
    for (name, plane) in names.iter().zip(planes) {
        set.insert(name, plane);
    }
    Ok(set)
}

/// A model failure, naming the model.
pub(crate) fn model_err(model: &str, reason: impl std::fmt::Display) -> Error {
    Error::Model {
        model: model.to_string(),
        reason: reason.to_string(),
    }
}

/// "sky (skies, clouds, cloud, ...), vegetation (grass, trees, tree, ...), ..." for
/// messages.
pub fn describe(offers: &[Offer]) -> String {
    offers
        .iter()
        .map(|o| match o.aliases.get(..3) {
            Some(a) if o.aliases.len() > 3 => format!("{} ({}, ...)", o.name, a.join(", ")),
            _ if !o.aliases.is_empty() => format!("{} ({})", o.name, o.aliases.join(", ")),
            _ => o.name.clone(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}
