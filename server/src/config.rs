//! `SocketsConfig`: the Rust form of `sails.config.sockets`.

use std::borrow::Cow;
use std::time::Duration;

use socketioxide::TransportType;

use crate::origin::OriginPolicy;

/// A transport a client may use to reach the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum Transport {
    /// A single WebSocket connection (Sails' default, and the only one sails.io.js uses by default).
    Websocket,
    /// HTTP long-polling.
    Polling,
}

/// What to do with a handshake that carries no `Origin` header, unless
/// [`SocketsConfig::origins`] is [`OriginPolicy::AnyOrigin`].
///
/// Browsers always send `Origin` on a WebSocket handshake, so a missing header
/// means a non-browser client (a native app, a Node script, a test), which
/// could send any `Origin` it likes anyway: the origin check protects browsers
/// from cross-site WebSocket hijacking, not the server from other programs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum MissingOrigin {
    /// Accept the handshake (the default).
    #[default]
    Allow,
    /// Refuse it with 403, as Sails 1.x does.
    Refuse,
}

/// How the realtime layer behaves; every field has Sails' default.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct SocketsConfig {
    /// The Socket.IO endpoint (`/socket.io`).
    pub path: String,
    /// More paths the same endpoint answers at (none): a client that
    /// connects at one of them joins the same server as at [`path`](Self::path),
    /// with the same routes, sessions and rooms.
    pub extra_paths: Vec<String>,
    /// Accepted transports (`[Websocket]`).
    pub transports: Vec<Transport>,
    /// How often the server expects a heartbeat (25 s).
    pub ping_interval: Duration,
    /// How long a missing heartbeat is tolerated (60 s).
    pub ping_timeout: Duration,
    /// The largest message a client may send, in bytes (`maxHttpBufferSize`, 10^8).
    /// A larger message closes that client's connection (with code 1009 when
    /// served through [`listener::guarded`](crate::listener::guarded)).
    pub max_payload: u64,
    /// Which pages may open a socket (Sails' `onlyAllowOrigins`): the
    /// server's own origin only, by default; a handshake from another gets 403.
    pub origins: OriginPolicy,
    /// What [`origins`](Self::origins) does when there is no `Origin` header.
    pub missing_origin: MissingOrigin,
    /// The largest response body a virtual request may return, in bytes (16 MiB).
    pub max_response_body: usize,
    /// How many of one socket's virtual requests run at once (64); the
    /// others wait their turn in the socket's queue.
    pub max_requests_in_flight: usize,
    /// How many bytes of one socket's requests may wait for their turn
    /// (16 MiB, counted as the frames' length plus 256 bytes each). A socket
    /// that sends faster than its requests are answered, past this bound, is
    /// disconnected with the reason "too many queued requests".
    pub max_queued_request_bytes: usize,
    /// How many packets may wait to be written to one socket (256). Past
    /// that, what the server sends to the socket (answers, broadcasts) waits
    /// in the socket's own backlog, in order, and whoever sends more to it
    /// waits for room: nothing is dropped.
    pub send_buffer: usize,
    /// How long a socket's backlog may go without any of it being written
    /// (30 s) before the socket is disconnected as a slow consumer.
    pub slow_consumer_timeout: Duration,
    /// How many packets one socket's backlog may hold (4,096) before the
    /// socket is disconnected as a slow consumer. A sender on this server
    /// waits once the backlog is longer than [`send_buffer`](Self::send_buffer);
    /// broadcasts from the other servers of a cluster cannot wait, and are
    /// kept up to this bound.
    pub max_backlog: usize,
    /// Limits on a virtual request's headers and URL, answered with 431 or 414.
    pub request_limits: RequestLimits,
    /// How many bytes a WebSocket connection reads at a time (1 KiB). Every
    /// connection holds a buffer this large; longer messages take several
    /// reads, so a server that mostly receives large messages may raise it.
    pub read_buffer: usize,
    /// How long a disconnected socket's rooms and missed broadcasts are kept
    /// for a client that reconnects, and how many (2 minutes, 1,000
    /// broadcasts, 1 MiB per socket). Only clients that ask for it take part.
    pub recovery: RecoveryConfig,
}

impl Default for SocketsConfig {
    fn default() -> Self {
        Self {
            path: "/socket.io".into(),
            extra_paths: Vec::new(),
            transports: vec![Transport::Websocket],
            ping_interval: Duration::from_millis(25_000),
            ping_timeout: Duration::from_millis(60_000),
            max_payload: 100_000_000,
            origins: OriginPolicy::SameOrigin,
            missing_origin: MissingOrigin::Allow,
            max_response_body: 16 * 1024 * 1024,
            max_requests_in_flight: 64,
            max_queued_request_bytes: 16 * 1024 * 1024,
            send_buffer: 256,
            slow_consumer_timeout: Duration::from_secs(30),
            max_backlog: 4096,
            request_limits: RequestLimits::default(),
            read_buffer: 1024,
            recovery: RecoveryConfig::default(),
        }
    }
}

/// Limits on one virtual request, checked before it reaches the router.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RequestLimits {
    /// Headers the request object may carry (100); more: 431.
    pub max_headers: usize,
    /// Bytes of header names and values together (16 KiB, Node's default); more: 431.
    pub max_header_bytes: usize,
    /// Bytes of the URL (8 KiB); longer: 414.
    pub max_url_bytes: usize,
}

impl Default for RequestLimits {
    fn default() -> Self {
        Self {
            max_headers: 100,
            max_header_bytes: 16 * 1024,
            max_url_bytes: 8 * 1024,
        }
    }
}

