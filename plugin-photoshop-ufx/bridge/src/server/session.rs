//! An authenticated connection: its job's life from `job.start` to the last
//! result band. One job is active per connection; a new `job.start` supersedes
//! the active one (a slider drag sends previews faster than they render). Every
//! transition happens here, in the connection's own task; admission waits and
//! renders run in tasks of their own and report back as [`Event`]s.

use super::connection::Outgoing;
use super::Shared;
use crate::jobs::queue::{Admission, Reservation};
use crate::jobs::render::{self, JobError, Output};
use crate::jobs::spec::{JobLimits, JobSpec};
use crate::jobs::upload::Upload;
use crate::jobs::JobFailure;
use crate::protocol::messages::{JobStart, ServerMessage};
use crate::protocol::{close, BandHeader, BandKind, ClientMessage, Op};
use bytes::Bytes;
use futures_util::StreamExt;
use parking_lot::Mutex;
use pertouch_core::render::{CancelToken, Control};
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::ops::ControlFlow;
use std::sync::atomic::Ordering::Relaxed;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::sync::{mpsc, Notify};
use tokio::task::JoinHandle;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::{Error as WsError, Message};
use tokio_tungstenite::WebSocketStream;

/// How many ended jobs' late messages are recognised and dropped.
const RETIRED_KEPT: usize = 16;

/// Progress messages per job per second, at most.
const PROGRESS_INTERVAL: Duration = Duration::from_millis(100);

/// Cancelling a job: the engine's token, and a wake-up for tasks waiting in
/// the queue or for a render lane.
#[derive(Clone, Default)]
struct Cancel {
    token: CancelToken,
    wake: Arc<Notify>,
}

impl Cancel {
    fn fire(&self) {
        self.token.cancel();
        self.wake.notify_one();
    }
}

enum Phase {
    /// Waiting for memory.
    Queued(JoinHandle<()>),
    /// Admitted: bands arrive.
    Receiving {
        upload: Box<Upload>,
        reservation: Reservation,
    },
    /// A render task owns the frame.
    Rendering,
    /// An apply's result, waiting to be pulled.
    Ready {
        bands: Vec<Bytes>,
        _reservation: Reservation,
    },
}

struct Job {
    spec: Arc<JobSpec>,
    cancel: Cancel,
    phase: Phase,
}

pub(crate) enum Event {
    Admitted {
        job: u32,
        reservation: Reservation,
    },
    Progress {
        job: u32,
        stage: String,
        value: f32,
    },
    Finished {
        job: u32,
        outcome: Result<Output, JobError>,
        /// The job's memory: kept with an apply's result until it is pulled.
        reservation: Reservation,
    },
}

struct Session {
    shared: Arc<Shared>,
    out: Outgoing,
    events: mpsc::Sender<Event>,
    job: Option<Job>,
    /// Jobs whose render has not stopped yet since they were cancelled (true:
    /// `job.cancelled` is owed) or failed (false: already answered).
    draining: HashMap<u32, bool>,
    /// The last jobs cancelled or failed: bands and `job.source_end` of theirs
    /// still in flight from the client are dropped, not errors.
    retired: VecDeque<u32>,
    peer: SocketAddr,
}

/// Runs the session until the client leaves or breaks the protocol.
pub(crate) async fn run<S>(
    mut incoming: futures_util::stream::SplitStream<WebSocketStream<S>>,
    out: Outgoing,
    shared: Arc<Shared>,
    peer: SocketAddr,
) where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (events, mut inbox) = mpsc::channel(64);
    let mut shutdown = shared.shutdown.clone();
    let mut s = Session {
        shared,
        out,
        events,
        job: None,
        draining: HashMap::new(),
        retired: VecDeque::new(),
        peer,
    };
    loop {
        tokio::select! {
            m = incoming.next() => match m {
                Some(Ok(m)) => {
                    if s.on_message(m).await.is_break() {
                        break;
                    }
                }
                Some(Err(WsError::Capacity(e))) => {
                    tracing::warn!(peer = %s.peer, "message too big: {e}");
                    s.out.close(u16::from(CloseCode::Size), &format!("message too big ({e}); bands are at most {} bytes", crate::protocol::MAX_BAND_BYTES)).await;
                    break;
                }
                Some(Err(e)) => {
                    tracing::debug!(peer = %s.peer, "connection error: {e}");
                    break;
                }
                None => break,
            },
            Some(ev) = inbox.recv() => s.on_event(ev).await,
            _ = shutdown.changed() => {
                s.out.close(close::GOING_AWAY, "the bridge is shutting down").await;
                break;
            }
        }
    }
    s.disconnect();
}

