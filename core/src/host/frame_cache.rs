//! The last few frames' solved edits, so that the tiles and render scales of a
//! frame segment and plan it (or run the diffusion model) once.
//!
//! A frame is planned outside every lock: its slot only records who is planning
//! it, and other threads asking for it wait on the slot's condition variable.
//! Planning calls the host's progress callback, and a host may render from
//! there; nothing is locked then, so that render goes on. Asking for the frame
//! this very thread is planning (a callback rendering the same frame in the same
//! thread) cannot wait for itself: it gets a clear error instead of hanging. A
//! callback that waits for *another* thread rendering the same frame still waits
//! for this plan; hosts that call back into foreign code from progress (the C
//! ABI) report progress on another thread than the one planning, so the plan
//! never waits for the callback.

use crate::params::RegionState;
use parking_lot::{Condvar, Mutex};
use std::collections::VecDeque;
use std::sync::atomic::{AtomicU64, Ordering::Relaxed};
use std::sync::Arc;
use std::thread::ThreadId;

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

/// Where one frame's plan stands.
enum Plan<T> {
    /// Nobody has it or is making it (or the last try failed).
    Missing,
    /// The thread named is making it.
    Making(ThreadId),
    /// Made.
    Made(Arc<T>),
}

/// One frame's slot: planned once, by whichever thread gets there first, while
/// the others wait for it.
struct SlotState<T> {
    plan: Mutex<Plan<T>>,
    changed: Condvar,
}

type Slot<T> = Arc<SlotState<T>>;

fn new_slot<T>() -> Slot<T> {
    Arc::new(SlotState {
        plan: Mutex::new(Plan::Missing),
        changed: Condvar::new(),
    })
}

/// Marks a slot's plan missing again (and wakes its waiters, one of which then
/// plans) unless the plan was made: a failed or panicking plan must not leave
/// the others waiting forever.
struct Making<'a, T> {
    slot: &'a SlotState<T>,
}

impl<T> Drop for Making<'_, T> {
    fn drop(&mut self) {
        let mut plan = self.slot.plan.lock();
        if matches!(*plan, Plan::Making(_)) {
            *plan = Plan::Missing;
        }
        self.slot.changed.notify_all();
    }
}

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
    /// `plan` runs with no lock held. Asking again for a frame from inside its own
    /// `plan` (the same thread) is an error, not a deadlock.
    pub(crate) fn get_or_plan(
        &self,
        key: FrameKey,
        plan: impl FnOnce() -> crate::Result<T>,
    ) -> crate::Result<Arc<T>> {
        let slot = {
            let mut entries = self.entries.lock();
            let slot = match entries.iter().position(|(k, _)| *k == key) {
                Some(i) => entries.remove(i).map(|e| e.1).unwrap_or_else(new_slot),
                None => new_slot(),
            };
            entries.push_front((key, slot.clone()));
            entries.truncate(self.capacity);
            slot
        };
        let me = std::thread::current().id();
        {
            let mut state = slot.plan.lock();
            loop {
                match &*state {
                    Plan::Made(frame) => {
                        self.hits.fetch_add(1, Relaxed);
                        return Ok(frame.clone());
                    }
                    Plan::Making(who) if *who == me => {
                        return Err(crate::Error::InvalidRequest(
                            "this frame is being planned by this same call (a progress callback \
                             asked for the frame whose progress it reports): render it after \
                             the call returns"
                                .into(),
                        ))
                    }
                    // Only this frame's planners wait here; other frames go on.
                    Plan::Making(_) => slot.changed.wait(&mut state),
                    Plan::Missing => break,
                }
            }
            *state = Plan::Making(me);
        }
        let making = Making { slot: &slot };
        let frame = Arc::new(plan()?);
        self.misses.fetch_add(1, Relaxed);
        *slot.plan.lock() = Plan::Made(frame.clone());
        drop(making);
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

    #[test]
    fn a_plan_asking_for_its_own_frame_gets_an_error_not_a_deadlock() {
        let cache = FrameCache::<u32>::new(2);
        let mut inner = None;
        let outer = cache.get_or_plan(key(3), || {
            inner = Some(cache.get_or_plan(key(3), || Ok(frame())));
            Ok(frame())
        });
        assert_eq!(*outer.unwrap(), 42);
        let inner = inner.unwrap();
        assert!(
            matches!(&inner, Err(crate::Error::InvalidRequest(m)) if m.contains("progress callback")),
            "{:?}",
            inner.map(|f| *f)
        );
        // Another frame from inside a plan is planned as usual.
        let other = cache.get_or_plan(key(4), || {
            cache.get_or_plan(key(5), || Ok(7)).map(|f| *f + 1)
        });
        assert_eq!(*other.unwrap(), 8);
    }

    #[test]
    fn a_plan_that_panics_lets_the_next_thread_plan() {
        let cache = FrameCache::<u32>::new(2);
        let (started_tx, started_rx) = std::sync::mpsc::channel();
        std::thread::scope(|s| {
            let panicking = s.spawn(|| {
                cache.get_or_plan(key(9), || {
                    started_tx.send(()).unwrap();
                    std::thread::sleep(std::time::Duration::from_millis(50));
                    panic!("the planner failed")
                })
            });
            started_rx.recv().unwrap();
            // Waits for the panicking plan, then plans the frame itself.
            let waiter = s.spawn(|| cache.get_or_plan(key(9), || Ok(frame())).map(|f| *f));
            assert!(panicking.join().is_err());
            assert_eq!(waiter.join().unwrap().unwrap(), 42);
        });
    }

    #[test]
    fn planning_holds_no_lock_other_threads_can_get_their_frames() {
        // A plan that waits for another thread to get a different frame from the
        // same cache: that thread must not block on any lock the plan holds.
        let cache = FrameCache::<u32>::new(4);
        let got = std::thread::scope(|s| {
            cache
                .get_or_plan(key(1), || {
                    let other = s.spawn(|| cache.get_or_plan(key(2), || Ok(2)).map(|f| *f));
                    other.join().unwrap()
                })
                .map(|f| *f)
        });
        assert_eq!(got.unwrap(), 2);
    }
}
