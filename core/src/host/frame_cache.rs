//! The last few frames' solved edits, so that the tiles and render scales of a
//! frame segment and plan it (or run the diffusion model) once.

use crate::params::RegionState;
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;

/// What identifies a frame and an edit: the frame's size, a hash of its content as
/// the host sees it (pixels and any masks the host supplies), and the state.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct FrameKey {
    width: usize,
    height: usize,
    content: u64,
    state: String,
}

impl FrameKey {
    /// The key of `state` on a `width` x `height` frame whose inputs hash to
    /// `content` (see [`super::PixelView::content_hash`]).
    pub fn new(width: usize, height: usize, content: u64, state: &RegionState) -> Self {
        FrameKey {
            width,
            height,
            content,
            state: state.to_value().to_string(),
        }
    }
}

/// One frame's slot: planned once, by whichever thread gets there first, while
/// the others wait for it.
type Slot<T> = Arc<Mutex<Option<Arc<T>>>>;

impl FrameKey {
    /// The key of `state` on a frame the host holds as a raster: its size and a
    /// hash of 64 evenly spaced rows of its samples.
    pub fn for_raster(frame: &crate::raster::Raster, state: &RegionState) -> Self {
        use crate::raster::Samples;
        use std::hash::{Hash, Hasher};
        let mut h = std::collections::hash_map::DefaultHasher::new();
        let (w, ht, ch) = (frame.width(), frame.height(), frame.channels());
        let n = w * ch;
        for y in super::pixels::sampled_rows(ht) {
            match frame.samples() {
                Samples::U8(v) => v[y * n..(y + 1) * n].hash(&mut h),
                Samples::U16(v) => v[y * n..(y + 1) * n].hash(&mut h),
                Samples::F32(v) => v[y * n..(y + 1) * n]
                    .iter()
                    .for_each(|f| f.to_bits().hash(&mut h)),
            }
        }
        (ch, frame.depth() as u8).hash(&mut h);
        Self::new(w, ht, h.finish(), state)
    }
}

/// A small most-recently-used list of frames.
pub(crate) struct FrameCache<T> {
    entries: Mutex<VecDeque<(FrameKey, Slot<T>)>>,
    capacity: usize,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl<T> FrameCache<T> {
    pub(crate) fn new(capacity: usize) -> Self {
        FrameCache {
            entries: Mutex::new(VecDeque::new()),
            capacity: capacity.max(1),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    /// The frame for `key`: cached, or planned by `plan` (once, even when several
    /// threads ask for the same frame at the same time; a failed plan is not kept).
    pub(crate) fn get_or_plan(
        &self,
        key: FrameKey,
        plan: impl FnOnce() -> crate::Result<T>,
    ) -> crate::Result<Arc<T>> {
        let slot = {
            let mut entries = self.entries.lock();
            let slot = match entries.iter().position(|(k, _)| *k == key) {
                Some(i) => entries.remove(i).map(|e| e.1).unwrap_or_default(),
                None => Slot::<T>::default(),
            };
            entries.push_front((key, slot.clone()));
            entries.truncate(self.capacity);
            slot
        };
        // Only this frame's planners wait on this lock; other frames go on.
        let mut guard = slot.lock();
        if let Some(frame) = guard.as_ref() {
            self.hits.fetch_add(1, Relaxed);
            return Ok(frame.clone());
        }
        let frame = Arc::new(plan()?);
        self.misses.fetch_add(1, Relaxed);
        *guard = Some(frame.clone());
        Ok(frame)
    }

    /// Drops every frame (a host's "purge caches").
    pub(crate) fn clear(&self) {
        self.entries.lock().clear();
    }

    /// (hits, misses) so far.
    pub(crate) fn stats(&self) -> (u64, u64) {
        (self.hits.load(Relaxed), self.misses.load(Relaxed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame() -> u32 {
        42
    }

    fn key(content: u64) -> FrameKey {
        FrameKey::new(4, 4, content, &RegionState::default())
    }

    #[test]
    fn plans_each_frame_once_and_keeps_the_most_recent() {
        let cache = FrameCache::<u32>::new(2);
        let mut planned = 0;
        for c in [1, 1, 2, 1, 3, 2, 1] {
            cache
                .get_or_plan(key(c), || {
                    planned += 1;
                    Ok(frame())
                })
                .unwrap();
        }
        // 1 plan, 1 hit, 2 plan, 1 hit, 3 plan (drops 2), 2 plan (drops 1), 1 plan.
        assert_eq!(planned, 5);
        assert_eq!(cache.stats(), (2, 5));
    }

    #[test]
    fn a_failed_plan_is_not_kept() {
        let cache = FrameCache::<u32>::new(2);
        let err = cache.get_or_plan(key(1), || Err(crate::Error::Cancelled));
        assert!(matches!(err, Err(crate::Error::Cancelled)));
        let mut planned = false;
        cache
            .get_or_plan(key(1), || {
                planned = true;
                Ok(frame())
            })
            .unwrap();
        assert!(planned);
    }

    #[test]
    fn threads_asking_for_one_frame_plan_it_once() {
        let cache = FrameCache::<u32>::new(4);
        let planned = AtomicU64::new(0);
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    cache
                        .get_or_plan(key(7), || {
                            planned.fetch_add(1, Relaxed);
                            std::thread::sleep(std::time::Duration::from_millis(20));
                            Ok(frame())
                        })
                        .unwrap();
                });
            }
        });
        assert_eq!(planned.load(Relaxed), 1);
        assert_eq!(cache.stats(), (7, 1));
    }
}
