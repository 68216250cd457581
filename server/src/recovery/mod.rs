//! Connection-state recovery: a client that loses its connection and comes
//! back within [`RecoveryConfig::window`](crate::RecoveryConfig::window) gets
//! its rooms back on its new socket, and every broadcast it missed, once, in
//! order, before new ones (the wire is `sails_protocol::recovery`).
//!
//! Only connections that opt in take part, so sails.io.js sees no change.
//! Each such socket's outbox keeps the broadcasts it was sent lately, with
//! the number socketioxide gives every broadcast of the namespace (members
//! get them in that order). When the socket disconnects, a *ghost* takes its
//! place in its rooms: an id of its own in the adapter's rooms, without a
//! socket, whose broadcasts socketioxide hands to this module (its
//! absent-member sink), which records them in the old outbox. A client that
//! reconnects with its token and the last number it saw moves the ghost's
//! rooms and the broadcasts numbered after it to its new socket.

use std::collections::HashMap;
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::Instant;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sails_protocol::recovery::Reason;
use socketioxide::handler::Value;
use socketioxide::socket::{AbsentMemberSink, Sid};
use socketioxide_core::adapter::{CoreAdapter, Room};

use crate::cluster::{AdapterHandle, Io};
use crate::config::RecoveryConfig;
use crate::history::{History, Journal};
use crate::outbox::Outbox;

pub(crate) mod status;

use status::Outcome;

/// A disconnected socket waiting for its client.
struct Ghost {
    sid: Sid,
    outbox: Arc<Outbox>,
    /// The id of the socket's session, when it came from the browser's
    /// cookie (not a session pinned to a cookieless socket): only a
    /// handshake with the same session may take the ghost's place.
    session: Option<String>,
}

#[derive(Default)]
struct Registry {
    /// The outbox of every id in rooms that is not a connected socket here:
    /// ghosts, and sockets whose handshake is recovering.
    absent: HashMap<Sid, Arc<Outbox>>,
    /// Ghosts by the token their client holds.
    ghosts: HashMap<String, Ghost>,
    /// Tokens whose window passed, and when, kept for one more window.
    expired: HashMap<String, Instant>,
}

/// The server's ghosts and tokens.
pub(crate) struct Recovery {
    config: RecoveryConfig,
    /// Starts every token this process hands out.
    epoch: String,
    clustered: bool,
    adapter: AdapterHandle,
    registry: Mutex<Registry>,
    /// The broadcasts kept for this server's recovering sockets.
    journal: Arc<Journal>,
}

impl std::fmt::Debug for Recovery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Recovery")
            .field("config", &self.config)
            .finish_non_exhaustive()
    }
}

/// `bytes` random bytes as URL-safe base64; `None` without the system's
/// randomness.
fn random_text(bytes: usize) -> Option<String> {
    let mut random = vec![0u8; bytes];
    getrandom::fill(&mut random).ok()?;
    Some(URL_SAFE_NO_PAD.encode(random))
}

impl Recovery {
    pub(crate) fn new(config: RecoveryConfig, clustered: bool, adapter: AdapterHandle) -> Self {
        Self {
            config,
            // The epoch only tells this process's tokens from another's; the
            // start time does too when there is no randomness.
            epoch: random_text(6).unwrap_or_else(|| {
                let nanos = std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_nanos();
                URL_SAFE_NO_PAD.encode(nanos.to_le_bytes())
            }),
            clustered,
            adapter,
            registry: Mutex::default(),
            // A cut may go unnoticed for a heartbeat; the window follows.
            journal: Arc::new(Journal::new(
                config.max_bytes,
                config.window.saturating_mul(2),
            )),
        }
    }

    /// Makes `outbox` keep the history of a socket that recovers.
    pub(crate) fn keep_history(&self, outbox: &Outbox) {
        outbox.keep_history(
            History::new(self.config.max_events),
            Arc::clone(&self.journal),
        );
    }

    fn registry(&self) -> MutexGuard<'_, Registry> {
        self.registry.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// A new token for a connection; `None` without the system's
    /// randomness (for a cookieless socket the token is the only proof of
    /// who it was, so it must not be guessable).
    pub(crate) fn token(&self) -> Option<String> {
        Some(format!("{}.{}", self.epoch, random_text(18)?))
    }

