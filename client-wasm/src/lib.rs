//! The sails.io.js browser client, in Rust.
//!
//! Compiled to WebAssembly and loaded by `www/js/sails.io.js` (one script tag)
//! or imported from the npm package that `wasm-pack build` makes.

use wasm_bindgen::prelude::*;

/// The SDK version string this client announces to a Sails server
/// (`__sails_io_sdk_version=…&__sails_io_sdk_platform=…&…`).
#[wasm_bindgen(js_name = sdkVersionString)]
pub fn sdk_version_string() -> String {
    sails_protocol::sdk::handshake_query(sails_protocol::sdk::SDK_PLATFORM_BROWSER)
}
