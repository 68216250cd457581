#![doc = include_str!("../README.md")]

pub mod cli;
pub mod config;
pub mod demo;
pub mod extract;
pub mod fuzzing;
pub mod jwr;
pub mod origin;
mod outbox;
pub mod params;
pub mod pubsub;
mod request_queue;
mod sails;
pub mod session;
pub mod sockets;
pub mod virtual_request;

use std::net::SocketAddr;
use std::path::PathBuf;

pub use config::{MissingOrigin, RequestLimits, SocketsConfig, Transport};
pub use extract::{IsSocket, SocketRequest};
pub use jwr::{Jwr, JwrBody, JwrHeaders};
pub use origin::{InvalidOrigin, Origin, OriginPolicy};
pub use outbox::CloseReason;
pub use params::{Params, ParamsRejection};
pub use pubsub::PubSub;
pub use sails::{Disconnected, Handshake, Sails, SailsBuilder, SailsMissing, Stats};
pub use session::SessionCookie;
pub use sockets::{LeaveAllOptions, Sockets, SocketsError};
pub use virtual_request::Refusal;

/// Where the server listens, what it serves, and to whom.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to bind; port 0 picks a free port.
    pub addr: SocketAddr,
    /// Directory served as static files (the demo pages and the client bundle).
    pub www: PathBuf,
    /// Which pages may open a socket.
    pub origins: OriginPolicy,
    /// The session cookie's `Secure` flag and the session lifetime.
    pub session: SessionCookie,
    /// Whether the server runs in production mode (it then needs an explicit origin policy).
    pub production: bool,
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
/// Refuses production mode without an explicit origin policy
/// ([`cli::check_production`]).
pub async fn run(config: ServerConfig) -> std::io::Result<()> {
    cli::check_production(&config)
        .map_err(|message| std::io::Error::new(std::io::ErrorKind::InvalidInput, message))?;
    if config.production {
        tracing::info!("production mode");
    }
    tracing::info!(
        "session cookie {}: Secure {}, {}",
        session::DEFAULT_COOKIE_NAME,
        if config.session.secure { "on" } else { "off" },
        match config.session.lifetime {
            Some(lifetime) => format!(
                "a session lasts {} s after its last change",
                lifetime.as_secs()
            ),
            None => "kept until the browser closes".to_owned(),
        }
    );
    let listener = listen(config.addr)?;
    let sockets = SocketsConfig {
        origins: config.origins,
        ..SocketsConfig::default()
    };
    let router = demo::app_with(config.www, sockets, config.session).0;
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
