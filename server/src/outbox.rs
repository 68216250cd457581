//! A socket's outbox: everything the realtime layer sends to one socket
//! (answers and events) reaches it in order, or the socket is disconnected
//! with a stated reason. Nothing is dropped in between.
//!
//! socketioxide offers only a non-blocking send into each socket's packet
//! channel ([`SocketsConfig::send_buffer`](crate::SocketsConfig::send_buffer)
//! packets). While that channel has room, a packet goes straight in. Once it
//! is full, the packet waits in the socket's backlog behind the ones before
//! it, a drain task moves the backlog into the channel as the socket's
//! writer frees room, and whoever sends to a socket whose backlog is longer
//! than the channel waits until it shrinks: the sender's own request waits
//! for its answer, which pushes back on the sender. A backlog that makes no
//! progress for [`SocketsConfig::slow_consumer_timeout`](crate::SocketsConfig::slow_consumer_timeout),
//! or grows past [`SocketsConfig::max_backlog`](crate::SocketsConfig::max_backlog),
//! disconnects its socket as a slow consumer.
//!
//! The outbox is also the socket's broadcast sink: every broadcast
//! socketioxide delivers to the socket, encoded once for all its members,
//! whether sent on this server or on another one of a cluster, reaches it
//! through [`push`](Outbox::push), in order with the rest. The sender on
//! this server then waits for room ([`Outbox::room`]); a broadcast from
//! another server cannot wait, so it is only held to `max_backlog`.

use std::collections::VecDeque;
use std::fmt;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, OnceLock, PoisonError, Weak};
use std::time::Duration;

use axum::body::Bytes;
use serde::Serialize;
use socketioxide::extract::AckSender;

use crate::cluster::ClusterAdapter;
use socketioxide::handler::{FromMessageParts, Value};
use socketioxide::socket::BroadcastSink;
use socketioxide::{SendError, SocketError};
use tokio::sync::Notify;
use tokio::time::Instant;

use crate::cluster::Socket;
use crate::history::{History, Journal, Trimmed};
use crate::jwr::Jwr;
use crate::virtual_request::ParseErrorBody;

/// The first pause of a drain task before it tries the channel again; it
/// doubles while the channel stays full, up to [`LONGEST_PAUSE`].
const FIRST_PAUSE: Duration = Duration::from_millis(1);
const LONGEST_PAUSE: Duration = Duration::from_millis(16);
/// The longest pause between two tries to queue a disconnect packet.
const LONGEST_DISCONNECT_PAUSE: Duration = Duration::from_millis(250);

/// What a packet carries.
#[derive(Debug)]
pub(crate) enum Payload {
    /// The answer to a virtual request.
    Jwr(Jwr),
    /// Why a virtual request could not be read.
    ParseError(ParseErrorBody),
    /// Where a recovering connection stands.
    Recovery(crate::recovery::status::Status),
}

impl Serialize for Payload {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Jwr(jwr) => jwr.serialize(serializer),
            Self::ParseError(body) => body.serialize(serializer),
            Self::Recovery(status) => status.serialize(serializer),
        }
    }
}

/// A packet for one socket.
#[derive(Debug)]
pub(crate) enum Outgoing {
    /// The ack of the client's event `id`.
    Ack {
        /// The ack id the client chose.
        id: i64,
        /// What it answers.
        payload: Payload,
    },
    /// An event.
    Event {
        /// The event name.
        event: Arc<str>,
        /// Its one argument.
        payload: Payload,
    },
    /// A packet socketioxide has encoded already: a broadcast's.
    Encoded(Value),
}

/// Why the realtime layer disconnected a socket itself.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CloseReason {
    /// What was sent to it was not written for
    /// [`SocketsConfig::slow_consumer_timeout`](crate::SocketsConfig::slow_consumer_timeout).
    SlowConsumer,
    /// It sent more requests than
    /// [`SocketsConfig::max_queued_request_bytes`](crate::SocketsConfig::max_queued_request_bytes)
    /// lets wait for their turn.
    TooManyQueuedRequests,
}

impl fmt::Display for CloseReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::SlowConsumer => "slow consumer",
            Self::TooManyQueuedRequests => "too many queued requests",
        })
    }
}

/// How many sockets the realtime layer disconnected, by reason.
#[derive(Debug, Default)]
pub(crate) struct CloseCounts {
    slow_consumers: AtomicU64,
    too_many_queued_requests: AtomicU64,
}

