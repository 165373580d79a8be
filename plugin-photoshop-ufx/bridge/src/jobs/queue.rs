//! The queue jobs wait in. A job is admitted (told to send its bands) only when
//! the memory it will hold fits the bridge's budget, so 32 panels sending 12 MP
//! frames at once hold a bounded amount of memory: the rest wait, first come first
//! served (tokio's semaphore is fair). Admitted jobs then render one at a time per
//! lane: full-resolution applies in one, small previews and agent readings in the
//! other, so a preview is not stuck behind a long apply.

use super::JobFailure;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering::Relaxed};
use std::sync::Arc;
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// Memory is counted in units of this many bytes.
const UNIT: usize = 1 << 20;

/// Admission by memory, and the two render lanes.
pub struct Queue {
    memory: Arc<Semaphore>,
    budget_units: usize,
    waiting: AtomicUsize,
    reserved: Arc<AtomicU64>,
    peak_reserved: Arc<AtomicU64>,
    /// Full-resolution renders.
    pub full_lane: Arc<Semaphore>,
    /// Previews and agent readings.
    pub interactive_lane: Arc<Semaphore>,
}

/// Memory a job holds while admitted; given back when dropped.
pub struct Reservation {
    _permit: OwnedSemaphorePermit,
    bytes: u64,
    reserved: Arc<AtomicU64>,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        self.reserved.fetch_sub(self.bytes, Relaxed);
    }
}

/// What admission came to at once.
pub enum Admission {
    Now(Reservation),
    /// Wait with [`Queue::admit`]; `ahead` jobs wait before this one.
    Wait {
        ahead: usize,
    },
}

impl Queue {
    pub fn new(budget_bytes: usize) -> Queue {
        let units = (budget_bytes / UNIT).max(1);
        Queue {
            memory: Arc::new(Semaphore::new(units)),
            budget_units: units,
            waiting: AtomicUsize::new(0),
            reserved: Arc::new(AtomicU64::new(0)),
            peak_reserved: Arc::new(AtomicU64::new(0)),
            full_lane: Arc::new(Semaphore::new(1)),
            interactive_lane: Arc::new(Semaphore::new(1)),
        }
    }

    fn units(bytes: usize) -> usize {
        bytes.div_ceil(UNIT).max(1)
    }

    fn reservation(&self, permit: OwnedSemaphorePermit, bytes: usize) -> Reservation {
        let now = self.reserved.fetch_add(bytes as u64, Relaxed) + bytes as u64;
        self.peak_reserved.fetch_max(now, Relaxed);
        Reservation {
            _permit: permit,
            bytes: bytes as u64,
            reserved: self.reserved.clone(),
        }
    }

    /// Admits a job needing `bytes` now if it fits, or says how many wait before it.
    /// A job larger than the whole budget can never run: that is an error.
    pub fn try_admit(&self, bytes: usize) -> Result<Admission, JobFailure> {
        let units = Self::units(bytes);
        if units > self.budget_units {
            return Err(JobFailure::new(
                "too_large",
                format!(
                    "the job needs {} MiB, more than the bridge's whole memory budget ({} MiB): start it with a larger --memory-mib",
                    units,
                    self.budget_units
                ),
            ));
        }
        let waiting = self.waiting.load(Relaxed);
        if waiting == 0 {
            if let Ok(p) = self.memory.clone().try_acquire_many_owned(units as u32) {
                return Ok(Admission::Now(self.reservation(p, bytes)));
            }
        }
        Ok(Admission::Wait { ahead: waiting })
    }

    /// Waits until a job needing `bytes` fits (in arrival order). Dropping the
    /// future leaves the queue. `None` only if the queue was closed.
    pub async fn admit(&self, bytes: usize) -> Option<Reservation> {
        struct Waiting<'a>(&'a AtomicUsize);
        impl Drop for Waiting<'_> {
            fn drop(&mut self) {
                self.0.fetch_sub(1, Relaxed);
            }
        }
        self.waiting.fetch_add(1, Relaxed);
        let _w = Waiting(&self.waiting);
        let units = Self::units(bytes).min(self.budget_units) as u32;
        let permit = self.memory.clone().acquire_many_owned(units).await.ok()?;
        Some(self.reservation(permit, bytes))
    }

    /// Bytes admitted jobs hold now, and the most they held at once.
    pub fn reserved(&self) -> (u64, u64) {
        (
            self.reserved.load(Relaxed),
            self.peak_reserved.load(Relaxed),
        )
    }

    /// Jobs waiting for memory now.
    pub fn waiting(&self) -> usize {
        self.waiting.load(Relaxed)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn holds_jobs_beyond_the_budget_until_memory_is_free() {
        let q = Arc::new(Queue::new(10 * UNIT));
        let Admission::Now(a) = q.try_admit(6 * UNIT).unwrap() else {
            panic!("first job fits")
        };
        let Admission::Wait { ahead: 0 } = q.try_admit(6 * UNIT).unwrap() else {
            panic!("second job waits")
        };
        let q2 = q.clone();
        let waiter = tokio::spawn(async move { q2.admit(6 * UNIT).await });
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        assert_eq!(q.waiting(), 1);
        assert!(!waiter.is_finished());
        assert_eq!(q.reserved().0, 6 * UNIT as u64);
        drop(a);
        let b = waiter.await.unwrap().unwrap();
        assert_eq!(q.reserved(), (6 * UNIT as u64, 6 * UNIT as u64));
        assert_eq!(q.waiting(), 0);
        drop(b);
        assert_eq!(q.reserved().0, 0);
        assert_eq!(q.try_admit(11 * UNIT).err().unwrap().code, "too_large");
    }
}