impl Session {
    fn limits(&self) -> JobLimits {
        JobLimits {
            max_pixels: self.shared.config.max_pixels,
            max_preview_pixels: self.shared.config.max_preview_pixels,
        }
    }

    async fn send(&self, m: ServerMessage) {
        self.out.send(m).await;
    }

    fn retire(&mut self, job: u32) {
        if self.retired.len() == RETIRED_KEPT {
            self.retired.pop_front();
        }
        self.retired.push_back(job);
    }

    fn is_retired(&self, job: u32) -> bool {
        self.retired.contains(&job) || self.draining.contains_key(&job)
    }

    async fn fail(&mut self, job: u32, f: JobFailure) {
        self.retire(job);
        self.shared.stats.jobs_failed.fetch_add(1, Relaxed);
        tracing::info!(peer = %self.peer, job, code = f.code, "job failed: {}", f.message);
        self.send(ServerMessage::JobFailed {
            job,
            code: f.code.into(),
            message: f.message,
        })
        .await;
    }

    /// Fails the active job (if it is `job`) and forgets it.
    async fn fail_active(&mut self, job: u32, f: JobFailure) {
        if let Some(j) = self.job.take() {
            if j.spec.id == job {
                j.cancel.fire();
                if let Phase::Queued(w) = &j.phase {
                    w.abort();
                }
                if matches!(j.phase, Phase::Rendering) {
                    self.draining.insert(job, false);
                }
            } else {
                self.job = Some(j);
            }
        }
        self.fail(job, f).await;
    }

    async fn protocol_error(&self, message: &str) -> ControlFlow<()> {
        tracing::info!(peer = %self.peer, "protocol error: {message}");
        self.out.refuse(close::PROTOCOL, "protocol", message).await;
        ControlFlow::Break(())
    }

    async fn on_message(&mut self, m: Message) -> ControlFlow<()> {
        match m {
            Message::Text(t) => match ClientMessage::parse(&t) {
                Ok(msg) => self.on_control(msg).await,
                Err(e) => self.protocol_error(&e.to_string()).await,
            },
            Message::Binary(b) => self.on_band(b).await,
            Message::Close(_) => ControlFlow::Break(()),
            _ => ControlFlow::Continue(()),
        }
    }

    async fn on_control(&mut self, msg: ClientMessage) -> ControlFlow<()> {
        match msg {
            ClientMessage::Hello { .. } | ClientMessage::Pair { .. } => {
                return self.protocol_error("already authenticated").await;
            }
            ClientMessage::PairIssue => match self.shared.pairing.issue() {
                Ok(code) => {
                    tracing::info!(peer = %self.peer, "issued a pairing code");
                    self.send(ServerMessage::PairCode {
                        code,
                        expires_in: self.shared.pairing.code_ttl().as_secs(),
                    })
                    .await;
                }
                Err(e) => {
                    self.send(ServerMessage::Error {
                        code: "internal".into(),
                        message: e.to_string(),
                    })
                    .await
                }
            },
            ClientMessage::JobStart(start) => self.on_start(start).await,
            ClientMessage::SourceEnd { job } => self.on_source_end(job).await,
            ClientMessage::ResultGet { job, band } => self.on_result_get(job, band).await,
            ClientMessage::Cancel { job } => self.on_cancel(job).await,
            ClientMessage::JobClose { job } => {
                if let Some(j) = self.job.take_if(|j| j.spec.id == job) {
                    if matches!(j.phase, Phase::Ready { .. }) {
                        self.shared.stats.jobs_done.fetch_add(1, Relaxed);
                        self.send(ServerMessage::JobDone { job }).await;
                    } else {
                        // Closing an unfinished job is cancelling it.
                        self.job = Some(j);
                        self.on_cancel(job).await;
                    }
                }
            }
        }
        ControlFlow::Continue(())
    }

