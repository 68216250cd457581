//! The load scenarios. Each connects its sockets first (not timed, except
//! the handshake burst), then measures one window, then drains what is still
//! in flight within a time limit and counts what never came back.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use futures_util::{FutureExt, SinkExt, StreamExt};
use tokio::sync::{Semaphore, watch};
use tokio::time::{MissedTickBehavior, sleep, timeout, timeout_at};
use tokio_tungstenite::tungstenite::Message;

use crate::conn::{self, ConnectFailure, Incoming, Target, Ws, now_us};
use crate::procfs::{self, CpuWindow};
use crate::stats::{Report, Samples};
use sails_bench_record::{Key, LATENCY, RECOVERY, SEND_DELAY, Scenario};
use sails_protocol::recovery;

/// How long answers still in flight at the end of a window may take to arrive.
const DRAIN: Duration = Duration::from_secs(5);
/// How long one broadcast may take to reach every member.
const FANOUT_LIMIT: Duration = Duration::from_secs(10);
/// The room the fan-out scenario uses.
const ROOM: &str = "bench";
/// File descriptors a generator process keeps for itself.
const RESERVED_FILES: u64 = 64;

/// What a scenario is asked to do (see `sails-loadgen --help`).
#[derive(Debug, Clone)]
pub struct Options {
    /// The server.
    pub target: Target,
    /// The server's process id, for its CPU time and memory.
    pub server_pid: Option<u32>,
    /// The other servers of a cluster (fan-out only): the members are spread
    /// over `target` and these, the sender stays on `target`.
    pub cluster: Vec<Target>,
    /// The other processes of a cluster (its other servers, its Redis),
    /// whose CPU time counts with the server's (fan-out only).
    pub cluster_pids: Vec<u32>,
    /// How many sockets.
    pub sockets: usize,
    /// Requests in flight per socket.
    pub in_flight: usize,
    /// Length of the measured window.
    pub duration: Duration,
    /// Request method (lower case, as the event name).
    pub method: String,
    /// Request URL.
    pub path: String,
    /// Size of the JSON body of each request (0: `{}`).
    pub body_bytes: usize,
    /// The JSON body of each request, in place of `body_bytes` of padding.
    pub body: Option<String>,
    /// Records made before the window: `post <path>` with the body, this
    /// many times, over the first socket (for a `get` of what they make).
    pub seed: usize,
    /// Fan-out: broadcasts timed one by one.
    pub rounds: usize,
    /// Fan-out: broadcasts sent back to back for the delivery rate.
    pub broadcasts: usize,
    /// Handshakes under way at once while connecting.
    pub concurrency: usize,
    /// Local addresses the sockets are spread over (empty: the kernel's choice).
    pub sources: Vec<IpAddr>,
    /// Idle: keep the sockets open until stdin closes (at most two minutes).
    pub hold: bool,
    /// Flood: requests sent back to back by one socket.
    pub requests: usize,
    /// The scenario's sockets opt in to connection recovery (the fan-out's
    /// sender does not).
    pub recover: bool,
}

impl Options {
    /// Connects `sockets` sockets to the target, `concurrency` at a time,
    /// over `sources`.
    async fn connect_sockets(&self) -> (Vec<Ws>, Failures, Samples) {
        let opt_in = |target: &Target| {
            if self.recover {
                target.recovering()
            } else {
                target.clone()
            }
        };
        if self.cluster.is_empty() {
            let target = opt_in(&self.target);
            return connect_many(&target, self.sockets, self.concurrency, &self.sources).await;
        }
        // Spread over the servers of the cluster, as evenly as the count allows.
        let targets: Vec<Target> = std::iter::once(&self.target)
            .chain(&self.cluster)
            .map(opt_in)
            .collect();
        let mut all = (Vec::new(), Failures::default(), Samples::default());
        for (index, target) in targets.iter().enumerate() {
            let share =
                self.sockets / targets.len() + usize::from(index < self.sockets % targets.len());
            let (sockets, failures, samples) =
                connect_many(target, share, self.concurrency, &self.sources).await;
            all.0.extend(sockets);
            all.1.merge(failures);
            all.2.merge(samples);
        }
        all
    }

    /// The server's process and the cluster's others, for their CPU time.
    fn server_pids(&self) -> impl Iterator<Item = u32> + '_ {
        self.server_pid
            .into_iter()
            .chain(self.cluster_pids.iter().copied())
    }

    fn check_files(&self, sockets: usize) -> Result<(), String> {
        let limit = procfs::open_files_limit().unwrap_or(u64::MAX);
        let needed = sockets as u64 + RESERVED_FILES;
        if needed > limit {
            return Err(format!(
                "{sockets} sockets need {needed} open files but one process may hold {limit}: \
                 spread them over several generator processes"
            ));
        }
        Ok(())
    }
}

/// Handshakes that failed, by kind.
#[derive(Debug, Default, Clone, Copy)]
pub struct Failures([u64; 5]);

impl Failures {
    fn add(&mut self, failure: ConnectFailure) {
        let index = ConnectFailure::ALL
            .iter()
            .position(|kind| *kind == failure)
            .unwrap_or(4);
        self.0[index] += 1;
    }

    fn merge(&mut self, other: Failures) {
        for (count, more) in self.0.iter_mut().zip(other.0) {
            *count += more;
        }
    }

    fn total(&self) -> u64 {
        self.0.iter().sum()
    }

    fn report(&self, mut report: Report) -> Report {
        for (kind, count) in ConnectFailure::ALL.iter().zip(self.0) {
            report = report.count(kind.key(), count);
        }
        report
    }
}

