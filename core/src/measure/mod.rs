//! Measured attributes: raw measurements and the level tables that normalise them.

pub mod calibrate;
pub mod level_table;
pub mod metrics;
pub mod perceptual;

pub use level_table::{LevelTables, Levels, QuantileTable, Tail, DEFAULT_ANALYSIS_LONG_SIDE};
pub use metrics::{measure, measure_regions, RawMeasurement, RegionWeights};
pub use perceptual::{change_size, chroma_quantile, ChangeSize};