    async fn on_start(&mut self, start: JobStart) {
        let id = start.job;
        if let Some(old) = self.job.take() {
            if old.spec.id == id {
                self.job = Some(old);
                return self
                    .fail(
                        id,
                        JobFailure::new(
                            "job_id",
                            format!("job {id} is already running: number each job anew"),
                        ),
                    )
                    .await;
            }
            self.cancel_job(old).await;
        }
        if self.draining.contains_key(&id) {
            return self
                .fail(
                    id,
                    JobFailure::new(
                        "job_id",
                        format!("job {id} is still stopping: number each job anew"),
                    ),
                )
                .await;
        }
        self.shared.stats.jobs_started.fetch_add(1, Relaxed);
        let spec = match JobSpec::check(&start, self.limits()) {
            Ok(s) => Arc::new(s),
            Err(f) => return self.fail(id, f).await,
        };
        tracing::info!(
            peer = %self.peer, job = id, op = ?spec.op,
            "job {} x {} {}-bit, {} components{}",
            spec.width, spec.height, spec.bits(), spec.components,
            if spec.selection { ", selection" } else { "" }
        );
        let needed = spec.memory_needed();
        let cancel = Cancel::default();
        match self.shared.queue.try_admit(needed) {
            Err(f) => self.fail(id, f).await,
            Ok(Admission::Now(reservation)) => {
                self.job = Some(Job {
                    phase: Phase::Receiving {
                        upload: Box::new(Upload::new(&spec)),
                        reservation,
                    },
                    spec: spec.clone(),
                    cancel,
                });
                self.accepted(&spec).await;
            }
            Ok(Admission::Wait { ahead }) => {
                let shared = self.shared.clone();
                let events = self.events.clone();
                let wake = cancel.wake.clone();
                let waiter = tokio::spawn(async move {
                    tokio::select! {
                        r = shared.queue.admit(needed) => {
                            if let Some(reservation) = r {
                                let _ = events.send(Event::Admitted { job: id, reservation }).await;
                            }
                        }
                        _ = wake.notified() => {}
                    }
                });
                self.job = Some(Job {
                    spec,
                    cancel,
                    phase: Phase::Queued(waiter),
                });
                self.send(ServerMessage::JobQueued { job: id, ahead }).await;
            }
        }
    }

    async fn accepted(&self, spec: &JobSpec) {
        self.send(ServerMessage::JobAccepted {
            job: spec.id,
            rows_per_band: spec.rows_per_band() as u32,
        })
        .await;
    }

    async fn on_band(&mut self, b: Bytes) -> ControlFlow<()> {
        let (header, payload) = match BandHeader::parse(&b) {
            Ok(x) => x,
            Err(e) => {
                return match self.job.as_ref().map(|j| j.spec.id) {
                    Some(id) => {
                        self.fail_active(id, JobFailure::new("band_header", e.to_string()))
                            .await;
                        ControlFlow::Continue(())
                    }
                    None => {
                        self.protocol_error(&format!("a binary message with no job: {e}"))
                            .await
                    }
                };
            }
        };
        let active = self.job.as_ref().map(|j| j.spec.id);
        if active != Some(header.job) && self.is_retired(header.job) {
            // Bands of a cancelled or superseded job still in flight: not an error.
            return ControlFlow::Continue(());
        }
        let Some(job) = self.job.as_mut() else {
            return self
                .protocol_error(&format!(
                    "band {} of job {} with no job started",
                    header.band, header.job
                ))
                .await;
        };
        let id = job.spec.id;
        let result = match &mut job.phase {
            Phase::Receiving { upload, .. } => upload.accept(id, &header, payload),
            Phase::Queued(_) => Err(JobFailure::new(
                "flow",
                "a band arrived before job.accepted: wait for it (the bridge queues jobs so that memory stays bounded)",
            )),
            _ => Err(JobFailure::new(
                "flow",
                format!("band {} arrived after job.source_end", header.band),
            )),
        };
        if let Err(f) = result {
            self.fail_active(id, f).await;
        }
        ControlFlow::Continue(())
    }

