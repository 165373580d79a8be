//! One photo as the segmenters see it, analysed once: the scene tags of the
//! preference memory and the regions of a command's edits share the built-in
//! segmenter's work on it, however many times and in whatever order they ask.

use super::builtin::BuiltinAnalysis;
use super::{BuiltinSegmenter, Layered, SEGMENT_LONG_SIDE};
use crate::error::Result;
use crate::mask::MaskSet;
use crate::raster::{Raster, RgbF32};
use std::sync::OnceLock;

/// A photo, scaled to the segmenters' analysis size and analysed by the built-in
/// segmenter when first needed (nothing is computed for a photo no step segments).
#[derive(Debug)]
pub struct PhotoSegments<'a> {
    photo: &'a Raster,
    rgb: OnceLock<RgbF32>,
    builtin: OnceLock<BuiltinAnalysis>,
}

impl<'a> PhotoSegments<'a> {
    /// `photo`, nothing segmented yet.
    pub fn new(photo: &'a Raster) -> Self {
        PhotoSegments {
            photo,
            rgb: OnceLock::new(),
            builtin: OnceLock::new(),
        }
    }

    /// The photo at the analysis size (8-bit sRGB units).
    pub fn rgb(&self) -> &RgbF32 {
        self.rgb
            .get_or_init(|| self.photo.analysis_rgb(SEGMENT_LONG_SIDE))
    }

    /// The built-in segmenter's analysis, made on the first call.
    pub fn builtin(&self) -> &BuiltinAnalysis {
        self.builtin
            .get_or_init(|| BuiltinSegmenter.analyse(self.rgb()))
    }

    /// Masks of `names` (any alias) found by `segmenter`, stored under the names as
    /// given: [`super::masks_for`] for this photo, sharing the built-in analysis.
    pub fn masks(&self, segmenter: &Layered, names: &[&str]) -> Result<MaskSet> {
        let planes = segmenter.segment_with(self.rgb(), names, &|| self.builtin())?;
        let mut set = MaskSet::new();
        for (name, plane) in names.iter().zip(planes) {
            set.insert(name, plane);
        }
        Ok(set)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::measure::LevelTables;
    use crate::memory::{describe_scene, scene_of};
    use crate::raster::Samples;
    use crate::segment::masks_for;

    /// Sky on top, green below, a shadowed corner.
    fn photo() -> Raster {
        let (w, h) = (96, 64);
        let mut v = Vec::with_capacity(w * h * 3);
        for y in 0..h {
            for x in 0..w {
                let n = ((x * 31 + y * 17) % 13) as u8;
                let p = if y < h / 3 {
                    [100 + n, 150 + n, 230]
                } else if x < w / 4 {
                    [20 + n, 25, 20]
                } else {
                    [70 + n, 130 + n, 40]
                };
                v.extend_from_slice(&p);
            }
        }
        Raster::new(w, h, 3, Samples::U8(v)).unwrap()
    }

    /// The scene and the regions of one photo share one analysis and agree with
    /// segmenting each on its own.
    #[test]
    fn one_analysis_serves_scene_and_regions() {
        let img = photo();
        let tables = LevelTables::builtin();
        let segments = PhotoSegments::new(&img);
        assert_eq!(scene_of(&segments, tables), describe_scene(&img, tables));
        let layered = Layered::builtin_only();
        let names = ["sky", "trees", "shadows"];
        let shared = segments.masks(&layered, &names).unwrap();
        let alone = masks_for(&layered, &img, &names).unwrap();
        for n in names {
            assert_eq!(shared.get(n), alone.get(n), "{n}");
        }
        // The built-in group asks for the analysis once per call, and not at all
        // when no name goes to the built-in segmenter.
        let asked = std::cell::Cell::new(0);
        let analysis = segments.builtin();
        let count = || {
            asked.set(asked.get() + 1);
            analysis
        };
        layered
            .segment_with(segments.rgb(), &names, &count)
            .unwrap();
        assert_eq!(asked.get(), 1);
        layered.segment_with(segments.rgb(), &[], &count).unwrap();
        assert_eq!(asked.get(), 1);
    }
}
