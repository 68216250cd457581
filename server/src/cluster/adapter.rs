//! The socketioxide adapter of every [`Sails`](crate::Sails) server: the
//! in-memory one, or socketioxide-redis when the server is one of many. The
//! choice is made at start-up, so one concrete type serves both and the rest
//! of the layer is written once.

use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, OnceLock, Weak};
use std::task::{Context, Poll};
use std::time::Duration;

use futures_util::FutureExt;
use futures_util::future::{Either, Shared};
use socketioxide::adapter::{Emitter, LocalAdapter};
use socketioxide_core::adapter::errors::{AdapterError, BroadcastError};
use socketioxide_core::adapter::{
    BroadcastOptions, CoreAdapter, CoreLocalAdapter, DefinedAdapter, RemoteSocketData, Room,
    RoomParam, Spawnable,
};
use socketioxide_core::packet::Packet;
use socketioxide_redis::drivers::fred::FredDriver;
use socketioxide_redis::{FredAdapter, RedisAdapterCtr};

/// What [`ClusterAdapter`] is built from (made by [`Cluster`](crate::Cluster)):
/// nothing for one server alone, the Redis connection for one of many.
pub struct AdapterState(pub(crate) StateKind, pub(crate) AdapterHandle);

/// The layer's way to the adapter socketioxide built for its namespace,
/// once socketioxide has started it: for room changes of ids that are not
/// connected sockets (see `recovery`).
#[derive(Clone, Default)]
pub(crate) struct AdapterHandle(Arc<OnceLock<Weak<ClusterAdapter>>>);

impl AdapterHandle {
    /// This server's own rooms, if the adapter runs.
    pub(crate) fn local(&self) -> Option<Arc<ClusterAdapter>> {
        self.0.get().and_then(Weak::upgrade)
    }
}

pub(crate) enum StateKind {
    Alone,
    Redis(RedisAdapterCtr<FredDriver>),
}

/// socketioxide's adapter for the realtime layer's namespace: rooms and
/// broadcasts on this server alone, or shared with every server on one Redis.
pub struct ClusterAdapter(Kind, AdapterHandle);

enum Kind {
    Alone(LocalAdapter),
    Redis(Arc<FredAdapter<Emitter>>),
}

impl DefinedAdapter for ClusterAdapter {}

fn adapter_error(error: impl Into<AdapterError>) -> AdapterError {
    error.into()
}

impl CoreAdapter<Emitter> for ClusterAdapter {
    type Error = AdapterError;
    type State = AdapterState;
    type AckStream = Either<
        <LocalAdapter as CoreAdapter<Emitter>>::AckStream,
        <FredAdapter<Emitter> as CoreAdapter<Emitter>>::AckStream,
    >;
    type InitRes = ClusterInit;

    fn new(state: &Self::State, local: CoreLocalAdapter<Emitter>) -> Self {
        let kind = match &state.0 {
            StateKind::Alone => Kind::Alone(LocalAdapter::new(&(), local)),
            StateKind::Redis(redis) => Kind::Redis(Arc::new(FredAdapter::new(redis, local))),
        };
        Self(kind, state.1.clone())
    }

    fn init(self: Arc<Self>, on_success: impl FnOnce() + Send + 'static) -> Self::InitRes {
        let _ = self.1.0.set(Arc::downgrade(&self));
        match &self.0 {
            Kind::Alone(_) => {
                on_success();
                ClusterInit(None)
            }
            Kind::Redis(redis) => {
                let subscribed = Arc::clone(redis).init(on_success);
                ClusterInit(Some(Box::pin(async move {
                    subscribed.await.map_err(|error| error.to_string())
                })))
            }
        }
    }

    async fn close(&self) -> Result<(), Self::Error> {
        match &self.0 {
            Kind::Alone(_) => Ok(()),
            Kind::Redis(redis) => redis.close().await.map_err(adapter_error),
        }
    }

    async fn server_count(&self) -> Result<u16, Self::Error> {
        match &self.0 {
            Kind::Alone(_) => Ok(1),
            Kind::Redis(redis) => redis.server_count().await.map_err(adapter_error),
        }
    }

    async fn broadcast(
        &self,
        packet: Packet,
        opts: BroadcastOptions,
    ) -> Result<(), BroadcastError> {
        match &self.0 {
            Kind::Alone(local) => local.broadcast(packet, opts).await,
            Kind::Redis(redis) => redis.broadcast(packet, opts).await,
        }
    }

