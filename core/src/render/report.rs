//! What a render measured: per region and attribute, the level before, the level
//! asked for, and the level the output reached.

use crate::params::Attribute;
use serde::Serialize;

/// One (region, attribute) edit and how well the renderer hit it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RegionReport {
    pub region: String,
    pub attribute: Attribute,
    /// Measured level of the source region.
    pub before: f64,
    /// Requested change, in level units.
    pub change: f64,
    /// Level asked for: before + change, limited to [-1, 1].
    pub target: f64,
    /// Level the solver predicted on the analysis proxy.
    pub predicted: f64,
    /// Level measured on the rendered full frame (set when the render was verified).
    pub achieved: Option<f64>,
    /// Why a target could not be met exactly, if it could not.
    pub note: Option<String>,
}

impl RegionReport {
    /// |achieved - target| when verified, else |predicted - target|.
    pub fn error(&self) -> f64 {
        (self.achieved.unwrap_or(self.predicted) - self.target).abs()
    }
}

/// All edits of one render.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct RenderReport {
    pub renderer: String,
    pub edits: Vec<RegionReport>,
}

impl RenderReport {
    /// Largest error over all edits (0 when there are none).
    pub fn max_error(&self) -> f64 {
        self.edits
            .iter()
            .map(RegionReport::error)
            .fold(0.0, f64::max)
    }
}
