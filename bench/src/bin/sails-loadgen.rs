//! Run: `sails-loadgen <requests|fanout|idle|handshakes|soak|flood|recovery> --url http://127.0.0.1:PORT [options]`
//!
//! Drives one server with one scenario and prints its record on stdout,
//! one line `result {…}` (`sails_bench_record::Record`, which the bench reads).

use std::net::IpAddr;
use std::process::ExitCode;
use std::time::Duration;

use sails_bench::conn::Target;
use sails_bench::scenario::{self, Options};
use sails_bench_record::Scenario;

const USAGE: &str =
    "usage: sails-loadgen <requests|fanout|idle|handshakes|soak|flood|recovery> --url http://127.0.0.1:PORT
  [--server-pid PID[,PID…]] [--sockets N] [--in-flight K] [--seconds S]
  [--method get|post] [--path /hello] [--body-bytes B | --body JSON] [--seed N]
  [--rounds R] [--broadcasts B] [--concurrency C] [--sources 127.0.0.1,127.0.0.2] [--hold]
  [--requests N] [--recover]
soak: every socket sends one request a second for --seconds (default 19000 sockets, 600 s)
requests --seed N: first N `post --path` with the body, one at a time (records to find)
flood: one socket sends --requests requests (default 100000) back to back, then leaves
--recover: the scenario's sockets opt in to connection recovery (`__sails_recover=1`)
recovery: --sockets opted-in sockets join a room and are cut; --broadcasts are sent to
  the room; they reconnect at once with their tokens (needs --server-pid)
fanout over a cluster: --url takes the servers' URLs separated by commas (members spread
  over them, the sender on the first) and --server-pid every process whose CPU counts";

fn parse(args: &[String]) -> Result<(Scenario, Options), String> {
    let (name, mut rest) = args.split_first().ok_or(USAGE)?;
    let scenario =
        Scenario::from_name(name).ok_or_else(|| format!("unknown scenario `{name}`\n{USAGE}"))?;
    let soak = scenario == Scenario::Soak;
    let mut url = None;
    let mut options = Options {
        target: Target::from_base("http://127.0.0.1:1")?,
        server_pid: None,
        cluster: Vec::new(),
        cluster_pids: Vec::new(),
        sockets: if soak { 19_000 } else { 100 },
        in_flight: 16,
        duration: Duration::from_secs(if soak { 600 } else { 5 }),
        method: "get".into(),
        path: "/hello".into(),
        body_bytes: 0,
        body: None,
        seed: 0,
        rounds: 10,
        broadcasts: 20,
        concurrency: 64,
        sources: Vec::new(),
        hold: false,
        requests: 100_000,
        recover: false,
    };
    fn number<T: std::str::FromStr>(flag: &str, raw: &str) -> Result<T, String> {
        raw.parse()
            .map_err(|_| format!("{flag}: `{raw}` is not a number"))
    }
    while let Some((flag, tail)) = rest.split_first() {
        rest = tail;
        if flag == "--hold" {
            options.hold = true;
            continue;
        }
        if flag == "--recover" {
            options.recover = true;
            continue;
        }
        let (value, tail) = rest
            .split_first()
            .ok_or_else(|| format!("{flag} needs a value\n{USAGE}"))?;
        rest = tail;
        match flag.as_str() {
            "--url" => url = Some(value.clone()),
            "--server-pid" => {
                let mut pids = value.split(',');
                options.server_pid = pids.next().map(|pid| number(flag, pid)).transpose()?;
                options.cluster_pids = pids
                    .map(|pid| number(flag, pid))
                    .collect::<Result<_, _>>()?;
            }
            "--sockets" => options.sockets = number(flag, value)?,
            "--in-flight" => options.in_flight = number(flag, value)?,
            "--seconds" => options.duration = Duration::from_secs_f64(number(flag, value)?),
            "--method" => options.method = value.to_ascii_lowercase(),
            "--path" => options.path = value.clone(),
            "--body-bytes" => options.body_bytes = number(flag, value)?,
            "--body" => options.body = Some(value.clone()),
            "--seed" => options.seed = number(flag, value)?,
            "--rounds" => options.rounds = number(flag, value)?,
            "--broadcasts" => options.broadcasts = number(flag, value)?,
            "--concurrency" => options.concurrency = number(flag, value)?,
            "--requests" => options.requests = number(flag, value)?,
            "--sources" => {
                options.sources = value
                    .split(',')
                    .map(|ip| {
                        ip.parse::<IpAddr>()
                            .map_err(|_| format!("--sources: `{ip}`"))
                    })
                    .collect::<Result<_, _>>()?;
            }
            _ => return Err(format!("unknown argument `{flag}`\n{USAGE}")),
        }
    }
    let url = url.ok_or(USAGE)?;
    let mut urls = url.split(',');
    options.target = Target::from_base(urls.next().unwrap_or_default())?;
    options.cluster = urls.map(Target::from_base).collect::<Result<_, _>>()?;
    Ok((scenario, options))
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (chosen, options) = match parse(&args) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    // One thread: the generator gets one core of its own (`taskset`).
    let runtime = match tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("sails-loadgen: {error}");
            return ExitCode::FAILURE;
        }
    };
    let result = runtime.block_on(async {
        match chosen {
            Scenario::Requests => scenario::requests(&options).await,
            Scenario::Fanout => scenario::fanout(&options).await,
            Scenario::Idle => scenario::idle(&options).await,
            Scenario::Handshakes => scenario::handshakes(&options).await,
            Scenario::Soak => scenario::soak(&options).await,
            Scenario::Flood => scenario::flood(&options).await,
            Scenario::Recovery => scenario::recovery(&options).await,
        }
    });
    let name = chosen.name();
    match result.and_then(|report| report.line().map_err(|err| err.to_string())) {
        Ok(line) => {
            if !options.hold {
                println!("{line}");
            }
            ExitCode::SUCCESS
        }
        Err(message) => {
            eprintln!("sails-loadgen {name}: {message}");
            ExitCode::FAILURE
        }
    }
}
