//! Three servers on one Redis (a `redis-server` of the test's own) behave as
//! one: rooms, broadcasts, lookups, sessions and blueprints across them; a
//! change confirmed by every server before it returns; Redis going away and
//! coming back without a restart of the servers.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use serde_json::{Value, json};
use tokio::io::AsyncWriteExt;

use sails_app::demo::{Demo, models};
use sails_models::{Blueprints, Migrate, Store};
use sails_server::{Cluster, RedisOptions, Sails};
use sails_testkit::postgres::TempPostgres;
use sails_testkit::redis::RedisServer;

use crate::support::{Client, Options, RawSocket, eventually, http, serve, www};

/// A demo server joined to the cluster on `redis`.
async fn node(redis: &RedisServer) -> (SocketAddr, Sails) {
    node_with(redis, RedisOptions::default(), None).await
}

async fn node_with(
    redis: &RedisServer,
    options: RedisOptions,
    blueprints: Option<Blueprints>,
) -> (SocketAddr, Sails) {
    let mut demo = Demo::new(www());
    demo.cluster = Cluster::redis_with(&redis.url(), options)
        .await
        .expect("joins Redis");
    demo.blueprints = blueprints;
    let (app, sails) = demo.build();
    sails.joined_cluster().await.expect("hears the cluster");
    (serve(app).await, sails)
}

async fn three_nodes(redis: &RedisServer) -> [SocketAddr; 3] {
    [
        node(redis).await.0,
        node(redis).await.0,
        node(redis).await.0,
    ]
}

fn sorted(mut ids: Vec<String>) -> Value {
    ids.sort();
    json!(ids)
}

#[tokio::test]
async fn broadcasts_and_members_span_every_server() {
    let redis = RedisServer::start().await;
    let addrs = three_nodes(&redis).await;
    let mut clients = Vec::new();
    for addr in addrs {
        let mut client = Client::connect(addr).await;
        client.request("put", "/rooms/r/join", json!({})).await;
        clients.push(client);
    }
    let mut ids = Vec::new();
    for client in &mut clients {
        ids.push(client.id().await);
    }
    for client in &mut clients {
        assert_eq!(client.get_ok("/rooms/r/members").await, sorted(ids.clone()));
    }

    let jwr = clients[0]
        .request(
            "post",
            "/rooms/r/broadcast",
            json!({"event": "news", "data": 1}),
        )
        .await;
    assert_eq!(jwr["statusCode"], 200, "{jwr}");
    for client in &clients {
        assert_eq!(client.next_event("news").await, 1);
    }

    // Leaving the sender out works across servers too, and a blast reaches all.
    clients[1]
        .request(
            "post",
            "/rooms/r/broadcast",
            json!({"event": "news", "data": 2, "omitSender": true}),
        )
        .await;
    clients[1]
        .request("post", "/blast", json!({"event": "all", "data": 3}))
        .await;
    for (index, client) in clients.iter().enumerate() {
        assert_eq!(client.next_event("all").await, 3);
        let news = client.take_events("news");
        let expected: Vec<Value> = if index == 1 { vec![] } else { vec![json!(2)] };
        assert_eq!(news, expected, "client {index}");
    }
}

#[tokio::test]
async fn a_socket_on_another_server_is_reached_by_id() {
    let redis = RedisServer::start().await;
    let [a_addr, b_addr, _] = three_nodes(&redis).await;
    let mut a = Client::connect(a_addr).await;
    let mut b = Client::connect(b_addr).await;
    let a_id = a.id().await;
    let jwr = b
        .request(
            "post",
            &format!("/sockets/{a_id}/emit"),
            json!({"event": "direct", "data": {"from": "b"}}),
        )
        .await;
    assert_eq!(jwr["statusCode"], 200, "{jwr}");
    assert_eq!(a.next_event("direct").await, json!({"from": "b"}));
    // Its rooms are known on every server.
    a.request("put", "/rooms/mine/join", json!({})).await;
    assert_eq!(
        b.get_ok(&format!("/rooms/{a_id}/members")).await,
        json!([a_id])
    );
}