impl CloseCounts {
    fn count(&self, reason: CloseReason) {
        let counter = match reason {
            CloseReason::SlowConsumer => &self.slow_consumers,
            CloseReason::TooManyQueuedRequests => &self.too_many_queued_requests,
        };
        counter.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> crate::Stats {
        crate::Stats {
            slow_consumers: self.slow_consumers.load(Ordering::Relaxed),
            too_many_queued_requests: self.too_many_queued_requests.load(Ordering::Relaxed),
        }
    }
}

/// What happened to a packet handed to [`Outbox::push`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Pushed {
    /// It is in the socket's channel.
    Sent,
    /// It waits in the backlog, behind others.
    Queued,
    /// The socket is gone or being disconnected; the packet was discarded.
    Closed,
}

#[derive(Default)]
struct Backlog {
    packets: VecDeque<Outgoing>,
    draining: bool,
    closed: bool,
    /// Until the recovery status is sent, everything waits here.
    held: bool,
    /// The broadcasts sent to a socket whose client recovers connections
    /// (boxed: most sockets have none).
    recorded: Option<Box<Recorded>>,
}

/// What a recovering socket keeps: the numbers of its broadcasts, and the
/// server's journal holding their packets.
struct Recorded {
    history: History,
    journal: Arc<Journal>,
}

/// One socket's ordered, lossless way out. See the module documentation.
pub(crate) struct Outbox {
    socket: Weak<Socket>,
    backlog: Mutex<Backlog>,
    /// Signalled whenever the backlog shrinks or the outbox closes.
    shrunk: Notify,
    high_water: usize,
    max_backlog: usize,
    stall_limit: Duration,
    close_reason: OnceLock<CloseReason>,
    counts: Arc<CloseCounts>,
}

impl fmt::Debug for Outbox {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Outbox")
            .field("backlog", &self.lock().packets.len())
            .finish_non_exhaustive()
    }
}

enum Attempt {
    Sent,
    Full,
    Gone,
}

fn attempt(socket: &Arc<Socket>, packet: &Outgoing) -> Attempt {
    let result = match packet {
        Outgoing::Ack { id, payload } => {
            // An ack sender for `id`, made anew for each attempt: sending consumes it.
            let mut unused = Value::Bytes(Bytes::new());
            let Ok(ack) =
                AckSender::<ClusterAdapter>::from_message_parts(socket, &mut unused, &Some(*id));
            ack.send(payload)
        }
        Outgoing::Event { event, payload } => socket.emit(&**event, payload),
        Outgoing::Encoded(packet) => socket.send_raw(packet.clone()).map_err(SendError::Socket),
    };
    match result {
        Ok(()) => Attempt::Sent,
        Err(SendError::Socket(SocketError::InternalChannelFull)) => Attempt::Full,
        Err(SendError::Socket(SocketError::Closed)) => Attempt::Gone,
        Err(SendError::Serialize(error)) => {
            // The payloads are the layer's own JSON: this cannot happen, and
            // trying again would not help.
            tracing::error!(socket = %socket.id, %error, "a packet could not be serialised");
            Attempt::Sent
        }
    }
}

/// The outbox of a socket of the realtime layer (in its extensions).
pub(crate) fn outbox_of(socket: &Socket) -> Option<Arc<Outbox>> {
    socket.extensions.get::<Arc<Outbox>>()
}

/// The limits of one socket's outbox (from [`SocketsConfig`](crate::SocketsConfig)).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Limits {
    /// Senders wait while the backlog is longer than this (`send_buffer`).
    pub(crate) high_water: usize,
    /// A longer backlog disconnects the socket (`max_backlog`).
    pub(crate) max_backlog: usize,
    /// A backlog without progress for this long disconnects the socket
    /// (`slow_consumer_timeout`).
    pub(crate) stall_limit: Duration,
}

impl Outbox {
    pub(crate) fn new(socket: Weak<Socket>, limits: Limits, counts: Arc<CloseCounts>) -> Self {
        Self {
            socket,
            backlog: Mutex::new(Backlog::default()),
            shrunk: Notify::new(),
            high_water: limits.high_water.max(1),
            max_backlog: limits.max_backlog.max(1),
            stall_limit: limits.stall_limit,
            close_reason: OnceLock::new(),
            counts,
        }
    }

    fn lock(&self) -> MutexGuard<'_, Backlog> {
        self.backlog.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// Why the layer disconnected the socket, if it did.
    pub(crate) fn close_reason(&self) -> Option<CloseReason> {
        self.close_reason.get().copied()
    }