/// Connects `n` sockets, `concurrency` handshakes at a time; returns the
/// sockets, what failed, and the duration of each successful handshake.
pub async fn connect_many(
    target: &Target,
    n: usize,
    concurrency: usize,
    sources: &[IpAddr],
) -> (Vec<Ws>, Failures, Samples) {
    let target = Arc::new(target.clone());
    let gate = Arc::new(Semaphore::new(concurrency.max(1)));
    let mut handles = Vec::with_capacity(n);
    for i in 0..n {
        let Ok(permit) = gate.clone().acquire_owned().await else {
            break;
        };
        let target = target.clone();
        let source = (!sources.is_empty()).then(|| sources[i % sources.len()]);
        handles.push(tokio::spawn(async move {
            let started = Instant::now();
            let result = conn::connect(&target, source).await;
            drop(permit);
            result.map(|ws| (ws, started.elapsed()))
        }));
    }
    let mut sockets = Vec::with_capacity(n);
    let mut failures = Failures::default();
    let mut samples = Samples::default();
    for handle in handles {
        match handle.await {
            Ok(Ok((ws, took))) => {
                samples.push(took.as_micros() as u64);
                sockets.push(ws);
            }
            Ok(Err(failure)) => failures.add(failure),
            Err(_) => failures.add(ConnectFailure::Other),
        }
    }
    (sockets, failures, samples)
}

/// How many of `done` one second of server CPU covers (none when the server
/// used too little CPU to measure).
fn per_core(done: u64, cpu_us: Option<f64>) -> Option<f64> {
    cpu_us
        .filter(|&us| us > 0.0)
        .map(|us| done as f64 * 1e6 / us)
}

