//! The records a bench run's generators print, one line each on stdout:
//! [`LINE_PREFIX`], then the record as JSON. `sails-loadgen` writes a
//! [`Record`], `tests/bench/startup.mjs` a [`StartupRecord`], and
//! `cargo xtask bench` reads both with [`from_output`]. Every figure is
//! named here, once.

use std::{collections::BTreeMap, fmt};

use serde::{Deserialize, Serialize, de::DeserializeOwned};

/// What a record's line on stdout starts with.
pub const LINE_PREFIX: &str = "result ";

/// Why a record could not be written or read.
#[derive(Debug, thiserror::Error)]
pub enum RecordError {
    /// No line of the output starts with [`LINE_PREFIX`].
    #[error("no `result` line")]
    NoLine,
    /// The `result` line is not a record of the expected shape.
    #[error("a `result` line that is not a valid record: {0}")]
    Malformed(#[source] serde_json::Error),
    /// The record could not be written as JSON.
    #[error("the record could not be written: {0}")]
    Write(#[source] serde_json::Error),
}

/// A generator scenario, as `sails-loadgen`'s first argument names it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Scenario {
    /// Virtual requests from many sockets, several in flight on each.
    Requests,
    /// Broadcasts to every socket of one room.
    Fanout,
    /// The server's memory per idle socket.
    Idle,
    /// A burst of full handshakes.
    Handshakes,
    /// Every socket sends one request a second, for minutes.
    Soak,
    /// One socket sends requests back to back, then leaves.
    Flood,
    /// Sockets that opted in to recovery are cut, miss broadcasts, and reconnect.
    Recovery,
}

impl Scenario {
    /// Every scenario.
    pub const ALL: [Self; 7] = [
        Self::Requests,
        Self::Fanout,
        Self::Idle,
        Self::Handshakes,
        Self::Soak,
        Self::Flood,
        Self::Recovery,
    ];

    /// Its name on the command line and in records.
    pub const fn name(self) -> &'static str {
        match self {
            Self::Requests => "requests",
            Self::Fanout => "fanout",
            Self::Idle => "idle",
            Self::Handshakes => "handshakes",
            Self::Soak => "soak",
            Self::Flood => "flood",
            Self::Recovery => "recovery",
        }
    }

    /// The scenario called `name`, if any.
    pub fn from_name(name: &str) -> Option<Self> {
        Self::ALL
            .into_iter()
            .find(|scenario| scenario.name() == name)
    }
}

