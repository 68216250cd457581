//! One socket's connection lifecycle, without any browser API: whether it
//! is waiting for its first `_connect()`, idle, connecting, connected, or
//! waiting to reconnect, and how many attempts an outage has seen.
//!
//! The browser glue (`client`) asks this machine before it acts and tells it
//! what happened; each transition is a method, and one that makes no sense
//! in the current state is refused (with the error the page gets) or ignored
//! (a late callback), so no combination of flags can contradict another.
//! Times are the browser's `Date.now()`, in milliseconds.

use crate::{backoff::Backoff, error::ClientError};

/// A time without a connection, and the reconnection attempts made in it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Outage {
    /// When the connection was lost, or the first attempt failed.
    pub since: f64,
    /// Reconnection attempts scheduled so far.
    pub attempts: u32,
}

/// Where a socket stands.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum State {
    /// Made by `createSocket()`: connects on its `_connect()`
    /// (`mightBeAboutToAutoConnect()` is `true`).
    AboutToAutoConnect,
    /// No connection and none under way: before connecting, after
    /// `disconnect()`, or after a connection ended without reconnection.
    Idle,
    /// An attempt under way: the cross-origin cookie, the WebSocket, the
    /// handshake. `outage` when it is an automatic reconnection attempt.
    Connecting {
        /// The outage this attempt tries to end.
        outage: Option<Outage>,
    },
    /// Connected: requests go out at once.
    Connected,
    /// Waiting for reconnection attempt number `outage.attempts`.
    Reconnecting(Outage),
}

/// What ended, as [`Lifecycle::end`] found it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Ended {
    /// Nothing was under way (at most a wait for a reconnection attempt).
    Nothing,
    /// A connection: the outage starts now.
    Connection(Outage),
    /// A connection attempt failed.
    Attempt {
        /// The outage it belongs to.
        outage: Outage,
        /// Whether it was an automatic reconnection attempt.
        reconnecting: bool,
    },
}

impl Ended {
    /// The outage to reconnect from, if something was lost.
    pub fn outage(self) -> Option<Outage> {
        match self {
            Self::Nothing => None,
            Self::Connection(outage) | Self::Attempt { outage, .. } => Some(outage),
        }
    }
}

/// What [`Lifecycle::wait_to_reconnect`] decided.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Retry {
    /// The next attempt is due in `ms` milliseconds.
    In(u32),
    /// The attempts are used up (`reconnect_failed`).
    GaveUp,
    /// The socket is no longer idle (the page connected it meanwhile).
    Superseded,
}

/// The outcome of an attempt that connected.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reconnected {
    /// The number of the attempt that succeeded.
    pub attempts: u32,
    /// How long the socket was offline, in seconds.
    pub offline_seconds: f64,
}

/// One socket's lifecycle state machine.
#[derive(Debug, Clone, PartialEq)]
pub struct Lifecycle {
    state: State,
}

impl Lifecycle {
    /// A socket that connects when asked (`io.sails.connect()` asks at once).
    pub fn idle() -> Self {
        Self { state: State::Idle }
    }

    /// A socket that the loader connects on its first tick (`io.socket`).
    pub fn about_to_auto_connect() -> Self {
        Self {
            state: State::AboutToAutoConnect,
        }
    }

    /// Where the socket stands.
    pub fn state(&self) -> State {
        self.state
    }

    /// `isConnected()`.
    pub fn is_connected(&self) -> bool {
        matches!(self.state, State::Connected)
    }

    /// `isConnecting()`.
    pub fn is_connecting(&self) -> bool {
        matches!(self.state, State::Connecting { .. })
    }

    /// `mightBeAboutToAutoConnect()`.
    pub fn might_be_about_to_auto_connect(&self) -> bool {
        matches!(self.state, State::AboutToAutoConnect)
    }

    /// Whether an automatic reconnection attempt is scheduled.
    pub fn is_waiting_to_reconnect(&self) -> bool {
        matches!(self.state, State::Reconnecting(_))
    }

    fn refuse_if_busy(&self) -> Result<(), ClientError> {
        match self.state {
            State::Connecting { .. } => Err(ClientError::AlreadyConnecting),
            State::Connected => Err(ClientError::AlreadyConnected),
            _ => Ok(()),
        }
    }

    /// `_connect()`: starts an attempt. A scheduled reconnection attempt
    /// starts now, in its outage.
    pub fn connect(&mut self) -> Result<(), ClientError> {
        self.refuse_if_busy()?;
        let outage = match self.state {
            State::Reconnecting(outage) => Some(outage),
            _ => None,
        };
        self.state = State::Connecting { outage };
        Ok(())
    }

    /// `reconnect()`: starts an attempt afresh, forgetting any outage.
    pub fn reconnect(&mut self) -> Result<(), ClientError> {
        self.refuse_if_busy()?;
        self.state = State::Connecting { outage: None };
        Ok(())
    }