    async fn broadcast_with_ack(
        &self,
        packet: Packet,
        opts: BroadcastOptions,
        timeout: Option<Duration>,
    ) -> Result<Self::AckStream, Self::Error> {
        match &self.0 {
            Kind::Alone(local) => local
                .broadcast_with_ack(packet, opts, timeout)
                .await
                .map(Either::Left)
                .map_err(adapter_error),
            Kind::Redis(redis) => redis
                .broadcast_with_ack(packet, opts, timeout)
                .await
                .map(Either::Right)
                .map_err(adapter_error),
        }
    }

    async fn add_sockets(
        &self,
        opts: BroadcastOptions,
        rooms: impl RoomParam,
    ) -> Result<(), Self::Error> {
        match &self.0 {
            Kind::Alone(local) => local.add_sockets(opts, rooms).await.map_err(adapter_error),
            Kind::Redis(redis) => redis.add_sockets(opts, rooms).await.map_err(adapter_error),
        }
    }

    async fn del_sockets(
        &self,
        opts: BroadcastOptions,
        rooms: impl RoomParam,
    ) -> Result<(), Self::Error> {
        match &self.0 {
            Kind::Alone(local) => local.del_sockets(opts, rooms).await.map_err(adapter_error),
            Kind::Redis(redis) => redis.del_sockets(opts, rooms).await.map_err(adapter_error),
        }
    }

    async fn disconnect_socket(&self, opts: BroadcastOptions) -> Result<(), BroadcastError> {
        match &self.0 {
            Kind::Alone(local) => local.disconnect_socket(opts).await,
            Kind::Redis(redis) => redis.disconnect_socket(opts).await,
        }
    }

    async fn rooms(&self, opts: BroadcastOptions) -> Result<Vec<Room>, Self::Error> {
        match &self.0 {
            Kind::Alone(local) => local.rooms(opts).await.map_err(adapter_error),
            Kind::Redis(redis) => redis.rooms(opts).await.map_err(adapter_error),
        }
    }

    async fn fetch_sockets(
        &self,
        opts: BroadcastOptions,
    ) -> Result<Vec<RemoteSocketData>, Self::Error> {
        match &self.0 {
            Kind::Alone(local) => local.fetch_sockets(opts).await.map_err(adapter_error),
            Kind::Redis(redis) => redis.fetch_sockets(opts).await.map_err(adapter_error),
        }
    }

    fn get_local(&self) -> &CoreLocalAdapter<Emitter> {
        match &self.0 {
            Kind::Alone(local) => local.get_local(),
            Kind::Redis(redis) => redis.get_local(),
        }
    }
}

/// The adapter's start: nothing alone, the subscription to the cluster's
/// Redis channels otherwise. Await it to know the server hears the others.
#[must_use = "a server that has not subscribed hears no other server"]
pub struct ClusterInit(Option<Subscribing>);

/// The subscription under way; its error as text.
type Subscribing = Pin<Box<dyn Future<Output = Result<(), String>> + Send>>;

impl Future for ClusterInit {
    type Output = Result<(), String>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        match &mut self.0 {
            None => Poll::Ready(Ok(())),
            Some(subscribing) => subscribing.as_mut().poll(cx),
        }
    }
}

/// The outcome of a [`ClusterInit`] started on a task of its own, for any
/// number of waiters.
pub(crate) type Joined = Shared<Subscribing>;

impl ClusterInit {
    /// Runs the subscription on a task of its own (none is needed alone)
    /// and returns its outcome for whoever waits for it.
    pub(crate) fn start(self) -> Joined {
        let outcome: Subscribing = match self.0 {
            None => Box::pin(std::future::ready(Ok(()))),
            Some(subscribing) => {
                let task = tokio::spawn(subscribing);
                Box::pin(async move {
                    task.await.unwrap_or_else(|error| {
                        Err(format!("the subscription task failed: {error}"))
                    })
                })
            }
        };
        outcome.shared()
    }
}

impl Spawnable for ClusterInit {
    fn spawn(self) {
        if self.0.is_some() {
            tokio::spawn(async move {
                if let Err(error) = self.await {
                    tracing::error!("could not subscribe to the cluster's channels: {error}");
                }
            });
        }
    }
}
