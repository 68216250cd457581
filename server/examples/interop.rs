//! Run: `cargo run -p sails-server --example interop -- --port 0 [--www DIR]`
//!
//! The interop app: the demo routes with realtime on, sessions in memory,
//! origins unrestricted, websocket only, on 127.0.0.1. Prints one ready line,
//! `listening on http://127.0.0.1:<PORT>`, once it accepts sockets.

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let www = concat!(env!("CARGO_MANIFEST_DIR"), "/../www");
    sails_server::cli::main("interop", www.into()).await
}
