//! Many servers as one: rooms, broadcasts, socket lookups and sessions
//! shared over one Redis.
//!
//! The engine is socketioxide-redis (its fred driver, which reconnects and
//! subscribes again by itself after Redis comes back). Every server started
//! with the same Redis URL and key prefix sees the sockets of all the others:
//! `sockets.to(room).emit(...)` reaches members wherever they are connected,
//! `sockets.socket(id).join(room)` works for a socket held by another server,
//! and membership changes return once every server has applied them (see
//! [`Sockets`](crate::Sockets)). Sessions go to the same Redis through
//! [`RedisSessionStore`].

mod adapter;
mod session_store;

use std::borrow::Cow;
use std::time::Duration;

use fred::clients::SubscriberClient;
use fred::interfaces::{EventInterface, PubsubInterface};
use fred::prelude::{ClientLike, Config, ReconnectPolicy};
use fred::types::RespVersion;
use socketioxide_redis::drivers::fred::FredDriver;
use socketioxide_redis::{RedisAdapterConfig, RedisAdapterCtr};
use tokio::sync::broadcast::error::RecvError;

pub use adapter::AdapterState;
pub(crate) use adapter::{AdapterHandle, Joined, StateKind};
pub use adapter::{ClusterAdapter, ClusterInit};

/// The socketioxide server of the layer.
pub type Io = socketioxide::SocketIo<ClusterAdapter>;

/// A socket of the layer, as socketioxide holds it.
pub(crate) type Socket = socketioxide::socket::Socket<ClusterAdapter>;
pub use session_store::RedisSessionStore;

/// How long a Redis command or an answer from the other servers may take
/// before the call that waits for it fails.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_secs(2);

/// The prefix of every Redis channel and key the layer uses.
pub const DEFAULT_PREFIX: &str = "sails";

/// Why a server could not join its cluster.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ClusterError {
    /// The Redis URL could not be read.
    #[error("not a Redis URL ({0}): {1}")]
    Url(String, String),
    /// Redis could not be reached or refused the connection.
    #[error("could not connect to Redis at {0}: {1}")]
    Connect(String, String),
    /// The server could not subscribe to the cluster's channels.
    #[error("could not subscribe to the cluster's Redis channels: {0}")]
    Subscribe(String),
}

/// How a server shares its sockets with others: [`Cluster::alone`] (the
/// default) or [`Cluster::redis`].
pub struct Cluster {
    pub(crate) state: AdapterState,
    pub(crate) timeout: Duration,
    sessions: Option<RedisSessionStore>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let kind = match self.state.0 {
            StateKind::Alone => "alone",
            StateKind::Redis(_) => "redis",
        };
        f.debug_struct("Cluster")
            .field("kind", &kind)
            .field("timeout", &self.timeout)
            .finish_non_exhaustive()
    }
}

impl Default for Cluster {
    fn default() -> Self {
        Self::alone()
    }
}

/// Options of [`Cluster::redis_with`].
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct RedisOptions {
    /// How long a Redis command, or the answers of the other servers to a
    /// cluster-wide call, may take before the call fails.
    pub timeout: Duration,
    /// The prefix of the channels and keys: servers share rooms only with
    /// servers using the same prefix.
    pub prefix: Cow<'static, str>,
}

impl Default for RedisOptions {
    fn default() -> Self {
        Self {
            timeout: DEFAULT_TIMEOUT,
            prefix: Cow::Borrowed(DEFAULT_PREFIX),
        }
    }
}

impl RedisOptions {
    /// Sets [`timeout`](Self::timeout).
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout;
        self
    }

    /// Sets [`prefix`](Self::prefix).
    pub fn prefix(mut self, prefix: impl Into<Cow<'static, str>>) -> Self {
        self.prefix = prefix.into();
        self
    }
}

impl Cluster {
    /// One server, holding every socket itself.
    pub fn alone() -> Self {
        Self {
            state: AdapterState(StateKind::Alone, AdapterHandle::default()),
            timeout: DEFAULT_TIMEOUT,
            sessions: None,
        }
    }

    /// One of the servers sharing the Redis at `url` (`redis://host:port`,
    /// `rediss://…`, or `redis+unix:///path/to/redis.sock`), with the
    /// default options. Needs Redis 7 or later.
    pub async fn redis(url: &str) -> Result<Self, ClusterError> {
        Self::redis_with(url, RedisOptions::default()).await
    }

