//! The process-wide engines: one per renderer, opened on first use and shared
//! by every instance and thread (an engine's frame cache is keyed by content, so
//! sharing is safe). Renders, render-time words and Apply all take them here.

use crate::suites::{OfxError, OfxResult};
use parking_lot::Mutex;
use pertouch_core::host::{Engine, EngineConfig, RendererKind};
use std::sync::{Arc, OnceLock};

static PARAMETRIC: OnceLock<Result<Arc<Engine>, String>> = OnceLock::new();
static DIFFUSION: Mutex<Option<Arc<Engine>>> = Mutex::new(None);

/// The engine for the chosen renderer (opened on first use, shared by every
/// instance and thread; its frame cache is keyed by content, so sharing is safe).
pub fn engine(diffusion: bool) -> OfxResult<Arc<Engine>> {
    if diffusion {
        let mut slot = DIFFUSION.lock();
        if let Some(e) = slot.as_ref() {
            return Ok(e.clone());
        }
        let config = EngineConfig {
            renderer: RendererKind::Diffusion,
            ..EngineConfig::default()
        };
        let e = Arc::new(Engine::open(&config).map_err(|e| {
            OfxError::failed(format!(
                "the diffusion renderer is not available: {e}. Install a PerTouch diffusion package (pertouch models import DIR) or choose the parametric renderer."
            ))
        })?);
        *slot = Some(e.clone());
        return Ok(e);
    }
    PARAMETRIC
        .get_or_init(|| {
            Engine::open(&EngineConfig::default())
                .map(Arc::new)
                .map_err(|e| e.to_string())
        })
        .clone()
        .map_err(OfxError::failed)
}

/// Forgets every engine's solved frames (kOfxActionPurgeCaches).
pub fn purge() {
    if let Some(Ok(e)) = PARAMETRIC.get() {
        e.purge();
    }
    if let Some(e) = DIFFUSION.lock().as_ref() {
        e.purge();
    }
}