#[tokio::test]
async fn a_membership_change_is_complete_everywhere_when_it_returns() {
    let redis = RedisServer::start().await;
    let [a_addr, b_addr, c_addr] = three_nodes(&redis).await;
    let mut a = Client::connect(a_addr).await;
    let mut b = Client::connect(b_addr).await;
    let mut c = Client::connect(c_addr).await;
    let a_id = a.id().await;
    // Server B adds A (held by server A) to a room; server C broadcasts to
    // it right after B's answer. Sails calls this "volatile"; here A hears
    // every broadcast.
    for round in 0..20 {
        let room = format!("race-{round}");
        let jwr = b
            .request(
                "post",
                &format!("/rooms/{a_id}/add-members-to"),
                json!({"rooms": [room]}),
            )
            .await;
        assert_eq!(jwr["body"], json!({"ok": true}), "{jwr}");
        c.request(
            "post",
            &format!("/rooms/{room}/broadcast"),
            json!({"event": "race", "data": round}),
        )
        .await;
        assert_eq!(a.next_event("race").await, round);
    }
    // The same for leaving: after B's answer, C's broadcast misses A.
    b.request(
        "post",
        &format!("/rooms/{a_id}/remove-members-from"),
        json!({"rooms": ["race-0"]}),
    )
    .await;
    c.request(
        "post",
        "/rooms/race-0/broadcast",
        json!({"event": "race", "data": "late"}),
    )
    .await;
    a.sync().await;
    c.sync().await;
    b.sync().await;
    assert!(a.take_events("race").is_empty());
}

/// A server of the cluster whose sockets have a send channel of 16 packets
/// and a backlog of at most `max_backlog`.
async fn small_channel_node(redis: &RedisServer, max_backlog: usize) -> (SocketAddr, Sails) {
    let mut demo = Demo::new(www());
    demo.sockets.send_buffer = 16;
    demo.sockets.max_backlog = max_backlog;
    demo.cluster = Cluster::redis(&redis.url()).await.expect("joins Redis");
    let (app, sails) = demo.build();
    sails.joined_cluster().await.expect("hears the cluster");
    (serve(app).await, sails)
}

/// A raw WebSocket on the server at `addr`, in room `room`.
async fn raw_member(addr: SocketAddr, room: &str) -> RawSocket {
    let mut socket = RawSocket::connect(addr).await;
    socket.request("put", &format!("/rooms/{room}/join")).await;
    socket
}

