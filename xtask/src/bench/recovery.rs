//! `cargo xtask bench --recovery [--quick] [--runs N]`: what connection-state
//! recovery costs our server (the interop server), side by side in one run.
//!
//! - The cost of recording history: a fan-out to one room of plain sockets,
//!   then of sockets that opt in (each keeps a history of what it is sent),
//!   on the server with its default window; deliveries per server CPU-second.
//! - The `recovery` scenario: opted-in sockets join a room and are cut at
//!   once, the room is sent broadcasts, the sockets reconnect at once with
//!   their tokens: what came back, how soon, and the server's memory along
//!   the way; on the default window (2 minutes), then with
//!   `--recovery-window 0s` (the same sequence without ghosts, the memory
//!   baseline).
//!
//! The four settings take turns within each run, each on a fresh server
//! process pinned to CPU 0, the generator on CPU 1. The command fails when a
//! run could not complete, or when, with the window on, a socket did not
//! recover or a missed broadcast was lost, repeated or out of order.

use std::time::Instant;

use sails_bench_record::{Key, Record, Scenario as Generator};

use super::{
    load::{self, RUN_LIMIT},
    report,
    scenarios::Unit,
};
use crate::{
    error::{Error, Result},
    packages::{Binaries, LOADGEN_BIN},
    process::Stderr,
    toolchain::Route,
};

/// The server flag that turns recovery off.
const RECOVERY_OFF: [&str; 2] = ["--recovery-window", "0s"];

/// One setting of the sub-run: the server's flags after its own, and the
/// generator's arguments (the scenario's name first).
#[derive(Debug)]
struct Setting {
    label: String,
    server_args: Vec<String>,
    args: Vec<String>,
}

/// The settings in the order they take turns: the fan-out with plain
/// sockets, with opted-in ones, then the recovery scenario with recovery
/// on and off.
fn settings(quick: bool) -> [Setting; 4] {
    let strings = |args: &[&str]| args.iter().map(|arg| (*arg).to_owned()).collect();
    // The full run sends more broadcasts than a socket's history keeps
    // (1,000), so that it measures recording into a full history as well.
    let (sockets, rounds, broadcasts) = if quick {
        ("2000", "3", "50")
    } else {
        ("2000", "10", "1500")
    };
    let fanout: Vec<String> = strings(&[
        Generator::Fanout.name(),
        "--sockets",
        sockets,
        "--rounds",
        rounds,
        "--broadcasts",
        broadcasts,
    ]);
    // Enough broadcasts that what the ghosts record outgrows the memory the
    // cut sockets freed (fewer read as 0 to 80 bytes per event).
    let (cut, missed) = if quick {
        ("500", "100")
    } else {
        ("1000", "100")
    };
    let recovery: Vec<String> = strings(&[
        Generator::Recovery.name(),
        "--sockets",
        cut,
        "--broadcasts",
        missed,
    ]);
    let fanout_title = format!("fan-out, {} sockets in one room", thousands(sockets));
    let recovery_title = format!(
        "recovery, {} sockets cut, {missed} broadcasts missed",
        thousands(cut)
    );
    [
        Setting {
            label: format!("{fanout_title}, plain sockets"),
            server_args: Vec::new(),
            args: fanout.clone(),
        },
        Setting {
            label: format!("{fanout_title}, opted-in sockets"),
            server_args: Vec::new(),
            args: fanout.into_iter().chain(["--recover".to_owned()]).collect(),
        },
        Setting {
            label: format!("{recovery_title}, window 2m"),
            server_args: Vec::new(),
            args: recovery.clone(),
        },
        Setting {
            label: format!("{recovery_title}, window 0s (recovery off)"),
            server_args: strings(&RECOVERY_OFF),
            args: recovery,
        },
    ]
}

fn thousands(count: &str) -> String {
    count
        .parse::<f64>()
        .map_or_else(|_| count.to_owned(), |n| Unit::Rate.show(n))
}

