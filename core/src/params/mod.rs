//! Region states, attributes and parameter maps.

pub mod attribute;
pub mod param_map;
pub mod region_state;

pub use attribute::Attribute;
pub use param_map::ParamMap;
pub use region_state::{normalize_region_name, AttributeValues, RegionState, GLOBAL};
