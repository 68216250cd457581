use std::net::SocketAddr;
use std::time::{Duration, Instant};

use futures_util::stream::{self, StreamExt};
use sails_server::SocketId;
use serde_json::json;

use crate::support::{Client, Options, demo_with_handle};

/// Connects `count` sockets (a few hundred handshakes at a time).
async fn connect_many(addr: SocketAddr, count: usize) -> Vec<Client> {
    stream::iter(0..count)
        .map(|_| async move {
            Client::connect_with(addr, Options::default())
                .await
                .expect("socket connects")
        })
        .buffer_unordered(200)
        .collect()
        .await
}

/// Every socket joins `room` through the API, one broadcast goes out, and
/// every socket gets it exactly once; returns how long the broadcast took to arrive.
async fn broadcast_reaches_everyone(count: usize) -> Duration {
    let (addr, sails) = demo_with_handle().await;
    let clients = connect_many(addr, count).await;
    let sockets = sails.sockets();
    for socket in sails.io().sockets() {
        let id: SocketId = socket.id.as_str().parse().expect("a socket id");
        sockets.socket(id).join("crowd").await.expect("join");
    }
    assert_eq!(
        sockets.to("crowd").ids().await.expect("members").len(),
        count
    );

    let started = Instant::now();
    sockets
        .to("crowd")
        .emit("wave", &json!({"n": 1}))
        .await
        .expect("broadcast");
    let received = stream::iter(clients.iter())
        .map(|client| client.next_event("wave"))
        .buffer_unordered(count)
        .collect::<Vec<_>>()
        .await;
    let elapsed = started.elapsed();
    assert_eq!(received.len(), count);
    assert!(received.iter().all(|wave| *wave == json!({"n": 1})));
    elapsed
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broadcast_reaches_a_thousand_sockets() {
    let elapsed = broadcast_reaches_everyone(1_000).await;
    eprintln!("broadcast to 1,000 sockets arrived in {elapsed:?}");
}

/// The `sails-server` binary in its own process (so that client and server
/// each stay within the per-process file limit), killed when dropped.
struct ServerProcess(std::process::Child);

impl Drop for ServerProcess {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "10,000 sockets take a while and 10,000 file descriptors per process; run with --ignored"]
async fn a_blast_reaches_ten_thousand_sockets() {
    use std::io::BufRead;
    let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_sails-server"))
        .args(["--port", "0", "--www"])
        .arg(crate::support::www())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .expect("start sails-server");
    let stdout = child.stdout.take().expect("piped stdout");
    let server = ServerProcess(child);
    let line = tokio::time::timeout(
        Duration::from_secs(30),
        tokio::task::spawn_blocking(move || {
            let mut line = String::new();
            let _ = std::io::BufReader::new(stdout).read_line(&mut line);
            line
        }),
    )
    .await
    .expect("ready line in time")
    .expect("reader");
    let addr: SocketAddr = line
        .trim()
        .strip_prefix("listening on http://")
        .and_then(|addr| addr.parse().ok())
        .expect("ready line");

    let count = 10_000;
    let clients = connect_many(addr, count).await;
    let started = Instant::now();
    let (status, _, _) = crate::support::http(
        addr,
        "POST",
        "/blast",
        &[("content-type", "application/json")],
        r#"{"event":"wave","data":1}"#,
    )
    .await;
    assert_eq!(status, 200);
    let received = stream::iter(clients.iter())
        .map(|client| client.next_event("wave"))
        .buffer_unordered(count)
        .collect::<Vec<_>>()
        .await;
    eprintln!(
        "blast to {count} sockets arrived in {:?}",
        started.elapsed()
    );
    assert!(received.iter().all(|wave| *wave == 1));
    drop(server);
}