impl SocketsConfig {
    /// Whether a handshake with this `Origin` header (if any), sent to this
    /// `Host`, may connect.
    pub fn origin_allowed(&self, origin: Option<&str>, host: Option<&str>) -> bool {
        match origin {
            Some(origin) => self.origins.allows(origin, host),
            None => {
                self.origins == OriginPolicy::AnyOrigin
                    || self.missing_origin == MissingOrigin::Allow
            }
        }
    }

    /// Where a request to `path` goes: `None` outside the endpoint, else its
    /// path at [`path`](Self::path), the one the endpoint is served at
    /// (`path` itself unless it is under one of [`extra_paths`](Self::extra_paths)).
    pub(crate) fn endpoint_path<'a>(&self, path: &'a str) -> Option<Cow<'a, str>> {
        let rest_after = |endpoint: &str| {
            let rest = path.strip_prefix(endpoint.trim_end_matches('/'))?;
            (rest.is_empty() || rest.starts_with('/')).then_some(rest)
        };
        if rest_after(&self.path).is_some() {
            return Some(Cow::Borrowed(path));
        }
        let rest = self
            .extra_paths
            .iter()
            .find_map(|extra| rest_after(extra))?;
        Some(Cow::Owned(format!(
            "{}{rest}",
            self.path.trim_end_matches('/')
        )))
    }

    pub(crate) fn apply(
        &self,
        builder: socketioxide::SocketIoBuilder,
    ) -> socketioxide::SocketIoBuilder {
        let websocket = self.transports.contains(&Transport::Websocket);
        let polling = self.transports.contains(&Transport::Polling);
        let builder = match (websocket, polling) {
            (true, true) | (false, false) => {
                builder.transports([TransportType::Websocket, TransportType::Polling])
            }
            (true, false) => builder.transports([TransportType::Websocket]),
            (false, true) => builder.transports([TransportType::Polling]),
        };
        let max_message = usize::try_from(self.max_payload).unwrap_or(usize::MAX);
        builder
            .req_path(self.path.clone())
            .ping_interval(self.ping_interval)
            .ping_timeout(self.ping_timeout)
            .max_payload(self.max_payload)
            .ws_max_message_size(max_message)
            .ws_max_frame_size(max_message)
            .max_buffer_size(self.send_buffer.max(1))
            .ws_read_buffer_size(self.read_buffer.max(64))
    }
}

/// How long, and how much, the server keeps for clients that reconnect.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RecoveryConfig {
    /// How long a disconnected socket keeps its rooms and the broadcasts
    /// sent to them (2 minutes); zero turns recovery off.
    pub window: Duration,
    /// How many broadcasts one socket keeps a note of (1,000, 8 bytes each);
    /// a client that missed more is told `trimmed`.
    pub max_events: usize,
    /// How many bytes of broadcasts the server keeps for all its sockets
    /// together (64 MiB; each broadcast is kept once, however many sockets
    /// it was sent to); a client that missed one no longer kept is told
    /// `trimmed`.
    pub max_bytes: usize,
}

impl Default for RecoveryConfig {
    fn default() -> Self {
        Self {
            window: Duration::from_secs(120),
            max_events: 1000,
            max_bytes: 64 * 1024 * 1024,
        }
    }
}

impl RecoveryConfig {
    /// Whether recovery is on.
    pub fn enabled(&self) -> bool {
        !self.window.is_zero()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOST: Option<&str> = Some("api.example:8080");

    #[test]
    fn only_the_own_origin_passes_by_default() {
        let config = SocketsConfig::default();
        assert!(config.origin_allowed(Some("http://api.example:8080"), HOST));
        assert!(!config.origin_allowed(Some("http://evil.example"), HOST));
        assert!(config.origin_allowed(None, HOST));
    }

    #[test]
    fn listed_origins_pass_too() {
        let config = SocketsConfig {
            origins: OriginPolicy::only_allow_origins(["http://good.example:8080"]).unwrap(),
            ..SocketsConfig::default()
        };
        assert!(config.origin_allowed(Some("http://good.example:8080"), HOST));
        assert!(config.origin_allowed(Some("HTTP://GOOD.example:8080/"), HOST));
        assert!(config.origin_allowed(Some("http://api.example:8080"), HOST));
        assert!(!config.origin_allowed(Some("http://good.example"), HOST));
        assert!(config.origin_allowed(None, HOST));
        let strict = SocketsConfig {
            missing_origin: MissingOrigin::Refuse,
            ..config
        };
        assert!(!strict.origin_allowed(None, HOST));
    }

    #[test]
    fn the_endpoint_answers_at_every_path() {
        let config = SocketsConfig {
            extra_paths: vec!["/socketz/".into(), "/more".into()],
            ..SocketsConfig::default()
        };
        let at = |path| config.endpoint_path(path).map(Cow::into_owned);
        assert_eq!(at("/socket.io/"), Some("/socket.io/".into()));
        assert_eq!(at("/socket.io"), Some("/socket.io".into()));
        assert_eq!(at("/socketz/"), Some("/socket.io/".into()));
        assert_eq!(at("/more/x"), Some("/socket.io/x".into()));
        assert_eq!(at("/socket.iox/"), None);
        assert_eq!(at("/moreover"), None);
        assert_eq!(at("/hello"), None);
    }

    #[test]
    fn any_origin_lets_everything_in() {
        let config = SocketsConfig {
            origins: OriginPolicy::AnyOrigin,
            missing_origin: MissingOrigin::Refuse,
            ..SocketsConfig::default()
        };
        assert!(config.origin_allowed(Some("http://evil.example"), HOST));
        assert!(config.origin_allowed(None, None));
    }
}
