//! `cargo xtask <command>`: set-up, build, serve and test, from one place.
//!
//! - `setup`            install what is missing (idempotent)
//! - `build`            the browser client: `www/js/` bundle and npm package
//! - `size`             what a page downloads for the client, raw and gzip -9
//! - `serve [--port P]` build the client and run the server (default port 1337)
//! - `test [--layer NAME]` every test layer, or one
//! - `fuzz [--seconds N] [TARGET]` every fuzz target (or one) for N seconds (default an hour);
//!   `fuzz --quick` the test layer's few seconds each
//! - `bench [--quick]`  the same load against our server, a Sails app and bare socketioxide,
//!   and the client start-up in Chromium; `bench --soak` holds 19,000 busy sockets

mod bench;
mod build;
mod dead_shims;
mod error;
mod fuzz;
mod instructions;
mod packages;
mod process;
mod serve;
mod setup;
mod short_names;
mod test;
mod toolchain;
mod wasm_binary;

use std::process::ExitCode;

use error::{Error, Result};
use toolchain::Route;

const USAGE: &str = "usage: cargo xtask <setup | build | size | serve [--port P] | test [--layer NAME] | fuzz [--seconds N] [TARGET] | fuzz --quick | bench [--quick] [--runs N] [--only startup] | bench --soak [--soak-seconds S]>";

fn usage() -> Error {
    Error::Usage(USAGE.into())
}

fn parse_port(args: &[String]) -> Result<u16> {
    match args {
        [] => Ok(serve::DEFAULT_PORT),
        [flag, value] if flag == "--port" => value.parse().map_err(|_| Error::BadValue {
            flag: flag.clone(),
            value: value.clone(),
            expected: "a port number",
        }),
        _ => Err(usage()),
    }
}

fn run(args: &[String]) -> Result {
    let Some((command, rest)) = args.split_first() else {
        return Err(usage());
    };
    let route = Route::detect();
    match command.as_str() {
        "setup" if rest.is_empty() => setup::run(route),
        "build" if rest.is_empty() => setup::run(route).and_then(|()| build::run(route)),
        "size" if rest.is_empty() => build::size_report().map(drop),
        "serve" => {
            let port = parse_port(rest)?;
            setup::run(route).and_then(|()| serve::run(route, port))
        }
        "test" => test::run(route, rest),
        "fuzz" => fuzz::run(route, rest),
        "bench" => bench::run(route, rest),
        _ => Err(usage()),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}