const PLAIN: usize = 0;
const OPTED_IN: usize = 1;
const ON: usize = 2;
const OFF: usize = 3;

/// A line of the table: one or more figures of a setting, shown as `a / b`.
struct Line {
    label: &'static str,
    keys: &'static [Key],
    unit: Unit,
}

const fn line(label: &'static str, keys: &'static [Key], unit: Unit) -> Line {
    Line { label, keys, unit }
}

const FANOUT_LINES: &[Line] = &[
    line(
        "deliveries per server CPU-second",
        &[Key::PerCore],
        Unit::Rate,
    ),
    line("server µs CPU/delivery", &[Key::CpuUs], Unit::CpuMicros),
    line(
        "delivery p50 / p99 (ms)",
        &[Key::LatP50Us, Key::LatP99Us],
        Unit::Millis,
    ),
];

const RECOVERY_LINES: &[Line] = &[
    line("sockets recovered", &[Key::Recovered], Unit::Rate),
    line(
        "missing / duplicate / out-of-order deliveries",
        &[Key::MissingDeliveries, Key::Duplicates, Key::OutOfOrder],
        Unit::Rate,
    ),
    line(
        "reconnection burst to last missed broadcast, p50 / p99 / max (ms)",
        &[Key::RecoverP50Us, Key::RecoverP99Us, Key::RecoverMaxUs],
        Unit::Millis,
    ),
    line(
        "server RSS before / joined / cut / broadcasts recorded (MiB)",
        &[
            Key::RssBeforeKib,
            Key::RssJoinedKib,
            Key::RssCutKib,
            Key::RssRecordedKib,
        ],
        Unit::KiB,
    ),
    line(
        "bytes of RSS per disconnected socket (upper bound)",
        &[Key::BytesPerDisconnected],
        Unit::Bytes,
    ),
    line(
        "bytes of RSS per buffered event",
        &[Key::BytesPerBuffered],
        Unit::Bytes,
    ),
];

/// Runs the recovery bench and prints its report.
pub(super) fn run(
    route: Route,
    args: &[String],
    binaries: &Binaries,
    quick: bool,
    runs: usize,
) -> Result {
    let load_before = report::load_average();
    let started = Instant::now();
    let [ours, _sails, _bare] = load::servers(route, binaries);
    let loadgen = binaries.bin(LOADGEN_BIN);
    let settings = settings(quick);
    let mut records: [Vec<Record>; 4] = Default::default();
    let mut failures = Vec::new();
    for run in 1..=runs {
        println!("\n== bench: recovery, run {run}/{runs}");
        for (setting, records) in settings.iter().zip(records.iter_mut()) {
            let outcome = ours.start(route, &setting.server_args).and_then(|server| {
                let args = load::generator_args(&setting.args, &server);
                load::run_generator(
                    load::pinned(route, 1, &loadgen, &args),
                    RUN_LIMIT,
                    Stderr::Capture,
                )
            });
            match outcome {
                Ok(record) => {
                    println!("bench: {} run {run}/{runs}: {}", setting.label, {
                        let text: Vec<String> = record
                            .figures
                            .iter()
                            .map(|(key, value)| format!("{key}={value}"))
                            .collect();
                        text.join(" ")
                    });
                    records.push(record);
                }
                Err(why) => {
                    println!("bench: {} run {run}/{runs} FAILED: {why}", setting.label);
                    failures.push(why.within(setting.label.clone()));
                }
            }
        }
    }

    let mut text = report::header(route, args, &load_before, started);
    text.push_str(&format!(
        "Runs per figure: {runs} (median, then min–max), settings taking turns within each run\n\
         Pinning: server on CPU 0, generator on CPU 1; a fresh server per run\n\
         Bytes per disconnected socket: RSS after the cut minus before the sockets \
         connected, per socket (an upper bound: memory the sockets freed may stay in \
         the process)\n\n{}",
        table(&settings, &records)
    ));
    let problems = problems(&records);
    text.push_str(&format!(
        "\nWhat could not be done: {}\n",
        if problems.is_empty() && failures.is_empty() {
            "nothing: every handshake, join and delivery completed, and every cut socket \
             recovered every missed broadcast once, in order (window 2m)."
                .to_owned()
        } else {
            let mut lines = problems.clone();
            lines.extend(failures.iter().map(ToString::to_string));
            lines.join("; ")
        }
    ));
    report::publish(&text, "bench-recovery-report.md");
    if !problems.is_empty() {
        failures.push(Error::Check(problems.join("; ")));
    }
    Error::all(failures).map_err(|why| why.within("recovery bench incomplete"))
}

