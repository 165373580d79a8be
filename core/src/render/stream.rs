//! Rendering the full frame band by band on a worker thread while the caller
//! consumes finished bands (encodes them, say), so the two overlap. A band's
//! memory goes back to the worker once the caller drops it: a frame renders
//! through a few band buffers, not one new buffer per band (fresh pages cost
//! more to fault in than the copies into them).

use super::resize::crop_into;
use super::{Control, FramePlan, Rect};
use crate::error::Result;
use crate::raster::Raster;
use std::sync::mpsc::{channel, sync_channel, Sender};

/// Rows per band: large enough that each band keeps every core busy, small enough
/// that encoding can start early.
pub const BAND_ROWS: usize = 256;

/// Bands rendered ahead of the consumer.
const AHEAD: usize = 2;

/// A rendered band of rows: a [`Raster`] (through `Deref`) whose memory is handed
/// back to [`render_bands`] for a later band when it is dropped.
pub struct Band {
    raster: Raster,
    back: Sender<Raster>,
}

impl std::ops::Deref for Band {
    type Target = Raster;
    fn deref(&self) -> &Raster {
        &self.raster
    }
}

impl std::borrow::Borrow<Raster> for Band {
    fn borrow(&self) -> &Raster {
        &self.raster
    }
}

impl Drop for Band {
    fn drop(&mut self) {
        let raster = std::mem::replace(&mut self.raster, Raster::scratch());
        // The renderer may be done already: the memory is then simply freed.
        let _ = self.back.send(raster);
    }
}

