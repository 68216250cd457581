//! `cargo xtask bench --cluster [--quick] [--runs N]`: many servers on one
//! Redis, ours (the interop server with `--redis`) against the Sails app
//! with socket.io-redis, side by side in one run.
//!
//! For one server without Redis, then one, two and three servers on a fresh
//! `redis-server`: a broadcast fan-out with the members spread over the
//! servers and the sender on the first (delivery latency one broadcast at a
//! time, and deliveries per CPU-second of every server process and Redis
//! together), and virtual requests per CPU-second on one server. Every
//! server and Redis run on CPU 0, the generator on CPU 1.

use std::{
    io::{Read, Write},
    net::{SocketAddr, TcpListener, TcpStream},
    path::PathBuf,
    process::{Child, Stdio},
    thread,
    time::{Duration, Instant},
};

use sails_bench_record::{Key, Record, Scenario as Generator};

use super::{
    load::{self, RUN_LIMIT},
    report,
    scenarios::{Row, Unit, row},
};
use crate::{
    error::{Error, Result},
    packages::{Binaries, LOADGEN_BIN},
    process::{Background, Stderr},
    toolchain::Route,
};

/// How long `redis-server` may take to answer PING.
const REDIS_READY: Duration = Duration::from_secs(20);

/// One setting of the cluster: how many servers, and whether on Redis.
#[derive(Debug, Clone, Copy)]
struct Setting {
    label: &'static str,
    servers: usize,
    redis: bool,
}

const SETTINGS: [Setting; 4] = [
    Setting {
        label: "1 server, no Redis",
        servers: 1,
        redis: false,
    },
    Setting {
        label: "1 server on Redis",
        servers: 1,
        redis: true,
    },
    Setting {
        label: "2 servers on Redis",
        servers: 2,
        redis: true,
    },
    Setting {
        label: "3 servers on Redis",
        servers: 3,
        redis: true,
    },
];

/// What is measured, with the rows it shows.
struct Measure {
    title: String,
    args: Vec<String>,
    rows: &'static [Row],
    /// Only on one server (requests do not cross servers).
    one_server: bool,
}

const FANOUT_ROWS: &[Row] = &[
    row("delivery p50 (ms)", Key::LatP50Us, Unit::Millis),
    row("delivery p99 (ms)", Key::LatP99Us, Unit::Millis),
    row("deliveries per CPU-second", Key::PerCore, Unit::Rate),
];

const REQUEST_ROWS: &[Row] = &[
    row("requests per CPU-second", Key::PerCore, Unit::Rate),
    row("p99 latency (ms)", Key::LatP99Us, Unit::Millis),
];

fn measures(quick: bool) -> Vec<Measure> {
    let strings = |args: &[&str]| args.iter().map(|arg| (*arg).to_owned()).collect();
    let (sockets, rounds, broadcasts, seconds) = if quick {
        ("300", "10", "100", "1")
    } else {
        ("1000", "30", "200", "3")
    };
    vec![
        Measure {
            title: "fan-out, 12 sockets in one room (low load)".to_owned(),
            args: strings(&[
                Generator::Fanout.name(),
                "--sockets",
                "12",
                "--rounds",
                if quick { "50" } else { "300" },
                "--broadcasts",
                "50",
            ]),
            rows: &FANOUT_ROWS[..2],
            one_server: false,
        },
        Measure {
            title: format!("fan-out, {sockets} sockets in one room"),
            args: strings(&[
                Generator::Fanout.name(),
                "--sockets",
                sockets,
                "--rounds",
                rounds,
                "--broadcasts",
                broadcasts,
            ]),
            rows: FANOUT_ROWS,
            one_server: false,
        },
        Measure {
            title: "GET /hello, 100 sockets x 16".to_owned(),
            args: strings(&[
                Generator::Requests.name(),
                "--sockets",
                "100",
                "--in-flight",
                "16",
                "--seconds",
                seconds,
            ]),
            rows: REQUEST_ROWS,
            one_server: true,
        },
    ]
}

