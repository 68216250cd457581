#![doc = include_str!("../README.md")]

pub mod cluster;
pub mod config;
pub mod csrf;
pub mod extract;
pub mod fuzzing;
mod history;
pub mod jwr;
pub mod listener;
pub mod origin;
mod outbox;
pub mod params;
pub mod pubsub;
mod recovery;
mod request_queue;
mod sails;
pub mod session;
pub mod sockets;
pub mod virtual_request;

pub use cluster::{Cluster, ClusterError, RedisOptions, RedisSessionStore};
pub use config::{MissingOrigin, RecoveryConfig, RequestLimits, SocketsConfig, Transport};
pub use csrf::Csrf;
pub use extract::{Handshake, HandshakeRejection, IsSocket, SocketRequest};
pub use jwr::{Jwr, JwrBody, JwrHeaders};
pub use origin::{InvalidOrigin, Origin, OriginPolicy};
pub use outbox::CloseReason;
pub use params::{Params, ParamsRejection};
pub use pubsub::{ChangePublication, Envelope, PubSub, Publication, RecordId};
pub use sails::{Disconnected, Sails, SailsBuilder, SailsMissing, Stats};
pub use session::SessionCookie;
pub use sockets::{
    DEFAULT_EVENT, IntoRooms, InvalidSocketId, LeaveAllOptions, Selection, SocketId, Sockets,
    SocketsError,
};
pub use virtual_request::Refusal;
