//! `cargo xtask bench [--quick] [--runs N] [--only startup]`: the same load
//! generator against our interop server, a real Sails app and a bare
//! socketioxide server, one after the other on free ports, then the client
//! start-up in Chromium (our client against sails.io.js-dist), and one table
//! with every figure, followed by the instructions per call of the
//! per-request hot paths against their baseline (`instructions`).
//! `cargo xtask bench --soak [--soak-seconds S]`: the soak of our server alone.
//!
//! Each server runs pinned to CPU 0 and the generator to CPU 1 (`taskset`),
//! and a fresh server process serves each scenario run. The command fails
//! only when a run against our server or the bare one, the start-up script
//! or valgrind could not complete, never on a figure (`--only instructions`
//! also fails on a count more than 20% above its baseline, as the test
//! layer does). A Sails app that is missing or does not lift, a start-up run
//! without Chromium or the npm packages, or counts without valgrind, are
//! reported as "not available".

use std::{
    collections::BTreeMap,
    fs,
    io::Read,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use crate::{
    instructions,
    process::{self, Background},
    toolchain::{self, Route},
};

const BUILD_LIMIT: Duration = Duration::from_secs(30 * 60);
/// A Sails app can take a while to lift.
const READY_LIMIT: Duration = Duration::from_secs(60);
/// No single generator run may take longer.
const RUN_LIMIT: Duration = Duration::from_secs(5 * 60);
/// The soak runs this long unless told otherwise.
const SOAK_SECONDS: u64 = 600;
/// Page loads per client in the start-up figures (a quick run: fewer).
const STARTUP_RUNS: usize = 20;
const STARTUP_RUNS_QUICK: usize = 5;
/// The start-up script's exit status when Chromium or the npm packages are missing.
const NOT_AVAILABLE: i32 = 3;
const USAGE: &str = "usage: cargo xtask bench [--quick] [--runs N] [--only startup] | \
                     cargo xtask bench --only instructions [--save-baseline] | \
                     cargo xtask bench --soak [--soak-seconds S]";

/// Counters a generator run reports when something could not be done.
const PROBLEMS: [&str; 10] = [
    "refused",
    "http_error",
    "rejected",
    "timed_out",
    "connect_error",
    "missing_acks",
    "bad_status",
    "broken",
    "missing_deliveries",
    "join_failed",
];

/// How a figure is shown.
#[derive(Clone, Copy)]
enum Unit {
    /// Per second, no decimals.
    Rate,
    /// Microseconds of CPU.
    CpuMicros,
    /// Microseconds of latency, shown in milliseconds.
    Millis,
    /// Bytes, shown in KiB.
    KiB,
    /// A fraction, shown in percent.
    Percent,
    /// Milliseconds, shown with one decimal.
    Ms,
    /// A count of bytes, shown in full.
    Bytes,
    /// KiB, shown in MiB.
    MiB,
}

impl Unit {
    fn show(self, value: f64) -> String {
        match self {
            Unit::Rate => thousands(value),
            Unit::CpuMicros => format!("{value:.1}"),
            Unit::Millis => format!("{:.2}", value / 1000.0),
            Unit::KiB => format!("{:.2}", value / 1024.0),
            Unit::Percent => format!("{:.0}", value * 100.0),
            Unit::Ms => format!("{value:.1}"),
            Unit::Bytes => thousands(value),
            Unit::MiB => format!("{:.1}", value / 1024.0),
        }
    }
}

fn thousands(value: f64) -> String {
    let digits = format!("{:.0}", value.max(0.0));
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// One line of the table: a figure the generator reports under `key`.
struct Row {
    label: String,
    key: &'static str,
    unit: Unit,
}

/// One generator invocation, run against every server.
struct Scenario {
    name: String,
    args: Vec<String>,
    rows: Vec<Row>,
}

fn scenario(name: &str, args: &[String], rows: &[(&str, &'static str, Unit)]) -> Scenario {
    Scenario {
        name: name.to_owned(),
        args: args.to_vec(),
        rows: rows
            .iter()
            .map(|(label, key, unit)| Row {
                label: format!("{name}: {label}"),
                key,
                unit: *unit,
            })
            .collect(),
    }
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|arg| (*arg).to_owned()).collect()
}

/// The scenarios of a full run, or of a quick one (smaller, shorter).
fn scenarios(quick: bool) -> Vec<Scenario> {
    let seconds = if quick { "1" } else { "3" };
    let request_rows = [
        ("requests/s", "rate", Unit::Rate),
        ("server µs CPU/request", "cpu_us", Unit::CpuMicros),
        ("requests per server CPU-second", "per_core", Unit::Rate),
        ("server CPU busy (%)", "cpu_busy", Unit::Percent),
        ("generator CPU busy (%)", "gen_busy", Unit::Percent),
        ("p50 latency (ms)", "lat_p50_us", Unit::Millis),
        ("p99 latency (ms)", "lat_p99_us", Unit::Millis),
        ("p99.9 latency (ms)", "lat_p999_us", Unit::Millis),
    ];
    let mut list = vec![
        scenario(
            "1. GET /hello, 100 sockets x 16",
            &strings(&["requests", "--sockets", "100", "--in-flight", "16"])
                .into_iter()
                .chain(strings(&[
                    "--seconds",
                    seconds,
                    "--method",
                    "get",
                    "--path",
                    "/hello",
                ]))
                .collect::<Vec<_>>(),
            &request_rows,
        ),
        scenario(
            "1. POST /echo 1 KB, 100 sockets x 16",
            &strings(&["requests", "--sockets", "100", "--in-flight", "16"])
                .into_iter()
                .chain(strings(&[
                    "--seconds",
                    seconds,
                    "--method",
                    "post",
                    "--path",
                    "/echo",
                ]))
                .chain(strings(&["--body-bytes", "1024"]))
                .collect::<Vec<_>>(),
            &request_rows,
        ),
    ];
    let fanout_sizes: &[&str] = if quick { &["2000"] } else { &["2000", "10000"] };
    let (rounds, deliveries) = if quick {
        ("3", 50_000)
    } else {
        ("10", 200_000)
    };
    for sockets in fanout_sizes {
        // Enough deliveries that the server's CPU time is many clock ticks.
        let broadcasts = (deliveries / sockets.parse::<usize>().unwrap_or(1)).max(5);
        list.push(scenario(
            &format!("2. fan-out, {sockets} sockets in one room"),
            &strings(&[
                "fanout",
                "--sockets",
                sockets,
                "--rounds",
                rounds,
                "--broadcasts",
                &broadcasts.to_string(),
            ]),
            &[
                ("deliveries/s", "rate", Unit::Rate),
                ("server µs CPU/delivery", "cpu_us", Unit::CpuMicros),
                ("deliveries per server CPU-second", "per_core", Unit::Rate),
                ("delivery p50 (ms)", "lat_p50_us", Unit::Millis),
                ("delivery p99 (ms)", "lat_p99_us", Unit::Millis),
                ("all delivered, max (ms)", "lat_max_us", Unit::Millis),
            ],
        ));
    }
    let idle_sizes: &[&str] = if quick { &["5000"] } else { &["5000", "19000"] };
    for sockets in idle_sizes {
        list.push(scenario(
            &format!("3. {sockets} idle sockets"),
            &strings(&["idle", "--sockets", sockets]),
            &[(
                "KiB of server RSS per socket",
                "bytes_per_socket",
                Unit::KiB,
            )],
        ));
    }
    let burst = if quick { "2000" } else { "10000" };
    list.push(scenario(
        &format!("4. handshake burst of {burst}"),
        &strings(&["handshakes", "--sockets", burst, "--concurrency", "100"]),
        &[
            ("handshakes/s", "rate", Unit::Rate),
            ("server µs CPU/handshake", "cpu_us", Unit::CpuMicros),
            ("handshakes per server CPU-second", "per_core", Unit::Rate),
            ("handshake p99 (ms)", "lat_p99_us", Unit::Millis),
        ],
    ));
    let curve: &[usize] = if quick {
        &[1, 100, 1000]
    } else {
        &[1, 10, 100, 1000, 10000]
    };
    for &sockets in curve {
        // 16 in flight per socket up to 100 sockets, then fewer (1 per socket from 1,000).
        let in_flight = (1600 / sockets).clamp(1, 16);
        list.push(scenario(
            &format!("6. GET /hello, {sockets} sockets x {in_flight}"),
            &strings(&[
                "requests",
                "--sockets",
                &sockets.to_string(),
                "--in-flight",
                &in_flight.to_string(),
                "--seconds",
                seconds,
                "--concurrency",
                "256",
            ]),
            &[
                ("requests/s", "rate", Unit::Rate),
                ("server µs CPU/request", "cpu_us", Unit::CpuMicros),
                ("p99 latency (ms)", "lat_p99_us", Unit::Millis),
            ],
        ));
    }
    list
}

/// A server under test.
struct Server {
    name: &'static str,
    program: PathBuf,
    args: Vec<String>,
    /// Whether a failure to start or run fails the bench.
    required: bool,
}

/// What one generator run produced.
type Figures = BTreeMap<String, f64>;

/// The results of one scenario on one server.
#[derive(Default)]
struct Cell {
    runs: Vec<Figures>,
    failures: Vec<String>,
}

/// What `cargo xtask bench` was asked for.
#[derive(Debug, PartialEq)]
struct Request {
    quick: bool,
    runs: usize,
    /// Only the client start-up, no server scenario.
    startup_only: bool,
    /// Only the instruction counts; with `save_baseline`, written as the new baseline.
    instructions_only: bool,
    save_baseline: bool,
    /// The soak alone, for this many seconds.
    soak_seconds: Option<u64>,
}

fn positive(flag: &str, value: Option<&String>) -> Result<usize, String> {
    let value = value.ok_or(USAGE)?;
    value
        .parse::<usize>()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| format!("{flag}: `{value}` is not a positive number"))
}

fn parse_args(args: &[String]) -> Result<Request, String> {
    let mut quick = false;
    let mut runs = None;
    let mut startup_only = false;
    let mut instructions_only = false;
    let mut save_baseline = false;
    let mut soak = false;
    let mut soak_seconds = None;
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--quick" => quick = true,
            "--runs" => runs = Some(positive(arg, rest.next())?),
            "--only" => match rest.next().map(String::as_str) {
                Some("startup") => startup_only = true,
                Some("instructions") => instructions_only = true,
                _ => return Err(USAGE.into()),
            },
            "--save-baseline" => save_baseline = true,
            "--soak" => soak = true,
            "--soak-seconds" => soak_seconds = Some(positive(arg, rest.next())? as u64),
            _ => return Err(USAGE.into()),
        }
    }
    let soak_seconds = match (soak, soak_seconds) {
        (true, seconds) if !quick && runs.is_none() && !startup_only && !instructions_only => {
            Some(seconds.unwrap_or(SOAK_SECONDS))
        }
        (false, None) => None,
        _ => return Err(USAGE.into()),
    };
    if (save_baseline && !instructions_only) || (startup_only && instructions_only) {
        return Err(USAGE.into());
    }
    Ok(Request {
        quick,
        runs: runs.unwrap_or(if quick { 1 } else { 3 }),
        startup_only,
        instructions_only,
        save_baseline,
        soak_seconds,
    })
}