/// One figure of a generator [`Record`]. "Units" are what the scenario
/// counts: requests, deliveries or handshakes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Key {
    /// Sockets connected.
    Sockets,
    /// Seconds of load (soak).
    Seconds,
    /// Requests the schedule called for (soak).
    Intended,
    /// Requests sent.
    Sent,
    /// Requests sent, as a share of those intended (soak).
    SentShare,
    /// Requests answered.
    Answered,
    /// Requests answered with a success status.
    Ok,
    /// Units per second of wall time.
    Rate,
    /// Server CPU time per unit, µs.
    CpuUs,
    /// Units per second of server CPU time.
    PerCore,
    /// Server CPU time over wall time (a fraction).
    CpuBusy,
    /// Generator CPU time over wall time (a fraction).
    GenBusy,
    /// Latency, median, µs.
    LatP50Us,
    /// Latency, 99th percentile, µs.
    LatP99Us,
    /// Latency, 99.9th percentile, µs.
    LatP999Us,
    /// Latency, highest, µs.
    LatMaxUs,
    /// How late requests were sent against their schedule, median, µs (soak).
    SendDelayP50Us,
    /// How late requests were sent, 99th percentile, µs (soak).
    SendDelayP99Us,
    /// How late requests were sent, 99.9th percentile, µs (soak).
    SendDelayP999Us,
    /// How late requests were sent, highest, µs (soak).
    SendDelayMaxUs,
    /// Server RSS before the sockets connected, KiB.
    RssBeforeKib,
    /// Server RSS after the sockets connected (idle) or left (flood), KiB.
    RssAfterKib,
    /// Server RSS when the last request was sent (flood), KiB.
    RssPeakKib,
    /// Server RSS with every socket connected, before the load (soak), KiB.
    RssIdleKib,
    /// Server RSS, first sample under load (soak), KiB.
    RssFirstKib,
    /// Server RSS, last sample (soak), KiB.
    RssEndKib,
    /// Server RSS, highest sample (soak), KiB.
    RssMaxKib,
    /// Server RSS growth from the first sample under load to the last (soak), KiB.
    RssGrowthKib,
    /// RSS samples taken (soak).
    RssSamples,
    /// Server RSS added per connected socket, bytes (idle).
    BytesPerSocket,
    /// Whether the server closed the socket (flood): 1 or 0.
    ClosedByServer,
    /// Handshakes whose TCP connection was refused.
    Refused,
    /// Handshakes whose HTTP upgrade was answered with an error status.
    HttpError,
    /// Handshakes the namespace refused, or the server closed.
    Rejected,
    /// Handshakes that did not complete in time.
    TimedOut,
    /// Handshakes that failed otherwise.
    ConnectError,
    /// Requests never answered.
    MissingAcks,
    /// Requests answered with an error status.
    BadStatus,
    /// Sockets closed during the run.
    Broken,
    /// Broadcasts that never reached a member.
    MissingDeliveries,
    /// Sockets that could not join the room (fan-out).
    JoinFailed,
    /// Broadcasts sent to a room whose members were all disconnected (recovery).
    Broadcasts,
    /// Sockets whose reconnection was told `recovered: true` with every
    /// broadcast missed (recovery).
    Recovered,
    /// Sockets whose reconnection was not told so (recovery).
    NotRecovered,
    /// Missed broadcasts a socket was given more than once (recovery).
    Duplicates,
    /// Missed broadcasts a socket was given after a later one (recovery).
    OutOfOrder,
    /// From the start of the reconnection burst to a socket's last missed
    /// broadcast, median, µs (recovery).
    RecoverP50Us,
    /// The same, 99th percentile, µs (recovery).
    RecoverP99Us,
    /// The same, 99.9th percentile, µs (recovery).
    RecoverP999Us,
    /// The same, highest, µs (recovery).
    RecoverMaxUs,
    /// Server RSS with every socket connected and in the room (recovery), KiB.
    RssJoinedKib,
    /// Server RSS once the server has seen every socket go (recovery), KiB.
    RssCutKib,
    /// Server RSS once the broadcasts to the room were answered (recovery), KiB.
    RssRecordedKib,
    /// Server RSS added per disconnected socket, from before the sockets
    /// connected to after the cut, bytes (recovery; an upper bound: memory
    /// freed by the sockets may stay in the process).
    BytesPerDisconnected,
    /// Server RSS added per broadcast recorded for a disconnected socket,
    /// bytes (recovery).
    BytesPerBuffered,
}

/// The name a record gives the figure (`lat_p99_us`).
impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.serialize(f)
    }
}

impl Key {
    /// The counts of what could not be done, in report order.
    pub const PROBLEMS: [Self; 10] = [
        Self::Refused,
        Self::HttpError,
        Self::Rejected,
        Self::TimedOut,
        Self::ConnectError,
        Self::MissingAcks,
        Self::BadStatus,
        Self::Broken,
        Self::MissingDeliveries,
        Self::JoinFailed,
    ];
}

/// The keys of one series' percentiles.
#[derive(Debug, Clone, Copy)]
pub struct Percentiles {
    /// The median.
    pub p50: Key,
    /// The 99th percentile.
    pub p99: Key,
    /// The 99.9th percentile.
    pub p999: Key,
    /// The highest value.
    pub max: Key,
}

/// Latencies (of requests, deliveries or handshakes).
pub const LATENCY: Percentiles = Percentiles {
    p50: Key::LatP50Us,
    p99: Key::LatP99Us,
    p999: Key::LatP999Us,
    max: Key::LatMaxUs,
};

/// From the start of a reconnection burst to each socket's last missed broadcast.
pub const RECOVERY: Percentiles = Percentiles {
    p50: Key::RecoverP50Us,
    p99: Key::RecoverP99Us,
    p999: Key::RecoverP999Us,
    max: Key::RecoverMaxUs,
};

/// How late the soak's requests were sent.
pub const SEND_DELAY: Percentiles = Percentiles {
    p50: Key::SendDelayP50Us,
    p99: Key::SendDelayP99Us,
    p999: Key::SendDelayP999Us,
    max: Key::SendDelayMaxUs,
};

/// What one generator run measured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    /// The scenario that ran.
    pub scenario: Scenario,
    /// Its figures; a figure that could not be measured is absent.
    pub figures: BTreeMap<Key, f64>,
}

impl Record {
    /// A record of `scenario` without figures.
    pub fn new(scenario: Scenario) -> Self {
        Self {
            scenario,
            figures: BTreeMap::new(),
        }
    }