/// Renders the full frame `src` at scale 1 from `plan` in bands of `rows` rows on a
/// worker thread, handing them to `consume` top to bottom as they finish. If
/// `consume` returns early the rendering stops. [`super::Renderer::render_and_save`]
/// saves a frame this way.
pub fn render_bands<R>(
    plan: &dyn FramePlan,
    src: &Raster,
    rows: usize,
    ctl: &Control<'_>,
    consume: impl FnOnce(&mut dyn Iterator<Item = Result<Band>>) -> R,
) -> R {
    let (w, h) = (src.width(), src.height());
    let rows = rows.max(1);
    let count = h.div_ceil(rows);
    let (tx, rx) = sync_channel::<Result<Band>>(AHEAD);
    let (back, spare) = channel::<Raster>();
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let mut tile = Raster::scratch();
            for i in 0..count {
                let y = i * rows;
                let progress = |stage: &str, f: f32| {
                    ctl.report(stage, (i as f32 + f) / count as f32);
                };
                let band_ctl = Control {
                    cancel: ctl.cancel,
                    progress: Some(&progress),
                };
                let rect = Rect {
                    x: 0,
                    y,
                    width: w,
                    height: rows.min(h - y),
                };
                let mut out = spare.try_recv().unwrap_or_else(|_| Raster::scratch());
                let band = crop_into(src, rect, &mut tile)
                    .and_then(|()| {
                        plan.render_tile_into(&tile, (0, y), (w, h), &mut out, &band_ctl)
                    })
                    .map(|()| Band {
                        raster: out,
                        back: back.clone(),
                    });
                let failed = band.is_err();
                // A closed channel means the consumer stopped: so do we.
                if tx.send(band).is_err() || failed {
                    break;
                }
            }
        });
        consume(&mut rx.into_iter())
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::image_io::{self, Metadata, SaveOptions};
    use crate::params::RegionState;
    use crate::render::parametric::tests::{photo, plan_of, sky_mask};
    use crate::render::{CancelToken, FramePlan, ParametricRenderer, RenderJob, Renderer};
    use crate::Error;

    fn state() -> RegionState {
        RegionState::from_json(r#"{"global": {"contrast": 0.2}, "sky": {"temperature": -0.3}}"#)
            .unwrap()
    }

    /// Bands of any height, assembled, are the full-frame render.
    #[test]
    fn bands_assemble_into_the_full_frame() {
        let (w, h) = (80, 61);
        let img = photo(w, h);
        let plan = plan_of(&img, &sky_mask(w, h), &state());
        let full = plan
            .render_tile(&img, 0, 0, w, h, &Control::default())
            .unwrap();
        for rows in [1, 7, 32, 61, 500] {
            let bands: Vec<Band> = render_bands(&plan, &img, rows, &Control::default(), |b| {
                b.collect::<Result<Vec<_>>>().unwrap()
            });
            assert_eq!(bands.len(), h.div_ceil(rows));
            let mut joined = Vec::new();
            for b in &bands {
                match b.samples() {
                    crate::raster::Samples::U8(v) => joined.extend_from_slice(v),
                    _ => panic!("8-bit expected"),
                }
            }
            assert_eq!(
                Raster::new(w, h, 4, crate::raster::Samples::U8(joined)).unwrap(),
                full,
                "{rows} rows per band"
            );
        }
    }

    /// A frame renders through a few band buffers, handed back as the consumer
    /// drops each band: not one new buffer per band.
    #[test]
    fn band_memory_is_reused() {
        let (w, h) = (50, 400);
        let img = photo(w, h);
        let plan = plan_of(&img, &sky_mask(w, h), &state());
        let buffers = render_bands(&plan, &img, 10, &Control::default(), |bands| {
            let mut seen = std::collections::HashSet::new();
            for band in bands {
                let band = band.unwrap();
                if let crate::raster::Samples::U8(v) = band.samples() {
                    seen.insert(v.as_ptr() as usize);
                }
            }
            seen.len()
        });
        // At most: the bands waiting in the channel, the one the consumer holds
        // and the one being rendered.
        assert!(buffers <= AHEAD + 2, "{buffers} buffers for 40 bands");
    }

    /// A consumer that stops early stops the rendering (no hang, no panic).
    #[test]
    fn a_consumer_may_stop_early() {
        let (w, h) = (40, 300);
        let img = photo(w, h);
        let plan = plan_of(&img, &sky_mask(w, h), &state());
        let first = render_bands(&plan, &img, 10, &Control::default(), |b| b.next());
        assert_eq!(first.unwrap().unwrap().height(), 10);
    }

    /// Saving renders, writes and verifies; cancelling half way writes nothing and
    /// leaves no temporary file behind.
    #[test]
    fn render_and_save_writes_all_or_nothing() {
        let (w, h) = (64, 600);
        let (img, masks, state) = (photo(w, h), sky_mask(w, h), state());
        let job = RenderJob {
            source: &img,
            masks: &masks,
            state: &state,
        };
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("out.png");
        let r = ParametricRenderer::default();
        let report = r
            .render_and_save(
                &job,
                &path,
                &Metadata::default(),
                &SaveOptions::default(),
                &Control::default(),
            )
            .unwrap();
        assert!(report.edits.iter().all(|e| e.achieved.is_some()));
        let saved = image_io::load(&path, &Default::default()).unwrap().raster;
        let direct = r
            .render(&job, &Default::default(), &Control::default())
            .unwrap();
        assert_eq!(saved, direct.image);

        for name in ["cancelled.jpg", "cancelled.png"] {
            let cancel = CancelToken::new();
            let progress = |stage: &str, f: f32| {
                if stage == "render" && f > 0.3 {
                    cancel.cancel();
                }
            };
            let ctl = Control {
                cancel: Some(&cancel),
                progress: Some(&progress),
            };
            let p = dir.path().join(name);
            let e = r.render_and_save(
                &job,
                &p,
                &Metadata::default(),
                &SaveOptions::default(),
                &ctl,
            );
            assert!(matches!(e, Err(Error::Cancelled)), "{name}: {e:?}");
            assert!(!p.exists(), "{name} written");
        }
        let left: Vec<_> = std::fs::read_dir(dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name())
            .collect();
        assert_eq!(left, vec![std::ffi::OsString::from("out.png")]);
    }
}
