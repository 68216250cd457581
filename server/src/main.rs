//! `sails-server [--host H] [--port P] [--www DIR]`: serves the demo pages and the realtime layer.

use std::{net::SocketAddr, path::PathBuf, process::ExitCode};

use sails_server::ServerConfig;

const USAGE: &str = "usage: sails-server [--host 127.0.0.1] [--port 1337] [--www www]";

fn parse_args(mut args: impl Iterator<Item = String>) -> Result<ServerConfig, String> {
    let mut host = String::from("127.0.0.1");
    let mut port: u16 = 1337;
    let mut www = PathBuf::from("www");
    while let Some(arg) = args.next() {
        let mut value = |name: &str| args.next().ok_or(format!("{name} needs a value"));
        match arg.as_str() {
            "--host" => host = value("--host")?,
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
    let addr: SocketAddr = format!("{host}:{port}")
        .parse()
        .map_err(|_| format!("--host: `{host}` is not an IP address"))?;
    if !www.is_dir() {
        return Err(format!("--www: `{}` is not a directory", www.display()));
    }
    Ok(ServerConfig { addr, www })
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
            eprintln!("sails-server: {error}");
            ExitCode::FAILURE
        }
    }
}
