//! A socket's requests waiting for their turn.
//!
//! socketioxide reads a socket's frames and hands each event over at once;
//! it has no way to stop reading. So each virtual request is put in its
//! socket's queue as it arrives, and one worker task per busy socket takes
//! them from there, at most
//! [`SocketsConfig::max_requests_in_flight`](crate::SocketsConfig::max_requests_in_flight)
//! at a time. The queue is bounded in bytes; when its socket disconnects,
//! what is still queued is dropped and what is running is cancelled, as an
//! HTTP request is when its connection closes.

use std::collections::VecDeque;
use std::sync::{Mutex, MutexGuard, PoisonError};

use tokio::sync::Notify;
use tokio::task::AbortHandle;

use crate::virtual_request::{ParseError, VirtualRequest};

/// What a queued request is counted as, beyond its frame's length.
const REQUEST_OVERHEAD: usize = 256;

/// A virtual request as it arrived.
#[derive(Debug)]
pub(crate) struct Queued {
    /// The request, or why it could not be read.
    pub(crate) request: Result<VirtualRequest, ParseError>,
    /// The ack id, when the client wants an answer.
    pub(crate) ack: Option<i64>,
    cost: usize,
}

impl Queued {
    /// A request read from a frame of `frame_len` bytes.
    pub(crate) fn new(
        request: Result<VirtualRequest, ParseError>,
        ack: Option<i64>,
        frame_len: usize,
    ) -> Self {
        Self {
            request,
            ack,
            cost: frame_len.saturating_add(REQUEST_OVERHEAD),
        }
    }
}

/// What [`RequestQueue::push`] did with a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Admission {
    /// Queued; no worker was running, so the caller starts one.
    StartWorker,
    /// Queued for the running worker.
    Queued,
    /// Refused: the queue would pass its bound.
    Full,
    /// Refused: the socket is gone.
    Closed,
}

#[derive(Default)]
struct State {
    pending: VecDeque<Queued>,
    bytes: usize,
    worker_running: bool,
    worker: Option<AbortHandle>,
    closed: bool,
}

/// One socket's queue of requests. See the module documentation.
#[derive(Default)]
pub(crate) struct RequestQueue {
    state: Mutex<State>,
    /// Signalled when a request arrives for a running worker.
    arrived: Notify,
}

impl std::fmt::Debug for RequestQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let state = self.lock();
        f.debug_struct("RequestQueue")
            .field("pending", &state.pending.len())
            .field("bytes", &state.bytes)
            .finish_non_exhaustive()
    }
}

impl RequestQueue {
    fn lock(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Queues `request` unless that would take the queue past `max_bytes`.
    pub(crate) fn push(&self, request: Queued, max_bytes: usize) -> Admission {
        let mut state = self.lock();
        if state.closed {
            return Admission::Closed;
        }
        let bytes = state.bytes.saturating_add(request.cost);
        if bytes > max_bytes && !state.pending.is_empty() {
            return Admission::Full;
        }
        state.bytes = bytes;
        state.pending.push_back(request);
        if state.worker_running {
            drop(state);
            self.arrived.notify_one();
            Admission::Queued
        } else {
            state.worker_running = true;
            Admission::StartWorker
        }
    }

    /// Remembers the worker started after [`Admission::StartWorker`], to cancel it.
    pub(crate) fn set_worker(&self, worker: AbortHandle) {
        let mut state = self.lock();
        if state.closed {
            worker.abort();
        } else {
            state.worker = Some(worker);
        }
    }

    /// The next request, if any.
    pub(crate) fn pop(&self) -> Option<Queued> {
        let mut state = self.lock();
        let next = state.pending.pop_front()?;
        state.bytes -= next.cost;
        Some(next)
    }

    /// Called by an idle worker: `true` if it may stop (nothing arrived
    /// meanwhile), and then a later request starts a new worker.
    pub(crate) fn worker_idle(&self) -> bool {
        let mut state = self.lock();
        if state.pending.is_empty() {
            state.worker_running = false;
            state.worker = None;
            true
        } else {
            false
        }
    }

    /// Waits until a request arrives for the running worker.
    pub(crate) async fn arrival(&self) {
        self.arrived.notified().await;
    }

    /// The socket is gone: drops what waits and cancels what runs.
    pub(crate) fn cancel(&self) {
        let mut state = self.lock();
        state.closed = true;
        state.pending.clear();
        state.bytes = 0;
        if let Some(worker) = state.worker.take() {
            worker.abort();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(frame_len: usize) -> Queued {
        Queued::new(Err(ParseError::NotAnObject), Some(1), frame_len)
    }

    #[test]
    fn the_queue_is_bounded_in_bytes_and_starts_one_worker() {
        let queue = RequestQueue::default();
        let limit = 3 * (100 + REQUEST_OVERHEAD);
        assert_eq!(queue.push(request(100), limit), Admission::StartWorker);
        assert_eq!(queue.push(request(100), limit), Admission::Queued);
        assert_eq!(queue.push(request(100), limit), Admission::Queued);
        assert_eq!(queue.push(request(100), limit), Admission::Full);
        assert!(queue.pop().is_some());
        assert_eq!(queue.push(request(100), limit), Admission::Queued);
        while queue.pop().is_some() {}
        assert!(queue.worker_idle());
        // One request larger than the bound still goes through alone.
        assert_eq!(
            queue.push(request(10 * limit), limit),
            Admission::StartWorker
        );
        queue.cancel();
        assert!(queue.pop().is_none());
        assert_eq!(queue.push(request(1), limit), Admission::Closed);
    }

    #[test]
    fn a_worker_does_not_stop_while_requests_wait() {
        let queue = RequestQueue::default();
        assert_eq!(queue.push(request(1), 1 << 20), Admission::StartWorker);
        assert!(!queue.worker_idle());
        assert!(queue.pop().is_some());
        assert!(queue.worker_idle());
        assert_eq!(queue.push(request(1), 1 << 20), Admission::StartWorker);
    }
}
