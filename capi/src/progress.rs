//! Progress callbacks, called on the host's own thread and never while the
//! library is in the middle of something others wait for.
//!
//! A call with a callback runs its work on a scoped worker thread; the work's
//! reports travel over a channel to the calling thread, which calls the host's
//! function with each and returns once the work is done and every report is
//! delivered. So the work never waits for the host's code: a callback may render
//! the very frame being planned, or wait for another thread that does (as a UI
//! thread may), and the plan still completes. At points where a callback's
//! decision should take effect before the work goes on (between planning and
//! rendering, so that a cancel asked for during planning stops the render), the
//! work [settles](Reporter::settle): it waits until the reports so far are
//! delivered, which is safe because by then nothing waits for the work.

use crate::boundary::{Failure, Outcome};
use crate::PtStatus;
use pertouch_core::render::{CancelToken, Control, ProgressFn};
use std::ffi::{c_char, c_void, CString};
use std::sync::mpsc::{channel, Sender};

/// Progress: a stage name and the fraction of it done (0..1). Called on the
/// thread that made the call, before the call returns, never after; the stage
/// string is valid during the callback only. The callback may call any `pt_`
/// function, including a render of the same frame.
pub type PtProgressFn =
    Option<unsafe extern "C" fn(user: *mut c_void, stage: *const c_char, fraction: f32)>;

/// What the work sends to the calling thread.
enum Report {
    /// A stage and its fraction done.
    Progress(String, f32),
    /// "Tell me when you got here": answered once the reports before it are
    /// delivered.
    Settle(Sender<()>),
}

/// The work's side: where its progress goes.
pub(crate) struct Reporter {
    to_host: Option<Sender<Report>>,
}

impl Reporter {
    /// Sends a report to the calling thread (never waits for the callback).
    fn report(&self, stage: &str, fraction: f32) {
        if let Some(tx) = &self.to_host {
            // The calling thread outlives the work; a send cannot fail before it ends.
            let _ = tx.send(Report::Progress(stage.to_owned(), fraction));
        }
    }

    /// Waits until the host has seen every report sent so far (its callback may
    /// have cancelled the work). Call only where nothing waits for the work.
    pub(crate) fn settle(&self) {
        if let Some(tx) = &self.to_host {
            let (done_tx, done) = channel();
            if tx.send(Report::Settle(done_tx)).is_ok() {
                let _ = done.recv();
            }
        }
    }

    /// Runs `f` with a [`Control`] that cancels through `cancel` and reports here.
    pub(crate) fn control<R>(
        &self,
        cancel: Option<&CancelToken>,
        f: impl FnOnce(&Control<'_>) -> R,
    ) -> R {
        let report = |stage: &str, fraction: f32| self.report(stage, fraction);
        let report: &ProgressFn<'_> = &report;
        f(&Control {
            cancel,
            progress: self.to_host.is_some().then_some(report),
        })
    }
}

/// Runs `work`, calling the host's `progress` (with `user`) on this thread for
/// each report: on a worker thread when there is a callback, here when not.
/// Returns when the work is done and every report delivered.
pub(crate) fn run(
    progress: PtProgressFn,
    user: *mut c_void,
    work: impl FnOnce(&Reporter) -> Outcome + Send,
) -> Outcome {
    let Some(callback) = progress else {
        return work(&Reporter { to_host: None });
    };
    let (tx, reports) = channel();
    std::thread::scope(|scope| {
        let worker = std::thread::Builder::new()
            .name("pertouch-call".into())
            .spawn_scoped(scope, move || work(&Reporter { to_host: Some(tx) }))
            .map_err(|e| {
                Failure::new(
                    PtStatus::PT_ERR_INTERNAL,
                    format!("cannot start a worker thread: {e}"),
                )
            })?;
        // Ends when the work is done: its Reporter, holding the last sender, is gone.
        for report in reports {
            match report {
                Report::Progress(stage, fraction) => {
                    let stage = CString::new(stage.replace('\0', " ")).unwrap_or_default();
                    // SAFETY: the host gave this function for exactly this
                    // signature, with `user`, to be called on this thread during
                    // the call; the stage string outlives the callback.
                    unsafe { callback(user, stage.as_ptr(), fraction) }
                }
                Report::Settle(done) => {
                    let _ = done.send(());
                }
            }
        }
        worker.join().unwrap_or_else(|p| Err(Failure::panic(p)))
    })
}