    async fn on_source_end(&mut self, job: u32) {
        if self.is_retired(job) && self.job.as_ref().is_none_or(|j| j.spec.id != job) {
            return;
        }
        let Some(j) = self.job.as_mut().filter(|j| j.spec.id == job) else {
            return self
                .fail(
                    job,
                    JobFailure::new(
                        "no_job",
                        format!("job.source_end for job {job}, which is not running"),
                    ),
                )
                .await;
        };
        let Phase::Receiving { .. } = j.phase else {
            return self
                .fail_active(
                    job,
                    JobFailure::new("flow", "job.source_end before job.accepted or twice"),
                )
                .await;
        };
        let Phase::Receiving {
            upload,
            reservation,
        } = std::mem::replace(&mut j.phase, Phase::Rendering)
        else {
            return;
        };
        let (source, selection) = match upload.finish() {
            Ok(x) => x,
            Err(f) => {
                self.job = None;
                return self.fail(job, f).await;
            }
        };
        let spec = j.spec.clone();
        let cancel = j.cancel.clone();
        let shared = self.shared.clone();
        let events = self.events.clone();
        tokio::spawn(async move {
            let lane = match spec.op {
                Op::Apply => shared.queue.full_lane.clone(),
                Op::Preview | Op::Agent => shared.queue.interactive_lane.clone(),
            };
            let permit = tokio::select! {
                p = lane.acquire_owned() => p.ok(),
                _ = cancel.wake.notified() => None,
            };
            let outcome = match permit {
                None => Err(JobError::Cancelled),
                Some(permit) => {
                    let (engine, memory) = (shared.engine.clone(), shared.memory.clone());
                    let progress_events = events.clone();
                    let token = cancel.token.clone();
                    let job_spec = spec.clone();
                    let done = tokio::task::spawn_blocking(move || {
                        let _lane = permit;
                        let last = Mutex::new(None::<Instant>);
                        let progress = |stage: &str, value: f32| {
                            let mut last = last.lock();
                            let due = last.is_none_or(|t| t.elapsed() >= PROGRESS_INTERVAL);
                            if due || value >= 1.0 {
                                *last = Some(Instant::now());
                                let _ = progress_events.try_send(Event::Progress {
                                    job: job_spec.id,
                                    stage: stage.to_string(),
                                    value,
                                });
                            }
                        };
                        let ctl = Control {
                            cancel: Some(&token),
                            progress: Some(&progress),
                        };
                        render::run(&engine, &job_spec, source, selection, &memory, &ctl)
                    })
                    .await;
                    done.unwrap_or_else(|e| {
                        Err(JobError::Failed(JobFailure::new(
                            "internal",
                            format!("the render stopped: {e}"),
                        )))
                    })
                }
            };
            if matches!(outcome, Err(JobError::Cancelled)) {
                shared.stats.renders_interrupted.fetch_add(1, Relaxed);
            }
            let _ = events
                .send(Event::Finished {
                    job: spec.id,
                    outcome,
                    reservation,
                })
                .await;
        });
    }

    async fn on_event(&mut self, ev: Event) {
        match ev {
            Event::Admitted { job, reservation } => {
                let Some(j) = self.job.as_mut().filter(|j| j.spec.id == job) else {
                    return;
                };
                if let Phase::Queued(_) = j.phase {
                    let spec = j.spec.clone();
                    j.phase = Phase::Receiving {
                        upload: Box::new(Upload::new(&spec)),
                        reservation,
                    };
                    self.accepted(&spec).await;
                }
            }
            Event::Progress { job, stage, value } => {
                if self.job.as_ref().is_some_and(|j| j.spec.id == job) {
                    self.send(ServerMessage::Progress { job, stage, value })
                        .await;
                }
            }
            Event::Finished {
                job,
                outcome,
                reservation,
            } => self.on_finished(job, outcome, reservation).await,
        }
    }

