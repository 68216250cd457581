//! The ready server on the Sails realtime layer: the demo and interop routes
//! ([`demo`]), the command line and config file of the `sails-server` binary
//! and the `interop` example ([`cli`]), and [`run`], which serves them.
//!
//! The realtime layer itself is the `sails-server` library; this crate is one
//! application of it.
//!
//! # The `sails-server` binary
//!
//! `sails-server [--host H] [--port P] [--www DIR] [--config FILE]
//! [--allow-origin ORIGIN]... [--any-origin] [--cookie-secure true|false]
//! [--session-lifetime 30m|12h|7d] [--production]` serves the demo application
//! (see [`cli`] for the config file's keys; flags win over the file, a bad value
//! exits with code 2). Its logs go to stderr; stdout has only the ready line
//! `listening on http://<addr>`. In production mode (`--production`, or
//! `NODE_ENV` / `SAILS_ENV` = `production`) it refuses to start unless origins are
//! allowed (`--allow-origin`) or any origin is chosen (`--any-origin`), and the
//! session cookie is `Secure` unless `--cookie-secure false`. The project's
//! SECURITY.md sums up what the server defends against and its defaults.

pub mod cli;
pub mod demo;

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use sails_models::{Blueprints, Migrate, Store};
use sails_server::{Cluster, OriginPolicy, SessionCookie, SocketsConfig};

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
    /// Whether POST, PUT, PATCH and DELETE need a CSRF token (`GET /csrfToken`).
    pub csrf: bool,
    /// The models served with Sails' blueprint routes.
    pub models: sails_models::Models,
    /// Where their records are kept (`sqlite://FILE`, `sqlite::memory:`, `postgres://…`).
    pub database: String,
    /// The Redis shared with the other servers of a cluster, if any.
    pub redis: Option<String>,
    /// How long a disconnected socket's rooms and missed broadcasts wait
    /// for its client (zero: recovery off).
    pub recovery_window: Duration,
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
        sails_server::session::DEFAULT_COOKIE_NAME,
        if config.session.secure { "on" } else { "off" },
        match config.session.lifetime {
            Some(lifetime) => format!(
                "a session lasts {} s after its last change",
                lifetime.as_secs()
            ),
            None => "kept until the browser closes".to_owned(),
        }
    );
    let mut sockets = SocketsConfig::default();
    sockets.origins = config.origins;
    sockets.recovery.window = config.recovery_window;
    if config.recovery_window.is_zero() {
        tracing::info!("connection recovery off");
    } else {
        tracing::info!(
            "a client that reconnects within {} s gets its rooms and missed broadcasts back",
            config.recovery_window.as_secs_f64()
        );
    }
    if config.csrf {
        tracing::info!(
            "CSRF protection on: POST, PUT, PATCH and DELETE need a token from GET /csrfToken"
        );
    }
    let csrf = config.csrf.then(sails_server::Csrf::new);
    let identities: Vec<&str> = config.models.iter().map(|model| model.identity()).collect();
    tracing::info!("models {} in {}", identities.join(", "), config.database);
    let store = Store::connect(&config.database, config.models.clone(), Migrate::Alter)
        .await
        .map_err(|err| {
            std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                format!("the store at {}: {err}", config.database),
            )
        })?;
    let blueprints = Blueprints::new(store).production(config.production);
    let cluster = match &config.redis {
        Some(url) => {
            let cluster = Cluster::redis(url).await.map_err(|err| {
                std::io::Error::new(std::io::ErrorKind::ConnectionRefused, err.to_string())
            })?;
            tracing::info!("one of the servers sharing the Redis at {url}");
            cluster
        }
        None => Cluster::alone(),
    };
    let demo = demo::Demo {
        www: config.www,
        sockets: sockets.clone(),
        cookie: config.session,
        csrf,
        blueprints: Some(blueprints),
        cluster,
    };
    let (router, sails) = demo.build();
    sails.joined_cluster().await.map_err(|err| {
        std::io::Error::new(std::io::ErrorKind::ConnectionRefused, err.to_string())
    })?;
    serve(config.addr, &sockets, router).await
}

/// Binds `addr`, prints the ready line `listening on http://<addr>` and
/// serves `app` (built with the realtime configuration `sockets`) until
/// ctrl-c, through [`sails_server::listener::guarded`]: a message over the
/// size limit closes its connection with 1009.
pub async fn serve(
    addr: SocketAddr,
    sockets: &SocketsConfig,
    app: axum::Router,
) -> std::io::Result<()> {
    let listener = sails_server::listener::guarded(listen(addr)?, sockets);
    println!(
        "listening on http://{}",
        axum::serve::Listener::local_addr(&listener)?
    );
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async {
        let _ = tokio::signal::ctrl_c().await;
    })
    .await
}
