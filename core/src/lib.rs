//! PerTouch core: region states and parameter maps, measured attributes, and the
//! renderers every host (CLI, GIMP, OpenFX, Photoshop bridge) wraps.
//!
//! A pixel's journey: a host hands a [`raster::Raster`] and a [`params::RegionState`]
//! of changes with [`mask::MaskSet`] region masks to a [`render::Renderer`]; the
//! parametric renderer measures each region's current level ([`measure`]), turns
//! changes into target levels, solves operator strengths on an analysis proxy, and
//! renders the full-resolution result tile by tile.
//!
//! `unsafe` code is refused everywhere but [`host::pixels`], where hosts' memory is read.
#![deny(unsafe_code)]

pub mod agent;
mod atomic_file;
pub mod color;
pub mod config;
pub mod diffusion;
pub mod error;
pub mod host;
pub mod image_io;
pub mod mask;
pub mod measure;
pub mod memory;
pub mod onnx;
pub mod params;
pub mod paths;
pub mod plane;
pub mod raster;
pub mod render;
pub mod segment;
#[cfg(feature = "vlm")]
pub mod vlm;

pub use error::{Error, Result};
