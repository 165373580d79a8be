//! What a photo shows, for matching memories: tags a person can read and a feature
//! vector for similarity.

use crate::measure::{measure, LevelTables, RegionWeights};
use crate::raster::Raster;
use crate::segment::{PhotoSegments, Region};
use serde::{Deserialize, Serialize};

/// A photo's scene.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scene {
    /// Readable tags ("sky", "greenery", "people", "warm", "low-key").
    pub tags: Vec<String>,
    /// Coverage of sky, vegetation, water, skin, then the four global levels.
    pub features: Vec<f32>,
}

impl Scene {
    /// Similarity in [0, 1]: features by distance, tags by overlap.
    pub fn similarity(&self, other: &Scene) -> f32 {
        if self.features.len() != other.features.len() {
            return 0.0;
        }
        let d2: f32 = self
            .features
            .iter()
            .zip(&other.features)
            .map(|(a, b)| (a - b) * (a - b))
            .sum();
        let near = (-d2 / 0.5).exp();
        let (mut both, mut any) = (0, 0);
        for t in self.tags.iter().chain(other.tags.iter()) {
            let a = self.tags.contains(t);
            let b = other.tags.contains(t);
            any += 1;
            both += (a && b) as usize;
        }
        let jaccard = if any == 0 {
            1.0
        } else {
            both as f32 / any as f32
        };
        0.7 * near + 0.3 * jaccard
    }
}

/// The scene of `image`, from the built-in segmenter's coverage and the photo's levels.
pub fn describe_scene(image: &Raster, tables: &LevelTables) -> Scene {
    scene_of(&PhotoSegments::new(image), tables)
}

/// [`describe_scene`] of a photo whose segmentation other steps share.
pub fn scene_of(photo: &PhotoSegments<'_>, tables: &LevelTables) -> Scene {
    let rgb = photo.rgb();
    let regions = [Region::Sky, Region::Vegetation, Region::Water, Region::Skin];
    let coverage: Vec<f32> = photo
        .builtin()
        .regions(&regions)
        .iter()
        .map(|p| p.mean() as f32)
        .collect();
    let levels = measure(rgb, RegionWeights::Whole)
        .map(|m| tables.levels(&m))
        .unwrap_or([0.0; 4]);
    let mut tags = Vec::new();
    let mut tag = |on: bool, t: &str| {
        if on {
            tags.push(t.to_string());
        }
    };
    tag(coverage[0] > 0.15, "sky");
    tag(
        coverage[0] > 0.15 || coverage[1] > 0.3 || coverage[2] > 0.1,
        "outdoor",
    );
    tag(coverage[1] > 0.2, "greenery");
    tag(coverage[2] > 0.1, "water");
    tag(coverage[3] > 0.08, "people");
    tag(levels[3] < -0.4, "low-key");
    tag(levels[3] > 0.4, "bright");
    tag(levels[2] > 0.4, "warm");
    tag(levels[2] < -0.4, "cool");
    tag(levels[0] < -0.5, "muted");
    tag(levels[0] > 0.5, "colourful");
    let mut features = coverage;
    features.extend(levels.iter().map(|&v| v as f32 * 0.5));
    Scene { tags, features }
}
