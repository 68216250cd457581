//! Group 5: our client and sails.io.js-dist loading in headless Chromium
//! from our interop server (`tests/bench/startup.mjs`, one server for every
//! load), and its rows of the table.

use sails_bench_record::{ClientStartup, Spread, StartupRecord};

use super::{
    load::RUN_LIMIT,
    scenarios::{Group, Unit},
};
use crate::{
    error::{Error, Result},
    packages::Binaries,
    process::{self, Stderr},
    toolchain::{self, Route},
};

/// Page loads per client in the start-up figures (a quick run: fewer).
const RUNS: usize = 20;
const RUNS_QUICK: usize = 5;
/// The start-up script's exit status when Chromium or the npm packages are missing.
const NOT_AVAILABLE: i32 = 3;
/// The script, relative to the workspace root.
const SCRIPT: &str = "tests/bench/startup.mjs";

/// Why the start-up figures are missing.
#[derive(Debug)]
pub(super) enum Missing {
    /// Chromium, node or the npm packages are not there.
    NotAvailable(String),
    /// The script ran and failed.
    Failed(Error),
}

/// The start-up figures, or why there are none.
pub(super) type Startup = Result<StartupRecord, Missing>;

/// Runs the start-up script against the interop app of `binaries`.
pub(super) fn measure(route: Route, binaries: &Binaries, quick: bool) -> Startup {
    let root = toolchain::workspace_root();
    if toolchain::which(route, "node").is_none() {
        return Err(Missing::NotAvailable("node is missing".into()));
    }
    let runs = if quick { RUNS_QUICK } else { RUNS };
    let mut cmd = toolchain::command(route, "node");
    cmd.arg(root.join(SCRIPT))
        .args(["--runs", &runs.to_string()])
        .env("SAILS_INTEROP_BIN", binaries.interop())
        .env("SAILS_WWW", root.join("www"));
    println!(
        "\n== bench: {}. client start-up\n$ {}",
        Group::Startup.number(),
        process::describe(&cmd)
    );
    let finished =
        process::capture(&mut cmd, RUN_LIMIT, Stderr::Capture).map_err(Missing::Failed)?;
    if finished.status.code() == Some(NOT_AVAILABLE) {
        let stderr = finished.stderr.trim();
        return Err(Missing::NotAvailable(
            stderr.lines().last().unwrap_or(stderr).to_owned(),
        ));
    }
    let record = finished
        .succeeded()
        .and_then(|finished| {
            sails_bench_record::from_output::<StartupRecord>(&finished.stdout).map_err(|source| {
                Error::Record {
                    program: "the start-up script",
                    source,
                }
            })
        })
        .map_err(|why| {
            println!("bench: {why}");
            Missing::Failed(why)
        })?;
    let shown: Vec<String> = [(&record.ours, "ours"), (&record.dist, "sails.io.js-dist")]
        .iter()
        .map(|(client, name)| {
            format!(
                "{name} connect {} ms, answered {} ms",
                Unit::Ms.show(client.connect_ms.median),
                Unit::Ms.show(client.answered_ms.median)
            )
        })
        .collect();
    println!("bench: start-up medians: {}", shown.join("; "));
    Ok(record)
}

/// One figure of a client's start-up.
#[derive(Debug, Clone, Copy)]
enum Figure {
    /// A median over the page loads, with its range.
    Spread(fn(&ClientStartup) -> Spread),
    /// One number.
    Single(fn(&ClientStartup) -> u64),
}

/// The start-up rows: label, figure, unit.
const ROWS: [(&str, Figure, Unit); 5] = [
    (
        "navigation to the client's files downloaded (ms)",
        Figure::Spread(|client| client.downloaded_ms),
        Unit::Ms,
    ),
    (
        "navigation to `connect` (ms)",
        Figure::Spread(|client| client.connect_ms),
        Unit::Ms,
    ),
    (
        "navigation to the first answered `GET /hello` (ms)",
        Figure::Spread(|client| client.answered_ms),
        Unit::Ms,
    ),
    (
        "bytes downloaded (script, and wasm if apart)",
        Figure::Single(|client| client.bytes),
        Unit::Bytes,
    ),
    (
        "the same bytes, gzip -9",
        Figure::Single(|client| client.gzip_bytes),
        Unit::Bytes,
    ),
];

fn ours(record: &StartupRecord) -> &ClientStartup {
    &record.ours
}

fn hinted(record: &StartupRecord) -> &ClientStartup {
    &record.hinted
}

/// One of our client's pages in the start-up group.
struct Page {
    /// Its figures in the record.
    figures: fn(&StartupRecord) -> &ClientStartup,
    /// What the row label says of the page.
    label: &'static str,
}

const PAGES: [Page; 2] = [
    Page {
        figures: ours,
        label: "",
    },
    Page {
        figures: hinted,
        label: ", our lean client on a page with a preload hint for its module",
    },
];

/// A figure as the table shows it, and its median (for the ratio).
fn shown(figure: Figure, client: &ClientStartup, unit: Unit) -> (f64, String) {
    match figure {
        Figure::Spread(of) => {
            let spread = of(client);
            (
                spread.median,
                format!(
                    "{} ({}–{})",
                    unit.show(spread.median),
                    unit.show(spread.min),
                    unit.show(spread.max)
                ),
            )
        }
        Figure::Single(of) => {
            let value = of(client) as f64;
            (value, unit.show(value))
        }
    }
}

/// The group 5 rows: our client in the "ours" column, sails.io.js-dist in the Sails one.
pub(super) fn rows(startup: &Startup) -> String {
    let number = Group::Startup.number();
    let mut out = String::new();
    let runs = startup.as_ref().map_or_else(
        |_| String::new(),
        |record| format!(", {} page loads each", record.runs),
    );
    let absent = match startup {
        Err(Missing::NotAvailable(_)) => "not available",
        _ => "failed",
    };
    for page in PAGES {
        for (label, figure, unit) in ROWS {
            let figures = startup.as_ref().ok().map(|record| {
                (
                    shown(figure, (page.figures)(record), unit),
                    shown(figure, &record.dist, unit),
                )
            });
            let (ours, dist, ratio) = match figures {
                Some(((ours, ours_text), (dist, dist_text))) => {
                    let ratio = if dist > 0.0 {
                        format!("{:.2}", ours / dist)
                    } else {
                        "–".into()
                    };
                    (ours_text, dist_text, ratio)
                }
                None => (absent.to_owned(), absent.to_owned(), "–".to_owned()),
            };
            out.push_str(&format!(
                "| {number}. client start-up{runs} (Sails column: sails.io.js-dist 1.2.1){}: {label} | {ours} | {dist} | – | {ratio} | – |\n",
                page.label
            ));
        }
    }
    out
}
