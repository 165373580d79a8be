//! Scene-aware memory of accepted edits, per user and per host profile.
//!
//! Each accepted edit is a [`Record`]: the scene (tags and a feature vector from the
//! built-in segmenter and the photo's levels), the instruction and the region state.
//! A new photo gets the state of the most similar accepted records as a proposal.
//!
//! Records of one user and host profile live in one JSON file under the platform's
//! data folder. Every write takes an exclusive lock on a sibling lock file, re-reads
//! the file, changes it and atomically replaces it (temporary file, fsync, rename), so
//! several host processes can write at once without losing records, and a process
//! killed mid-write leaves the previous file intact. A file that does not parse is
//! renamed aside (never emptied) and reported.

mod scene;
mod store;

pub use scene::{describe_scene, scene_of, Scene};
pub use store::{default_root, export, read_export, MemoryError, Opened, Record, Store};
