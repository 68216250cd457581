//! The shared test client (`sails-testkit`), and the demo app served for the tests.

use std::net::SocketAddr;
use std::path::PathBuf;

pub(crate) use sails_testkit::*;

/// The repository's `www/` directory.
pub(crate) fn www() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../www"))
}

/// The demo app with default configuration, served.
pub(crate) async fn demo() -> SocketAddr {
    serve(sails_app::demo::app(www()).0).await
}

/// The demo app served, with its realtime handle for use outside handlers.
pub(crate) async fn demo_with_handle() -> (SocketAddr, sails_server::Sails) {
    let (app, sails) = sails_app::demo::app(www());
    (serve(app).await, sails)
}
