//! Engines: opened from a JSON configuration, freed, and asked how often they
//! reused a frame's plan.

use crate::boundary::args::{self, Out};
use crate::boundary::{self, status::PtStatus};
use crate::handles::ENGINES;
use pertouch_core::host::{Engine, EngineConfig};
use std::ffi::c_char;

/// An engine: renderer, segmenters, level tables and the last frames' plans.
/// Opaque; one engine serves any number of threads at once.
pub struct PtEngine {
    _private: [u8; 0],
}

/// Creates an engine. `config_json` may be null (defaults) or an object:
/// `{"refine": true, "segmentation_models": ["segformer-ade20k"]}` (models are
/// looked up in the data folder; by default only the built-in segmenter is used),
/// or `{"renderer": "diffusion", "diffusion_package": DIR}` for PerTouch's model.
/// Unknown keys are refused.
#[no_mangle]
pub unsafe extern "C" fn pt_engine_new(
    config_json: *const c_char,
    out: *mut *mut PtEngine,
) -> PtStatus {
    boundary::call(|| {
        // SAFETY: the header's contract: `out` is writable, `config_json` null or
        // a C string.
        let (out, config) = unsafe {
            (
                Out::new(out, "out")?,
                args::text(config_json, "config_json")?,
            )
        };
        let config = config
            .map(EngineConfig::from_json)
            .transpose()?
            .unwrap_or_default();
        out.set(ENGINES.insert(Engine::open(&config)?));
        Ok(())
    })
}

/// Frees an engine. Renders still running with it finish first.
#[no_mangle]
pub extern "C" fn pt_engine_free(engine: *mut PtEngine) -> PtStatus {
    boundary::call(|| ENGINES.remove(engine, "engine"))
}

/// How often `pt_render` reused the engine's cached plan of a frame (`hits`) and
/// how often it segmented and planned one (`misses`). Either pointer may be null.
#[no_mangle]
pub unsafe extern "C" fn pt_engine_cache_stats(
    engine: *mut PtEngine,
    hits: *mut u64,
    misses: *mut u64,
) -> PtStatus {
    boundary::call(|| {
        let e = ENGINES.get(engine, "engine")?;
        // SAFETY: the header's contract: each is null or writable.
        let (hits, misses) = unsafe {
            (
                Out::optional(hits, "hits")?,
                Out::optional(misses, "misses")?,
            )
        };
        let (h, m) = e.cache_stats();
        if let Some(o) = hits {
            o.set(h);
        }
        if let Some(o) = misses {
            o.set(m);
        }
        Ok(())
    })
}
