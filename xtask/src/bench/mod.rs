//! `cargo xtask bench [--quick] [--runs N] [--only startup|blueprints]`: the same load
//! generator against our interop server, a real Sails app and a bare
//! socketioxide server, one after the other on free ports, then the client
//! start-up in Chromium (our client against sails.io.js-dist), and one table
//! with every figure, followed by the instructions per call of the
//! per-request hot paths against their baseline (`instructions`).
//! `cargo xtask bench --soak [--soak-seconds S]`: the soak of our server alone.
//! `cargo xtask bench --cluster [--quick] [--runs N]`: many servers on one
//! Redis, ours against Sails.
//! `cargo xtask bench --recovery [--quick] [--runs N]`: what connection-state
//! recovery costs our server.
//!
//! Each server runs pinned to CPU 0 and the generator to CPU 1 (`taskset`),
//! and a fresh server process serves each scenario run. The command fails
//! only when a run against our server or the bare one, the start-up script
//! or valgrind could not complete, never on a figure (`--only instructions`
//! also fails on a count more than 20% above its baseline, as the test
//! layer does). A Sails app that is missing or does not lift, a start-up run
//! without Chromium or the npm packages, or counts without valgrind, are
//! reported as "not available".
//!
//! - `args`: the command line;
//! - `scenarios`: what runs against every server, in the table's order;
//! - `load`: the servers, and the generator runs against them;
//! - `startup`: the client start-up in Chromium;
//! - `report`: the table and what could not be done;
//! - `soak`: the soak;
//! - `cluster`: many servers on one Redis;
//! - `recovery`: connection-state recovery.

mod args;
mod cluster;
mod load;
mod recovery;
mod report;
mod scenarios;
mod soak;
mod startup;

use std::time::Instant;

use crate::{
    error::{Error, Result},
    instructions::{self, NoCounts},
    packages::{self, LOADGEN_BIN},
    toolchain::Route,
};

/// Builds the release binaries, benches every server and the client
/// start-up (or runs the soak, or counts instructions), prints the report.
pub(crate) fn run(route: Route, args: &[String]) -> Result {
    let request = args::parse(args)?;
    let runs = request.runs;
    let binaries = packages::build_release(route)?;
    if let Some(seconds) = request.soak_seconds {
        return soak::run(route, args, &binaries, seconds);
    }
    if request.cluster {
        return cluster::run(route, args, &binaries, request.quick, runs);
    }
    if request.recovery {
        return recovery::run(route, args, &binaries, request.quick, runs);
    }
    if request.instructions_only {
        let counts = instructions::count(route, &binaries);
        println!("{}", instructions::report(&counts));
        return match counts {
            Ok(counts) if request.save_baseline => instructions::save_baseline(&counts),
            counts => instructions::verdict(counts),
        };
    }

    let servers = load::servers(route, &binaries);
    let mut scenarios = if request.startup_only {
        Vec::new()
    } else {
        scenarios::scenarios(request.quick)
    };
    if request.blueprints_only {
        scenarios.retain(scenarios::Scenario::needs_models);
    }
    let load_before = report::load_average();
    let started = Instant::now();
    let loadgen = binaries.bin(LOADGEN_BIN);
    let columns = load::measure(route, &servers, &scenarios, runs, &loadgen);
    let startup =
        (!request.blueprints_only).then(|| startup::measure(route, &binaries, request.quick));
    let counts = if request.startup_only || request.blueprints_only {
        Err(NoCounts::NotAvailable("not asked for".into()))
    } else {
        instructions::count(route, &binaries)
    };

    let mut text = report::header(route, args, &load_before, started);
    if !scenarios.is_empty() {
        text.push_str(&format!(
            "Runs per figure: {runs} (median, then min–max when more than one)\n\
             Pinning: servers on CPU 0, generator on CPU 1\n"
        ));
    }
    text.push('\n');
    text.push_str(&report::table(
        &scenarios,
        &servers,
        &columns,
        runs,
        startup.as_ref(),
    ));
    if !request.startup_only && !request.blueprints_only {
        text.push_str(&instructions::report(&counts));
    }
    report::publish(&text, "bench-report.md");

    let mut incomplete = Vec::new();
    for (server, column) in servers.iter().zip(columns) {
        if !server.required {
            continue;
        }
        match column {
            Err(why) => incomplete.push(why),
            Ok(cells) => {
                let failed: usize = cells.iter().map(|cell| cell.failures.len()).sum();
                if failed > 0 {
                    incomplete.push(Error::Check(format!(
                        "{}: {failed} run(s) failed",
                        server.name
                    )));
                }
            }
        }
    }
    if let Some(Err(startup::Missing::Failed(why))) = startup {
        incomplete.push(why.within("client start-up"));
    }
    if let Err(NoCounts::Failed(why)) = counts {
        incomplete.push(why.within("instruction counts"));
    }
    Error::all(incomplete).map_err(|why| why.within("bench incomplete"))
}
