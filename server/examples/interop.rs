//! Run: `cargo run -p sails-server --example interop -- --port 0 [--www DIR]`
//!
//! The interop app: the demo routes with realtime on, sessions in memory,
//! origins unrestricted, websocket only, on 127.0.0.1. Prints one ready line,
//! `listening on http://127.0.0.1:<PORT>`, once it accepts sockets.

use std::net::{Ipv4Addr, SocketAddr};
use std::path::PathBuf;
use std::process::ExitCode;

use sails_server::ServerConfig;

const USAGE: &str = "usage: interop [--port 1337] [--www DIR]";

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<ServerConfig, String> {
    let mut port: u16 = 1337;
    let mut www = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../www"));
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--port" => {
                let raw = value("--port")?;
                port = raw
                    .parse()
                    .map_err(|_| format!("--port: `{raw}` is not a port number"))?;
            }
            "--www" => www = PathBuf::from(value("--www")?),
            "-h" | "--help" => return Err(USAGE.into()),
            other => return Err(format!("unknown argument `{other}`\n{USAGE}")),
        }
    }
    Ok(ServerConfig {
        addr: SocketAddr::from((Ipv4Addr::LOCALHOST, port)),
        www,
    })
}

#[tokio::main]
async fn main() -> ExitCode {
    let config = match parse_args(std::env::args().skip(1)) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match sails_server::run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("interop: {error}");
            ExitCode::FAILURE
        }
    }
}
