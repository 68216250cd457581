//! Run: `sails-temp-postgres` (for tests in other languages)
//!
//! Starts a temporary PostgreSQL server (`sails_testkit::postgres`) and
//! prints `ready`; then, for each line NAME on its input, makes the empty
//! database NAME and prints its URL (or `error: …`). The end of its input
//! stops the server and removes its files, also when the test process that
//! started it ends.

use std::io::{BufRead, Write};
use std::process::ExitCode;

use sails_testkit::postgres::TempPostgres;

fn main() -> ExitCode {
    let server = match TempPostgres::start() {
        Ok(server) => server,
        Err(error) => {
            eprintln!("sails-temp-postgres: {error}");
            return ExitCode::FAILURE;
        }
    };
    let mut out = std::io::stdout().lock();
    if writeln!(out, "ready").and_then(|()| out.flush()).is_err() {
        return ExitCode::FAILURE;
    }
    for name in std::io::stdin().lock().lines().map_while(Result::ok) {
        let answer = match server.database(name.trim()) {
            Ok(url) => url,
            Err(error) => format!("error: {error}"),
        };
        if writeln!(out, "{answer}")
            .and_then(|()| out.flush())
            .is_err()
        {
            break;
        }
    }
    ExitCode::SUCCESS
}
