//! The VLM agent over HTTP: any OpenAI-compatible chat-completions server reads
//! the photo and the instruction and proposes edits; the offline agent's reading
//! and the measurements check them (PERTOUCH.md section 5).

pub mod agent;
pub mod client;
pub mod prompts;
pub mod reply;

pub use crate::agent::Plan;
pub use agent::{session_scene, tag_scene, VlmAdvisor, VlmAgent};
pub use client::{ApiKey, Message, Part, VlmClient, VlmConfig, VlmError};