/// Broadcasts `count` events of 64 KiB, numbered from 0, to `room` from `sender`.
async fn broadcast_chunks(sender: &Sails, room: &str, count: usize) {
    let chunk = "x".repeat(64 * 1024);
    let room = sender.sockets().to(room);
    for n in 0..count {
        room.emit("chunk", &json!({"n": n, "chunk": chunk}))
            .await
            .expect("broadcast");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_on_another_server_that_reads_slowly_misses_nothing() {
    let redis = RedisServer::start().await;
    let (_, sender) = node(&redis).await;
    let (member_addr, member_node) = small_channel_node(&redis, 4096).await;
    let mut member = raw_member(member_addr, "slow").await;

    // The member reads nothing while far more than its channel and the
    // kernel's buffers hold is broadcast to it from the other server.
    const CHUNKS: usize = 300;
    broadcast_chunks(&sender, "slow", CHUNKS).await;
    let room = sender.sockets().to("slow");
    room.emit("done", &json!(null)).await.expect("broadcast");

    // Every chunk arrives, in order, then the end.
    let mut next = 0;
    loop {
        let text = member
            .next_text()
            .await
            .unwrap_or_else(|| panic!("closed after {next} of {CHUNKS} chunks"));
        if text.starts_with(r#"42["done""#) {
            break;
        }
        if let Some(event) = text.strip_prefix("42") {
            let event: Value = serde_json::from_str(event).expect("an event");
            assert_eq!(event[1]["n"], next, "chunks arrive in order, none missing");
            next += 1;
        }
    }
    assert_eq!(next, CHUNKS);
    assert_eq!(member_node.stats().slow_consumers, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_member_on_another_server_that_falls_too_far_behind_is_disconnected() {
    let redis = RedisServer::start().await;
    let (_, sender) = node(&redis).await;
    let (member_addr, member_node) = small_channel_node(&redis, 64).await;
    let mut member = raw_member(member_addr, "slow").await;

    broadcast_chunks(&sender, "slow", 300).await;
    eventually(|| async { (member_node.stats().slow_consumers == 1).then_some(()) }).await;
    // What it reads is a prefix of what was sent, in order, then the
    // disconnect packet: never a hole.
    let mut next = 0;
    while let Some(text) = member.next_text().await {
        if text == "41" {
            break;
        }
        if let Some(event) = text.strip_prefix("42") {
            let event: Value = serde_json::from_str(event).expect("an event");
            assert_eq!(event[1]["n"], next, "no hole before the disconnect");
            next += 1;
        }
    }
    assert!(next < 300, "disconnected before the end");
}

#[tokio::test]
async fn leave_all_and_room_members_to_rooms_across_servers() {
    let redis = RedisServer::start().await;
    let [a_addr, b_addr, c_addr] = three_nodes(&redis).await;
    let mut a = Client::connect(a_addr).await;
    let mut b = Client::connect(b_addr).await;
    let mut c = Client::connect(c_addr).await;
    let (a_id, b_id) = (a.id().await, b.id().await);
    for client in [&mut a, &mut b] {
        client.request("put", "/rooms/src/join", json!({})).await;
        client.request("put", "/rooms/kept/join", json!({})).await;
    }
    let both = sorted(vec![a_id.clone(), b_id.clone()]);

    c.request(
        "post",
        "/rooms/src/add-members-to",
        json!({"rooms": ["x", "y"]}),
    )
    .await;
    assert_eq!(c.get_ok("/rooms/x/members").await, both);
    assert_eq!(c.get_ok("/rooms/y/members").await, both);
    c.request(
        "post",
        "/rooms/src/remove-members-from",
        json!({"rooms": ["x"]}),
    )
    .await;
    assert_eq!(c.get_ok("/rooms/x/members").await, json!([]));

    let jwr = c.request("post", "/rooms/src/leave-all", json!({})).await;
    assert_eq!(jwr["body"], json!({"ok": true}), "{jwr}");
    for room in ["src", "y", "kept"] {
        assert_eq!(
            c.get_ok(&format!("/rooms/{room}/members")).await,
            json!([]),
            "{room}"
        );
    }
    // Their own id rooms stay.
    assert_eq!(a.get_ok("/me").await, json!({"id": a_id, "rooms": []}));
    assert_eq!(
        c.get_ok(&format!("/rooms/{b_id}/members")).await,
        json!([b_id])
    );
}

#[tokio::test]
async fn is_connected_and_disconnects_are_seen_from_every_server() {
    let redis = RedisServer::start().await;
    let (a_addr, a_sails) = node(&redis).await;
    let (b_addr, _) = node(&redis).await;
    let _a = Client::connect(a_addr).await;
    let mut b = Client::connect(b_addr).await;
    let b_id = b.id().await.parse().expect("a socket id");
    let sockets = a_sails.sockets();
    assert!(sockets.is_connected(b_id).await.expect("asked"));
    b.close();
    eventually(|| {
        let sockets = sockets.clone();
        async move { (!sockets.is_connected(b_id).await.ok()?).then_some(()) }
    })
    .await;
}

#[tokio::test]
async fn sessions_are_shared_by_every_server() {
    let redis = RedisServer::start().await;
    let [a_addr, b_addr, c_addr] = three_nodes(&redis).await;
    let (status, headers, body) = http(a_addr, "GET", "/count", &[], "").await;
    assert_eq!((status, body.as_str()), (200, "1"));
    let cookie = headers
        .iter()
        .find(|(name, _)| name == "set-cookie")
        .and_then(|(_, value)| value.split(';').next())
        .expect("a session cookie")
        .to_owned();
    let (_, _, body) = http(b_addr, "GET", "/count", &[("cookie", &cookie)], "").await;
    assert_eq!(body, "2", "the other server knows the session");
    let (_, _, body) = http(a_addr, "GET", "/count", &[("cookie", &cookie)], "").await;
    assert_eq!(body, "3");
    // A socket opened with the cookie on the third server shares the session too.
    let mut socket = Client::connect_with(c_addr, Options::default().header("cookie", &cookie))
        .await
        .expect("connects");
    assert_eq!(socket.get_ok("/count").await, 4);
    let (_, _, body) = http(b_addr, "GET", "/count", &[("cookie", &cookie)], "").await;
    assert_eq!(
        body, "5",
        "what the socket wrote is seen over HTTP on another server"
    );
}

/// Two servers with blueprints on one store at `url`: a change made through
/// one is heard by a subscriber on the other, created and updated alike.
async fn blueprints_across_servers(url: &str) {
    let redis = RedisServer::start().await;
    let mut addrs = Vec::new();
    for _ in 0..2 {
        let store = Store::connect(url, models(), Migrate::Alter)
            .await
            .expect("the shared store");
        let (addr, _) = node_with(
            &redis,
            RedisOptions::default(),
            Some(Blueprints::new(store)),
        )
        .await;
        addrs.push(addr);
    }
    let mut watcher = Client::connect(addrs[0]).await;
    let mut writer = Client::connect(addrs[1]).await;
    assert_eq!(watcher.get_ok("/pet").await, json!([]));
    let created = writer.request("post", "/pet", json!({"name": "Rex"})).await;
    assert_eq!(created["statusCode"], 200, "{created}");
    let heard = watcher.next_event("pet").await;
    assert_eq!(heard["verb"], "created", "{heard}");
    assert_eq!(heard["data"]["name"], "Rex", "{heard}");
    let id = heard["id"].clone();
    // The new record's room has the watcher in it: an update is heard too.
    writer
        .request("patch", &format!("/pet/{id}"), json!({"name": "Max"}))
        .await;
    let heard = watcher.next_event("pet").await;
    assert_eq!(heard["verb"], "updated", "{heard}");
    assert_eq!(heard["data"]["name"], "Max", "{heard}");
}

#[tokio::test]
async fn a_blueprint_change_reaches_subscribers_on_every_server_on_postgres() {
    let postgres = TempPostgres::start().expect("a PostgreSQL of the test's own");
    let url = postgres.database("cluster").expect("a database");
    blueprints_across_servers(&url).await;
}

#[tokio::test]
async fn a_blueprint_change_reaches_subscribers_on_every_server_on_one_sqlite_file() {
    let dir = std::env::temp_dir().join(format!("sails-cluster-store-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    blueprints_across_servers(&format!("sqlite://{}", dir.join("records.db").display())).await;
    let _ = std::fs::remove_dir_all(&dir);
}

/// Has `from` broadcast `event` (data `1`) to `room` until a broadcast is
/// answered 200 and `to` has heard it; returns what `to` heard.
async fn broadcast_until_heard(
    from: &mut Client,
    to: &Client,
    room: &str,
    event: &str,
) -> Vec<Value> {
    eventually(|| {
        let jwr = from.start_request(
            "post",
            &format!("/rooms/{room}/broadcast"),
            json!({"event": event, "data": 1}),
        );
        let heard = to.take_events(event);
        async move {
            let jwr = jwr.await;
            (jwr["statusCode"] == 200 && !heard.is_empty()).then_some(heard)
        }
    })
    .await
}

/// A "server" that subscribes to the cluster's requests and never answers,
/// for as long as the returned connection is kept.
async fn silent_server(redis: &RedisServer) -> tokio::net::UnixStream {
    let mut silent =
        tokio::net::UnixStream::connect(redis.url().trim_start_matches("redis+unix://"))
            .await
            .expect("a raw Redis connection");
    silent
        .write_all(b"SSUBSCRIBE sails-request#/#\r\n")
        .await
        .expect("subscribes");
    silent
}

#[tokio::test]
async fn a_server_that_does_not_answer_fails_the_call_in_bounded_time() {
    let redis = RedisServer::start().await;
    let timeout = Duration::from_millis(500);
    let (addr, _) = node_with(&redis, RedisOptions::default().timeout(timeout), None).await;
    let mut client = Client::connect(addr).await;
    let silent = silent_server(&redis).await;
    let started = Instant::now();
    let jwr = eventually(|| {
        let jwr = client.start_request("put", "/rooms/r/join", json!({}));
        async move {
            let jwr = jwr.await;
            (jwr["statusCode"] != 200).then_some(jwr)
        }
    })
    .await;
    assert_eq!(jwr["statusCode"], 503, "{jwr}");
    assert!(
        jwr["body"]
            .as_str()
            .is_some_and(|body| body.contains("did not answer")),
        "{jwr}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));
    // Requests that need no other server go on.
    assert_eq!(client.get_ok("/hello").await, "ok!");
    drop(silent);
}

#[tokio::test]
async fn a_member_whose_join_is_still_settling_already_hears_broadcasts() {
    let redis = RedisServer::start().await;
    let timeout = Duration::from_millis(1500);
    let (a_addr, _) = node_with(&redis, RedisOptions::default().timeout(timeout), None).await;
    let (b_addr, _) = node_with(&redis, RedisOptions::default().timeout(timeout), None).await;
    let mut a = Client::connect(a_addr).await;
    let mut b = Client::connect(b_addr).await;
    // A join waits for the silent server until the timeout, as for a server
    // that was killed.
    let silent = silent_server(&redis).await;
    let join = b.start_request("put", "/rooms/settling/join", json!({}));
    // The join is applied on B at once; only its confirmation waits. A
    // broadcast from A meanwhile reaches the member.
    let started = Instant::now();
    let heard = broadcast_until_heard(&mut a, &b, "settling", "early").await;
    assert_eq!(heard[0], 1);
    let jwr = join.await;
    assert!(started.elapsed() < Duration::from_secs(10));
    // The join itself reports that a server did not confirm it.
    assert_eq!(jwr["statusCode"], 503, "{jwr}");
    drop(silent);
}

#[tokio::test]
async fn redis_going_away_fails_cluster_calls_fast_and_its_return_heals_them() {
    let mut redis = RedisServer::start().await;
    let [a_addr, b_addr, _] = three_nodes(&redis).await;
    let mut a = Client::connect(a_addr).await;
    let mut b = Client::connect(b_addr).await;
    a.request("put", "/rooms/r/join", json!({})).await;

    redis.stop();
    let started = Instant::now();
    let jwr = b
        .request(
            "post",
            "/rooms/r/broadcast",
            json!({"event": "e", "data": 0}),
        )
        .await;
    assert_eq!(jwr["statusCode"], 503, "{jwr}");
    assert!(started.elapsed() < Duration::from_secs(10), "failed fast");
    let jwr = b.request("put", "/rooms/s/join", json!({})).await;
    assert_eq!(jwr["statusCode"], 503, "{jwr}");
    // What needs no other server still works.
    assert_eq!(b.get_ok("/hello").await, "ok!");
    let (status, _, _) = http(a_addr, "GET", "/hello", &[], "").await;
    assert_eq!(status, 200);

    redis.restart().await;
    // The servers reconnect and subscribe again by themselves; an empty
    // Redis lost nothing they need (rooms live on the servers).
    broadcast_until_heard(&mut b, &a, "r", "back").await;
}

#[tokio::test]
async fn a_redis_that_cannot_be_reached_or_refuses_us_stops_the_start_with_a_clear_error() {
    // Nothing listens on port 1.
    let started = Instant::now();
    let error = Cluster::redis_with(
        "redis://127.0.0.1:1",
        RedisOptions::default().timeout(Duration::from_millis(500)),
    )
    .await
    .expect_err("no Redis there");
    assert!(
        error
            .to_string()
            .starts_with("could not connect to Redis at redis://127.0.0.1:1"),
        "{error}"
    );
    assert!(started.elapsed() < Duration::from_secs(10));

    // A password Redis does not know, and no password shown in the message.
    let redis = RedisServer::start().await;
    let socket = redis.url().trim_start_matches("redis+unix://").to_owned();
    let error = Cluster::redis(&format!("redis+unix://user:secret@localhost{socket}"))
        .await
        .expect_err("refused");
    let message = error.to_string();
    assert!(message.contains("could not connect to Redis"), "{message}");
    assert!(!message.contains("secret"), "{message}");

    for bad in ["", "not a url", "http://127.0.0.1:6379"] {
        assert!(Cluster::redis(bad).await.is_err(), "{bad:?}");
    }
}