/// What went wrong in the runs that completed: everything the records
/// count, except, with recovery off, that nothing came back.
fn problems(records: &[Vec<Record>; 4]) -> Vec<String> {
    let mut problems = Vec::new();
    for (index, records) in records.iter().enumerate() {
        let mut keys: Vec<Key> = Key::PROBLEMS.to_vec();
        if index == ON {
            keys.extend([Key::NotRecovered, Key::Duplicates, Key::OutOfOrder]);
        }
        if index == OFF {
            keys.retain(|key| *key != Key::MissingDeliveries);
        }
        for key in keys {
            let total: f64 = records.iter().filter_map(|record| record.get(key)).sum();
            if total > 0.0 {
                let setting = [
                    "plain fan-out",
                    "opted-in fan-out",
                    "window 2m",
                    "window 0s",
                ];
                problems.push(format!("{}: {key}={total}", setting[index]));
            }
        }
    }
    problems
}

fn values(records: &[Record], key: Key) -> Vec<f64> {
    records
        .iter()
        .filter_map(|record| record.get(key))
        .collect()
}

fn median_min_max(mut values: Vec<f64>) -> Option<(f64, f64, f64)> {
    report::median_min_max(&mut values)
}

/// `combine(a, b)` of the medians of `key` in the settings `a` and `b`,
/// and the lowest and highest of `combine` over the runs, paired in order.
fn compare(
    records: &[Vec<Record>; 4],
    a: usize,
    b: usize,
    key: Key,
    combine: fn(f64, f64) -> f64,
) -> (Option<f64>, Option<(f64, f64)>) {
    let median = |index: usize| median_min_max(values(&records[index], key)).map(|(m, _, _)| m);
    let medians = median(a).zip(median(b)).map(|(a, b)| combine(a, b));
    let pairs: Vec<f64> = records[a]
        .iter()
        .zip(&records[b])
        .filter_map(|(a, b)| Some(combine(a.get(key)?, b.get(key)?)))
        .collect();
    let range = median_min_max(pairs).map(|(_, min, max)| (min, max));
    (medians, range)
}

