//! The command line shared by the `sails-server` binary and the `interop`
//! example: `[--host H] [--port P] [--www DIR]`, then the ready line and serve.

use std::{net::SocketAddr, path::PathBuf, process::ExitCode};

use crate::ServerConfig;

/// Reads `--host`, `--port` and `--www`; anything else is an error carrying the usage.
pub fn parse_args(
    program: &str,
    default_www: PathBuf,
    mut args: impl Iterator<Item = String>,
) -> Result<ServerConfig, String> {
    let usage = format!("usage: {program} [--host 127.0.0.1] [--port 1337] [--www DIR]");
    let mut host = String::from("127.0.0.1");
    let mut port: u16 = 1337;
    let mut www = default_www;
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
            "-h" | "--help" => return Err(usage),
            other => return Err(format!("unknown argument `{other}`\n{usage}")),
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

/// Parses the process arguments and serves the demo application until
/// ctrl-c: exit code 2 for bad arguments, 1 if the server fails.
pub async fn main(program: &str, default_www: PathBuf) -> ExitCode {
    let config = match parse_args(program, default_www, std::env::args().skip(1)) {
        Ok(config) => config,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    match crate::run(config).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("{program}: {error}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<ServerConfig, String> {
        let www = PathBuf::from(env!("CARGO_MANIFEST_DIR"));
        parse_args("test", www, args.iter().map(|arg| (*arg).to_owned()))
    }

    #[test]
    fn defaults_to_sails_port_on_loopback() {
        let config = parse(&[]).expect("defaults are valid");
        assert_eq!(config.addr, "127.0.0.1:1337".parse().expect("address"));
    }

    #[test]
    fn explains_each_bad_argument() {
        assert!(
            parse(&["--port", "x"])
                .unwrap_err()
                .contains("`x` is not a port number")
        );
        assert!(
            parse(&["--host", "nowhere"])
                .unwrap_err()
                .contains("not an IP address")
        );
        assert!(
            parse(&["--www", "/no/such/dir"])
                .unwrap_err()
                .contains("is not a directory")
        );
        assert!(
            parse(&["--port"])
                .unwrap_err()
                .contains("--port needs a value")
        );
        assert!(parse(&["--bogus"]).unwrap_err().contains("usage: test"));
    }
}