    /// Recovers the socket `sid`, whose client presents `token` and had every
    /// broadcast up to `offset`: the ghost's rooms become the socket's, and
    /// the broadcasts after `offset` wait in `outbox`'s history. Runs before
    /// the socket is connected; broadcasts meanwhile reach `outbox` through
    /// the absent-member sink.
    ///
    /// A token is not enough: when the socket's session came from a cookie,
    /// the new handshake must carry the same `session`, so a token
    /// seen by someone else is of no use without the session too.
    pub(crate) fn resume(
        &self,
        token: &str,
        offset: u64,
        session: Option<&str>,
        sid: Sid,
        outbox: &Arc<Outbox>,
    ) -> Outcome {
        let ghost = {
            let mut registry = self.registry();
            let ghost = match registry.ghosts.remove(token) {
                Some(ghost)
                    if ghost
                        .session
                        .as_ref()
                        .is_none_or(|id| Some(id.as_str()) == session) =>
                {
                    ghost
                }
                // Another session's ghost stays for its owner.
                Some(ghost) => {
                    registry.ghosts.insert(token.to_owned(), ghost);
                    return Outcome::Failed(Reason::Unknown);
                }
                None => return Outcome::Failed(self.why_unknown(&registry, token)),
            };
            registry.absent.insert(sid, Arc::clone(outbox));
            ghost
        };
        if let Some(adapter) = self.adapter.local() {
            let local = adapter.get_local();
            let rooms: Vec<Room> = local.socket_rooms(ghost.sid).into_iter().collect();
            // From here both ids get the rooms' broadcasts; the new history
            // skips the repeats.
            local.add_all(sid, rooms);
            local.del_all(ghost.sid);
        }
        self.registry().absent.remove(&ghost.sid);
        match ghost.outbox.take_history_after(offset) {
            Ok(missed) => {
                outbox.restore_history(missed);
                Outcome::Recovered
            }
            Err(_) => Outcome::Failed(Reason::Trimmed),
        }
    }

    fn why_unknown(&self, registry: &Registry, token: &str) -> Reason {
        if registry.expired.contains_key(token) {
            return Reason::Expired;
        }
        match token.split_once('.') {
            Some((epoch, _)) if epoch != self.epoch && !self.clustered => Reason::Restarted,
            _ => Reason::Unknown,
        }
    }

    /// The socket `sid` is connected, or gone: its broadcasts no longer
    /// come through the absent-member sink.
    pub(crate) fn arrived(&self, sid: Sid) {
        self.registry().absent.remove(&sid);
    }

    /// The socket `sid`, whose client holds `token`, is disconnecting (its
    /// rooms are still its own): a ghost takes its place in them for the
    /// window, recording into `outbox`.
    pub(crate) fn disconnecting(
        self: &Arc<Self>,
        sid: Sid,
        token: String,
        outbox: Arc<Outbox>,
        session: Option<String>,
    ) {
        let Some(adapter) = self.adapter.local() else {
            return;
        };
        let ghost = Sid::new();
        self.registry().absent.insert(ghost, Arc::clone(&outbox));
        let local = adapter.get_local();
        let rooms: Vec<Room> = local.socket_rooms(sid).into_iter().collect();
        local.add_all(ghost, rooms);
        self.registry().ghosts.insert(
            token.clone(),
            Ghost {
                sid: ghost,
                outbox,
                session,
            },
        );
        let recovery = Arc::clone(self);
        tokio::spawn(async move {
            tokio::time::sleep(recovery.config.window).await;
            recovery.expire(&token);
        });
    }

    /// The window of `token` has passed: its ghost leaves its rooms.
    fn expire(&self, token: &str) {
        let now = Instant::now();
        let ghost = {
            let mut registry = self.registry();
            let window = self.config.window;
            registry
                .expired
                .retain(|_, at| now.duration_since(*at) < window);
            let Some(ghost) = registry.ghosts.remove(token) else {
                return;
            };
            registry.absent.remove(&ghost.sid);
            registry.expired.insert(token.to_owned(), now);
            ghost
        };
        if let Some(adapter) = self.adapter.local() {
            adapter.get_local().del_all(ghost.sid);
        }
    }
}

impl AbsentMemberSink for Recovery {
    fn deliver(&self, sid: Sid, packet: Value, sequence: u64) {
        let outbox = self.registry().absent.get(&sid).cloned();
        if let Some(outbox) = outbox {
            outbox.record(packet, sequence);
        }
    }
}

tokio::task_local! {
    /// The socket whose virtual request is running, and whether the request
    /// has put it into a room (for sockets that recover connections).
    static REQUESTER: (Sid, AtomicBool);
}

/// Runs `request`, a virtual request of the socket `sid`; `true` with its
/// output if the request put the socket into a room (its answer then tells
/// the client, which may replay the request after a failed recovery).
pub(crate) async fn noting_subscriptions<T>(
    sid: Sid,
    request: impl Future<Output = T>,
) -> (T, bool) {
    REQUESTER
        .scope((sid, AtomicBool::new(false)), async {
            let output = request.await;
            let subscribed = REQUESTER.with(|(_, subscribed)| subscribed.load(Ordering::Relaxed));
            (output, subscribed)
        })
        .await
}

/// Some sockets joined `rooms`: if the running request's socket is in one
/// of them now, its answer will say so.
pub(crate) fn joined(io: &Io, rooms: &[String]) {
    let _ = REQUESTER.try_with(|(sid, subscribed)| {
        let Some(socket) = io.get_socket(*sid) else {
            return;
        };
        if socket
            .rooms()
            .iter()
            .any(|room| rooms.iter().any(|r| r == room))
        {
            subscribed.store(true, Ordering::Relaxed);
        }
    });
}
