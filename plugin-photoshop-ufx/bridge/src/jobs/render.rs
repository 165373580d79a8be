//! The work of a job on the core's engine: a preview rendered to JPEGs, a
//! full-resolution apply rendered to result bands, or an instruction read into a
//! region state. Runs on a blocking thread; the core's own threads do the pixels.
//!
//! Selection rule: a pixel the selection does not touch (value 0) comes back as
//! it was sent, bit for bit; every other pixel is the engine's render. The panel
//! masks the new layer with the same selection, so the document shows
//! `source + (render - source) * selection`, feathered edges included.

use super::spec::JobSpec;
use super::upload::Selection;
use super::JobFailure;
use crate::protocol::messages::{Op, Recalled, Understood};
use crate::protocol::{BandHeader, BandKind};
use bytes::Bytes;
use pertouch_core::host::{Agent, Engine, Frame, FrameInputs, FrameKey};
use pertouch_core::mask::MaskSet;
use pertouch_core::measure::LevelTables;
use pertouch_core::memory::{self, Record, Store};
use pertouch_core::params::RegionState;
use pertouch_core::plane::{fit_long_side, Plane};
use pertouch_core::raster::{Raster, Samples};
use pertouch_core::render::{crop_into, Control, Rect};
use std::path::PathBuf;
use std::sync::Arc;

/// The region name a state uses for the Photoshop selection.
pub const SELECTION_REGION: &str = "selection";
/// Host profile of the bridge's memories.
pub const MEMORY_PROFILE: &str = "photoshop";
/// How alike a remembered scene must be to be recalled (as the CLI's --recall).
const RECALL_SIMILARITY: f32 = 0.6;
/// Long side of the selection mask handed to the engine (masks are refined
/// against the photo, so a rough one is enough).
const SELECTION_MASK_SIDE: usize = 1024;
const JPEG_QUALITY: u8 = 88;

/// Why a job ended without a result.
#[derive(Debug)]
pub enum JobError {
    Cancelled,
    Failed(JobFailure),
}

impl JobError {
    fn core(op: Op, e: pertouch_core::Error) -> JobError {
        use pertouch_core::Error as E;
        match e {
            E::Cancelled => JobError::Cancelled,
            E::InvalidRequest(m) if op == Op::Agent => {
                JobError::Failed(JobFailure::new("instruction", m))
            }
            e => JobError::Failed(JobFailure::new("render", e.to_string())),
        }
    }
}

/// What a finished job produced.
pub enum Output {
    /// JPEGs of the result (with the mix and selection applied) and of the source.
    Preview { after: Vec<u8>, before: Vec<u8> },
    /// Result bands, each a whole message (header and samples).
    Apply {
        bands: Vec<Bytes>,
        rows_per_band: u32,
    },
    Agent {
        state: RegionState,
        understood: Vec<Understood>,
        recalled: Option<Recalled>,
    },
}

/// Where edits are remembered.
#[derive(Debug, Clone)]
pub struct MemoryTarget {
    pub root: Option<PathBuf>,
    pub user: String,
}

impl MemoryTarget {
    fn store(&self) -> Result<Store, memory::MemoryError> {
        let root = match &self.root {
            Some(r) => r.clone(),
            None => memory::default_root()?,
        };
        Store::open(&root, &self.user, MEMORY_PROFILE)
    }
}

/// The selection as a mask plane for the engine, area-averaged to a long side of
/// at most 1024 pixels.
pub fn selection_mask(sel: &Selection) -> Plane {
    let (w, h) = (sel.width, sel.height);
    let (tw, th) = fit_long_side(w, h, SELECTION_MASK_SIDE.min(w.max(h)));
    let mut out = Vec::with_capacity(tw * th);
    for ty in 0..th {
        let (y0, y1) = (ty * h / th, ((ty + 1) * h / th).max(ty * h / th + 1));
        for tx in 0..tw {
            let (x0, x1) = (tx * w / tw, ((tx + 1) * w / tw).max(tx * w / tw + 1));
            let mut sum = 0u64;
            for y in y0..y1 {
                sum += sel.values[y * w + x0..y * w + x1]
                    .iter()
                    .map(|&v| v as u64)
                    .sum::<u64>();
            }
            let n = ((y1 - y0) * (x1 - x0)) as f64;
            out.push((sum as f64 / n / 65535.0) as f32);
        }
    }
    Plane::from_vec(tw, th, out).unwrap_or_else(|| Plane::filled(tw, th, 1.0))
}

/// The masks a host supplies for `state`: the selection, when the state names it.
pub fn host_masks(state: &RegionState, selection: Option<&Selection>) -> MaskSet {
    let mut masks = MaskSet::new();
    if let Some(sel) = selection {
        if state.region(SELECTION_REGION).is_some() {
            masks.insert(SELECTION_REGION, selection_mask(sel));
        }
    }
    masks
}

