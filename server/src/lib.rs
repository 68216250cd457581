#![doc = include_str!("../README.md")]

pub mod cli;
pub mod config;
pub mod demo;
pub mod extract;
pub mod fuzzing;
pub mod jwr;
pub mod pubsub;
mod sails;
pub mod session;
pub mod sockets;
pub mod virtual_request;

use std::net::SocketAddr;
use std::path::PathBuf;

pub use config::{MissingOrigin, SocketsConfig, Transport};
pub use extract::{IsSocket, SocketRequest};
pub use jwr::{Jwr, JwrBody, JwrHeaders};
pub use pubsub::PubSub;
pub use sails::{Disconnected, Handshake, Sails, SailsBuilder, SailsMissing};
pub use sockets::{LeaveAllOptions, Sockets, SocketsError};

/// Where the server listens and what it serves.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to bind; port 0 picks a free port.
    pub addr: SocketAddr,
    /// Directory served as static files (the demo pages and the client bundle).
    pub www: PathBuf,
}

/// The demo application: the interop routes, realtime on, sessions in memory,
/// and the static pages.
pub fn app(www: impl Into<PathBuf>) -> axum::Router {
    demo::app(www.into()).0
}

/// How many connections may wait to be accepted. `TcpListener::bind` asks for
/// 128, which a burst of clients connecting at once overflows, and every
/// connection the kernel drops then waits a one-second SYN retransmit; the
/// kernel caps the value at `net.core.somaxconn`.
const LISTEN_BACKLOG: u32 = 4096;

/// Binds `addr` with [`LISTEN_BACKLOG`] (and `SO_REUSEADDR`, as `bind` does).
fn listen(addr: SocketAddr) -> std::io::Result<tokio::net::TcpListener> {
    let socket = match addr {
        SocketAddr::V4(_) => tokio::net::TcpSocket::new_v4()?,
        SocketAddr::V6(_) => tokio::net::TcpSocket::new_v6()?,
    };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(LISTEN_BACKLOG)
}

/// Binds the configured address, prints the ready line
/// `listening on http://<addr>` and serves the demo application until ctrl-c.
pub async fn run(config: ServerConfig) -> std::io::Result<()> {
    let listener = listen(config.addr)?;
    let router = app(config.www);
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}
