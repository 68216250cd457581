//! The sails.io.js browser client, in Rust.
//!
//! Compiled to WebAssembly and loaded by `www/js/sails.io.js` (one script tag
//! that defines `io`, `io.sails` and `io.socket` at once), or imported from
//! the npm package that `wasm-pack build` makes (`connect`, `sails`, …).
//!
//! Layers, from the wire up:
//! - plain Rust, tested natively: [`session`] (what each frame means, the
//!   request queue and the acks in flight), [`recovery`] (the recovery
//!   token and offset, handshake keys, duplicate broadcasts), [`lifecycle`] (the connection's
//!   state machine: idle, connecting, connected, waiting to reconnect),
//!   [`backoff`] (reconnection timing), [`operation`] (the typed operations
//!   a socket's closure is bound to, and the JS names of its methods and
//!   options), [`notice`] (the console lines), [`listeners`], [`endpoint`]
//!   (handshake URL, cross-origin check), [`error`];
//! - browser glue: `transport` (the WebSocket, handlers detached on drop),
//!   `timer` (`setTimeout`, cancelled on drop), `client` (one socket: its
//!   requests, listeners and lifecycle, driven by page calls and browser
//!   events), `held` (the socket's JS values, where the garbage collector
//!   sees them), `closure` (the module's one closure type), `jwr`
//!   (responses), `config` (`io.sails`), `api` (the JS objects, the module
//!   exports, and the dispatch of each call into a socket to the client);
//! - `js/loader.js` (script-tag bundle only): `io` before the module is ready.
//!
//! Data flow: a page call (`socket.get`, the client's closure bound to the
//! number of [`operation::Operation::Method`]`(Get)`) is read back by
//! `api::dispatch` as that operation and goes to `client::Client::request`,
//! which validates it and either queues it in the [`session::Session`] or
//! frames it (`42<id>["get",{…}]`) and sends it on the `transport`. Each
//! WebSocket frame goes to `Session::text_frame` / `binary_frame`, whose
//! [`session::Step`] tells the client what to do: answer a ping, replay the
//! queue on connect, call a callback with a JWR, or emit an event to the
//! page's listeners; the [`lifecycle::Lifecycle`] says where the socket
//! stands before each of these acts. JSON is parsed and written by the
//! browser (`JSON.parse`/`JSON.stringify`), never in Rust.

pub mod backoff;
pub mod endpoint;
pub mod error;
pub mod lifecycle;
pub mod listeners;
pub mod notice;
pub mod operation;
pub mod recovery;
pub mod session;

mod api;
mod client;
mod closure;
mod config;
#[cfg(target_arch = "wasm32")]
mod heap;
mod held;
mod jwr;
mod timer;
mod transport;

pub use api::{SailsConfig, SailsIo, SailsSocket, connect, create_socket, install, sails};

use wasm_bindgen::prelude::*;

#[cfg(target_arch = "wasm32")]
#[global_allocator]
static HEAP: heap::SizeClasses = heap::SizeClasses::new();

/// The SDK version string this client announces to a Sails server
/// (`__sails_io_sdk_version=…&__sails_io_sdk_platform=…&…`).
#[wasm_bindgen(js_name = sdkVersionString)]
pub fn sdk_version_string() -> String {
    sails_protocol::sdk::handshake_query(sails_protocol::sdk::SDK_PLATFORM_BROWSER)
}

#[wasm_bindgen(typescript_custom_section)]
const TYPES: &str = include_str!("../js/types.d.ts");