    /// `disconnect()`: ends what is connected, connecting or waiting to
    /// reconnect; refused when there is nothing of the kind.
    pub fn disconnect(&mut self, now: f64) -> Result<Ended, ClientError> {
        match self.state {
            State::Idle | State::AboutToAutoConnect => Err(ClientError::AlreadyDisconnected),
            _ => Ok(self.end(now)),
        }
    }

    /// The connection ended, or the attempt failed (or was given up): the
    /// socket is idle. Says what ended.
    pub fn end(&mut self, now: f64) -> Ended {
        let fresh = Outage {
            since: now,
            attempts: 0,
        };
        let ended = match self.state {
            State::Connected => Ended::Connection(fresh),
            State::Connecting { outage } => Ended::Attempt {
                outage: outage.unwrap_or(fresh),
                reconnecting: outage.is_some(),
            },
            State::AboutToAutoConnect | State::Idle | State::Reconnecting(_) => Ended::Nothing,
        };
        self.state = State::Idle;
        ended
    }

    /// After [`Lifecycle::end`]: schedules the next attempt of `outage`
    /// with `backoff` (`random` in `[0, 1)` for its jitter), unless the
    /// attempts are used up or the socket is no longer idle.
    pub fn wait_to_reconnect(&mut self, outage: Outage, backoff: &Backoff, random: f64) -> Retry {
        if !matches!(self.state, State::Idle) {
            return Retry::Superseded;
        }
        let Some(ms) = backoff.delay(outage.attempts, random) else {
            return Retry::GaveUp;
        };
        self.state = State::Reconnecting(Outage {
            attempts: outage.attempts + 1,
            ..outage
        });
        Retry::In(ms)
    }

    /// The number of the reconnection attempt now due, if one is.
    pub fn attempt_due(&self) -> Option<u32> {
        match self.state {
            State::Reconnecting(outage) => Some(outage.attempts),
            _ => None,
        }
    }

    /// Starts the reconnection attempt that is due; `false` when none is
    /// (the page disconnected or changed an option meanwhile).
    pub fn start_reconnect_attempt(&mut self) -> bool {
        let State::Reconnecting(outage) = self.state else {
            return false;
        };
        self.state = State::Connecting {
            outage: Some(outage),
        };
        true
    }

    /// Stops a scheduled reconnection (an option changed): `true` if one was.
    pub fn stop_reconnecting(&mut self) -> bool {
        let waiting = self.is_waiting_to_reconnect();
        if waiting {
            self.state = State::Idle;
        }
        waiting
    }

