//! `cargo xtask serve`: the main job. Builds the client and runs the server
//! (release build) on `127.0.0.1:1337`, serving `www/`.

use std::{process::Command, time::Duration};

use crate::{
    build,
    error::Result,
    packages::{SERVER_APP, SERVER_BIN},
    process,
    toolchain::{self, Route},
};

/// Sails' default port.
pub(crate) const DEFAULT_PORT: u16 = 1337;

/// Builds the script bundle, then runs the server until it is stopped.
pub(crate) fn run(route: Route, port: u16) -> Result {
    build::script_bundle(route)?;
    let www = toolchain::workspace_root().join("www");
    let mut server: Command = toolchain::command(route, "cargo");
    server
        .args([
            "run",
            "--release",
            "--package",
            SERVER_APP,
            "--bin",
            SERVER_BIN,
        ])
        .args(["--", "--port", &port.to_string(), "--www"])
        .arg(&www);
    println!(
        "serve: open http://127.0.0.1:{port}/ once the server says it is listening (ctrl-c stops it)"
    );
    // The server runs until the user stops it: no time limit worth having.
    process::run(&mut server, Duration::from_secs(u64::from(u32::MAX)))
}
