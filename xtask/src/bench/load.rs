//! The servers under test and the generator runs against them: each server
//! pinned to CPU 0 and the generator to CPU 1, a fresh server process for
//! each run.

use std::{
    path::{Path, PathBuf},
    process::Command,
    thread,
    time::Duration,
};

use sails_bench_record::Record;

use super::scenarios::{Row, Scenario};
use crate::{
    error::{Error, Result},
    packages::{BARE_SERVER_BIN, Binaries, LOADGEN_BIN},
    process::{self, Background, Stderr},
    toolchain::{self, Route},
};

/// A Sails app can take a while to lift.
pub(super) const READY_LIMIT: Duration = Duration::from_secs(60);
/// No single generator run may take longer.
pub(super) const RUN_LIMIT: Duration = Duration::from_secs(5 * 60);

/// The real Sails app with the interop routes, relative to the workspace root.
pub(super) const SAILS_APP: &str = "tests/sails-app/app.js";

/// A server under test.
pub(super) struct Server {
    /// Its column in the table.
    pub(super) name: &'static str,
    program: PathBuf,
    args: Vec<String>,
    /// Whether a failure to start or run fails the bench.
    pub(super) required: bool,
    /// Whether it serves the interop models' blueprints.
    pub(super) has_models: bool,
}

impl Server {
    /// Starts the server pinned to CPU 0 with `more` arguments after its
    /// own, and waits for its ready line.
    pub(super) fn start(&self, route: Route, more: &[String]) -> Result<Background> {
        let args: Vec<String> = self.args.iter().chain(more).cloned().collect();
        let mut cmd = pinned(route, 0, &self.program, &args);
        Background::start(&mut cmd, READY_LIMIT)
            .map_err(|why| why.within(format!("{} did not start", self.name)))
    }
}

/// What a run's `rows` read in its `record`, for the progress line.
pub(super) fn summary(rows: &[Row], record: &Record) -> String {
    let figures: Vec<String> = rows
        .iter()
        .filter_map(|row| {
            let value = record.get(row.key)?;
            Some(format!("{} {}", row.label, row.unit.show(value)))
        })
        .collect();
    figures.join(", ")
}

/// Ours, the real Sails app and bare socketioxide, in the table's order
/// (ours first: the ratios divide by its column).
pub(super) fn servers(route: Route, binaries: &Binaries) -> [Server; 3] {
    let port = || vec!["--port".to_owned(), "0".to_owned()];
    let sails_app = toolchain::workspace_root().join(SAILS_APP);
    [
        Server {
            name: "ours",
            program: binaries.interop(),
            args: port(),
            required: true,
            has_models: true,
        },
        Server {
            name: "Sails 1.5.18",
            program: toolchain::which(route, "node").unwrap_or_else(|| "node".into()),
            args: [sails_app.to_string_lossy().into_owned()]
                .into_iter()
                .chain(port())
                .collect(),
            required: false,
            has_models: true,
        },
        Server {
            name: "bare socketioxide",
            program: binaries.bin(BARE_SERVER_BIN),
            args: port(),
            required: true,
            has_models: false,
        },
    ]
}

/// `taskset -c <cpu> program args…` when `taskset` exists and there are two CPUs.
pub(super) fn pinned(route: Route, cpu: u32, program: &Path, args: &[String]) -> Command {
    let can_pin = toolchain::which(route, "taskset").is_some()
        && thread::available_parallelism().is_ok_and(|n| n.get() >= 2);
    let mut cmd = if can_pin {
        let mut cmd = toolchain::command(route, "taskset");
        cmd.args(["-c", &cpu.to_string()]).arg(program);
        cmd
    } else {
        toolchain::command(route, &program.to_string_lossy())
    };
    cmd.args(args);
    cmd
}

/// Runs the generator; returns its record, or why it failed (with its
/// stderr, unless that is shown as progress).
pub(super) fn run_generator(mut cmd: Command, limit: Duration, progress: Stderr) -> Result<Record> {
    let finished = process::capture(&mut cmd, limit, progress)?.succeeded()?;
    sails_bench_record::from_output(&finished.stdout).map_err(|source| Error::Record {
        program: LOADGEN_BIN,
        source,
    })
}

/// The generator's arguments for a run against `server`.
pub(super) fn generator_args(args: &[String], server: &Background) -> Vec<String> {
    let mut args = args.to_vec();
    args.extend([
        "--url".to_owned(),
        server.url.clone(),
        "--server-pid".to_owned(),
        server.pid().to_string(),
    ]);
    args
}

/// The results of one scenario on one server.
#[derive(Default)]
pub(super) struct Cell {
    /// The records of the runs that completed.
    pub(super) runs: Vec<Record>,
    /// Why the others did not.
    pub(super) failures: Vec<Error>,
    /// Not run: the scenario needs what the server does not have.
    pub(super) skipped: bool,
}

/// Every scenario on one server, or why the server could not be benched.
pub(super) type Column = Result<Vec<Cell>>;

/// Runs every scenario `runs` times on every server. Servers take turns
/// within each run of each scenario, so that load from elsewhere on the
/// machine falls on all of them alike. A server that does not start is not
/// tried again.
pub(super) fn measure(
    route: Route,
    servers: &[Server],
    scenarios: &[Scenario],
    runs: usize,
    loadgen: &Path,
) -> Vec<Column> {
    let sails_app = toolchain::workspace_root().join(SAILS_APP);
    let mut columns: Vec<Column> = servers
        .iter()
        .map(|server| {
            if !server.required && !sails_app.is_file() {
                return Err(Error::NotAvailable(format!("{SAILS_APP} is missing")));
            }
            Ok(scenarios.iter().map(|_| Cell::default()).collect())
        })
        .collect();
    for (index, scenario) in scenarios.iter().enumerate() {
        println!("\n== bench: {}", scenario.name);
        for run in 1..=runs {
            for (server, column) in servers.iter().zip(columns.iter_mut()) {
                let Ok(cells) = column else { continue };
                if scenario.needs_models() && !server.has_models {
                    cells[index].skipped = true;
                    continue;
                }
                match run_once(route, server, scenario, (run, runs), loadgen) {
                    Ok(Ok(record)) => cells[index].runs.push(record),
                    Ok(Err(why)) => cells[index].failures.push(why),
                    Err(why) => {
                        println!("bench: {why}");
                        *column = Err(why);
                    }
                }
            }
        }
    }
    columns
}

/// One run of `scenario` against a fresh `server` process. The outer error
/// means the server did not start; the inner one that the run failed.
fn run_once(
    route: Route,
    server: &Server,
    scenario: &Scenario,
    (run, runs): (usize, usize),
    loadgen: &Path,
) -> Result<Result<Record>> {
    let background = server.start(route, &[])?;
    let args = generator_args(&scenario.args, &background);
    let outcome = run_generator(pinned(route, 1, loadgen, &args), RUN_LIMIT, Stderr::Capture);
    drop(background);
    match &outcome {
        Ok(record) => println!(
            "bench: {} run {run}/{runs}: {}",
            server.name,
            summary(&scenario.rows, record)
        ),
        Err(why) => println!("bench: {} run {run}/{runs} FAILED: {why}", server.name),
    }
    Ok(outcome)
}