    /// Sends `packet` after everything sent before it, without waiting.
    pub(crate) fn push(self: &Arc<Self>, packet: Outgoing) -> Pushed {
        let backlog = self.lock();
        self.push_locked(backlog, packet)
    }

    fn push_locked(
        self: &Arc<Self>,
        mut backlog: MutexGuard<'_, Backlog>,
        packet: Outgoing,
    ) -> Pushed {
        if backlog.closed {
            return Pushed::Closed;
        }
        if backlog.held {
            backlog.packets.push_back(packet);
            return Pushed::Queued;
        }
        if backlog.packets.is_empty() {
            let Some(socket) = self.socket.upgrade() else {
                backlog.closed = true;
                return Pushed::Closed;
            };
            match attempt(&socket, &packet) {
                Attempt::Sent => return Pushed::Sent,
                Attempt::Gone => {
                    backlog.closed = true;
                    return Pushed::Closed;
                }
                Attempt::Full => {}
            }
        }
        if backlog.packets.len() >= self.max_backlog {
            drop(backlog);
            match self.socket.upgrade() {
                Some(socket) => self.close(socket, CloseReason::SlowConsumer),
                None => self.discard(),
            }
            return Pushed::Closed;
        }
        backlog.packets.push_back(packet);
        if !backlog.draining {
            backlog.draining = true;
            tokio::spawn(Arc::clone(self).drain());
        }
        Pushed::Queued
    }

    /// [`push`](Self::push), then waits while the backlog is longer than
    /// the socket's channel. `false`: the socket is gone.
    pub(crate) async fn send(self: &Arc<Self>, packet: Outgoing) -> bool {
        match self.push(packet) {
            Pushed::Sent => true,
            Pushed::Closed => false,
            Pushed::Queued => self.room().await,
        }
    }

    /// Waits until the backlog is no longer than the socket's channel.
    /// `false`: the socket is gone.
    pub(crate) async fn room(&self) -> bool {
        loop {
            let shrunk = self.shrunk.notified();
            tokio::pin!(shrunk);
            shrunk.as_mut().enable();
            {
                let backlog = self.lock();
                if backlog.closed {
                    return false;
                }
                if backlog.packets.len() <= self.high_water {
                    return true;
                }
            }
            shrunk.await;
        }
    }

    /// Moves the backlog into the socket's channel as room appears, until
    /// it is empty, the socket is gone, or it stalls too long.
    async fn drain(self: Arc<Self>) {
        let mut pause = FIRST_PAUSE;
        let mut last_progress = Instant::now();
        loop {
            tokio::time::sleep(pause).await;
            let Some(socket) = self.socket.upgrade() else {
                self.discard();
                return;
            };
            let mut sent = 0usize;
            {
                let mut backlog = self.lock();
                if backlog.closed {
                    return;
                }
                while let Some(packet) = backlog.packets.front() {
                    match attempt(&socket, packet) {
                        Attempt::Sent => {
                            backlog.packets.pop_front();
                            sent += 1;
                        }
                        Attempt::Full => break,
                        Attempt::Gone => {
                            backlog.closed = true;
                            backlog.packets.clear();
                            break;
                        }
                    }
                }
                if backlog.packets.is_empty() {
                    backlog.draining = false;
                    drop(backlog);
                    self.shrunk.notify_waiters();
                    return;
                }
            }
            if sent > 0 {
                self.shrunk.notify_waiters();
                last_progress = Instant::now();
                pause = FIRST_PAUSE;
            } else {
                pause = (pause * 2).min(LONGEST_PAUSE);
                if last_progress.elapsed() >= self.stall_limit {
                    self.close(socket, CloseReason::SlowConsumer);
                    return;
                }
            }
        }
    }

    /// Drops the backlog of a socket that is gone and wakes whoever waits on it.
    pub(crate) fn discard(&self) {
        {
            let mut backlog = self.lock();
            backlog.closed = true;
            backlog.packets.clear();
        }
        self.shrunk.notify_waiters();
    }