    /// [`redis`](Self::redis) with options.
    pub async fn redis_with(url: &str, options: RedisOptions) -> Result<Self, ClusterError> {
        let config = redis_config(url)?;
        let connect_error =
            |error: fred::error::Error| ClusterError::Connect(redact(url), error.to_string());
        let builder = redis_builder(config, options.timeout);
        let subscriber = builder.build_subscriber_client().map_err(connect_error)?;
        resubscribe_on_reconnect(subscriber.clone());
        let driver = FredDriver::new(subscriber).await.map_err(connect_error)?;
        let adapter_config = RedisAdapterConfig::new()
            .with_request_timeout(options.timeout)
            .with_prefix(options.prefix.clone())
            .with_stream_buffer(STREAM_BUFFER);
        let sessions = builder.build().map_err(connect_error)?;
        sessions.init().await.map_err(connect_error)?;
        Ok(Self {
            state: AdapterState(
                StateKind::Redis(RedisAdapterCtr::new_with_driver(driver, adapter_config)),
                AdapterHandle::default(),
            ),
            timeout: options.timeout,
            sessions: Some(RedisSessionStore::new(sessions, &options.prefix)),
        })
    }

    /// Whether other servers may hold sockets too.
    pub fn is_redis(&self) -> bool {
        matches!(self.state.0, StateKind::Redis(_))
    }

    /// A session store on this cluster's Redis, for
    /// [`SailsBuilder::sessions`](crate::SailsBuilder::sessions), so that
    /// every server knows every session; `None` for a server alone.
    pub fn session_store(&self) -> Option<RedisSessionStore> {
        self.sessions.clone()
    }
}

/// Requests from other servers that may wait for this one's adapter to read
/// them, before the Redis driver drops the next ones.
const STREAM_BUFFER: usize = 64 * 1024;

/// Messages the Redis client may hold for the adapter's reader at once.
const PUSH_BUFFER: usize = 64 * 1024;

/// Subscribes `client` again to its channels each time it reconnects (a
/// restarted Redis knows no subscriptions). fred's own task for this stops
/// at the plain channels it re-subscribes first, which the adapter has none of.
fn resubscribe_on_reconnect(client: SubscriberClient) {
    let mut reconnections = client.reconnect_rx();
    tokio::spawn(async move {
        loop {
            match reconnections.recv().await {
                Ok(_) | Err(RecvError::Lagged(_)) => {}
                Err(RecvError::Closed) => return,
            }
            for channel in client.tracked_shard_channels() {
                if let Err(error) = client.ssubscribe(channel.to_string()).await {
                    tracing::warn!("could not subscribe again to {channel}: {error}");
                }
            }
            tracing::info!("reconnected to Redis");
        }
    });
}

fn redis_config(url: &str) -> Result<Config, ClusterError> {
    let mut config =
        Config::from_url(url).map_err(|error| ClusterError::Url(redact(url), error.to_string()))?;
    // socketioxide-redis's drivers speak RESP3, which the URL cannot say to fred.
    config.version = RespVersion::RESP3;
    Ok(config)
}

fn redis_builder(config: Config, timeout: Duration) -> fred::types::Builder {
    let mut builder = fred::types::Builder::from_config(config);
    builder
        // Reconnect forever, every 100 ms to 2 s, while commands fail fast.
        .set_policy(ReconnectPolicy::new_exponential(0, 100, 2_000, 2))
        .with_connection_config(|connection| {
            connection.connection_timeout = timeout;
            connection.internal_command_timeout = timeout;
            connection.max_command_attempts = 1;
        })
        .with_performance_config(|performance| {
            performance.default_command_timeout = timeout;
            performance.broadcast_channel_capacity = PUSH_BUFFER;
        });
    builder
}

/// `url` without its password, for messages.
fn redact(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_lose_their_password_in_messages() {
        assert_eq!(
            redact("redis://user:secret@host:6379/0"),
            "redis://user:***@host:6379/0"
        );
        assert_eq!(redact("redis://host:6379"), "redis://host:6379");
        assert_eq!(redact("not a url"), "not a url");
    }

    #[test]
    fn a_bad_url_is_a_clear_error() {
        let error = redis_config("http://[::1").expect_err("refused");
        assert!(matches!(error, ClusterError::Url(..)), "{error}");
    }
}
