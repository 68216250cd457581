//! What the bench runs against every server, grouped and ordered as the
//! report shows it, and how each figure is shown.

use sails_bench_record::{Key, Scenario as Generator};

/// A group of the report, in the table's order. The client start-up (5) is
/// not a generator scenario: its rows come from `startup`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Group {
    /// 1. Virtual requests.
    Requests,
    /// 2. Broadcast fan-out.
    Fanout,
    /// 3. Memory per idle socket.
    Idle,
    /// 4. Connection rate.
    Handshakes,
    /// 5. Client start-up in Chromium.
    Startup,
    /// 6. Scaling with the number of sockets.
    Scaling,
    /// 7. The models' blueprints (the servers that have the models).
    Blueprints,
}

impl Group {
    /// Every group, in the table's order.
    pub(super) const ORDER: [Self; 7] = [
        Self::Requests,
        Self::Fanout,
        Self::Idle,
        Self::Handshakes,
        Self::Startup,
        Self::Scaling,
        Self::Blueprints,
    ];

    /// Its number in the report.
    pub(super) fn number(self) -> usize {
        Self::ORDER
            .iter()
            .position(|group| *group == self)
            .map_or(0, |index| index + 1)
    }
}

/// How a figure is shown.
#[derive(Debug, Clone, Copy)]
pub(super) enum Unit {
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
    /// `value` as the table shows it.
    pub(super) fn show(self, value: f64) -> String {
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

/// A whole number with thousands separators.
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

/// One line of the table: a figure of the generator's record.
#[derive(Debug, Clone, Copy)]
pub(super) struct Row {
    /// What the figure is, after the scenario's name.
    pub(super) label: &'static str,
    /// The record's figure.
    pub(super) key: Key,
    /// How it is shown.
    pub(super) unit: Unit,
}

pub(super) const fn row(label: &'static str, key: Key, unit: Unit) -> Row {
    Row { label, key, unit }
}

/// One generator invocation, run against every server.
#[derive(Debug)]
pub(super) struct Scenario {
    /// Where it goes in the table.
    pub(super) group: Group,
    /// Its name in the table and the progress lines ("1. GET /hello, …").
    pub(super) name: String,
    /// The generator's arguments, the scenario's name first.
    pub(super) args: Vec<String>,
    /// The figures shown.
    pub(super) rows: Vec<Row>,
}

impl Scenario {
    /// Whether it needs the interop models' blueprints (`user`, `pet`),
    /// which the bare socketioxide server does not have.
    pub(super) fn needs_models(&self) -> bool {
        self.group == Group::Blueprints
    }
}

impl Scenario {
    fn new(group: Group, title: &str, generator: Generator, args: &[&str], rows: &[Row]) -> Self {
        Self {
            group,
            name: format!("{}. {title}", group.number()),
            args: std::iter::once(generator.name())
                .chain(args.iter().copied())
                .map(str::to_owned)
                .collect(),
            rows: rows.to_vec(),
        }
    }
}

const REQUEST_ROWS: [Row; 8] = [
    row("requests/s", Key::Rate, Unit::Rate),
    row("server µs CPU/request", Key::CpuUs, Unit::CpuMicros),
    row("requests per server CPU-second", Key::PerCore, Unit::Rate),
    row("server CPU busy (%)", Key::CpuBusy, Unit::Percent),
    row("generator CPU busy (%)", Key::GenBusy, Unit::Percent),
    row("p50 latency (ms)", Key::LatP50Us, Unit::Millis),
    row("p99 latency (ms)", Key::LatP99Us, Unit::Millis),
    row("p99.9 latency (ms)", Key::LatP999Us, Unit::Millis),
];

const FANOUT_ROWS: [Row; 6] = [
    row("deliveries/s", Key::Rate, Unit::Rate),
    row("server µs CPU/delivery", Key::CpuUs, Unit::CpuMicros),
    row("deliveries per server CPU-second", Key::PerCore, Unit::Rate),
    row("delivery p50 (ms)", Key::LatP50Us, Unit::Millis),
    row("delivery p99 (ms)", Key::LatP99Us, Unit::Millis),
    row("all delivered, max (ms)", Key::LatMaxUs, Unit::Millis),
];

const IDLE_ROWS: [Row; 1] = [row(
    "KiB of server RSS per socket",
    Key::BytesPerSocket,
    Unit::KiB,
)];

const HANDSHAKE_ROWS: [Row; 4] = [
    row("handshakes/s", Key::Rate, Unit::Rate),
    row("server µs CPU/handshake", Key::CpuUs, Unit::CpuMicros),
    row("handshakes per server CPU-second", Key::PerCore, Unit::Rate),
    row("handshake p99 (ms)", Key::LatP99Us, Unit::Millis),
];

const SCALING_ROWS: [Row; 3] = [
    row("requests/s", Key::Rate, Unit::Rate),
    row("server µs CPU/request", Key::CpuUs, Unit::CpuMicros),
    row("p99 latency (ms)", Key::LatP99Us, Unit::Millis),
];

/// The scenarios of a full run, or of a quick one (smaller, shorter), in
/// the table's order.
pub(super) fn scenarios(quick: bool) -> Vec<Scenario> {
    let seconds = if quick { "1" } else { "3" };
    let mut list = Vec::new();
    for (title, method, path, body) in [
        ("GET /hello", "get", "/hello", None),
        ("POST /echo 1 KB", "post", "/echo", Some("1024")),
    ] {
        let mut args = vec![
            "--sockets",
            "100",
            "--in-flight",
            "16",
            "--seconds",
            seconds,
        ];
        args.extend(["--method", method, "--path", path]);
        if let Some(bytes) = body {
            args.extend(["--body-bytes", bytes]);
        }
        list.push(Scenario::new(
            Group::Requests,
            &format!("{title}, 100 sockets x 16"),
            Generator::Requests,
            &args,
            &REQUEST_ROWS,
        ));
    }
    let fanout_sizes: &[usize] = if quick { &[2000] } else { &[2000, 10000] };
    let (rounds, deliveries) = if quick {
        ("3", 50_000)
    } else {
        ("10", 200_000)
    };
    for &sockets in fanout_sizes {
        // Enough deliveries that the server's CPU time is many clock ticks.
        let broadcasts = (deliveries / sockets).max(5).to_string();
        let sockets = sockets.to_string();
        list.push(Scenario::new(
            Group::Fanout,
            &format!("fan-out, {sockets} sockets in one room"),
            Generator::Fanout,
            &[
                "--sockets",
                &sockets,
                "--rounds",
                rounds,
                "--broadcasts",
                &broadcasts,
            ],
            &FANOUT_ROWS,
        ));
    }
    let idle_sizes: &[&str] = if quick { &["5000"] } else { &["5000", "19000"] };
    for sockets in idle_sizes {
        list.push(Scenario::new(
            Group::Idle,
            &format!("{sockets} idle sockets"),
            Generator::Idle,
            &["--sockets", sockets],
            &IDLE_ROWS,
        ));
    }
    let burst = if quick { "2000" } else { "10000" };
    list.push(Scenario::new(
        Group::Handshakes,
        &format!("handshake burst of {burst}"),
        Generator::Handshakes,
        &["--sockets", burst, "--concurrency", "100"],
        &HANDSHAKE_ROWS,
    ));
    let curve: &[usize] = if quick {
        &[1, 100, 1000]
    } else {
        &[1, 10, 100, 1000, 10000]
    };
    for &sockets in curve {
        // 16 in flight per socket up to 100 sockets, then fewer (1 per socket from 1,000).
        let in_flight = (1600 / sockets).clamp(1, 16);
        let (sockets, in_flight) = (sockets.to_string(), in_flight.to_string());
        list.push(Scenario::new(
            Group::Scaling,
            &format!("GET /hello, {sockets} sockets x {in_flight}"),
            Generator::Requests,
            &[
                "--sockets",
                &sockets,
                "--in-flight",
                &in_flight,
                "--seconds",
                seconds,
                "--concurrency",
                "256",
            ],
            &SCALING_ROWS,
        ));
    }
    // Blueprint find answers the 30 records seeded before the window (its
    // default limit), and subscribes the socket to them; create adds one.
    // One request in flight per socket: Sails takes milliseconds for each,
    // and with more in flight most would be answered after the window.
    let pet = r#"{"name":"Rex","species":"dog"}"#;
    for (title, method, seed) in [
        ("find GET /pet, 30 records", "get", "30"),
        ("create POST /pet", "post", "0"),
    ] {
        list.push(Scenario::new(
            Group::Blueprints,
            &format!("blueprint {title}, 20 sockets x 1"),
            Generator::Requests,
            &[
                "--sockets",
                "20",
                "--in-flight",
                "1",
                "--seconds",
                seconds,
                "--method",
                method,
                "--path",
                "/pet",
                "--body",
                pet,
                "--seed",
                seed,
            ],
            &REQUEST_ROWS,
        ));
    }
    list
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scenarios_come_in_the_order_of_their_groups() {
        for quick in [false, true] {
            let list = scenarios(quick);
            let numbers: Vec<usize> = list.iter().map(|s| s.group.number()).collect();
            assert!(numbers.is_sorted(), "{numbers:?}");
            assert!(!numbers.contains(&Group::Startup.number()));
            for scenario in &list {
                assert!(Generator::from_name(&scenario.args[0]).is_some());
                let prefix = format!("{}. ", scenario.group.number());
                assert!(scenario.name.starts_with(&prefix), "{}", scenario.name);
            }
        }
    }

    #[test]
    fn the_full_run_asks_the_generator_what_it_always_did() {
        let list = scenarios(false);
        assert_eq!(list.len(), 14);
        assert_eq!(list[0].name, "1. GET /hello, 100 sockets x 16");
        assert_eq!(
            list[1].args.join(" "),
            "requests --sockets 100 --in-flight 16 --seconds 3 --method post --path /echo \
             --body-bytes 1024"
        );
        assert_eq!(
            list[3].args.join(" "),
            "fanout --sockets 10000 --rounds 10 --broadcasts 20"
        );
        assert_eq!(list[11].name, "6. GET /hello, 10000 sockets x 1");
        assert_eq!(
            list[11].args.join(" "),
            "requests --sockets 10000 --in-flight 1 --seconds 3 --concurrency 256"
        );
        assert_eq!(
            list[12].name,
            "7. blueprint find GET /pet, 30 records, 20 sockets x 1"
        );
        assert!(list[12].needs_models() && !list[11].needs_models());
    }

    #[test]
    fn figures_are_shown_in_their_units() {
        assert_eq!(Unit::Rate.show(1_234_567.4), "1,234,567");
        assert_eq!(Unit::Millis.show(1234.0), "1.23");
        assert_eq!(Unit::KiB.show(2048.0), "2.00");
        assert_eq!(Unit::Percent.show(0.456), "46");
        assert_eq!(Unit::MiB.show(524_288.0), "512.0");
    }
}