    /// Disconnects the socket for `reason`: its backlog is dropped, the
    /// reason logged and counted, and the disconnect packet sent as soon as
    /// its channel has room. (socketioxide cannot close a socket without
    /// queueing that packet: one that never reads again is closed by the
    /// heartbeat, after `ping_interval` + `ping_timeout`.)
    pub(crate) fn close(&self, socket: Arc<Socket>, reason: CloseReason) {
        if self.close_reason.set(reason).is_err() {
            return;
        }
        self.discard();
        self.counts.count(reason);
        tracing::warn!(socket = %socket.id, %reason, "disconnecting a socket");
        let socket = Arc::downgrade(&socket);
        tokio::spawn(async move {
            let mut pause = FIRST_PAUSE;
            while let Some(socket) = socket.upgrade() {
                let Err(SocketError::InternalChannelFull) = socket.disconnect() else {
                    return;
                };
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(LONGEST_DISCONNECT_PAUSE);
            }
        });
    }
}

/// Connection-state recovery: the socket's history of broadcasts.
impl Outbox {
    /// Keeps the numbers of the broadcasts this socket is sent (their
    /// packets are in `journal`), and holds everything back until
    /// [`release`](Self::release) (the recovery status goes first).
    pub(crate) fn keep_history(&self, history: History, journal: Arc<Journal>) {
        let mut backlog = self.lock();
        backlog.recorded = Some(Box::new(Recorded { history, journal }));
        backlog.held = true;
    }

    /// Records the broadcast numbered `sequence` and, unless the outbox is
    /// held or closed, sends it with its number. A repeat is ignored. An
    /// outbox that keeps no history just sends the packet.
    pub(crate) fn record(self: &Arc<Self>, packet: Value, sequence: u64) {
        let mut backlog = self.lock();
        let Some(recorded) = backlog.recorded.as_mut() else {
            self.push_locked(backlog, Outgoing::Encoded(packet));
            return;
        };
        if !recorded.history.record(sequence) {
            return;
        }
        // Marked, and kept by the journal, once per broadcast.
        let marked = recorded.journal.marked(&packet, sequence);
        if !backlog.held && !backlog.closed {
            self.push_locked(backlog, Outgoing::Encoded(marked));
        }
    }

    /// Takes the numbers after `offset` out of the history of a
    /// disconnected socket, oldest first; `Trimmed` if the history or the
    /// journal no longer holds every one of them.
    pub(crate) fn take_history_after(&self, offset: u64) -> Result<Vec<u64>, Trimmed> {
        let mut backlog = self.lock();
        let Some(recorded) = backlog.recorded.as_mut() else {
            return Err(Trimmed);
        };
        let taken = recorded.history.take_after(offset)?;
        if recorded
            .journal
            .packets(taken.iter().copied())
            .iter()
            .any(Option::is_none)
        {
            return Err(Trimmed);
        }
        Ok(taken)
    }

    /// Puts the numbers of an earlier connection ahead of the ones this
    /// socket recorded since (those it has already are skipped).
    pub(crate) fn restore_history(&self, earlier: Vec<u64>) {
        if let Some(recorded) = self.lock().recorded.as_mut() {
            recorded.history.restore(earlier);
        }
    }

    /// Sends `status` first, then every broadcast in the history, then what
    /// waited meanwhile, and stops holding packets back. `status` is made
    /// from the number of broadcasts sent again and whether that is all of
    /// them (the journal may have dropped some since the handshake).
    pub(crate) fn release(self: &Arc<Self>, status: impl FnOnce(usize, bool) -> Outgoing) {
        let mut backlog = self.lock();
        let packets = backlog
            .recorded
            .as_ref()
            .map(|recorded| recorded.journal.packets(recorded.history.sequences()))
            .unwrap_or_default();
        let complete = packets.iter().all(Option::is_some);
        let replayed: Vec<Outgoing> = packets
            .into_iter()
            .flatten()
            .map(Outgoing::Encoded)
            .collect();
        let waiting = std::mem::take(&mut backlog.packets);
        backlog.packets.push_back(status(replayed.len(), complete));
        backlog.packets.extend(replayed);
        backlog.packets.extend(waiting);
        backlog.held = false;
        if backlog.closed {
            backlog.packets.clear();
            return;
        }
        if !backlog.draining {
            backlog.draining = true;
            tokio::spawn(Arc::clone(self).drain());
        }
    }
}

impl BroadcastSink for Outbox {
    /// A broadcast's packet, in order with everything else sent to the
    /// socket. One for a socket being disconnected is discarded without an
    /// error: that disconnect has been logged and counted already.
    fn deliver(self: Arc<Self>, packet: Value, sequence: u64) -> Result<(), SocketError> {
        self.record(packet, sequence);
        Ok(())
    }
}