    /// The server accepted the connection. Says how the outage ended when
    /// it was an automatic reconnection.
    pub fn connected(&mut self, now: f64) -> Option<Reconnected> {
        let outage = match self.state {
            State::Connecting { outage } => outage,
            _ => None,
        };
        self.state = State::Connected;
        outage.map(|outage| Reconnected {
            attempts: outage.attempts,
            offline_seconds: (now - outage.since) / 1000.0,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Two attempts at most, 1 s then 2 s apart.
    const BACKOFF: Backoff = Backoff {
        delay: 1000.0,
        delay_max: 5000.0,
        randomization: 0.0,
        max_attempts: 2.0,
    };

    fn connected() -> Lifecycle {
        let mut lifecycle = Lifecycle::idle();
        lifecycle.connect().expect("idle sockets connect");
        assert!(lifecycle.is_connecting());
        assert_eq!(lifecycle.connected(0.0), None);
        assert!(lifecycle.is_connected());
        lifecycle
    }

    #[test]
    fn io_socket_waits_for_its_first_connect() {
        let mut lifecycle = Lifecycle::about_to_auto_connect();
        assert!(lifecycle.might_be_about_to_auto_connect());
        assert!(!lifecycle.is_connected() && !lifecycle.is_connecting());
        assert_eq!(
            lifecycle.disconnect(0.0),
            Err(ClientError::AlreadyDisconnected)
        );
        lifecycle.connect().expect("connects");
        assert!(!lifecycle.might_be_about_to_auto_connect());
        assert_eq!(lifecycle.state(), State::Connecting { outage: None });
    }

    #[test]
    fn connecting_twice_is_refused() {
        let mut lifecycle = Lifecycle::idle();
        lifecycle.connect().expect("connects");
        assert_eq!(lifecycle.connect(), Err(ClientError::AlreadyConnecting));
        assert_eq!(lifecycle.reconnect(), Err(ClientError::AlreadyConnecting));
        let mut lifecycle = connected();
        assert_eq!(lifecycle.connect(), Err(ClientError::AlreadyConnected));
        assert_eq!(lifecycle.reconnect(), Err(ClientError::AlreadyConnected));
        assert!(lifecycle.is_connected());
    }

    #[test]
    fn a_lost_connection_reconnects_with_backoff_then_gives_up() {
        let mut lifecycle = connected();
        let ended = lifecycle.end(10_000.0);
        let outage = Outage {
            since: 10_000.0,
            attempts: 0,
        };
        assert_eq!(ended, Ended::Connection(outage));
        assert_eq!(
            lifecycle.wait_to_reconnect(outage, &BACKOFF, 0.0),
            Retry::In(1000)
        );
        assert_eq!(lifecycle.attempt_due(), Some(1));
        assert!(!lifecycle.is_connecting());
        assert!(lifecycle.start_reconnect_attempt());
        assert!(lifecycle.is_connecting());
        // The first attempt fails: a reconnection attempt, in the same outage.
        let ended = lifecycle.end(11_000.0);
        let outage = Outage {
            since: 10_000.0,
            attempts: 1,
        };
        assert_eq!(
            ended,
            Ended::Attempt {
                outage,
                reconnecting: true
            }
        );
        assert_eq!(
            lifecycle.wait_to_reconnect(outage, &BACKOFF, 0.0),
            Retry::In(2000)
        );
        assert!(lifecycle.start_reconnect_attempt());
        let outage = lifecycle.end(13_000.0).outage().expect("an outage");
        assert_eq!(
            lifecycle.wait_to_reconnect(outage, &BACKOFF, 0.0),
            Retry::GaveUp
        );
        assert_eq!(lifecycle.state(), State::Idle);
        assert_eq!(lifecycle.attempt_due(), None);
    }

    #[test]
    fn a_reconnection_reports_its_attempts_and_time_offline() {
        let mut lifecycle = connected();
        let outage = lifecycle.end(1_000.0).outage().expect("an outage");
        lifecycle.wait_to_reconnect(outage, &BACKOFF, 0.0);
        assert!(lifecycle.start_reconnect_attempt());
        assert_eq!(
            lifecycle.connected(3_500.0),
            Some(Reconnected {
                attempts: 1,
                offline_seconds: 2.5
            })
        );
        // The next outage counts from zero.
        let outage = lifecycle.end(5_000.0).outage().expect("an outage");
        assert_eq!(outage.attempts, 0);
    }

    #[test]
    fn a_first_attempt_that_fails_starts_an_outage() {
        let mut lifecycle = Lifecycle::idle();
        lifecycle.connect().expect("connects");
        assert_eq!(
            lifecycle.end(7.0),
            Ended::Attempt {
                outage: Outage {
                    since: 7.0,
                    attempts: 0
                },
                reconnecting: false
            }
        );
    }

    #[test]
    fn disconnect_ends_a_connection_an_attempt_or_a_wait() {
        let mut lifecycle = connected();
        assert!(matches!(
            lifecycle.disconnect(1.0),
            Ok(Ended::Connection(_))
        ));
        assert_eq!(
            lifecycle.disconnect(2.0),
            Err(ClientError::AlreadyDisconnected)
        );
        let outage = Outage {
            since: 1.0,
            attempts: 0,
        };
        lifecycle.wait_to_reconnect(outage, &BACKOFF, 0.0);
        assert_eq!(lifecycle.disconnect(3.0), Ok(Ended::Nothing));
        assert_eq!(lifecycle.state(), State::Idle);
        assert!(!lifecycle.start_reconnect_attempt(), "the wait is over");
    }

    #[test]
    fn a_page_that_connects_meanwhile_supersedes_the_reconnection() {
        let mut lifecycle = connected();
        let outage = lifecycle.end(0.0).outage().expect("an outage");
        // A `disconnect` listener called `reconnect()`.
        lifecycle.reconnect().expect("idle sockets reconnect");
        assert_eq!(
            lifecycle.wait_to_reconnect(outage, &BACKOFF, 0.0),
            Retry::Superseded
        );
        assert_eq!(lifecycle.state(), State::Connecting { outage: None });
    }

    #[test]
    fn connect_while_waiting_keeps_the_outage_and_reconnect_forgets_it() {
        let waiting = || {
            let mut lifecycle = connected();
            let outage = lifecycle.end(0.0).outage().expect("an outage");
            lifecycle.wait_to_reconnect(outage, &BACKOFF, 0.0);
            lifecycle
        };
        let mut lifecycle = waiting();
        lifecycle.connect().expect("connects");
        assert!(lifecycle.connected(1000.0).is_some());
        let mut lifecycle = waiting();
        lifecycle.reconnect().expect("reconnects");
        assert_eq!(lifecycle.connected(1000.0), None);
    }

    #[test]
    fn an_option_change_stops_only_a_scheduled_reconnection() {
        let mut lifecycle = connected();
        assert!(!lifecycle.stop_reconnecting());
        assert!(lifecycle.is_connected());
        let outage = lifecycle.end(0.0).outage().expect("an outage");
        lifecycle.wait_to_reconnect(outage, &BACKOFF, 0.0);
        assert!(lifecycle.stop_reconnecting());
        assert_eq!(lifecycle.state(), State::Idle);
        assert!(!lifecycle.start_reconnect_attempt());
    }
}
