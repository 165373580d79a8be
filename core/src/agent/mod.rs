//! The offline agent: instructions to region states, checked against measurements.
//!
//! [`interpret`] reads an English instruction; [`Session::apply`] turns the
//! interpretation into a region state for a photo and runs the rethink loop: render a
//! preview, measure what each edit achieved with the same metric code that defines the
//! levels, and adjust until the measured change matches the wording (at most
//! [`MAX_ROUNDS`] rounds). The trace of every round is returned for hosts to show.

pub mod auto;
pub mod instruction;
mod plan;
pub mod rethink;
pub mod sizing;
pub mod styles;

#[cfg(test)]
mod instruction_table;

pub use instruction::{interpret, wording_intensity, Edit, Interpretation, Kind, NotUnderstood};
pub use plan::Plan;
pub use rethink::{
    preview, Advice, Advisor, Guidance, Outcome, RethinkContext, Round, Session, MAX_ROUNDS,
    MIN_REGION_COVERAGE, PREVIEW_LONG_SIDE, TOLERANCE,
};
pub use sizing::DE_PER_LEVEL;
