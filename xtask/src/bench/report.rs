//! The bench's Markdown report: where and when it ran, the table, and
//! everything that could not be done.

use std::{fs, thread, time::Duration, time::Instant};

use sails_bench_record::{Key, Record};

use super::{
    load::{Column, Server},
    scenarios::{Group, Row, Scenario},
    startup::{self, Missing, Startup},
};
use crate::{
    process,
    toolchain::{self, Route},
};

/// The median, min and max of `values`.
pub(super) fn median_min_max(values: &mut [f64]) -> Option<(f64, f64, f64)> {
    if values.is_empty() {
        return None;
    }
    values.sort_by(f64::total_cmp);
    let n = values.len();
    let median = if n % 2 == 1 {
        values[n / 2]
    } else {
        (values[n / 2 - 1] + values[n / 2]) / 2.0
    };
    Some((median, values[0], values[n - 1]))
}

fn read_trimmed(path: &str) -> String {
    fs::read_to_string(path)
        .map(|text| text.trim().to_owned())
        .unwrap_or_default()
}

/// The 1, 5 and 15 minute load averages.
pub(super) fn load_average() -> String {
    read_trimmed("/proc/loadavg")
        .split_ascii_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

fn machine() -> String {
    let model = fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|info| {
            info.lines()
                .find_map(|line| line.strip_prefix("model name"))
                .map(|rest| rest.trim_start_matches([' ', '\t', ':']).to_owned())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cpus = thread::available_parallelism().map_or(0, |n| n.get());
    let memory = read_trimmed("/proc/meminfo")
        .lines()
        .find_map(|line| line.strip_prefix("MemTotal:"))
        .and_then(|kib| kib.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map_or_else(String::new, |kib| {
            format!(", {:.1} GiB RAM", kib as f64 / 1024.0 / 1024.0)
        });
    format!("{model}, {cpus} CPUs{memory}")
}

fn shell_output(route: Route, program: &str, args: &[&str]) -> String {
    let mut cmd = toolchain::command(route, program);
    cmd.args(args);
    process::output(&mut cmd, Duration::from_secs(30))
        .map(|text| text.trim().to_owned())
        .unwrap_or_else(|_| "unknown".into())
}

/// The first lines of a report: where, when, what ran.
pub(super) fn header(route: Route, args: &[String], load_before: &str, started: Instant) -> String {
    let commit = shell_output(route, "git", &["rev-parse", "--short", "HEAD"]);
    let dirty = !shell_output(
        route,
        "git",
        &["status", "--porcelain", "--untracked-files=no"],
    )
    .is_empty();
    format!(
        "Machine: {}\nDate: {}\nCommit: {commit}{}\nCommand: cargo xtask bench{}\n\
         Load average (1/5/15 min): {load_before} before, {} after ({:.0} s)\n",
        machine(),
        shell_output(route, "date", &["-u", "+%Y-%m-%d %H:%M UTC"]),
        if dirty {
            " (with uncommitted changes)"
        } else {
            ""
        },
        args.iter().map(|a| format!(" {a}")).collect::<String>(),
        load_average(),
        started.elapsed().as_secs_f64(),
    )
}

/// Prints a report and writes it to `target/<name>`.
pub(super) fn publish(text: &str, name: &str) {
    println!("\n== bench report\n\n{text}");
    let saved = toolchain::target_dir().join(name);
    if fs::write(&saved, text).is_ok() {
        println!("(also written to {})", saved.display());
    }
}

/// The counts of what could not be done, summed over `records`, as `key=count`.
pub(super) fn problems<'a>(records: impl Iterator<Item = &'a Record> + Clone) -> Vec<String> {
    Key::PROBLEMS
        .iter()
        .filter_map(|key| {
            let total: f64 = records.clone().filter_map(|record| record.get(*key)).sum();
            (total > 0.0).then(|| format!("{key}={total}"))
        })
        .collect()
}

/// One figure of one server: median, min and max over its runs.
fn figure(column: &Column, scenario: usize, row: &Row) -> Option<(f64, f64, f64)> {
    let cells = column.as_ref().ok()?;
    let mut values: Vec<f64> = cells[scenario]
        .runs
        .iter()
        .filter_map(|record| record.get(row.key))
        .collect();
    median_min_max(&mut values)
}

fn cell_text(column: &Column, scenario: usize, row: &Row, runs: usize) -> String {
    match (column, figure(column, scenario, row)) {
        (Err(_), _) => "not available".into(),
        (Ok(cells), None) if cells[scenario].skipped => "–".into(),
        (Ok(_), None) => "failed".into(),
        (Ok(_), Some((median, min, max))) if runs > 1 => format!(
            "{} ({}–{})",
            row.unit.show(median),
            row.unit.show(min),
            row.unit.show(max)
        ),
        (Ok(_), Some((median, _, _))) => row.unit.show(median),
    }
}

/// The table, then everything that could not be done (`startup`: `None`
/// when the start-up was not asked for).
pub(super) fn table(
    scenarios: &[Scenario],
    servers: &[Server],
    columns: &[Column],
    runs: usize,
    startup: Option<&Startup>,
) -> String {
    let mut out = String::from("| figure |");
    for server in servers {
        out.push_str(&format!(" {} |", server.name));
    }
    out.push_str(" ours/Sails | ours/bare |\n|---|");
    for _ in servers {
        out.push_str("---:|");
    }
    out.push_str("---:|---:|\n");
    for group in Group::ORDER {
        if group == Group::Startup {
            if let Some(startup) = startup {
                out.push_str(&startup::rows(startup));
            }
            continue;
        }
        let in_group = scenarios
            .iter()
            .enumerate()
            .filter(|(_, scenario)| scenario.group == group);
        for (index, scenario) in in_group {
            for row in &scenario.rows {
                out.push_str(&format!("| {}: {} |", scenario.name, row.label));
                for column in columns {
                    out.push_str(&format!(" {} |", cell_text(column, index, row, runs)));
                }
                let ours = figure(&columns[0], index, row).map(|(median, _, _)| median);
                for other in &columns[1..] {
                    let ratio = match (ours, figure(other, index, row)) {
                        (Some(ours), Some((theirs, _, _))) if theirs > 0.0 => {
                            format!("{:.2}", ours / theirs)
                        }
                        _ => "–".into(),
                    };
                    out.push_str(&format!(" {ratio} |"));
                }
                out.push('\n');
            }
        }
    }
    out.push_str("\nWhat could not be done (summed over runs):\n\n");
    let mut any = false;
    match startup {
        None | Some(Ok(_)) => {}
        Some(Err(Missing::NotAvailable(why))) => {
            any = true;
            out.push_str(&format!("- client start-up: not available ({why})\n"));
        }
        Some(Err(Missing::Failed(why))) => {
            any = true;
            out.push_str(&format!("- client start-up: failed: {why}\n"));
        }
    }
    let servers_ran = !scenarios.is_empty();
    for (server, column) in servers.iter().zip(columns).filter(|_| servers_ran) {
        let cells = match column {
            Ok(cells) => cells,
            Err(why) => {
                any = true;
                out.push_str(&format!("- {}: not available ({why})\n", server.name));
                continue;
            }
        };
        for (scenario, cell) in scenarios.iter().zip(cells) {
            let problems = problems(cell.runs.iter());
            if !problems.is_empty() {
                any = true;
                out.push_str(&format!(
                    "- {} / {}: {}\n",
                    server.name,
                    scenario.name,
                    problems.join(", ")
                ));
            }
            for why in &cell.failures {
                any = true;
                out.push_str(&format!(
                    "- {} / {}: run failed: {why}\n",
                    server.name, scenario.name
                ));
            }
        }
    }
    if !any {
        out.push_str("- nothing: every handshake, request and delivery completed.\n");
    }
    out
}

#[cfg(test)]
mod tests {
    use sails_bench_record::{ClientStartup, Scenario as Generator, StartupRecord};

    use super::*;
    use crate::{bench::load::Cell, packages::Binaries};

    fn record(scenario: &Scenario, value: f64) -> Record {
        let mut record =
            Record::new(Generator::from_name(&scenario.args[0]).expect("a generator scenario"));
        for row in &scenario.rows {
            record.set(row.key, value);
        }
        record
    }

    fn startup_record() -> StartupRecord {
        let spread = sails_bench_record::Spread {
            median: 100.0,
            min: 90.0,
            max: 120.0,
        };
        let client = ClientStartup {
            downloaded_ms: spread,
            connect_ms: spread,
            answered_ms: spread,
            bytes: 60_738,
            gzip_bytes: 26_857,
        };
        StartupRecord {
            runs: 5,
            ours: client,
            hinted: client,
            dist: client,
        }
    }

    #[test]
    fn the_quick_table_has_its_rows_in_group_order() {
        let scenarios = super::super::scenarios::scenarios(true);
        let servers = super::super::load::servers(Route::Debian, &Binaries::release());
        let columns: Vec<Column> = servers
            .iter()
            .zip([1000.0, 500.0, 2000.0])
            .map(|(server, value)| {
                Ok(scenarios
                    .iter()
                    .map(|scenario| {
                        let skipped = scenario.needs_models() && !server.has_models;
                        Cell {
                            runs: if skipped {
                                Vec::new()
                            } else {
                                vec![record(scenario, value)]
                            },
                            failures: Vec::new(),
                            skipped,
                        }
                    })
                    .collect())
            })
            .collect();
        let table = table(
            &scenarios,
            &servers,
            &columns,
            1,
            Some(&Ok(startup_record())),
        );
        let rows: Vec<&str> = table
            .lines()
            .filter(|line| line.starts_with("| "))
            .collect();
        assert_eq!(rows.len(), 1 + 16 + 6 + 1 + 4 + 8 + 9 + 18);
        assert_eq!(
            rows[0],
            "| figure | ours | Sails 1.5.18 | bare socketioxide | ours/Sails | ours/bare |"
        );
        assert_eq!(
            rows[1],
            "| 1. GET /hello, 100 sockets x 16: requests/s | 1,000 | 500 | 2,000 | 2.00 | 0.50 |"
        );
        let numbers: Vec<char> = rows[1..]
            .iter()
            .map(|row| row.chars().nth(2).expect("a group number"))
            .collect();
        assert!(numbers.is_sorted(), "{numbers:?}");
        assert!(rows.contains(
            &"| 5. client start-up, 5 page loads each (Sails column: sails.io.js-dist 1.2.1): \
               the same bytes, gzip -9 | 26,857 | 26,857 | – | 1.00 | – |"
        ));
        assert!(rows.contains(
            &"| 7. blueprint find GET /pet, 30 records, 20 sockets x 1: requests/s | 1,000 | 500 | – \
               | 2.00 | – |"
        ));
        assert!(table.contains("- nothing: every handshake, request and delivery completed."));
    }
}
