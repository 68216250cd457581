//! The sails.io.js browser client, in Rust.
//!
//! Compiled to WebAssembly and loaded by `www/js/sails.io.js` (one script tag
//! that defines `io`, `io.sails` and `io.socket` at once), or imported from
//! the npm package that `wasm-pack build` makes (`connect`, `sails`, …).
//!
//! Layers, from the wire up:
//! - plain Rust, tested natively: [`session`] (what each frame means, request
//!   queue and acks), [`backoff`] (reconnection timing), [`listeners`],
//!   [`endpoint`] (handshake URL, cross-origin), [`error`];
//! - browser glue: `transport` (the WebSocket), `timer`, `client` (one
//!   socket's lifecycle), `jwr` (responses), `config` (`io.sails`), `api`
//!   (the JS objects and exports).

pub mod backoff;
pub mod endpoint;
pub mod error;
pub mod listeners;
pub mod session;

mod api;
mod client;
mod config;
mod jwr;
mod timer;
mod transport;

pub use api::{SailsConfig, SailsIo, SailsSocket, connect, create_socket, install, sails};
pub use jwr::Jwr;

use wasm_bindgen::prelude::*;

/// The SDK version string this client announces to a Sails server
/// (`__sails_io_sdk_version=…&__sails_io_sdk_platform=…&…`).
#[wasm_bindgen(js_name = sdkVersionString)]
pub fn sdk_version_string() -> String {
    sails_protocol::sdk::handshake_query(sails_protocol::sdk::SDK_PLATFORM_BROWSER)
}

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = include_str!("../js/types.d.ts");