/// A JSON object of about `bytes` bytes: `{"pad":"xxxx…"}`.
pub fn body_of(bytes: usize) -> String {
    const OVERHEAD: usize = r#"{"pad":""}"#.len();
    if bytes <= OVERHEAD {
        return "{}".into();
    }
    format!(r#"{{"pad":"{}"}}"#, "x".repeat(bytes - OVERHEAD))
}

/// Per-socket figures that add up over sockets.
trait Tally: Default {
    fn add(&mut self, other: Self);
}

/// The sum of every socket task's figures; a task that panicked counts
/// through `lost`.
async fn sum_of<T: Tally>(handles: Vec<tokio::task::JoinHandle<T>>, lost: impl Fn(&mut T)) -> T {
    let mut total = T::default();
    for handle in handles {
        match handle.await {
            Ok(stats) => total.add(stats),
            Err(_) => lost(&mut total),
        }
    }
    total
}

impl Tally for RequestStats {
    fn add(&mut self, other: Self) {
        self.latencies.merge(other.latencies);
        self.in_window += other.in_window;
        self.ok += other.ok;
        self.bad_status += other.bad_status;
        self.missing += other.missing;
        self.broken += other.broken;
    }
}

impl Tally for SoakStats {
    fn add(&mut self, other: Self) {
        self.latencies.merge(other.latencies);
        self.send_delays.merge(other.send_delays);
        self.sent += other.sent;
        self.ok += other.ok;
        self.bad_status += other.bad_status;
        self.missing += other.missing;
        self.closed += other.closed;
    }
}

/// What one socket saw while sending requests.
#[derive(Debug, Default)]
struct RequestStats {
    latencies: Samples,
    in_window: u64,
    ok: u64,
    bad_status: u64,
    missing: u64,
    broken: u64,
}

struct Plan {
    method: String,
    path: String,
    data: String,
    in_flight: usize,
}

/// Keeps `in_flight` requests going on one socket until `deadline`, then
/// waits (at most [`DRAIN`]) for the rest.
async fn drive(mut ws: Ws, plan: Arc<Plan>, deadline: Instant) -> RequestStats {
    let mut stats = RequestStats::default();
    let mut pending: HashMap<u64, Instant> = HashMap::with_capacity(plan.in_flight * 2);
    let mut next_id = 0u64;
    let drain_until = deadline + DRAIN;
    let mut to_send = plan.in_flight;
    loop {
        let now = Instant::now();
        if to_send > 0 && now < deadline {
            for _ in 0..to_send {
                next_id += 1;
                pending.insert(next_id, Instant::now());
                let frame = conn::request_frame(next_id, &plan.method, &plan.path, &plan.data);
                if ws.feed(frame).await.is_err() {
                    stats.broken = 1;
                }
            }
            if ws.flush().await.is_err() {
                stats.broken = 1;
            }
        }
        to_send = 0;
        if stats.broken == 1 || (now >= deadline && pending.is_empty()) {
            break;
        }
        let limit = if now < deadline {
            deadline
        } else {
            drain_until
        };
        let message = match timeout_at(limit.into(), ws.next()).await {
            Err(_) if limit == drain_until => break,
            Err(_) => continue,
            Ok(Some(Ok(message))) => message,
            Ok(_) => {
                stats.broken = 1;
                break;
            }
        };
        let mut next = Some(message);
        while let Some(message) = next.take() {
            match Incoming::read(&message) {
                Incoming::Ack { id, status } => {
                    if let Some(sent) = pending.remove(&id) {
                        let now = Instant::now();
                        stats
                            .latencies
                            .push(now.duration_since(sent).as_micros() as u64);
                        if now <= deadline {
                            stats.in_window += 1;
                            to_send += 1;
                        }
                        if status == 200 {
                            stats.ok += 1;
                        } else {
                            stats.bad_status += 1;
                        }
                    }
                }
                Incoming::Closed => stats.broken = 1,
                _ => {}
            }
            // Take every frame that is already here before writing again.
            match ws.next().now_or_never() {
                Some(Some(Ok(message))) => next = Some(message),
                Some(_) => stats.broken = 1,
                None => {}
            }
        }
    }
    stats.missing = pending.len() as u64;
    stats
}

/// Virtual requests: `sockets` x `in_flight` requests in flight for `duration`.
pub async fn requests(options: &Options) -> Result<Report, String> {
    options.check_files(options.sockets)?;
    let (sockets, failures, _) = options.connect_sockets().await;
    if sockets.is_empty() {
        return Err(format!("no socket could connect ({failures:?})"));
    }
    let connected = sockets.len() as u64;
    let data = options
        .body
        .clone()
        .unwrap_or_else(|| body_of(options.body_bytes));
    let mut sockets = sockets;
    seed(&mut sockets[0], &options.path, &data, options.seed).await?;
    let plan = Arc::new(Plan {
        method: options.method.clone(),
        path: options.path.clone(),
        data,
        in_flight: options.in_flight.max(1),
    });
    let ticks = procfs::ticks_per_second();
    let cpu = CpuWindow::start(options.server_pid);
    let own_cpu = CpuWindow::start(Some(std::process::id()));
    let started = Instant::now();
    let deadline = started + options.duration;
    let handles: Vec<_> = sockets
        .into_iter()
        .map(|ws| tokio::spawn(drive(ws, plan.clone(), deadline)))
        .collect();
    tokio::time::sleep_until(deadline.into()).await;
    let cpu_us = cpu.elapsed_us(ticks);
    let own_cpu_us = own_cpu.elapsed_us(ticks);
    let window = started.elapsed().as_secs_f64();
    let mut total = sum_of(handles, |total: &mut RequestStats| total.broken += 1).await;
    let rate = total.in_window as f64 / window;
    let report = Report::new(Scenario::Requests)
        .count(Key::Sockets, connected)
        .num(Key::Rate, Some(rate))
        .num(
            Key::CpuUs,
            cpu_us.map(|us| us / total.in_window.max(1) as f64),
        )
        .num(Key::PerCore, per_core(total.in_window, cpu_us))
        .num(Key::CpuBusy, cpu_us.map(|us| us / 1e6 / window))
        .num(Key::GenBusy, own_cpu_us.map(|us| us / 1e6 / window))
        .percentiles(LATENCY, &mut total.latencies)
        .count(Key::Ok, total.ok)
        .count(Key::BadStatus, total.bad_status)
        .count(Key::MissingAcks, total.missing)
        .count(Key::Broken, total.broken);
    Ok(failures.report(report))
}

/// Makes `count` records before the window: `post path data`, one at a
/// time, each answered 200 within the drain time.
async fn seed(ws: &mut Ws, path: &str, data: &str, count: usize) -> Result<(), String> {
    for id in 1..=count as u64 {
        ws.send(conn::request_frame(id, "post", path, data))
            .await
            .map_err(|error| format!("seeding {path}: {error}"))?;
        let answer = async {
            loop {
                let message = ws.next().await?.ok()?;
                if let Incoming::Ack { id: acked, status } = Incoming::read(&message)
                    && acked == id
                {
                    return Some(status);
                }
            }
        };
        match timeout(DRAIN, answer).await {
            Ok(Some(200)) => {}
            Ok(Some(status)) => return Err(format!("seeding {path}: status {status}")),
            Ok(None) => return Err(format!("seeding {path}: the connection closed")),
            Err(_) => return Err(format!("seeding {path}: no answer within {DRAIN:?}")),
        }
    }
    Ok(())
}

/// What the fan-out receivers share with the sender.
#[derive(Debug, Default)]
struct FanoutShared {
    joined: AtomicU64,
    join_failed: AtomicU64,
    received: AtomicU64,
    last_us: AtomicU64,
}

/// A room member: joins the room, then counts broadcasts and times the `tick` ones.
async fn member(mut ws: Ws, shared: Arc<FanoutShared>, mut stop: watch::Receiver<bool>) -> Samples {
    let mut delays = Samples::default();
    let join = conn::request_frame(1, "put", &format!("/rooms/{ROOM}/join"), "{}");
    let joined = async {
        ws.send(join).await.ok()?;
        loop {
            let message = ws.next().await?.ok()?;
            if let Incoming::Ack { id: 1, status } = Incoming::read(&message) {
                return (status == 200).then_some(());
            }
        }
    };
    match timeout(FANOUT_LIMIT, joined).await {
        Ok(Some(())) => shared.joined.fetch_add(1, Ordering::Relaxed),
        _ => return fail_join(&shared, delays),
    };
    loop {
        let message = tokio::select! {
            biased;
            _ = stop.changed() => break,
            message = ws.next() => match message {
                Some(Ok(message)) => message,
                _ => break,
            },
        };
        if let Incoming::Event { name, args } = Incoming::read(&message)
            && name != recovery::STATUS_EVENT
        {
            let now = now_us();
            shared.received.fetch_add(1, Ordering::Relaxed);
            shared.last_us.fetch_max(now, Ordering::Relaxed);
            if name == "tick"
                && let Some(sent) = conn::number_after(args, "\"t\":")
            {
                delays.push(now.saturating_sub(sent));
            }
        }
    }
    delays
}

fn fail_join(shared: &FanoutShared, delays: Samples) -> Samples {
    shared.join_failed.fetch_add(1, Ordering::Relaxed);
    delays
}

/// The sender of the broadcasts (a socket outside the room), with its acks.
struct Sender {
    ws: Ws,
    next_id: u64,
    unacked: u64,
    bad: u64,
}

impl Sender {
    /// Connects the sender to `target`.
    async fn connect(target: &Target) -> Result<Self, String> {
        let ws = conn::connect(target, None)
            .await
            .map_err(|failure| format!("the sender could not connect: {failure}"))?;
        Ok(Self {
            ws,
            next_id: 0,
            unacked: 0,
            bad: 0,
        })
    }

    async fn broadcast(&mut self, event: &str) -> Result<(), String> {
        self.broadcast_data(event, &format!(r#"{{"t":{}}}"#, now_us()))
            .await
    }

    /// Broadcasts `event` with `data` (JSON text) to the room.
    async fn broadcast_data(&mut self, event: &str, data: &str) -> Result<(), String> {
        self.next_id += 1;
        let body = format!(r#"{{"event":"{event}","data":{data}}}"#);
        let frame = conn::request_frame(
            self.next_id,
            "post",
            &format!("/rooms/{ROOM}/broadcast"),
            &body,
        );
        self.ws.send(frame).await.map_err(|e| e.to_string())?;
        self.unacked += 1;
        Ok(())
    }

    /// The body of the answer to `GET url` (every other frame is dropped:
    /// call it with no broadcast unacknowledged).
    async fn get(&mut self, url: &str) -> Result<serde_json::Value, String> {
        self.next_id += 1;
        let id = self.next_id;
        let frame = conn::request_frame(id, "get", url, "{}");
        self.ws.send(frame).await.map_err(|e| e.to_string())?;
        loop {
            let message = match timeout(FANOUT_LIMIT, self.ws.next()).await {
                Ok(Some(Ok(message))) => message,
                Ok(_) => return Err("the sender's connection closed".into()),
                Err(_) => return Err(format!("GET {url} got no answer")),
            };
            if let Some((acked, body)) = conn::ack_body(&message)
                && acked == id
            {
                return Ok(body);
            }
        }
    }

    /// Waits until at most `left` broadcasts are unacknowledged.
    async fn acks(&mut self, left: u64) -> Result<(), String> {
        while self.unacked > left {
            let message = match timeout(FANOUT_LIMIT, self.ws.next()).await {
                Ok(Some(Ok(message))) => message,
                Ok(_) => return Err("the sender's connection closed".into()),
                Err(_) => return Err("a broadcast request got no answer".into()),
            };
            if let Incoming::Ack { status, .. } = Incoming::read(&message) {
                self.unacked -= 1;
                if status != 200 {
                    self.bad += 1;
                }
            }
        }
        Ok(())
    }
}

/// Polls until `counter` reaches `target` or `limit` passes; returns whether it did.
async fn reach(counter: &AtomicU64, target: u64, limit: Duration) -> bool {
    let until = Instant::now() + limit;
    loop {
        if counter.load(Ordering::Relaxed) >= target {
            return true;
        }
        if Instant::now() >= until {
            return false;
        }
        sleep(Duration::from_millis(1)).await;
    }
}

/// Broadcast fan-out: `sockets` members of one room; `rounds` broadcasts
/// timed one at a time, then `broadcasts` back to back for the delivery rate.
pub async fn fanout(options: &Options) -> Result<Report, String> {
    options.check_files(options.sockets + 1)?;
    let mut sender = Sender::connect(&options.target).await?;
    let (sockets, failures, _) = options.connect_sockets().await;
    let shared = Arc::new(FanoutShared::default());
    let (stop, stopped) = watch::channel(false);
    let count = sockets.len() as u64;
    let handles: Vec<_> = sockets
        .into_iter()
        .map(|ws| tokio::spawn(member(ws, shared.clone(), stopped.clone())))
        .collect();
    let settled = async {
        while shared.joined.load(Ordering::Relaxed) + shared.join_failed.load(Ordering::Relaxed)
            < count
        {
            sleep(Duration::from_millis(5)).await;
        }
    };
    let _ = timeout(FANOUT_LIMIT * 3, settled).await;
    let members = shared.joined.load(Ordering::Relaxed);
    if members == 0 {
        return Err(format!("no socket joined the room ({failures:?})"));
    }

    // One broadcast at a time: how long until every member has it.
    let mut missing = 0;
    for _ in 0..options.rounds {
        let before = shared.received.load(Ordering::Relaxed);
        sender.broadcast("tick").await?;
        sender.acks(0).await?;
        if !reach(&shared.received, before + members, FANOUT_LIMIT).await {
            missing += before + members - shared.received.load(Ordering::Relaxed);
        }
    }

    // Back to back (a few broadcasts in flight): deliveries per second.
    let ticks = procfs::ticks_per_second();
    let before = shared.received.load(Ordering::Relaxed);
    let cpu = CpuWindow::start_all(options.server_pids());
    let started = now_us();
    for _ in 0..options.broadcasts {
        sender.broadcast("load").await?;
        sender.acks(4).await?;
    }
    sender.acks(0).await?;
    let expected = members * options.broadcasts as u64;
    reach(&shared.received, before + expected, FANOUT_LIMIT).await;
    let cpu_us = cpu.elapsed_us(ticks);
    let delivered = shared.received.load(Ordering::Relaxed) - before;
    missing += expected.saturating_sub(delivered);
    let span_s = shared
        .last_us
        .load(Ordering::Relaxed)
        .saturating_sub(started) as f64
        / 1e6;

    let _ = stop.send(true);
    let mut delays = Samples::default();
    for handle in handles {
        if let Ok(samples) = handle.await {
            delays.merge(samples);
        }
    }
    let report = Report::new(Scenario::Fanout)
        .count(Key::Sockets, members)
        .num(Key::Rate, (span_s > 0.0).then(|| delivered as f64 / span_s))
        .num(Key::CpuUs, cpu_us.map(|us| us / delivered.max(1) as f64))
        .num(Key::PerCore, per_core(delivered, cpu_us))
        .percentiles(LATENCY, &mut delays)
        .count(Key::MissingDeliveries, missing)
        .count(Key::BadStatus, sender.bad)
        .count(Key::JoinFailed, shared.join_failed.load(Ordering::Relaxed));
    Ok(failures.report(report))
}

/// How long the server may take to see every cut socket go, and the
/// reconnection burst to get every missed broadcast.
const RECOVERY_LIMIT: Duration = Duration::from_secs(30);
/// The event of the broadcasts the cut sockets miss.
const MISSED_EVENT: &str = "missed";
/// The event broadcast once every socket has its missed broadcasts: what
/// comes before it at a socket and was seen already is a duplicate.
const FENCE_EVENT: &str = "fence";

/// An opted-in socket joins the room; returns it with the token of its
/// recovery status (none when the server sent no status before the join's
/// answer: it does not recover connections).
async fn join_recovering(mut ws: Ws) -> Option<(Ws, Option<String>)> {
    let join = conn::request_frame(1, "put", &format!("/rooms/{ROOM}/join"), "{}");
    ws.send(join).await.ok()?;
    let mut token = None;
    loop {
        let message = ws.next().await?.ok()?;
        match Incoming::read(&message) {
            Incoming::Event { name, args } if name == recovery::STATUS_EVENT => {
                token = conn::event_args(args)
                    .and_then(|args| Some(args.first()?.get("token")?.as_str()?.to_owned()));
            }
            Incoming::Ack { id: 1, status } => return (status == 200).then_some((ws, token)),
            Incoming::Closed => return None,
            _ => {}
        }
    }
}

/// What one socket's reconnection saw.
#[derive(Debug, Default)]
struct Resumed {
    failures: Failures,
    /// Told `recovered: true` with every broadcast missed.
    recovered: u64,
    /// Distinct missed broadcasts received.
    received: u64,
    duplicates: u64,
    out_of_order: u64,
    /// From the start of the burst to the last missed broadcast, µs.
    took: Samples,
}

impl Tally for Resumed {
    fn add(&mut self, other: Self) {
        self.failures.merge(other.failures);
        self.recovered += other.recovered;
        self.received += other.received;
        self.duplicates += other.duplicates;
        self.out_of_order += other.out_of_order;
        self.took.merge(other.took);
    }
}

/// What the reconnecting sockets share with the sender.
struct Burst {
    /// When the burst started ([`now_us`]).
    started_us: u64,
    /// Broadcasts each socket missed.
    missed: u64,
    /// Until when a socket reads.
    deadline: Instant,
    /// Sockets done with their missed broadcasts (or given up).
    done: AtomicU64,
}

/// One reconnection of the burst: connects to `target`, reads the status
/// and the missed broadcasts; a socket that recovered then reads up to the
/// fence, counting repeats. `status` says whether the server sent a status
/// on the first connection (without one there is nothing to wait for).
async fn resume(target: Target, status: bool, burst: Arc<Burst>) -> Resumed {
    let mut resumed = Resumed::default();
    let mut done = false;
    let finish = |done: &mut bool| {
        if !std::mem::replace(done, true) {
            burst.done.fetch_add(1, Ordering::Relaxed);
        }
    };
    let mut ws = match conn::connect(&target, None).await {
        Ok(ws) => ws,
        Err(failure) => {
            resumed.failures.add(failure);
            finish(&mut done);
            return resumed;
        }
    };
    if !status {
        finish(&mut done);
        return resumed;
    }
    let mut seen = vec![false; burst.missed as usize + 1];
    let mut last = 0;
    let mut last_offset = 0;
    let mut recovered = false;
    while let Ok(Some(Ok(message))) = timeout_at(burst.deadline.into(), ws.next()).await {
        let Incoming::Event { name, args } = Incoming::read(&message) else {
            continue;
        };
        let args = conn::event_args(args).unwrap_or_default();
        if name == recovery::STATUS_EVENT {
            let status = args.first().cloned().unwrap_or_default();
            recovered = status["recovered"] == true;
            if recovered && status["missed"] == burst.missed {
                resumed.recovered = 1;
            }
            if !recovered {
                break;
            }
        } else if name == FENCE_EVENT {
            break;
        } else if name == MISSED_EVENT {
            let n = args
                .first()
                .and_then(|data| data["n"].as_u64())
                .unwrap_or(0);
            let offset = args
                .last()
                .and_then(|marker| marker[recovery::OFFSET_KEY].as_u64())
                .unwrap_or(0);
            match seen.get_mut(n as usize) {
                Some(seen) if !*seen && n > 0 => {
                    *seen = true;
                    resumed.received += 1;
                    if n < last || offset <= last_offset {
                        resumed.out_of_order += 1;
                    }
                    last = last.max(n);
                    last_offset = last_offset.max(offset);
                }
                _ => resumed.duplicates += 1,
            }
        }
        if recovered && !done && resumed.received == burst.missed {
            resumed.took.push(now_us().saturating_sub(burst.started_us));
            finish(&mut done);
        }
    }
    finish(&mut done);
    resumed
}

/// Connection recovery: `sockets` opted-in sockets join the room and are cut
/// at once; once the server has seen them go, a plain socket broadcasts
/// `broadcasts` events to the room; then every socket reconnects at once
/// with its token and offset 0, and reads its status and the broadcasts it
/// missed. The server's RSS is read before the sockets connect, once they
/// are in the room, after the cut, and once the broadcasts are answered.
pub async fn recovery(options: &Options) -> Result<Report, String> {
    options.check_files(options.sockets + 1)?;
    let pid = options
        .server_pid
        .ok_or("recovery needs --server-pid to read the server's memory")?;
    let rss = || procfs::rss_kib(pid).ok_or("cannot read the server's memory");
    let mut sender = Sender::connect(&options.target).await?;
    let rss_before = rss()?;
    let opted_in = options.target.recovering();
    let (sockets, mut failures, _) = connect_many(
        &opted_in,
        options.sockets,
        options.concurrency,
        &options.sources,
    )
    .await;
    let handles: Vec<_> = sockets
        .into_iter()
        .map(|ws| tokio::spawn(timeout(FANOUT_LIMIT * 3, join_recovering(ws))))
        .collect();
    let mut joined = Vec::with_capacity(handles.len());
    let mut join_failed = 0u64;
    for handle in handles {
        match handle.await {
            Ok(Ok(Some(member))) => joined.push(member),
            _ => join_failed += 1,
        }
    }
    if joined.is_empty() {
        return Err(format!("no socket joined the room ({failures:?})"));
    }
    let members = joined.len() as u64;
    let rss_joined = rss()?;

    // The cut: every connection dropped at once, without a disconnect packet.
    let (connections, tokens): (Vec<Ws>, Vec<Option<String>>) = joined.into_iter().unzip();
    drop(connections);
    let members_url = format!("/rooms/{ROOM}/members");
    let until = Instant::now() + RECOVERY_LIMIT;
    loop {
        let body = sender.get(&members_url).await?;
        if body.as_array().is_some_and(Vec::is_empty) {
            break;
        }
        if Instant::now() >= until {
            return Err(format!(
                "the server still listed members {RECOVERY_LIMIT:?} after the cut: {body}"
            ));
        }
        sleep(Duration::from_millis(20)).await;
    }
    let rss_cut = rss()?;

    let missed = options.broadcasts as u64;
    for n in 1..=missed {
        sender
            .broadcast_data(MISSED_EVENT, &format!(r#"{{"n":{n}}}"#))
            .await?;
        sender.acks(4).await?;
    }
    sender.acks(0).await?;
    let rss_recorded = rss()?;

    // Every socket reconnects at once, with its token and offset 0.
    let started = Instant::now();
    let burst = Arc::new(Burst {
        started_us: now_us(),
        missed,
        deadline: started + RECOVERY_LIMIT + FANOUT_LIMIT,
        done: AtomicU64::new(0),
    });
    let handles: Vec<_> = tokens
        .iter()
        .map(|token| {
            let target = match token {
                Some(token) => options.target.resuming(token, 0),
                None => opted_in.clone(),
            };
            tokio::spawn(resume(target, token.is_some(), burst.clone()))
        })
        .collect();
    reach(&burst.done, members, RECOVERY_LIMIT).await;
    if tokens.iter().any(Option::is_some) {
        sender.broadcast_data(FENCE_EVENT, "{}").await?;
        sender.acks(0).await?;
    }
    let mut total = sum_of(handles, |total: &mut Resumed| {
        total.failures.add(ConnectFailure::Other);
    })
    .await;
    failures.merge(total.failures);
    let per_event = members * missed;
    let report = Report::new(Scenario::Recovery)
        .count(Key::Sockets, members)
        .count(Key::Broadcasts, missed)
        .count(Key::Recovered, total.recovered)
        .count(Key::NotRecovered, members - total.recovered)
        .count(
            Key::MissingDeliveries,
            per_event.saturating_sub(total.received),
        )
        .count(Key::Duplicates, total.duplicates)
        .count(Key::OutOfOrder, total.out_of_order)
        .percentiles(RECOVERY, &mut total.took)
        .count(Key::RssBeforeKib, rss_before)
        .count(Key::RssJoinedKib, rss_joined)
        .count(Key::RssCutKib, rss_cut)
        .count(Key::RssRecordedKib, rss_recorded)
        .num(
            Key::BytesPerDisconnected,
            Some((rss_cut as f64 - rss_before as f64) * 1024.0 / members as f64),
        )
        .num(
            Key::BytesPerBuffered,
            (per_event > 0)
                .then(|| (rss_recorded as f64 - rss_cut as f64) * 1024.0 / per_event as f64),
        )
        .count(Key::BadStatus, sender.bad)
        .count(Key::JoinFailed, join_failed);
    Ok(failures.report(report))
}

/// Memory per idle socket: server RSS before and after `sockets` connect.
pub async fn idle(options: &Options) -> Result<Report, String> {
    options.check_files(options.sockets)?;
    let pid = options
        .server_pid
        .ok_or("idle needs --server-pid to read the server's memory")?;
    let before = procfs::rss_kib(pid).ok_or("cannot read the server's memory")?;
    let (mut sockets, failures, _) = options.connect_sockets().await;
    // Let the server finish its per-connection work before reading.
    sleep(Duration::from_secs(1)).await;
    let after = procfs::rss_kib(pid).ok_or("cannot read the server's memory")?;
    let connected = sockets.len() as u64;
    let per_socket = (after as f64 - before as f64) * 1024.0 / connected.max(1) as f64;
    let report = Report::new(Scenario::Idle)
        .count(Key::Sockets, connected)
        .count(Key::RssBeforeKib, before)
        .count(Key::RssAfterKib, after)
        .num(Key::BytesPerSocket, Some(per_socket));
    let report = failures.report(report);
    if options.hold {
        println!("{}", report.line().map_err(|err| err.to_string())?);
        hold(&mut sockets).await;
    }
    Ok(report)
}

/// Keeps `sockets` alive (EIO3 pings) until stdin closes, at most two minutes.
async fn hold(sockets: &mut [Ws]) {
    let (closed_tx, mut closed) = watch::channel(false);
    std::thread::spawn(move || {
        let _ = std::io::Read::read_to_end(&mut std::io::stdin(), &mut Vec::new());
        let _ = closed_tx.send(true);
    });
    let until = Instant::now() + Duration::from_secs(120);
    while Instant::now() < until && !*closed.borrow() {
        let _ = timeout(Duration::from_secs(20), closed.changed()).await;
        for ws in sockets.iter_mut() {
            let _ = ws.send(conn::ping_frame()).await;
            while let Some(Some(Ok(_))) = ws.next().now_or_never() {}
        }
    }
}

/// Connection rate: a burst of `sockets` full handshakes, `concurrency` at a time.
pub async fn handshakes(options: &Options) -> Result<Report, String> {
    options.check_files(options.sockets)?;
    let ticks = procfs::ticks_per_second();
    let cpu = CpuWindow::start(options.server_pid);
    let started = Instant::now();
    let (sockets, failures, mut took) = options.connect_sockets().await;
    let elapsed = started.elapsed().as_secs_f64();
    let cpu_us = cpu.elapsed_us(ticks);
    let connected = sockets.len() as u64;
    let report = Report::new(Scenario::Handshakes)
        .count(Key::Sockets, connected)
        .num(Key::Rate, Some(connected as f64 / elapsed))
        .num(Key::CpuUs, cpu_us.map(|us| us / connected.max(1) as f64))
        .num(Key::PerCore, per_core(connected, cpu_us))
        .percentiles(LATENCY, &mut took);
    for mut ws in sockets {
        let _ = ws.send(Message::Close(None)).now_or_never();
    }
    let report = failures.report(report);
    if failures.total() > 0 {
        eprintln!(
            "handshakes: {} of {} failed",
            failures.total(),
            options.sockets
        );
    }
    Ok(report)
}

/// How often the soak reads the server's memory and prints its progress.
const SOAK_SAMPLE_EVERY: Duration = Duration::from_secs(10);
/// A soaking socket sends an EIO3 heartbeat with every this many requests
/// (the server expects one within its 25 s ping interval plus timeout).
const SOAK_PING_EVERY: u64 = 20;

/// What one socket saw during the soak.
#[derive(Debug, Default)]
struct SoakStats {
    latencies: Samples,
    /// How long after its scheduled time each request went out.
    send_delays: Samples,
    sent: u64,
    ok: u64,
    bad_status: u64,
    missing: u64,
    closed: u64,
}

/// Totals the soak's progress lines read while it runs.
#[derive(Debug, Default)]
struct SoakProgress {
    sent: AtomicU64,
    answered: AtomicU64,
    closed: AtomicU64,
}

/// One request a second on one socket, the first at `first`, `requests` in
/// all (fewer when the generator falls behind: late ticks are skipped, not
/// bunched); then waits at most [`DRAIN`] for the last answers.
async fn soak_socket(
    mut ws: Ws,
    plan: Arc<Plan>,
    first: Instant,
    requests: u64,
    progress: Arc<SoakProgress>,
) -> SoakStats {
    let mut stats = SoakStats::default();
    let mut ticker = tokio::time::interval_at(first.into(), Duration::from_secs(1));
    ticker.set_missed_tick_behavior(MissedTickBehavior::Skip);
    let end = first + Duration::from_secs(requests);
    let drain = tokio::time::sleep_until((end + DRAIN).into());
    tokio::pin!(drain);
    let mut pending: Vec<(u64, Instant)> = Vec::new();
    let mut sending = true;
    while sending || !pending.is_empty() {
        tokio::select! {
            tick = ticker.tick(), if sending => {
                let due = tick.into_std();
                if due >= end {
                    sending = false;
                    continue;
                }
                stats.send_delays.push(due.elapsed().as_micros() as u64);
                stats.sent += 1;
                progress.sent.fetch_add(1, Ordering::Relaxed);
                pending.push((stats.sent, Instant::now()));
                let frame = conn::request_frame(stats.sent, &plan.method, &plan.path, &plan.data);
                let mut sent = ws.feed(frame).await;
                if stats.sent % SOAK_PING_EVERY == 1 {
                    sent = sent.and(ws.feed(conn::ping_frame()).await);
                }
                if sent.and(ws.flush().await).is_err() {
                    stats.closed = 1;
                    break;
                }
            }
            message = ws.next() => {
                let Some(Ok(message)) = message else {
                    stats.closed = 1;
                    break;
                };
                match Incoming::read(&message) {
                    Incoming::Ack { id, status } => {
                        if let Some(at) = pending.iter().position(|(sent, _)| *sent == id) {
                            let (_, sent_at) = pending.swap_remove(at);
                            stats.latencies.push(sent_at.elapsed().as_micros() as u64);
                            progress.answered.fetch_add(1, Ordering::Relaxed);
                            if status == 200 {
                                stats.ok += 1;
                            } else {
                                stats.bad_status += 1;
                            }
                        }
                    }
                    Incoming::Closed => {
                        stats.closed = 1;
                        break;
                    }
                    _ => {}
                }
            }
            () = &mut drain => break,
        }
    }
    progress.closed.fetch_add(stats.closed, Ordering::Relaxed);
    stats.missing = pending.len() as u64;
    stats
}

/// Soak: `sockets` sockets each send one request a second for `duration`,
/// spread evenly over each second, while the server's memory is read every
/// [`SOAK_SAMPLE_EVERY`].
pub async fn soak(options: &Options) -> Result<Report, String> {
    options.check_files(options.sockets)?;
    let pid = options
        .server_pid
        .ok_or("soak needs --server-pid to read the server's memory")?;
    let (sockets, failures, _) = options.connect_sockets().await;
    if sockets.is_empty() {
        return Err(format!("no socket could connect ({failures:?})"));
    }
    let connected = sockets.len() as u64;
    // Let the server finish its per-connection work before reading.
    sleep(Duration::from_secs(1)).await;
    let rss_idle = procfs::rss_kib(pid).ok_or("cannot read the server's memory")?;
    eprintln!("soak: {connected} sockets connected, server RSS {rss_idle} KiB");

    let seconds = options.duration.as_secs().max(1);
    let plan = Arc::new(Plan {
        method: options.method.clone(),
        path: options.path.clone(),
        data: body_of(options.body_bytes),
        in_flight: 1,
    });
    let progress = Arc::new(SoakProgress::default());
    let ticks = procfs::ticks_per_second();
    let cpu = CpuWindow::start(Some(pid));
    let own_cpu = CpuWindow::start(Some(std::process::id()));
    // Every socket's first request lies ahead, even for the last one spawned.
    let started = Instant::now() + Duration::from_millis(200);
    let spread = Duration::from_secs(1).as_secs_f64() / connected as f64;
    let handles: Vec<_> = sockets
        .into_iter()
        .enumerate()
        .map(|(i, ws)| {
            let first = started + Duration::from_secs_f64(spread * i as f64);
            tokio::spawn(soak_socket(
                ws,
                plan.clone(),
                first,
                seconds,
                progress.clone(),
            ))
        })
        .collect();

    let end = started + Duration::from_secs(seconds);
    let mut rss = Vec::new();
    let mut next = started;
    loop {
        next = (next + SOAK_SAMPLE_EVERY).min(end);
        tokio::time::sleep_until(next.into()).await;
        let kib = procfs::rss_kib(pid);
        rss.extend(kib);
        eprintln!(
            "soak: {:.0} s, {} requests sent, {} answered, {} sockets closed, server RSS {} KiB",
            next.duration_since(started).as_secs_f64(),
            progress.sent.load(Ordering::Relaxed),
            progress.answered.load(Ordering::Relaxed),
            progress.closed.load(Ordering::Relaxed),
            kib.map_or_else(|| "unknown".into(), |kib| kib.to_string()),
        );
        if next >= end || kib.is_none() {
            break;
        }
    }
    let window_us = started.elapsed().as_secs_f64() * 1e6;
    let cpu_us = cpu.elapsed_us(ticks);
    let own_cpu_us = own_cpu.elapsed_us(ticks);

    let mut total = sum_of(handles, |total: &mut SoakStats| total.closed += 1).await;
    let intended = connected * seconds;
    let answered = total.ok + total.bad_status;
    let under_load = rss.first().copied().unwrap_or(rss_idle);
    let rss_end = rss.last().copied().unwrap_or(rss_idle);
    let rss_max = rss
        .iter()
        .copied()
        .chain([rss_idle])
        .max()
        .unwrap_or(rss_idle);
    let report = Report::new(Scenario::Soak)
        .count(Key::Sockets, connected)
        .count(Key::Seconds, seconds)
        .count(Key::Intended, intended)
        .count(Key::Sent, total.sent)
        .num(
            Key::SentShare,
            Some(total.sent as f64 / intended.max(1) as f64),
        )
        .count(Key::Answered, answered)
        .num(Key::Rate, Some(total.sent as f64 * 1e6 / window_us))
        .num(Key::CpuUs, cpu_us.map(|us| us / total.sent.max(1) as f64))
        .num(Key::CpuBusy, cpu_us.map(|us| us / window_us))
        .num(Key::GenBusy, own_cpu_us.map(|us| us / window_us))
        .percentiles(LATENCY, &mut total.latencies)
        .percentiles(SEND_DELAY, &mut total.send_delays)
        .count(Key::RssIdleKib, rss_idle)
        .count(Key::RssFirstKib, under_load)
        .count(Key::RssEndKib, rss_end)
        .count(Key::RssMaxKib, rss_max)
        .num(Key::RssGrowthKib, Some(rss_end as f64 - under_load as f64))
        .count(Key::RssSamples, rss.len() as u64)
        .count(Key::MissingAcks, total.missing)
        .count(Key::BadStatus, total.bad_status)
        .count(Key::Broken, total.closed);
    Ok(failures.report(report))
}

/// A flood from one socket that then leaves: it sends `requests` requests
/// back to back (`path`, e.g. `/slow?ms=1000`, so that they pile up), closes,
/// and the server's memory is read before, when the last one is sent, and
/// `settle` after the close, to see what the server keeps of a socket gone.
pub async fn flood(options: &Options) -> Result<Report, String> {
    const SETTLE: Duration = Duration::from_secs(3);
    let pid = options
        .server_pid
        .ok_or("flood needs --server-pid to read the server's memory")?;
    let rss = || procfs::rss_kib(pid).ok_or("cannot read the server's memory");
    let before = rss()?;
    let ws = conn::connect(&options.target, None)
        .await
        .map_err(|failure| format!("connect: {failure}"))?;
    let (mut sink, mut stream) = ws.split();
    let reader = tokio::spawn(async move {
        let (mut answered, mut closed_by_server) = (0u64, false);
        while let Some(Ok(message)) = stream.next().await {
            match Incoming::read(&message) {
                Incoming::Ack { .. } => answered += 1,
                Incoming::Closed => {
                    closed_by_server = true;
                    break;
                }
                _ => {}
            }
        }
        (answered, closed_by_server)
    });
    let body = body_of(options.body_bytes);
    let mut sent = 0u64;
    for ack in 1..=options.requests as u64 {
        let frame = conn::request_frame(ack, &options.method, &options.path, &body);
        if sink.feed(frame).await.is_err() {
            break;
        }
        sent += 1;
    }
    let _ = sink.flush().await;
    let peak = rss()?;
    let _ = timeout(DRAIN, sink.send(Message::Close(None))).await;
    drop(sink);
    let (answered, closed_by_server) = timeout(DRAIN, reader)
        .await
        .ok()
        .and_then(Result::ok)
        .unwrap_or((0, false));
    sleep(SETTLE).await;
    let after = rss()?;
    Ok(Report::new(Scenario::Flood)
        .count(Key::Sent, sent)
        .count(Key::Answered, answered)
        .count(Key::ClosedByServer, u64::from(closed_by_server))
        .count(Key::RssBeforeKib, before)
        .count(Key::RssPeakKib, peak)
        .count(Key::RssAfterKib, after))
}
