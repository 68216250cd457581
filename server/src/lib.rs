//! The Sails.js realtime layer for axum applications.

use std::path::PathBuf;

use axum::{Router, routing::get};
use tower_http::services::ServeDir;

/// Where the server listens and what it serves.
#[derive(Debug, Clone)]
pub struct ServerConfig {
    /// Address to bind; port 0 picks a free port.
    pub addr: std::net::SocketAddr,
    /// Directory served as static files (the demo pages and the client bundle).
    pub www: PathBuf,
}

/// The application router: the health check and the static pages.
pub fn app(www: impl Into<PathBuf>) -> Router {
    Router::new()
        .route("/health", get(health))
        .fallback_service(ServeDir::new(www.into()))
}

async fn health() -> &'static str {
    "ok"
}

/// Binds the configured address, prints the ready line
/// `listening on http://<addr>` and serves until ctrl-c.
pub async fn run(config: ServerConfig) -> std::io::Result<()> {
    let listener = tokio::net::TcpListener::bind(config.addr).await?;
    println!("listening on http://{}", listener.local_addr()?);
    axum::serve(listener, app(config.www))
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
        })
        .await
}