/// The table: a row per figure and setting, then the ratio of the fan-outs
/// and the difference of the windows.
fn table(settings: &[Setting; 4], records: &[Vec<Record>; 4]) -> String {
    let dash = || "–".to_owned();
    let mut text = "| figure | median | min–max |\n|---|---:|---:|\n".to_owned();
    for (index, lines) in [
        (PLAIN, FANOUT_LINES),
        (OPTED_IN, FANOUT_LINES),
        (ON, RECOVERY_LINES),
        (OFF, RECOVERY_LINES),
    ] {
        for line in lines {
            let figures: Vec<Option<(f64, f64, f64)>> = line
                .keys
                .iter()
                .map(|key| median_min_max(values(&records[index], *key)))
                .collect();
            let unit = line.unit;
            let medians: Vec<String> = figures
                .iter()
                .map(|figure| figure.map_or_else(dash, |(median, _, _)| unit.show(median)))
                .collect();
            let ranges: Vec<String> = figures
                .iter()
                .map(|figure| {
                    figure.map_or_else(dash, |(_, min, max)| {
                        format!("{}–{}", unit.show(min), unit.show(max))
                    })
                })
                .collect();
            text.push_str(&format!(
                "| {}: {} | {} | {} |\n",
                settings[index].label,
                line.label,
                medians.join(" / "),
                ranges.join(" / ")
            ));
        }
        if index == OPTED_IN {
            let (median, range) = compare(records, PLAIN, OPTED_IN, Key::PerCore, |a, b| b / a);
            text.push_str(&format!(
                "| opted-in / plain, deliveries per server CPU-second | {} | {} |\n",
                median.map_or_else(dash, |v| format!("{v:.2}")),
                range.map_or_else(dash, |(min, max)| format!("{min:.2}–{max:.2}")),
            ));
        }
    }
    let (median, range) = compare(records, OFF, ON, Key::BytesPerDisconnected, |off, on| {
        on - off
    });
    text.push_str(&format!(
        "| bytes of RSS per disconnected socket, window 2m minus window 0s | {} | {} |\n",
        median.map_or_else(dash, |v| format!("{v:.0}")),
        range.map_or_else(dash, |(min, max)| format!("{min:.0}–{max:.0}")),
    ));
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_settings_take_turns_on_the_same_sequence() {
        for quick in [false, true] {
            let [plain, opted_in, on, off] = settings(quick);
            assert_eq!(plain.args[0], "fanout");
            assert_eq!(
                opted_in.args,
                plain
                    .args
                    .iter()
                    .cloned()
                    .chain(["--recover".to_owned()])
                    .collect::<Vec<_>>()
            );
            assert!(plain.server_args.is_empty() && opted_in.server_args.is_empty());
            assert_eq!(on.args, off.args);
            assert_eq!(Generator::from_name(&on.args[0]), Some(Generator::Recovery));
            assert!(on.server_args.is_empty());
            assert_eq!(off.server_args, ["--recovery-window", "0s"]);
        }
        let [plain, _, on, _] = settings(false);
        assert_eq!(
            plain.args.join(" "),
            "fanout --sockets 2000 --rounds 10 --broadcasts 1500"
        );
        assert_eq!(
            on.args.join(" "),
            "recovery --sockets 1000 --broadcasts 100"
        );
        assert_eq!(
            on.label,
            "recovery, 1,000 sockets cut, 100 broadcasts missed, window 2m"
        );
    }

    #[test]
    fn the_table_shows_the_ratio_and_the_difference() {
        let record = |scenario, figures: &[(Key, f64)]| {
            let mut record = Record::new(scenario);
            for (key, value) in figures {
                record.set(*key, *value);
            }
            record
        };
        let fanout = |per_core| record(Generator::Fanout, &[(Key::PerCore, per_core)]);
        let recovery = |bytes| {
            record(
                Generator::Recovery,
                &[(Key::BytesPerDisconnected, bytes), (Key::Recovered, 1000.0)],
            )
        };
        let records = [
            vec![fanout(1000.0), fanout(2000.0)],
            vec![fanout(900.0), fanout(1600.0)],
            vec![recovery(5000.0), recovery(6000.0)],
            vec![recovery(3000.0), recovery(3500.0)],
        ];
        let text = table(&settings(false), &records);
        assert!(
            text.contains(
                "| opted-in / plain, deliveries per server CPU-second | 0.83 | 0.80–0.90 |"
            ),
            "{text}"
        );
        assert!(
            text.contains(
                "| bytes of RSS per disconnected socket, window 2m minus window 0s | 2250 | 2000–2500 |"
            ),
            "{text}"
        );
        assert!(
            text.contains("window 2m: sockets recovered | 1,000 | 1,000–1,000 |"),
            "{text}"
        );
        assert!(problems(&records).is_empty());
        let mut lossy = records.clone();
        lossy[ON][0].set(Key::Duplicates, 2.0);
        lossy[OFF][0].set(Key::MissingDeliveries, 20.0);
        assert_eq!(problems(&lossy), ["window 2m: duplicates=2"]);
    }
}
