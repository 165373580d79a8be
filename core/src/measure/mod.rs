//! Measured attributes: raw measurements and the level tables that normalise them.

pub mod calibrate;
pub mod level_table;
pub mod metrics;

pub use level_table::{LevelTables, Levels, QuantileTable, DEFAULT_ANALYSIS_LONG_SIDE};
pub use metrics::{measure, measure_regions, RawMeasurement, RegionWeights};