    /// Sets a figure; a value that is not finite (a division by nothing) is left out.
    pub fn set(&mut self, key: Key, value: f64) {
        if value.is_finite() {
            self.figures.insert(key, value);
        }
    }

    /// A figure, if it was measured.
    pub fn get(&self, key: Key) -> Option<f64> {
        self.figures.get(&key).copied()
    }
}

/// A median and its range over several runs.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Spread {
    /// The median.
    pub median: f64,
    /// The lowest.
    pub min: f64,
    /// The highest.
    pub max: f64,
}

/// One client's start-up figures: times from navigation, in milliseconds,
/// and what it downloads.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClientStartup {
    /// To the client's files downloaded.
    pub downloaded_ms: Spread,
    /// To the `connect` event.
    pub connect_ms: Spread,
    /// To the answer of the first `GET /hello`.
    pub answered_ms: Spread,
    /// Bytes of the client's files (script and wasm).
    pub bytes: u64,
    /// The same files, `gzip -9`.
    pub gzip_bytes: u64,
}

/// The client start-up in headless Chromium (`tests/bench/startup.mjs`).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StartupRecord {
    /// Page loads per client.
    pub runs: u32,
    /// Our one-file client, on a page written for sails.io.js.
    pub ours: ClientStartup,
    /// Our lean client (script and module apart), on a page with a preload
    /// hint for its module.
    pub hinted: ClientStartup,
    /// sails.io.js-dist 1.2.1.
    pub dist: ClientStartup,
}

/// The line that carries `record`: [`LINE_PREFIX`], then the record as JSON.
pub fn to_line<T: Serialize>(record: &T) -> Result<String, RecordError> {
    let json = serde_json::to_string(record).map_err(RecordError::Write)?;
    Ok(format!("{LINE_PREFIX}{json}"))
}

/// The record on the last `result` line of a generator's stdout.
pub fn from_output<T: DeserializeOwned>(stdout: &str) -> Result<T, RecordError> {
    let json = stdout
        .lines()
        .rev()
        .find_map(|line| line.strip_prefix(LINE_PREFIX))
        .ok_or(RecordError::NoLine)?;
    serde_json::from_str(json).map_err(RecordError::Malformed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_reads_back_from_its_line() {
        let mut record = Record::new(Scenario::Requests);
        record.set(Key::Rate, 1234.5);
        record.set(Key::LatP999Us, 12.0);
        record.set(Key::CpuUs, f64::NAN);
        let line = to_line(&record).unwrap();
        assert_eq!(
            line,
            r#"result {"scenario":"requests","figures":{"rate":1234.5,"lat_p999_us":12.0}}"#
        );
        let output = format!("progress\n{line}\n");
        assert_eq!(from_output::<Record>(&output).unwrap(), record);
        assert_eq!(record.get(Key::CpuUs), None);
        assert_eq!(Key::LatP999Us.to_string(), "lat_p999_us");
        assert_eq!(Key::HttpError.to_string(), "http_error");
    }

    #[test]
    fn bad_output_says_what_is_wrong() {
        assert!(matches!(
            from_output::<Record>("no record here\n"),
            Err(RecordError::NoLine)
        ));
        let unknown = r#"result {"scenario":"requests","figures":{"speed":1}}"#;
        let error = from_output::<Record>(unknown).unwrap_err();
        assert!(error.to_string().contains("speed"), "{error}");
    }

    #[test]
    fn scenarios_are_found_by_name() {
        for scenario in Scenario::ALL {
            assert_eq!(Scenario::from_name(scenario.name()), Some(scenario));
            let json = serde_json::to_string(&scenario).unwrap();
            assert_eq!(json, format!("\"{}\"", scenario.name()));
        }
        assert_eq!(Scenario::from_name("fan-out"), None);
    }

    #[test]
    fn a_startup_record_reads_from_its_line() {
        let spread = r#"{"median":101.5,"min":99.25,"max":180}"#;
        let client = format!(
            r#"{{"downloaded_ms":{spread},"connect_ms":{spread},"answered_ms":{spread},"bytes":60628,"gzip_bytes":26545}}"#
        );
        let line =
            format!(r#"result {{"runs":20,"ours":{client},"hinted":{client},"dist":{client}}}"#);
        let record: StartupRecord = from_output(&line).unwrap();
        assert_eq!(record.runs, 20);
        assert_eq!(record.hinted.connect_ms.min, 99.25);
        assert_eq!(record.dist.gzip_bytes, 26_545);
    }
}