/// The frame cache key: the frame's content, the selection when it is used as a
/// mask, and the state.
pub fn frame_key(
    source: &Raster,
    masks: &MaskSet,
    selection: Option<&Selection>,
    state: &RegionState,
) -> FrameKey {
    let key = FrameKey::for_raster(source, state);
    match (selection, masks.get(SELECTION_REGION)) {
        (Some(sel), Some(_)) => {
            use std::hash::{Hash, Hasher};
            let mut h = std::collections::hash_map::DefaultHasher::new();
            key.hash(&mut h);
            sel.values.hash(&mut h);
            FrameKey::new(source.width(), source.height(), h.finish(), state)
        }
        _ => key,
    }
}

/// The engine's solved frame for a job's source.
pub fn solve(
    engine: &Engine,
    source: &Raster,
    selection: Option<&Selection>,
    state: &RegionState,
    ctl: &Control<'_>,
) -> pertouch_core::Result<Arc<Frame>> {
    let masks = host_masks(state, selection);
    let key = frame_key(source, &masks, selection, state);
    engine.frame(
        key,
        state,
        || {
            Ok(FrameInputs {
                source: std::borrow::Cow::Borrowed(source),
                masks,
            })
        },
        ctl,
    )
}

/// Rows `y0..y0 + n` of `r`.
/// Puts the source back where the selection is 0 (`out` and `src` are rows
/// `y0..` of the frame).
fn keep_unselected(out: &mut Raster, src: &Raster, sel: &Selection, y0: usize) {
    let (w, c) = (src.width(), src.channels());
    let mask = &sel.values[y0 * w..(y0 + src.height()) * w];
    fn put<T: Copy>(out: &mut [T], src: &[T], mask: &[u16], c: usize) {
        for ((o, s), &m) in out.chunks_exact_mut(c).zip(src.chunks_exact(c)).zip(mask) {
            if m == 0 {
                o.copy_from_slice(s);
            }
        }
    }
    match (out.samples_mut(), src.samples()) {
        (Samples::U8(o), Samples::U8(s)) => put(o, s, mask, c),
        (Samples::U16(o), Samples::U16(s)) => put(o, s, mask, c),
        (Samples::F32(o), Samples::F32(s)) => put(o, s, mask, c),
        _ => {}
    }
}

/// A band message: `header`, then `r`'s samples as little-endian bytes, written
/// once into the message (a 24 MP 16-bit result is 137 MB: no second copy).
fn band_message(header: &BandHeader, r: &Raster) -> Vec<u8> {
    let head = header.encode();
    let mut out = Vec::new();
    match r.samples() {
        Samples::U8(v) => {
            out.reserve_exact(head.len() + v.len());
            out.extend_from_slice(&head);
            out.extend_from_slice(v);
        }
        Samples::U16(v) => {
            out.resize(head.len() + v.len() * 2, 0);
            out[..head.len()].copy_from_slice(&head);
            for (o, s) in out[head.len()..].chunks_exact_mut(2).zip(v) {
                o.copy_from_slice(&s.to_le_bytes());
            }
        }
        Samples::F32(v) => {
            out.extend_from_slice(&head);
            v.iter()
                .for_each(|f| out.extend_from_slice(&f.to_le_bytes()));
        }
    }
    out
}

/// Renders an apply job's result bands (`rows_per_band` rows each).
pub fn render_bands(
    frame: &Frame,
    job: u32,
    source: &Raster,
    selection: Option<&Selection>,
    rows_per_band: usize,
    ctl: &Control<'_>,
) -> pertouch_core::Result<Vec<Bytes>> {
    use rayon::prelude::*;
    let (w, h) = (source.width(), source.height());
    let n = h.div_ceil(rows_per_band);
    let done = std::sync::atomic::AtomicUsize::new(0);
    let inner = Control {
        cancel: ctl.cancel,
        progress: None,
    };
    let bits = match source.samples() {
        Samples::U8(_) => 8,
        _ => 16,
    };
    // Each worker reuses one source band and one render band (fresh buffers
    // cost more to fault in than the copies into them).
    (0..n)
        .into_par_iter()
        .map_init(
            || (Raster::scratch(), Raster::scratch()),
            |(tile, out), b| {
                ctl.check()?;
                let y0 = b * rows_per_band;
                let count = rows_per_band.min(h - y0);
                let rect = Rect {
                    x: 0,
                    y: y0,
                    width: w,
                    height: count,
                };
                crop_into(source, rect, tile)?;
                frame.render_tile_into(tile, (0, y0), (w, h), out, &inner)?;
                if let Some(sel) = selection {
                    keep_unselected(out, tile, sel, y0);
                }
                let header = BandHeader {
                    kind: BandKind::Result,
                    job,
                    band: b as u32,
                    y0: y0 as u32,
                    rows: count as u32,
                    width: w as u32,
                    components: source.channels() as u8,
                    bits,
                };
                let msg = band_message(&header, out);
                let k = done.fetch_add(1, std::sync::atomic::Ordering::Relaxed) + 1;
                ctl.report("render", k as f32 / n as f32);
                Ok(Bytes::from(msg))
            },
        )
        .collect()
}