/// `taskset -c <cpu> program args…` when `taskset` exists and there are two CPUs.
fn pinned(route: Route, cpu: u32, program: &Path, args: &[String]) -> Command {
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

/// How a generator or script run ended.
struct Finished {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

/// Runs `cmd` for at most `limit`, capturing its stdout, and its stderr
/// unless `show_stderr` (progress lines then reach the terminal).
fn run_captured(mut cmd: Command, limit: Duration, show_stderr: bool) -> Result<Finished, String> {
    let line = process::describe(&cmd);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(if show_stderr {
            Stdio::inherit()
        } else {
            Stdio::piped()
        })
        .spawn()
        .map_err(|err| format!("could not start `{line}`: {err}"))?;
    let drain = |mut pipe: Box<dyn Read + Send>| {
        thread::spawn(move || {
            let mut text = String::new();
            let _ = pipe.read_to_string(&mut text);
            text
        })
    };
    let stdout = drain(Box::new(child.stdout.take().expect("stdout is piped")));
    let stderr = child.stderr.take().map(|pipe| drain(Box::new(pipe)));
    let deadline = Instant::now() + limit;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(format!("`{line}` ran past {}s", limit.as_secs()));
            }
            Ok(None) => thread::sleep(Duration::from_millis(50)),
            Err(err) => return Err(err.to_string()),
        }
    };
    Ok(Finished {
        code: status.code(),
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr
            .map(|reader| reader.join().unwrap_or_default())
            .unwrap_or_default(),
    })
}

