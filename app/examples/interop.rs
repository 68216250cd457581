//! Run: `cargo run -p sails-app --example interop -- --port 0 [--www DIR]`
//!
//! The interop app: the demo routes with realtime on, sessions in memory,
//! origins unrestricted, websocket only, on 127.0.0.1. Prints one ready line,
//! `listening on http://127.0.0.1:<PORT>`, once it accepts sockets.
//!
//! Any page may connect: the interop contract's clients run from other
//! origins (a test runner's pages, Node). The flags of `sails-server` apply;
//! `--allow-origin` narrows it.

use sails_app::cli::{Defaults, main as serve};
use sails_server::OriginPolicy;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let defaults = Defaults {
        origins: OriginPolicy::AnyOrigin,
        ..Defaults::new(concat!(env!("CARGO_MANIFEST_DIR"), "/../www"))
    };
    serve("interop", defaults).await
}