/// `src + (out - src) * selection * mix` as 8-bit RGB, and the source as 8-bit RGB.
fn preview_pixels(
    out: &Raster,
    src: &Raster,
    sel: Option<&Selection>,
    mix: f32,
) -> (Vec<u8>, Vec<u8>) {
    let (o, s) = (out.unit_samples(), src.unit_samples());
    let c = src.channels();
    let n = src.width() * src.height();
    let mut after = Vec::with_capacity(n * 3);
    let mut before = Vec::with_capacity(n * 3);
    let to8 = |v: f32| (v.clamp(0.0, 1.0) * 255.0 + 0.5) as u8;
    for i in 0..n {
        let m = mix * sel.map_or(1.0, |s| s.values[i] as f32 / 65535.0);
        for k in 0..3 {
            let (a, b) = (s[i * c + k], o[i * c + k]);
            before.push(to8(a));
            after.push(to8(a + (b - a) * m));
        }
    }
    (after, before)
}

fn jpeg(rgb: &[u8], w: usize, h: usize) -> Result<Vec<u8>, JobError> {
    let mut buf = Vec::new();
    jpeg_encoder::Encoder::new(&mut buf, JPEG_QUALITY)
        .encode(rgb, w as u16, h as u16, jpeg_encoder::ColorType::Rgb)
        .map_err(|e| JobError::Failed(JobFailure::new("preview", format!("JPEG: {e}"))))?;
    Ok(buf)
}

/// Runs `spec` on `source` (and `selection`).
pub fn run(
    engine: &Engine,
    agent: &Agent,
    spec: &JobSpec,
    source: Raster,
    selection: Option<Selection>,
    memory: &MemoryTarget,
    ctl: &Control<'_>,
) -> Result<Output, JobError> {
    let core = |e| JobError::core(spec.op, e);
    match spec.op {
        Op::Preview => {
            let frame =
                solve(engine, &source, selection.as_ref(), &spec.state, ctl).map_err(core)?;
            let out = frame
                .render_tile(&source, (0, 0), (source.width(), source.height()), ctl)
                .map_err(core)?;
            let (after, before) = preview_pixels(&out, &source, selection.as_ref(), spec.mix);
            let (w, h) = (source.width(), source.height());
            Ok(Output::Preview {
                after: jpeg(&after, w, h)?,
                before: jpeg(&before, w, h)?,
            })
        }
        Op::Apply => {
            let frame =
                solve(engine, &source, selection.as_ref(), &spec.state, ctl).map_err(core)?;
            let rows = spec.rows_per_band();
            let bands = render_bands(&frame, spec.id, &source, selection.as_ref(), rows, ctl)
                .map_err(core)?;
            if spec.remember && !spec.state.is_empty() {
                remember(memory, spec, &source);
            }
            Ok(Output::Apply {
                bands,
                rows_per_band: rows as u32,
            })
        }
        Op::Agent => {
            let mut base = spec.state.clone();
            let mut recalled = None;
            if spec.recall && base.is_empty() {
                if let Some((state, r)) = recall(memory, &source) {
                    base = state;
                    recalled = Some(r);
                }
            }
            let words = spec.instruction.trim();
            let (state, understood) = if words.is_empty() {
                (base, Vec::new())
            } else {
                let outcome = engine
                    .agent_apply_with(agent, &source, words, &base, ctl)
                    .map_err(core)?;
                let understood = outcome
                    .interpretation
                    .edits
                    .iter()
                    .map(|e| Understood {
                        region: e.region.clone(),
                        attribute: e.attribute.to_string(),
                        amount: e.amount,
                    })
                    .collect();
                (outcome.state, understood)
            };
            Ok(Output::Agent {
                state,
                understood,
                recalled,
            })
        }
    }
}

/// Stores an applied edit in the "photoshop" memory (a failure is logged, the
/// job still succeeds: the pixels are what the user asked for).
fn remember(memory: &MemoryTarget, spec: &JobSpec, source: &Raster) {
    let scene = memory::describe_scene(source, LevelTables::builtin());
    let record = Record::new(&spec.instruction, scene, spec.state.to_value(), true);
    match memory.store().and_then(|s| s.append(record)) {
        Ok(opened) => {
            if let Some(p) = opened.set_aside {
                tracing::warn!(path = %p.display(), "a corrupt memory file was set aside");
            }
            tracing::info!(job = spec.id, "remembered the edit (profile photoshop)");
        }
        Err(e) => tracing::warn!(job = spec.id, "could not remember the edit: {e}"),
    }
}

/// The most similar remembered edit for this photo, if one is similar enough.
fn recall(memory: &MemoryTarget, source: &Raster) -> Option<(RegionState, Recalled)> {
    let scene = memory::describe_scene(source, LevelTables::builtin());
    let store = match memory.store() {
        Ok(s) => s,
        Err(e) => {
            tracing::warn!("memory: {e}");
            return None;
        }
    };
    let found = match store.propose(&scene, RECALL_SIMILARITY) {
        Ok(f) => f,
        Err(e) => {
            tracing::warn!("memory: {e}");
            return None;
        }
    };
    let (record, similarity) = found.value?;
    let state = RegionState::from_value(&record.state).ok()?;
    Some((
        state,
        Recalled {
            instruction: record.instruction.clone(),
            similarity,
            tags: record.scene.tags.clone(),
        },
    ))
}
