//! The agent a host reads instructions with: the offline agent always, the VLM
//! agent when the core is built with its `vlm` feature and the host or config.toml
//! asks for it. Hosts get one from [`super::Engine::agent`] and run what it reads
//! with [`super::Engine::rethink`].

use crate::agent::{Advisor, NotUnderstood, Plan};
use crate::measure::LevelTables;
use crate::memory::{scene_of, Scene};
use crate::raster::Raster;
use crate::render::CancelToken;
use crate::segment::PhotoSegments;

/// Which agent a host asks for; what it leaves `None` comes from config.toml
/// (`[agent] kind`, `[vlm] url` and `model`), else the offline agent.
#[derive(Debug, Clone, Default)]
pub struct AgentChoice {
    /// "offline" or "vlm".
    pub kind: Option<String>,
    /// The VLM server's base URL, e.g. `http://127.0.0.1:8000/v1`.
    pub vlm_url: Option<String>,
    /// The model name the VLM server knows.
    pub vlm_model: Option<String>,
}

/// An agent: reads instructions into [`Plan`]s, tags scenes for the preference
/// memory, and (the VLM) advises the rethink loop.
#[derive(Debug, Default)]
pub struct Agent {
    #[cfg(feature = "vlm")]
    pub(super) vlm: Option<crate::vlm::VlmAgent>,
}

/// A photo's scene for the preference memory, and what the agent said about it.
#[derive(Debug, Clone)]
pub struct SceneReading {
    pub scene: Scene,
    /// The VLM's greeting, when it gave one.
    pub greeting: Option<String>,
    /// Where the tags came from ("scene tags from the VLM: ...").
    pub source: String,
}

impl Agent {
    /// The offline agent: no network, no model.
    pub fn offline() -> Agent {
        Agent::default()
    }

    /// "offline" or "vlm".
    pub fn kind(&self) -> &'static str {
        #[cfg(feature = "vlm")]
        if self.vlm.is_some() {
            return "vlm";
        }
        "offline"
    }

    /// The scene of `photo` (segmented as `segments`, which later steps reuse):
    /// the built-in segmenter's tags and features, with the VLM's tags and greeting
    /// when the VLM answers.
    pub fn scene(
        &self,
        photo: &Raster,
        segments: &PhotoSegments,
        tables: &LevelTables,
        cancel: Option<&CancelToken>,
    ) -> SceneReading {
        let scene = scene_of(segments, tables);
        #[cfg(feature = "vlm")]
        if let Some(v) = &self.vlm {
            let (scene, greeting, source) = crate::vlm::tag_scene(Some(v), photo, scene, cancel);
            return SceneReading {
                scene,
                greeting,
                source,
            };
        }
        let _ = (photo, cancel);
        SceneReading {
            scene,
            greeting: None,
            source: "scene tags from the built-in segmenter".into(),
        }
    }

    /// Reads `instruction` for `photo`; `finds` says which region names the
    /// engine's segmenters find. The VLM's steps that fail fall back to the offline
    /// agent (the plan's trace says which); an error only when neither makes sense
    /// of the words.
    pub fn read(
        &self,
        instruction: &str,
        photo: &Raster,
        finds: &dyn Fn(&str) -> bool,
        cancel: Option<&CancelToken>,
    ) -> Result<Plan, NotUnderstood> {
        #[cfg(feature = "vlm")]
        if let Some(v) = &self.vlm {
            return v.plan(instruction, photo, finds, cancel);
        }
        let _ = (photo, finds, cancel);
        Ok(Plan::offline(crate::agent::interpret(instruction)?))
    }

    /// The rethink loop's advisor (the VLM), if this agent has one.
    pub fn advisor<'a>(&'a self, cancel: Option<&'a CancelToken>) -> Option<Box<dyn Advisor + 'a>> {
        #[cfg(feature = "vlm")]
        if let Some(v) = &self.vlm {
            return Some(Box::new(v.advisor(cancel)));
        }
        let _ = cancel;
        None
    }
}

/// The VLM agent `choice` and `settings` describe.
#[cfg(feature = "vlm")]
pub(super) fn open_vlm(
    choice: &AgentChoice,
    settings: &crate::config::Config,
) -> crate::Result<Agent> {
    let cfg = settings
        .vlm
        .client_config(choice.vlm_url.as_deref(), choice.vlm_model.as_deref())
        .map_err(crate::Error::InvalidRequest)?;
    let client = crate::vlm::VlmClient::new(cfg)
        .map_err(|e| crate::Error::InvalidRequest(format!("VLM agent: {e}")))?;
    let regions = crate::segment::ALL_REGIONS
        .iter()
        .map(|r| r.name().to_string())
        .collect();
    Ok(Agent {
        vlm: Some(crate::vlm::VlmAgent::new(client, regions)),
    })
}

/// Without the `vlm` feature there is no VLM agent to open.
#[cfg(not(feature = "vlm"))]
pub(super) fn open_vlm(
    _choice: &AgentChoice,
    _settings: &crate::config::Config,
) -> crate::Result<Agent> {
    Err(crate::Error::InvalidRequest(
        "the VLM agent is not built into this program (pertouch-core's `vlm` feature is off); use the offline agent".into(),
    ))
}