    async fn on_finished(
        &mut self,
        job: u32,
        outcome: Result<Output, JobError>,
        reservation: Reservation,
    ) {
        if let Some(announce) = self.draining.remove(&job) {
            if announce {
                self.shared.stats.jobs_cancelled.fetch_add(1, Relaxed);
                self.send(ServerMessage::JobCancelled { job }).await;
            }
            return;
        }
        if self.job.as_ref().is_none_or(|j| j.spec.id != job) {
            return;
        }
        match outcome {
            Ok(Output::Preview { after, before }) => {
                self.job = None;
                for (band, jpeg) in [(0u32, after), (1, before)] {
                    let header = BandHeader {
                        kind: BandKind::Preview,
                        job,
                        band,
                        y0: 0,
                        rows: 1,
                        width: jpeg.len() as u32,
                        components: 3,
                        bits: 8,
                    };
                    self.out
                        .binary(Bytes::from(header.with_payload(&jpeg)))
                        .await;
                }
                self.done(job).await;
            }
            Ok(Output::Agent {
                state,
                understood,
                recalled,
            }) => {
                self.job = None;
                self.send(ServerMessage::AgentState {
                    job,
                    state: state.to_value(),
                    understood,
                    recalled,
                })
                .await;
                self.done(job).await;
            }
            Ok(Output::Apply {
                bands,
                rows_per_band,
            }) => {
                let n = bands.len() as u32;
                if let Some(j) = self.job.as_mut() {
                    j.phase = Phase::Ready {
                        bands,
                        _reservation: reservation,
                    };
                }
                self.send(ServerMessage::ResultReady {
                    job,
                    bands: n,
                    rows_per_band,
                })
                .await;
            }
            Err(JobError::Cancelled) => {
                self.job = None;
                self.shared.stats.jobs_cancelled.fetch_add(1, Relaxed);
                self.send(ServerMessage::JobCancelled { job }).await;
            }
            Err(JobError::Failed(f)) => {
                self.job = None;
                self.fail(job, f).await;
            }
        }
    }

    async fn done(&self, job: u32) {
        self.shared.stats.jobs_done.fetch_add(1, Relaxed);
        self.send(ServerMessage::JobDone { job }).await;
    }

    async fn on_result_get(&mut self, job: u32, band: u32) {
        let found = match self.job.as_ref().filter(|j| j.spec.id == job).map(|j| &j.phase) {
            Some(Phase::Ready { bands, .. }) => bands.get(band as usize).cloned().ok_or(bands.len()),
            _ => {
                return self
                    .fail(job, JobFailure::new("no_result", format!("job {job} has no result to pull (not an apply, not finished, or closed)")))
                    .await
            }
        };
        match found {
            Ok(b) => {
                self.out.binary(b).await;
            }
            Err(n) => {
                self.fail(
                    job,
                    JobFailure::new("band", format!("result band {band} of {n}")),
                )
                .await
            }
        }
    }

    async fn on_cancel(&mut self, job: u32) {
        if let Some(j) = self.job.take_if(|j| j.spec.id == job) {
            self.cancel_job(j).await;
        }
    }

    /// Stops `j`: at once when it is not rendering, else when its render returns.
    async fn cancel_job(&mut self, j: Job) {
        j.cancel.fire();
        let id = j.spec.id;
        self.retire(id);
        match j.phase {
            Phase::Rendering => {
                self.draining.insert(id, true);
            }
            Phase::Queued(waiter) => {
                waiter.abort();
                self.shared.stats.jobs_cancelled.fetch_add(1, Relaxed);
                self.send(ServerMessage::JobCancelled { job: id }).await;
            }
            Phase::Receiving { .. } | Phase::Ready { .. } => {
                self.shared.stats.jobs_cancelled.fetch_add(1, Relaxed);
                self.send(ServerMessage::JobCancelled { job: id }).await;
            }
        }
    }

    /// The client left: its job is cancelled and its memory freed.
    fn disconnect(&mut self) {
        if let Some(j) = self.job.take() {
            j.cancel.fire();
            match j.phase {
                Phase::Queued(w) => {
                    w.abort();
                    self.shared
                        .stats
                        .cancelled_by_disconnect
                        .fetch_add(1, Relaxed);
                }
                Phase::Receiving { .. } | Phase::Rendering => {
                    self.shared
                        .stats
                        .cancelled_by_disconnect
                        .fetch_add(1, Relaxed);
                }
                Phase::Ready { .. } => {}
            }
            tracing::info!(peer = %self.peer, job = j.spec.id, "connection closed: job dropped");
        }
    }
}
