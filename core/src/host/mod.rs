//! What every host wrapper (the C ABI, the OpenFX plug-in, and the GIMP and
//! Photoshop bridges) shares: an [`Engine`] (renderer, segmenters, level tables)
//! that solves each frame's edit once and renders any tile or render scale of it,
//! [`Engine::preview`] for ~1-megapixel previews of a slider change on a planned
//! frame, and [`pixels::PixelView`], the one place the core reads and writes host memory.

pub mod agent;
pub mod engine;
mod frame_cache;
pub mod handles;
pub mod pixels;
pub mod preview;

pub use crate::render::FramePlan;
pub use agent::{Agent, AgentChoice, SceneReading};
pub use engine::{Engine, EngineConfig, Frame, FrameInputs, RendererKind};
pub use frame_cache::FrameKey;
pub use handles::Registry;
pub use pixels::PixelView;
pub use preview::{preview_size, preview_source, Preview, PREVIEW_PIXELS};
