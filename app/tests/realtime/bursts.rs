//! Bursts: every request of a flood is answered and every broadcast
//! delivered, in order, as Sails does; what one socket may queue is bounded,
//! a socket that stops reading is disconnected as a slow consumer, and a
//! socket that leaves has its queued requests cancelled.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use axum::routing::get;
use sails_app::demo;
use sails_server::{Sails, SocketsConfig};
use serde_json::{Value, json};
use socketioxide::{SendError, SocketError};
use tokio::sync::{Notify, mpsc};
use tokio::time::timeout;

use crate::support::{Client, RawSocket, WAIT, demo_with_handle, eventually, serve, www};

const FLOOD: usize = 20_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_requests_is_answered_in_full() {
    let (addr, sails) = demo_with_handle().await;
    let mut client = Client::connect(addr).await;
    let answers: Vec<_> = (0..FLOOD)
        .map(|_| client.start_request("get", "/hello", json!({})))
        .collect();
    for answer in answers {
        assert_eq!(answer.await["body"], "ok!");
    }
    // Creations: every one answered, with its own record.
    let answers: Vec<_> = (0..FLOOD / 2)
        .map(|n| client.start_request("post", "/pets", json!({"id": n, "name": "rex"})))
        .collect();
    for (n, answer) in answers.into_iter().enumerate() {
        let jwr = answer.await;
        assert_eq!(jwr["statusCode"], 201, "{jwr}");
        assert_eq!(jwr["body"]["id"], n);
    }
    assert_eq!(client.get_ok("/hello").await, "ok!");
    assert_eq!(sails.stats().too_many_queued_requests, 0);
    assert_eq!(sails.stats().slow_consumers, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_of_broadcasts_reaches_every_member_in_order() {
    let (addr, sails) = demo_with_handle().await;
    let mut sender = Client::connect(addr).await;
    let mut member = Client::connect(addr).await;
    member.request("put", "/rooms/lobby/join", json!({})).await;
    sender.request("put", "/rooms/lobby/join", json!({})).await;

    let answers: Vec<_> = (0..FLOOD)
        .map(|n| {
            sender.start_request(
                "post",
                "/rooms/lobby/broadcast",
                json!({"event": "said", "data": n, "omitSender": true}),
            )
        })
        .collect();
    for answer in answers {
        assert_eq!(answer.await["statusCode"], 200);
    }
    for n in 0..FLOOD {
        assert_eq!(member.next_event("said").await, n);
    }
    // The sender, omitted, heard none of it.
    sender.sync().await;
    assert!(sender.take_events("said").is_empty());
    assert_eq!(sails.stats().slow_consumers, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_ping_flood_keeps_the_socket_alive_and_answered() {
    let addr = crate::support::demo().await;
    let mut client = Client::connect(addr).await;
    for _ in 0..10_000 {
        client.send_frame("2");
    }
    assert_eq!(client.get_ok("/hello").await, "ok!");
    // The last ping is answered (pings that arrive together share a pong).
    client.wait_heartbeats(|(_, pongs)| pongs >= 1).await;
    let (_, before) = client.heartbeats();
    client.send_frame("2");
    client.wait_heartbeats(|(_, pongs)| pongs > before).await;
    assert_eq!(client.get_ok("/hello").await, "ok!");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_pong_that_finds_the_send_channel_full_waits_for_room() {
    let mut config = SocketsConfig::default();
    config.send_buffer = 16;
    let (app, sails) = demo::app_with_config(www(), config);
    let addr = serve(app).await;
    let mut client = RawSocket::connect(addr).await;
    let socket = sails.io().sockets().pop().expect("the socket");

    // The client reads nothing while its channel fills: straight through
    // socketioxide, whose send fails once the channel is full.
    let chunk = "x".repeat(64 * 1024);
    let mut queued = 0;
    loop {
        match socket.emit("chunk", &chunk) {
            Ok(()) => queued += 1,
            Err(SendError::Socket(SocketError::InternalChannelFull)) => break,
            Err(error) => panic!("emit: {error}"),
        }
        assert!(queued < 10_000, "the channel never filled");
        tokio::task::yield_now().await;
    }
    // A ping now: its pong cannot be queued, and must not close the socket.
    client.send("2").await;
    let (mut chunks, mut pongs) = (0, 0);
    while chunks < queued || pongs == 0 {
        let text = client
            .next_text()
            .await
            .unwrap_or_else(|| panic!("closed after {chunks} of {queued} chunks"));
        if text == "3" {
            pongs += 1;
        } else if text.starts_with("42[\"chunk\"") {
            chunks += 1;
        }
    }
    // Still open, and answering.
    let answer = client.request("get", "/hello").await;
    assert!(answer.contains(r#""statusCode":200"#), "{answer}");
}

#[tokio::test]
async fn oversized_requests_get_a_4xx_that_names_the_limit() {
    let addr = crate::support::demo().await;
    let mut client = Client::connect(addr).await;
    let headers: serde_json::Map<String, Value> = (0..24_600)
        .map(|n| (format!("x-h{n}"), json!("v")))
        .collect();
    let jwr = client
        .request_with_headers("get", "/hello", json!({}), Value::Object(headers))
        .await;
    assert_eq!(jwr["statusCode"], 431, "{jwr}");
    assert!(
        jwr["body"].as_str().unwrap().contains("at most 100"),
        "{jwr}"
    );

    let long_url = format!("/echo?q={}", "a".repeat(9_000));
    let jwr = client.request("get", &long_url, json!({})).await;
    assert_eq!(jwr["statusCode"], 414, "{jwr}");

    let big_header = json!({"x-big": "v".repeat(20_000)});
    let jwr = client
        .request_with_headers("get", "/hello", json!({}), big_header)
        .await;
    assert_eq!(jwr["statusCode"], 431, "{jwr}");
    // The socket keeps working.
    assert_eq!(client.get_ok("/hello").await, "ok!");
}

#[tokio::test]
async fn a_request_cannot_replace_the_handshake_cookie_or_origin() {
    let addr = crate::support::demo().await;
    let origin = format!("http://{addr}");
    let mut victim = Client::connect(addr).await;
    assert_eq!(victim.get_ok("/count").await, 1);
    assert_eq!(victim.get_ok("/count").await, 2);
    let victim_cookie = victim.get_ok("/echo").await["headers"]["cookie"]
        .as_str()
        .expect("the socket's session cookie")
        .to_owned();

    let mut attacker = Client::connect_with(
        addr,
        crate::support::Options::default().header("origin", &origin),
    )
    .await
    .expect("connects");
    let claims = json!({"cookie": victim_cookie, "origin": "http://elsewhere.example"});
    let jwr = attacker
        .request_with_headers("get", "/echo", json!({}), claims.clone())
        .await;
    assert_eq!(jwr["body"]["headers"]["origin"], origin.as_str());
    assert_ne!(jwr["body"]["headers"]["cookie"], victim_cookie);
    // The attacker's requests count in its own session, not the victim's.
    let jwr = attacker
        .request_with_headers("get", "/count", json!({}), claims)
        .await;
    assert_eq!(jwr["body"], 1);
    assert_eq!(victim.get_ok("/count").await, 3);
}

/// Routes whose handlers the test controls: `/block` waits for the test
/// (and says when it was dropped unfinished), `/run` counts its runs.
#[derive(Clone, Default)]
struct Probe {
    started: Arc<Notify>,
    release: Arc<Notify>,
    dropped: Arc<AtomicBool>,
    dropped_notify: Arc<Notify>,
    runs: Arc<AtomicUsize>,
}

struct DropFlag(Probe);

impl Drop for DropFlag {
    fn drop(&mut self) {
        self.0.dropped.store(true, Ordering::SeqCst);
        self.0.dropped_notify.notify_waiters();
    }
}

fn probe_routes(probe: &Probe) -> Router {
    let block = probe.clone();
    let run = probe.clone();
    Router::new()
        .route(
            "/block",
            get(move || {
                let probe = block.clone();
                async move {
                    let flag = DropFlag(probe.clone());
                    probe.started.notify_one();
                    probe.release.notified().await;
                    std::mem::forget(flag);
                    "released"
                }
            }),
        )
        .route(
            "/run",
            get(move || {
                let probe = run.clone();
                async move {
                    probe.runs.fetch_add(1, Ordering::SeqCst);
                    "ran"
                }
            }),
        )
}

#[tokio::test]
async fn a_socket_that_leaves_has_its_queued_and_running_requests_cancelled() {
    let probe = Probe::default();
    let mut config = SocketsConfig::default();
    config.max_requests_in_flight = 1;
    let (app, _) = Sails::builder().config(config).build(probe_routes(&probe));
    let addr = serve(app).await;
    let mut client = Client::connect(addr).await;
    drop(client.start_request("get", "/block", json!({})));
    for _ in 0..100 {
        drop(client.start_request("get", "/run", json!({})));
    }
    let dropped = probe.dropped_notify.notified();
    tokio::pin!(dropped);
    dropped.as_mut().enable();
    timeout(WAIT, probe.started.notified())
        .await
        .expect("the blocking request runs");
    client.close();
    timeout(WAIT, dropped)
        .await
        .expect("the running request is cancelled when its socket leaves");
    assert!(probe.dropped.load(Ordering::SeqCst));
    // Its worker is gone with it: the queued requests can no longer run.
    probe.release.notify_waiters();
    assert_eq!(probe.runs.load(Ordering::SeqCst), 0);
}

#[tokio::test]
async fn a_socket_queueing_past_its_bound_is_disconnected_with_the_reason() {
    let probe = Probe::default();
    let mut config = SocketsConfig::default();
    config.max_requests_in_flight = 1;
    config.max_queued_request_bytes = 64 * 1024;
    let (reasons_tx, mut reasons) = mpsc::unbounded_channel();
    let (app, sails) = Sails::builder()
        .config(config)
        .after_disconnect(move |gone| {
            let reasons_tx = reasons_tx.clone();
            async move {
                let _ = reasons_tx.send(gone.reason);
            }
        })
        .build(probe_routes(&probe));
    let addr = serve(app).await;
    let mut flooder = Client::connect(addr).await;
    let mut bystander = Client::connect(addr).await;
    drop(flooder.start_request("get", "/block", json!({})));
    for _ in 0..1_000 {
        drop(flooder.start_request("get", "/run", json!({})));
    }
    flooder.closed().await;
    let reason = timeout(WAIT, reasons.recv()).await.expect("the hook ran");
    assert_eq!(reason.as_deref(), Some("too many queued requests"));
    assert_eq!(sails.stats().too_many_queued_requests, 1);
    assert_eq!(bystander.get_ok("/run").await, "ran");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_socket_that_stops_reading_is_disconnected_as_a_slow_consumer() {
    let mut config = SocketsConfig::default();
    config.send_buffer = 16;
    config.slow_consumer_timeout = Duration::from_millis(500);
    let (app, sails) = demo::app_with_config(www(), config);
    let addr = serve(app).await;
    let reader = Client::connect(addr).await;
    // A WebSocket that is opened, then never read again.
    let stalled = RawSocket::connect(addr).await;
    eventually(|| async { (sails.io().sockets().len() == 2).then_some(()) }).await;

    let chunk = "x".repeat(64 * 1024);
    let sent = Arc::new(Mutex::new(0usize));
    let blasts = {
        let sails = sails.clone();
        let sent = sent.clone();
        tokio::spawn(async move {
            // Enough to fill the kernel's buffers, the channel and the backlog.
            for n in 0..2_000 {
                sails
                    .sockets()
                    .all()
                    .emit("chunk", &json!({"n": n, "chunk": chunk}))
                    .await
                    .expect("blast");
                *sent.lock().unwrap() += 1;
            }
        })
    };
    timeout(Duration::from_secs(60), blasts)
        .await
        .expect("the blasts are not held up for good by the stalled socket")
        .expect("blasts");
    // Its backlog is dropped; it is disconnected as soon as its channel has
    // room for the disconnect packet, or by the heartbeat if it never reads again.
    assert_eq!(sails.stats().slow_consumers, 1);
    // The reading socket got every blast, in order.
    for n in 0..2_000 {
        assert_eq!(reader.next_event("chunk").await["n"], n);
    }
    drop(stalled);
}