/// The figures of a `result key=value …` line on stdout.
fn result_line(stdout: &str) -> Result<Figures, String> {
    let result = stdout
        .lines()
        .rev()
        .find_map(|line| line.strip_prefix("result "))
        .ok_or("no result line")?;
    Ok(result
        .split_ascii_whitespace()
        .filter_map(|pair| pair.split_once('='))
        .filter_map(|(key, value)| Some((key.to_owned(), value.parse().ok()?)))
        .collect())
}

/// Runs the generator; returns its figures or why it failed (with its stderr).
fn run_generator(cmd: Command, limit: Duration, show_progress: bool) -> Result<Figures, String> {
    let finished = run_captured(cmd, limit, show_progress)?;
    if finished.code != Some(0) {
        return Err(format!(
            "generator failed ({:?}): {}",
            finished.code,
            finished.stderr.trim()
        ));
    }
    result_line(&finished.stdout).map_err(|why| format!("the generator printed {why}"))
}

fn median_min_max(values: &mut [f64]) -> Option<(f64, f64, f64)> {
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

fn load_average() -> String {
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

/// One run of `scenario` against a fresh `server` process. The outer error
/// means the server did not start; the inner one that the run failed.
fn bench_once(
    route: Route,
    server: &Server,
    scenario: &Scenario,
    run: usize,
    runs: usize,
    loadgen: &Path,
) -> Result<Result<Figures, String>, String> {
    let mut cmd = pinned(route, 0, &server.program, &server.args);
    let background = Background::start(&mut cmd, READY_LIMIT)
        .map_err(|why| format!("{} did not start: {why}", server.name))?;
    let mut args = scenario.args.clone();
    args.extend([
        "--url".to_owned(),
        background.url.clone(),
        "--server-pid".to_owned(),
        background.pid().to_string(),
    ]);
    let outcome = run_generator(pinned(route, 1, loadgen, &args), RUN_LIMIT, false);
    drop(background);
    match &outcome {
        Ok(figures) => {
            let summary: Vec<String> = scenario
                .rows
                .iter()
                .filter_map(|row| {
                    let value = figures.get(row.key)?;
                    let label = row.label.rsplit(": ").next().unwrap_or(&row.label);
                    Some(format!("{label} {}", row.unit.show(*value)))
                })
                .collect();
            println!(
                "bench: {} run {run}/{runs}: {}",
                server.name,
                summary.join(", ")
            );
        }
        Err(why) => println!("bench: {} run {run}/{runs} FAILED: {why}", server.name),
    }
    Ok(outcome)
}

/// Why the start-up figures are missing.
enum Missing {
    /// Chromium, node or the npm packages are not there.
    NotAvailable(String),
    /// The script ran and failed.
    Failed(String),
}

/// Our client's two pages in the start-up group: the script's key prefix
/// and what the row label says of the page.
const STARTUP_PAGES: [(&str, &str); 2] = [
    ("ours", ""),
    ("hinted", ", our page with a preload hint for the wasm"),
];

/// The start-up rows: label, the script's key (after `ours_` or `dist_`), unit.
const STARTUP_ROWS: [(&str, &str, Unit); 5] = [
    (
        "navigation to the client's files downloaded (ms)",
        "downloaded_ms",
        Unit::Ms,
    ),
    ("navigation to `connect` (ms)", "connect_ms", Unit::Ms),
    (
        "navigation to the first answered `GET /hello` (ms)",
        "answered_ms",
        Unit::Ms,
    ),
    ("bytes downloaded (script + wasm)", "bytes", Unit::Bytes),
    ("the same bytes, gzip -9", "gzip_bytes", Unit::Bytes),
];

/// The group 5 rows: our client in the "ours" column, sails.io.js-dist in the Sails one.
fn startup_rows(startup: &Result<Figures, Missing>) -> String {
    let mut out = String::new();
    let runs = startup
        .as_ref()
        .ok()
        .and_then(|figures| figures.get("runs"))
        .map_or_else(String::new, |runs| format!(", {runs} page loads each"));
    let absent = match startup {
        Err(Missing::NotAvailable(_)) => "not available",
        _ => "failed",
    };
    let rows = STARTUP_PAGES.iter().flat_map(|&(page, page_label)| {
        STARTUP_ROWS
            .iter()
            .filter(move |(_, key, _)| page == "ours" || key.ends_with("_ms"))
            .map(move |&(label, key, unit)| (page, page_label, label, key, unit))
    });
    for (page, page_label, label, key, unit) in rows {
        let figure = |client: &str| -> Option<(f64, String)> {
            let figures = startup.as_ref().ok()?;
            let key = format!("{client}_{key}");
            let median = *figures.get(&key)?;
            let range = (
                figures.get(&format!("{key}_min")),
                figures.get(&format!("{key}_max")),
            );
            Some(match range {
                (Some(min), Some(max)) => (
                    median,
                    format!(
                        "{} ({}–{})",
                        unit.show(median),
                        unit.show(*min),
                        unit.show(*max)
                    ),
                ),
                _ => (median, unit.show(median)),
            })
        };
        let (ours, dist) = (figure(page), figure("dist"));
        let ratio = match (&ours, &dist) {
            (Some((ours, _)), Some((dist, _))) if *dist > 0.0 => format!("{:.2}", ours / dist),
            _ => "–".into(),
        };
        let text = |figure: Option<(f64, String)>| figure.map_or(absent.into(), |(_, text)| text);
        out.push_str(&format!(
            "| 5. client start-up{runs} (Sails column: sails.io.js-dist 1.2.1){page_label}: {label} | {} | {} | – | {ratio} | – |\n",
            text(ours),
            text(dist),
        ));
    }
    out
}

/// The Markdown report: the table, then everything that could not be done.
fn report(
    scenarios: &[Scenario],
    servers: &[Server],
    results: &[Result<Vec<Cell>, String>],
    runs: usize,
    startup: &Result<Figures, Missing>,
) -> String {
    let mut out = String::new();
    let value = |server: usize, scenario: usize, row: &Row| -> Option<(f64, f64, f64)> {
        let cells = results[server].as_ref().ok()?;
        let mut values: Vec<f64> = cells[scenario]
            .runs
            .iter()
            .filter_map(|figures| figures.get(row.key).copied())
            .collect();
        median_min_max(&mut values)
    };
    let cell_text = |server: usize, scenario: usize, row: &Row| -> String {
        match (&results[server], value(server, scenario, row)) {
            (Err(_), _) => "not available".into(),
            (Ok(_), None) => "failed".into(),
            (Ok(_), Some((median, min, max))) if runs > 1 => format!(
                "{} ({}–{})",
                row.unit.show(median),
                row.unit.show(min),
                row.unit.show(max)
            ),
            (Ok(_), Some((median, _, _))) => row.unit.show(median),
        }
    };
    out.push_str("| figure |");
    for server in servers {
        out.push_str(&format!(" {} |", server.name));
    }
    out.push_str(" ours/Sails | ours/bare |\n|---|");
    for _ in servers {
        out.push_str("---:|");
    }
    out.push_str("---:|---:|\n");
    // Group 5 goes between the server scenarios numbered below and above it.
    let mut startup_shown = false;
    for (s, scenario) in scenarios.iter().enumerate() {
        if !startup_shown && scenario.name.as_str() > "5." {
            out.push_str(&startup_rows(startup));
            startup_shown = true;
        }
        for row in &scenario.rows {
            out.push_str(&format!("| {} |", row.label));
            for server in 0..servers.len() {
                out.push_str(&format!(" {} |", cell_text(server, s, row)));
            }
            let ours = value(0, s, row).map(|(median, _, _)| median);
            for other in [1, 2] {
                let ratio = match (ours, value(other, s, row)) {
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
    if !startup_shown {
        out.push_str(&startup_rows(startup));
    }
    out.push_str("\nWhat could not be done (summed over runs):\n\n");
    let mut any = false;
    match startup {
        Ok(_) => {}
        Err(Missing::NotAvailable(why)) => {
            any = true;
            out.push_str(&format!("- client start-up: not available ({why})\n"));
        }
        Err(Missing::Failed(why)) => {
            any = true;
            out.push_str(&format!("- client start-up: failed: {why}\n"));
        }
    }
    let servers_ran = !scenarios.is_empty();
    for (server, result) in servers.iter().zip(results).filter(|_| servers_ran) {
        let cells = match result {
            Ok(cells) => cells,
            Err(why) => {
                any = true;
                out.push_str(&format!("- {}: not available ({why})\n", server.name));
                continue;
            }
        };
        for (scenario, cell) in scenarios.iter().zip(cells) {
            let problems: Vec<String> = PROBLEMS
                .iter()
                .filter_map(|key| {
                    let total: f64 = cell.runs.iter().filter_map(|f| f.get(*key)).sum();
                    (total > 0.0).then(|| format!("{key}={total}"))
                })
                .collect();
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

/// Our client and sails.io.js-dist loading in headless Chromium from our
/// interop server (`tests/bench/startup.mjs`, one server for every load).
fn bench_startup(route: Route, release: &Path, quick: bool) -> Result<Figures, Missing> {
    let root = toolchain::workspace_root();
    if toolchain::which(route, "node").is_none() {
        return Err(Missing::NotAvailable("node is missing".into()));
    }
    let runs = if quick {
        STARTUP_RUNS_QUICK
    } else {
        STARTUP_RUNS
    };
    let mut cmd = toolchain::command(route, "node");
    cmd.arg(root.join("tests/bench/startup.mjs"))
        .args(["--runs", &runs.to_string()])
        .env("SAILS_INTEROP_BIN", release.join("examples/interop"))
        .env("SAILS_WWW", root.join("www"));
    println!(
        "\n== bench: 5. client start-up\n$ {}",
        process::describe(&cmd)
    );
    let finished = run_captured(cmd, RUN_LIMIT, false).map_err(Missing::Failed)?;
    let why = || {
        let stderr = finished.stderr.trim();
        stderr.lines().last().unwrap_or(stderr).to_owned()
    };
    let figures = match finished.code {
        Some(0) => result_line(&finished.stdout)
            .map_err(|why| Missing::Failed(format!("the start-up script printed {why}")))?,
        Some(NOT_AVAILABLE) => return Err(Missing::NotAvailable(why())),
        code => {
            let message = format!(
                "start-up script failed ({code:?}): {}",
                finished.stderr.trim()
            );
            println!("bench: {message}");
            return Err(Missing::Failed(message));
        }
    };
    let shown: Vec<String> = [("ours", "ours"), ("dist", "sails.io.js-dist")]
        .iter()
        .map(|(key, name)| {
            let ms = |figure: &str| {
                figures
                    .get(&format!("{key}_{figure}_ms"))
                    .map_or_else(|| "?".into(), |ms| Unit::Ms.show(*ms))
            };
            format!(
                "{name} connect {} ms, answered {} ms",
                ms("connect"),
                ms("answered")
            )
        })
        .collect();
    println!("bench: start-up medians: {}", shown.join("; "));
    Ok(figures)
}

/// The first lines of a report: where, when, what ran.
fn header(route: Route, args: &[String], load_before: &str, started: Instant) -> String {
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
fn publish(text: &str, name: &str) {
    println!("\n== bench report\n\n{text}");
    let saved = toolchain::target_dir().join(name);
    if fs::write(&saved, text).is_ok() {
        println!("(also written to {})", saved.display());
    }
}

/// The soak rows: label, the generator's key, unit.
const SOAK_ROWS: [(&str, &str, Unit); 21] = [
    ("sockets held", "sockets", Unit::Rate),
    ("seconds of load", "seconds", Unit::Rate),
    (
        "requests intended (1 per socket per second)",
        "intended",
        Unit::Rate,
    ),
    ("requests sent", "sent", Unit::Rate),
    ("requests answered", "answered", Unit::Rate),
    ("requests sent per second", "rate", Unit::Rate),
    ("server µs CPU/request", "cpu_us", Unit::CpuMicros),
    ("server CPU busy (%)", "cpu_busy", Unit::Percent),
    ("generator CPU busy (%)", "gen_busy", Unit::Percent),
    ("p50 latency (ms)", "lat_p50_us", Unit::Millis),
    ("p99 latency (ms)", "lat_p99_us", Unit::Millis),
    ("max latency (ms)", "lat_max_us", Unit::Millis),
    (
        "requests sent behind schedule, p99 (ms)",
        "send_delay_p99_us",
        Unit::Millis,
    ),
    (
        "requests sent behind schedule, max (ms)",
        "send_delay_max_us",
        Unit::Millis,
    ),
    (
        "server RSS, sockets connected, before the load (MiB)",
        "rss_idle_kib",
        Unit::MiB,
    ),
    (
        "server RSS, first sample under load (MiB)",
        "rss_first_kib",
        Unit::MiB,
    ),
    ("server RSS at the end (MiB)", "rss_end_kib", Unit::MiB),
    ("server RSS, highest sample (MiB)", "rss_max_kib", Unit::MiB),
    (
        "server RSS growth, first sample under load to the end (MiB)",
        "rss_growth_kib",
        Unit::MiB,
    ),
    ("missing acks", "missing_acks", Unit::Rate),
    ("sockets closed", "broken", Unit::Rate),
];

/// The soak: our server alone, every socket sending one request a second.
fn soak(
    route: Route,
    args: &[String],
    release: &Path,
    loadgen: &Path,
    seconds: u64,
) -> Result<(), String> {
    let load_before = load_average();
    let started = Instant::now();
    println!("\n== bench: soak, {seconds} s");
    let mut cmd = pinned(
        route,
        0,
        &release.join("examples/interop"),
        &strings(&["--port", "0"]),
    );
    let background = Background::start(&mut cmd, READY_LIMIT)
        .map_err(|why| format!("ours did not start: {why}"))?;
    let loadgen_args = strings(&["soak", "--seconds", &seconds.to_string(), "--url"])
        .into_iter()
        .chain([
            background.url.clone(),
            "--server-pid".into(),
            background.pid().to_string(),
        ])
        .collect::<Vec<_>>();
    // Connecting, settling and draining come on top of the load itself.
    let limit = Duration::from_secs(seconds) + RUN_LIMIT;
    let outcome = run_generator(pinned(route, 1, loadgen, &loadgen_args), limit, true);
    drop(background);
    let figures = outcome?;
    let mut text = header(route, args, &load_before, started);
    text.push_str(
        "Pinning: server on CPU 0, generator on CPU 1\n\n| figure | ours |\n|---|---:|\n",
    );
    for (label, key, unit) in SOAK_ROWS {
        let value = figures
            .get(key)
            .map_or_else(|| "–".into(), |value| unit.show(*value));
        text.push_str(&format!("| soak: {label} | {value} |\n"));
    }
    let problems: Vec<String> = PROBLEMS
        .iter()
        .filter_map(|key| {
            let count = figures.get(*key).copied().unwrap_or(0.0);
            (count > 0.0).then(|| format!("{key}={count}"))
        })
        .collect();
    text.push_str(&format!(
        "\nWhat could not be done: {}\n",
        if problems.is_empty() {
            "nothing: every handshake and request completed.".to_owned()
        } else {
            problems.join(", ")
        }
    ));
    publish(&text, "bench-soak-report.md");
    Ok(())
}

/// Builds the release binaries, benches every server and the client
/// start-up (or runs the soak), prints the report.
pub(crate) fn run(route: Route, args: &[String]) -> Result<(), String> {
    let request = parse_args(args)?;
    let runs = request.runs;
    let root = toolchain::workspace_root();
    let mut build = toolchain::command(route, "cargo");
    build.args([
        "build",
        "--release",
        "--package",
        toolchain::APP_PACKAGE,
        "--example",
        "interop",
        "--package",
        "sails-bench",
        "--bins",
    ]);
    process::run(&mut build, BUILD_LIMIT).map_err(|err| err.to_string())?;
    let release = toolchain::target_dir().join("release");
    let loadgen = release.join("sails-loadgen");
    if let Some(seconds) = request.soak_seconds {
        return soak(route, args, &release, &loadgen, seconds);
    }
    if request.instructions_only {
        let counts = instructions::count(route, &release);
        println!("{}", instructions::report(&counts));
        let problems = instructions::problems(&counts);
        return match (&counts, request.save_baseline) {
            (Ok(counts), true) => instructions::save_baseline(counts),
            (Err(instructions::NoCounts::NotAvailable(why)), _) => Err(why.clone()),
            _ if problems.is_empty() => Ok(()),
            _ => Err(format!("bench: {}", problems.join("; "))),
        };
    }

    let sails_app = root.join("tests/sails-app/app.js");
    let servers = [
        Server {
            name: "ours",
            program: release.join("examples/interop"),
            args: vec!["--port".into(), "0".into()],
            required: true,
        },
        Server {
            name: "Sails 1.5.18",
            program: toolchain::which(route, "node").unwrap_or_else(|| "node".into()),
            args: vec![
                sails_app.to_string_lossy().into_owned(),
                "--port".into(),
                "0".into(),
            ],
            required: false,
        },
        Server {
            name: "bare socketioxide",
            program: release.join("bare-socketioxide"),
            args: vec!["--port".into(), "0".into()],
            required: true,
        },
    ];
    let scenarios = if request.startup_only {
        Vec::new()
    } else {
        scenarios(request.quick)
    };
    let load_before = load_average();
    let started = Instant::now();
    // Servers take turns within each run of each scenario, so that load
    // from elsewhere on the machine falls on all of them alike.
    let mut results: Vec<Result<Vec<Cell>, String>> = servers
        .iter()
        .map(|server| {
            if !server.required && !sails_app.is_file() {
                return Err("tests/sails-app/app.js is missing".into());
            }
            Ok(scenarios.iter().map(|_| Cell::default()).collect())
        })
        .collect();
    for (index, scenario) in scenarios.iter().enumerate() {
        println!("\n== bench: {}", scenario.name);
        for run in 1..=runs {
            for (server, result) in servers.iter().zip(results.iter_mut()) {
                let Ok(cells) = result else { continue };
                match bench_once(route, server, scenario, run, runs, &loadgen) {
                    Ok(Ok(figures)) => cells[index].runs.push(figures),
                    Ok(Err(why)) => cells[index].failures.push(why),
                    Err(why) => {
                        println!("bench: {why}");
                        *result = Err(why);
                    }
                }
            }
        }
    }
    let startup = bench_startup(route, &release, request.quick);
    let counts = if request.startup_only {
        Err(instructions::NoCounts::NotAvailable("not asked for".into()))
    } else {
        instructions::count(route, &release)
    };

    let mut text = header(route, args, &load_before, started);
    if !scenarios.is_empty() {
        text.push_str(&format!(
            "Runs per figure: {runs} (median, then min–max when more than one)\n\
             Pinning: servers on CPU 0, generator on CPU 1\n"
        ));
    }
    text.push('\n');
    text.push_str(&report(&scenarios, &servers, &results, runs, &startup));
    if !request.startup_only {
        text.push_str(&instructions::report(&counts));
    }
    publish(&text, "bench-report.md");

    let mut incomplete = Vec::new();
    for (server, result) in servers.iter().zip(&results) {
        match result {
            Err(why) if server.required => incomplete.push(why.clone()),
            Ok(cells) if server.required => {
                let failed: usize = cells.iter().map(|cell| cell.failures.len()).sum();
                if failed > 0 {
                    incomplete.push(format!("{}: {failed} run(s) failed", server.name));
                }
            }
            _ => {}
        }
    }
    if let Err(Missing::Failed(why)) = &startup {
        incomplete.push(format!("client start-up: {why}"));
    }
    if let Err(instructions::NoCounts::Failed(why)) = &counts {
        incomplete.push(format!("instruction counts: {why}"));
    }
    if incomplete.is_empty() {
        Ok(())
    } else {
        Err(format!("bench incomplete: {}", incomplete.join("; ")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(args: &[&str]) -> Result<Request, String> {
        parse_args(&strings(args))
    }

    #[test]
    fn bench_arguments() {
        let full = parse(&[]).unwrap();
        assert_eq!(
            (full.quick, full.runs, full.startup_only),
            (false, 3, false)
        );
        assert_eq!(full.soak_seconds, None);
        assert!(
            parse(&["--quick", "--only", "startup"])
                .unwrap()
                .startup_only
        );
        assert_eq!(parse(&["--soak"]).unwrap().soak_seconds, Some(SOAK_SECONDS));
        assert_eq!(
            parse(&["--soak", "--soak-seconds", "60"])
                .unwrap()
                .soak_seconds,
            Some(60)
        );
        let counting = parse(&["--only", "instructions", "--save-baseline"]).unwrap();
        assert!(counting.instructions_only && counting.save_baseline);
        for wrong in [
            &["--save-baseline"][..],
            &["--only", "startup", "--only", "instructions"],
            &["--only", "fanout"][..],
            &["--soak-seconds", "60"],
            &["--soak", "--quick"],
            &["--runs", "0"],
        ] {
            assert!(parse(wrong).is_err(), "{wrong:?}");
        }
    }
}