/// Runs the cluster bench and prints its report.
pub(super) fn run(
    route: Route,
    args: &[String],
    binaries: &Binaries,
    quick: bool,
    runs: usize,
) -> Result {
    let load_before = report::load_average();
    let started = Instant::now();
    // Ours and the Sails app, as the main bench starts them (`--port 0`).
    let [ours, sails, _bare] = load::servers(route, binaries);
    let implementations = [ours, sails];
    let loadgen = binaries.bin(LOADGEN_BIN);
    let measures = measures(quick);
    // records[measure][setting][implementation]: the runs that completed.
    let mut records: Vec<Vec<[Vec<Record>; 2]>> = measures
        .iter()
        .map(|_| SETTINGS.iter().map(|_| [Vec::new(), Vec::new()]).collect())
        .collect();
    let mut failures = Vec::new();
    for (m, measure) in measures.iter().enumerate() {
        for (s, setting) in SETTINGS.iter().enumerate() {
            if measure.one_server && setting.servers > 1 {
                continue;
            }
            println!("\n== bench: {} on {}", measure.title, setting.label);
            for run in 1..=runs {
                // Implementations take turns within each run.
                for (i, implementation) in implementations.iter().enumerate() {
                    match run_once(route, implementation, *setting, measure, &loadgen) {
                        Ok(record) => {
                            println!(
                                "bench: {} run {run}/{runs}: {}",
                                implementation.name,
                                load::summary(measure.rows, &record)
                            );
                            records[m][s][i].push(record);
                        }
                        Err(why) => {
                            println!(
                                "bench: {} run {run}/{runs} FAILED: {why}",
                                implementation.name
                            );
                            failures.push((i, why));
                        }
                    }
                }
            }
        }
    }

    let mut text = report::header(route, args, &load_before, started);
    text.push_str(&format!(
        "Runs per figure: {runs} (median)\nPinning: every server and Redis on CPU 0, generator on CPU 1\n\
         CPU: every server process and redis-server together\n\n\
         | figure | ours | Sails 1.5.18 | ours/Sails |\n|---|---:|---:|---:|\n"
    ));
    for (m, measure) in measures.iter().enumerate() {
        for (s, setting) in SETTINGS.iter().enumerate() {
            if measure.one_server && setting.servers > 1 {
                continue;
            }
            for row in measure.rows {
                let [ours, sails] = &records[m][s];
                let (ours, sails) = (median(ours, row.key), median(sails, row.key));
                let show =
                    |value: Option<f64>| value.map_or_else(|| "–".into(), |v| row.unit.show(v));
                let ratio = match (ours, sails) {
                    (Some(ours), Some(sails)) if sails > 0.0 => format!("{:.2}", ours / sails),
                    _ => "–".into(),
                };
                text.push_str(&format!(
                    "| {}, {}: {} | {} | {} | {ratio} |\n",
                    measure.title,
                    setting.label,
                    row.label,
                    show(ours),
                    show(sails)
                ));
            }
        }
    }
    let all: Vec<&Record> = records.iter().flatten().flatten().flatten().collect();
    let problems = report::problems(all.iter().copied());
    text.push_str(&format!(
        "\nWhat could not be done: {}\n",
        if problems.is_empty() && failures.is_empty() {
            "nothing: every handshake, request and delivery completed.".to_owned()
        } else {
            let mut lines = problems;
            lines.extend(
                failures
                    .iter()
                    .map(|(i, why)| format!("{}: {why}", implementations[*i].name)),
            );
            lines.join("; ")
        }
    ));
    report::publish(&text, "bench-cluster-report.md");
    // Only a run of ours that could not complete fails the command.
    let ours_failed: Vec<Error> = failures
        .into_iter()
        .filter(|(i, _)| *i == 0)
        .map(|(_, why)| why)
        .collect();
    Error::all(ours_failed).map_err(|why| why.within("cluster bench incomplete"))
}

fn median(records: &[Record], key: Key) -> Option<f64> {
    let mut values: Vec<f64> = records
        .iter()
        .filter_map(|record| record.get(key))
        .collect();
    report::median_min_max(&mut values).map(|(median, _, _)| median)
}

/// One run: a fresh Redis (when the setting has one), fresh servers, one generator run.
fn run_once(
    route: Route,
    implementation: &load::Server,
    setting: Setting,
    measure: &Measure,
    loadgen: &std::path::Path,
) -> Result<Record> {
    let redis = setting.redis.then(|| Redis::start(route)).transpose()?;
    let mut servers = Vec::new();
    let on_redis: Vec<String> = redis
        .iter()
        .flat_map(|redis| ["--redis".to_owned(), redis.url()])
        .collect();
    for _ in 0..setting.servers {
        servers.push(implementation.start(route, &on_redis)?);
    }
    let urls: Vec<String> = servers.iter().map(|server| server.url.clone()).collect();
    let pids: Vec<String> = servers
        .iter()
        .map(Background::pid)
        .chain(redis.as_ref().map(Redis::pid))
        .map(|pid| pid.to_string())
        .collect();
    let mut args = measure.args.clone();
    args.extend([
        "--url".to_owned(),
        urls.join(","),
        "--server-pid".to_owned(),
        pids.join(","),
    ]);
    let outcome = load::run_generator(
        load::pinned(route, 1, loadgen, &args),
        RUN_LIMIT,
        Stderr::Capture,
    );
    drop(servers);
    drop(redis);
    outcome
}

/// A `redis-server` of the bench's own on a free port of 127.0.0.1, nothing saved.
struct Redis {
    child: Child,
    addr: SocketAddr,
}

impl Redis {
    fn start(route: Route) -> Result<Self> {
        let addr = TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .map_err(|err| Error::io("find a free port for", "redis-server", err))?;
        let port = addr.port().to_string();
        let mut cmd = load::pinned(route, 0, &PathBuf::from("redis-server"), &[]);
        cmd.args([
            "--port",
            &port,
            "--bind",
            "127.0.0.1",
            "--save",
            "",
            "--appendonly",
            "no",
        ])
        .stdin(Stdio::null())
        .stdout(Stdio::null());
        let child = cmd
            .spawn()
            .map_err(|err| Error::io("start (run `cargo xtask setup`)", "redis-server", err))?;
        let redis = Self { child, addr };
        let deadline = Instant::now() + REDIS_READY;
        while !redis.answers_ping() {
            if Instant::now() > deadline {
                return Err(Error::Check(format!(
                    "redis-server did not answer within {REDIS_READY:?}"
                )));
            }
            thread::sleep(Duration::from_millis(20));
        }
        Ok(redis)
    }

    fn answers_ping(&self) -> bool {
        let Ok(mut stream) = TcpStream::connect_timeout(&self.addr, Duration::from_secs(1)) else {
            return false;
        };
        let _ = stream.set_read_timeout(Some(Duration::from_secs(1)));
        let mut reply = [0u8; 7];
        stream.write_all(b"PING\r\n").is_ok()
            && stream.read_exact(&mut reply).is_ok()
            && &reply == b"+PONG\r\n"
    }

    fn url(&self) -> String {
        format!("redis://{}", self.addr)
    }

    fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
