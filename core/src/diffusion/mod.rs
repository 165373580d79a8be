//! PerTouch's own renderer: Stable Diffusion 2.1 with a ControlNet conditioned on
//! the parameter map and the source latent, run through ONNX Runtime, with the
//! edit carried over to the full-resolution photo.

mod noise;
pub mod pipeline;
pub mod renderer;
pub mod scheduler;
pub mod transfer;

pub use noise::gaussian;
pub use pipeline::{DiffusionModel, DiffusionSpec, SampleOptions, SampleStats};
pub use renderer::{DiffusionPlan, DiffusionRenderer, LevelMap};
pub use scheduler::{Prediction, Scheduler, SchedulerConfig, SchedulerKind, Spacing};
pub use transfer::{ColourTransfer, TransferOptions};
