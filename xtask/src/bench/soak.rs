//! `cargo xtask bench --soak`: our server alone, every socket sending one
//! request a second, for minutes.

use std::{iter, time::Duration, time::Instant};

use sails_bench_record::{Key, Scenario as Generator};

use super::{
    load::{self, READY_LIMIT, RUN_LIMIT},
    report,
    scenarios::Unit,
};
use crate::{
    error::Result,
    packages::{Binaries, LOADGEN_BIN},
    process::{Background, Stderr},
    toolchain::Route,
};

/// The soak rows: label, figure, unit.
const ROWS: [(&str, Key, Unit); 21] = [
    ("sockets held", Key::Sockets, Unit::Rate),
    ("seconds of load", Key::Seconds, Unit::Rate),
    (
        "requests intended (1 per socket per second)",
        Key::Intended,
        Unit::Rate,
    ),
    ("requests sent", Key::Sent, Unit::Rate),
    ("requests answered", Key::Answered, Unit::Rate),
    ("requests sent per second", Key::Rate, Unit::Rate),
    ("server µs CPU/request", Key::CpuUs, Unit::CpuMicros),
    ("server CPU busy (%)", Key::CpuBusy, Unit::Percent),
    ("generator CPU busy (%)", Key::GenBusy, Unit::Percent),
    ("p50 latency (ms)", Key::LatP50Us, Unit::Millis),
    ("p99 latency (ms)", Key::LatP99Us, Unit::Millis),
    ("max latency (ms)", Key::LatMaxUs, Unit::Millis),
    (
        "requests sent behind schedule, p99 (ms)",
        Key::SendDelayP99Us,
        Unit::Millis,
    ),
    (
        "requests sent behind schedule, max (ms)",
        Key::SendDelayMaxUs,
        Unit::Millis,
    ),
    (
        "server RSS, sockets connected, before the load (MiB)",
        Key::RssIdleKib,
        Unit::MiB,
    ),
    (
        "server RSS, first sample under load (MiB)",
        Key::RssFirstKib,
        Unit::MiB,
    ),
    ("server RSS at the end (MiB)", Key::RssEndKib, Unit::MiB),
    (
        "server RSS, highest sample (MiB)",
        Key::RssMaxKib,
        Unit::MiB,
    ),
    (
        "server RSS growth, first sample under load to the end (MiB)",
        Key::RssGrowthKib,
        Unit::MiB,
    ),
    ("missing acks", Key::MissingAcks, Unit::Rate),
    ("sockets closed", Key::Broken, Unit::Rate),
];

/// Runs the soak for `seconds` and prints its report.
pub(super) fn run(route: Route, args: &[String], binaries: &Binaries, seconds: u64) -> Result {
    let load_before = report::load_average();
    let started = Instant::now();
    println!("\n== bench: soak, {seconds} s");
    let port = ["--port".to_owned(), "0".to_owned()];
    let mut cmd = load::pinned(route, 0, &binaries.interop(), &port);
    let background =
        Background::start(&mut cmd, READY_LIMIT).map_err(|why| why.within("ours did not start"))?;
    let generator_args = load::generator_args(
        &[
            Generator::Soak.name().to_owned(),
            "--seconds".to_owned(),
            seconds.to_string(),
        ],
        &background,
    );
    // Connecting, settling and draining come on top of the load itself.
    let limit = Duration::from_secs(seconds) + RUN_LIMIT;
    let loadgen = binaries.bin(LOADGEN_BIN);
    let outcome = load::run_generator(
        load::pinned(route, 1, &loadgen, &generator_args),
        limit,
        Stderr::Show,
    );
    drop(background);
    let record = outcome?;
    let mut text = report::header(route, args, &load_before, started);
    text.push_str(
        "Pinning: server on CPU 0, generator on CPU 1\n\n| figure | ours |\n|---|---:|\n",
    );
    for (label, key, unit) in ROWS {
        let value = record
            .get(key)
            .map_or_else(|| "–".into(), |value| unit.show(value));
        text.push_str(&format!("| soak: {label} | {value} |\n"));
    }
    let problems = report::problems(iter::once(&record));
    text.push_str(&format!(
        "\nWhat could not be done: {}\n",
        if problems.is_empty() {
            "nothing: every handshake and request completed.".to_owned()
        } else {
            problems.join(", ")
        }
    ));
    report::publish(&text, "bench-soak-report.md");
    Ok(())
}
