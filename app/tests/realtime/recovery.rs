//! Connection-state recovery: a client that opts in and reconnects within
//! the window gets its rooms back and every broadcast it missed, once, in
//! order, before new ones; otherwise it is told why not.

use std::collections::VecDeque;
use std::net::SocketAddr;
use std::time::Duration;

use sails_server::{RecoveryConfig, Sails, SocketId, SocketsConfig};
use serde_json::{Value, json};

use crate::support::{RawSocket, demo_with_handle, eventually, http, serve, www};

const OPT_IN: &str = "&__sails_recover=1";

/// A frame `42["event",args…]` read as its event name and arguments.
fn event(text: &str) -> (String, Vec<Value>) {
    let array: Vec<Value> =
        serde_json::from_str(text.strip_prefix("42").expect("an event")).expect("a JSON array");
    let name = array[0].as_str().expect("an event name").to_owned();
    (name, array[1..].to_vec())
}

/// A socket, and the frames read while waiting for an answer.
struct Recovering {
    socket: RawSocket,
    unread: VecDeque<String>,
}

impl Recovering {
    /// The next event frame (other frames skipped).
    async fn next_event(&mut self) -> (String, Vec<Value>) {
        loop {
            let text = match self.unread.pop_front() {
                Some(text) => text,
                None => self.socket.next_text().await.expect("an event"),
            };
            if text.starts_with("42") {
                return event(&text);
            }
        }
    }

    /// A broadcast's event name, data and offset.
    async fn next_broadcast(&mut self) -> (String, Value, u64) {
        let (name, args) = self.next_event().await;
        assert_eq!(args.len(), 2, "data and offset: {args:?}");
        let offset = args[1]["__sails_offset"].as_u64().expect("an offset");
        (name, args[0].clone(), offset)
    }

    /// Sends a request (ack id 1) and returns its answer's body, keeping
    /// the events read meanwhile.
    async fn request(&mut self, method: &str, url: &str) -> Value {
        self.jwr(method, url).await["body"].clone()
    }

    /// [`request`](Self::request), the whole JWR.
    async fn jwr(&mut self, method: &str, url: &str) -> Value {
        self.socket
            .send(&format!(r#"421["{method}",{{"url":"{url}"}}]"#))
            .await;
        loop {
            let text = self.socket.next_text().await.expect("the answer");
            match text.strip_prefix("431") {
                Some(answer) => {
                    let answer: Value = serde_json::from_str(answer).expect("JSON");
                    return answer[0].clone();
                }
                None => self.unread.push_back(text),
            }
        }
    }
}

/// Connects with `query`, reads the recovery status and the socket's id.
async fn connect(addr: SocketAddr, query: &str) -> (Recovering, Value, SocketId) {
    connect_as(addr, query, None).await
}

/// [`connect`] with a session cookie.
async fn connect_as(
    addr: SocketAddr,
    query: &str,
    cookie: Option<&str>,
) -> (Recovering, Value, SocketId) {
    let mut socket = Recovering {
        socket: RawSocket::connect_with_cookie(addr, query, cookie).await,
        unread: VecDeque::new(),
    };
    let (name, args) = socket.next_event().await;
    assert_eq!(name, "sails:recovery");
    let status = args[0].clone();
    let me = socket.request("get", "/me").await;
    let id = me["id"]
        .as_str()
        .expect("an id")
        .parse()
        .expect("a socket id");
    (socket, status, id)
}

fn resume_query(status: &Value, offset: u64) -> String {
    let token = status["token"].as_str().expect("a token");
    format!("{OPT_IN}&__sails_token={token}&__sails_offset={offset}")
}

/// Waits until the server has seen `id` go.
async fn gone(sails: &Sails, id: SocketId) {
    eventually(|| async { (!sails.sockets().is_connected(id).await.ok()?).then_some(()) }).await;
}

async fn lobby(sails: &Sails, data: Value) {
    sails
        .sockets()
        .to("lobby")
        .emit("news", &data)
        .await
        .expect("broadcast");
}

#[tokio::test]
async fn a_reconnection_gets_its_rooms_and_every_missed_broadcast_once_in_order() {
    let (addr, sails) = demo_with_handle().await;
    let (mut first, status, first_id) = connect(addr, OPT_IN).await;
    assert_eq!(status["offset"], 0);
    assert!(status.get("recovered").is_none());
    first.request("put", "/rooms/lobby/join").await;
    lobby(&sails, json!(1)).await;
    let (_, data, seen) = first.next_broadcast().await;
    assert_eq!(data, 1);

    drop(first);
    gone(&sails, first_id).await;
    for n in 2..=4 {
        lobby(&sails, json!(n)).await;
    }
    // Sent to the old socket's id: its ghost keeps that room too.
    sails
        .sockets()
        .socket(first_id)
        .emit("direct", &5)
        .await
        .expect("emit");
    sails
        .sockets()
        .to("elsewhere")
        .emit("news", &0)
        .await
        .expect("emit");

    let (mut second, status, second_id) = connect(addr, &resume_query(&status, seen)).await;
    assert_eq!(status["recovered"], true, "{status}");
    assert_eq!(status["missed"], 4);
    let mut last = seen;
    for expected in [json!(2), json!(3), json!(4), json!(5)] {
        let (_, data, offset) = second.next_broadcast().await;
        assert_eq!(data, expected);
        assert!(offset > last, "offsets grow");
        last = offset;
    }
    // The rooms are back: new broadcasts follow the missed ones.
    lobby(&sails, json!(6)).await;
    let (_, data, offset) = second.next_broadcast().await;
    assert_eq!(data, 6);
    assert!(offset > last);
    assert_eq!(
        sails.sockets().to("lobby").ids().await.unwrap(),
        [second_id]
    );

    // A second cut recovers as well, from the newest token.
    drop(second);
    gone(&sails, second_id).await;
    lobby(&sails, json!(7)).await;
    let (mut third, status, _) = connect(addr, &resume_query(&status, offset)).await;
    assert_eq!(status["recovered"], true, "{status}");
    assert_eq!(status["missed"], 1);
    assert_eq!(third.next_broadcast().await.1, 7);
}

#[tokio::test]
async fn a_cut_before_anything_was_received_recovers_too() {
    let (addr, sails) = demo_with_handle().await;
    let (mut first, status, id) = connect(addr, OPT_IN).await;
    first.request("put", "/rooms/lobby/join").await;
    drop(first);
    gone(&sails, id).await;
    lobby(&sails, json!("while away")).await;
    let (mut second, status, _) = connect(addr, &resume_query(&status, 0)).await;
    assert_eq!(status["recovered"], true, "{status}");
    assert_eq!(second.next_broadcast().await.1, "while away");
}

#[tokio::test]
async fn what_was_sent_but_never_read_before_the_cut_comes_again() {
    let (addr, sails) = demo_with_handle().await;
    let (mut first, status, id) = connect(addr, OPT_IN).await;
    first.request("put", "/rooms/lobby/join").await;
    // Sent to the connection, which dies before the client reads it.
    lobby(&sails, json!("unread")).await;
    drop(first);
    gone(&sails, id).await;
    let (mut second, status, _) = connect(addr, &resume_query(&status, 0)).await;
    assert_eq!(status["missed"], 1, "{status}");
    assert_eq!(second.next_broadcast().await.1, "unread");
}

fn app(recovery: RecoveryConfig) -> (axum::Router, Sails) {
    let mut config = SocketsConfig::default();
    config.recovery = recovery;
    sails_app::demo::app_with_config(www(), config)
}

#[tokio::test]
async fn a_reconnection_that_cannot_recover_is_told_why() {
    let mut short = RecoveryConfig::default();
    short.window = Duration::from_millis(200);
    short.max_events = 3;
    let (router, sails) = app(short);
    let addr = serve(router).await;

    // The window passes.
    let (mut first, status, id) = connect(addr, OPT_IN).await;
    first.request("put", "/rooms/lobby/join").await;
    drop(first);
    gone(&sails, id).await;
    tokio::time::sleep(Duration::from_millis(400)).await;
    let (_, expired, _) = connect(addr, &resume_query(&status, 0)).await;
    assert_eq!(expired["recovered"], false);
    assert_eq!(expired["reason"], "expired");
    assert_eq!(expired["offset"], 0);

    // More was sent meanwhile than a socket keeps: the rooms come back, the
    // broadcasts do not.
    let (mut second, status, id) = connect(addr, OPT_IN).await;
    second.request("put", "/rooms/lobby/join").await;
    drop(second);
    gone(&sails, id).await;
    for n in 0..5 {
        lobby(&sails, json!(n)).await;
    }
    let (_, trimmed, id) = connect(addr, &resume_query(&status, 0)).await;
    assert_eq!(trimmed["reason"], "trimmed", "{trimmed}");
    assert_eq!(sails.sockets().to("lobby").ids().await.unwrap(), [id]);

    // Tokens nobody gave out, from another run of the server, or without an offset.
    for (query, reason) in [
        (
            format!("{OPT_IN}&__sails_token=nope&__sails_offset=0"),
            "unknown",
        ),
        (
            format!("{OPT_IN}&__sails_token=AAAAAAAA.x&__sails_offset=0"),
            "restarted",
        ),
        (
            format!("{OPT_IN}&__sails_token=nope&__sails_offset=-1"),
            "unknown",
        ),
    ] {
        let (_, status, _) = connect(addr, &query).await;
        assert_eq!(status["reason"], reason, "{query}");
        assert!(status["token"].is_string());
    }
}

#[tokio::test]
async fn a_client_that_does_not_opt_in_sees_the_protocol_unchanged() {
    let (addr, sails) = demo_with_handle().await;
    let mut plain = RawSocket::connect(addr).await;
    let joined: Value =
        serde_json::from_str(&plain.request("put", "/rooms/lobby/join").await).expect("JSON");
    assert!(joined[0]["headers"].get("x-sails-subscribed").is_none());
    let (mut recovering, _, _) = connect(addr, OPT_IN).await;
    // The answer to a request that put the socket into a room says so.
    let jwr = recovering.jwr("put", "/rooms/lobby/join").await;
    assert_eq!(jwr["headers"]["x-sails-subscribed"], "true", "{jwr}");
    let jwr = recovering.jwr("get", "/me").await;
    assert!(jwr["headers"].get("x-sails-subscribed").is_none(), "{jwr}");
    lobby(&sails, json!({"n": 1})).await;
    assert_eq!(plain.next_text().await.unwrap(), r#"42["news",{"n":1}]"#);
    let marked = recovering.socket.next_text().await.unwrap();
    assert!(
        marked.starts_with(r#"42["news",{"n":1},{"__sails_offset":"#) && marked.ends_with("}]"),
        "{marked}"
    );
}

#[tokio::test]
async fn a_client_that_leaves_on_purpose_leaves_no_ghost() {
    let mut config = RecoveryConfig::default();
    config.window = Duration::from_secs(60);
    let (router, sails) = app(config);
    let addr = serve(router).await;
    let (mut first, status, id) = connect(addr, OPT_IN).await;
    first.request("put", "/rooms/lobby/join").await;
    first.socket.send("41").await;
    gone(&sails, id).await;
    let (_, status, _) = connect(addr, &resume_query(&status, 0)).await;
    assert_eq!(status["recovered"], false);
    assert_eq!(status["reason"], "unknown");
}

#[tokio::test]
async fn a_token_is_of_no_use_without_the_session_it_was_given_with() {
    let (addr, sails) = demo_with_handle().await;
    let session = |headers: &[(String, String)]| {
        headers
            .iter()
            .find(|(name, _)| name == "set-cookie")
            .map(|(_, value)| value.split(';').next().unwrap().to_owned())
            .expect("a session cookie")
    };
    let (_, headers, _) = http(addr, "GET", "/count", &[], "").await;
    let mine = session(&headers);
    let (_, headers, _) = http(addr, "GET", "/count", &[], "").await;
    let theirs = session(&headers);

    let (mut first, status, id) = connect_as(addr, OPT_IN, Some(&mine)).await;
    first.request("put", "/rooms/lobby/join").await;
    drop(first);
    gone(&sails, id).await;
    lobby(&sails, json!("private")).await;
    let query = resume_query(&status, 0);
    for stranger in [None, Some(theirs.as_str())] {
        let (_, refused, _) = connect_as(addr, &query, stranger).await;
        assert_eq!(refused["reason"], "unknown", "{stranger:?}: {refused}");
    }
    // The ghost is still there for the session it belongs to.
    let (mut again, status, _) = connect_as(addr, &query, Some(&mine)).await;
    assert_eq!(status["recovered"], true, "{status}");
    assert_eq!(again.next_broadcast().await.1, "private");
}

/// A demo server joined to the cluster on `redis`.
async fn node(redis: &sails_testkit::redis::RedisServer) -> (SocketAddr, Sails) {
    let mut demo = sails_app::demo::Demo::new(www());
    demo.cluster = sails_server::Cluster::redis(&redis.url())
        .await
        .expect("joins Redis");
    let (app, sails) = demo.build();
    sails.joined_cluster().await.expect("hears the cluster");
    (serve(app).await, sails)
}

#[tokio::test]
async fn in_a_cluster_a_ghost_hears_every_server_and_only_its_own_server_knows_it() {
    let redis = sails_testkit::redis::RedisServer::start().await;
    let (a, on_a) = node(&redis).await;
    let (b, on_b) = node(&redis).await;
    let (mut first, status, id) = connect(a, OPT_IN).await;
    first.request("put", "/rooms/lobby/join").await;
    drop(first);
    gone(&on_a, id).await;
    // Sent from the other server, through Redis, to the ghost on the first.
    lobby(&on_b, json!("from b")).await;

    // Another server does not know the token.
    let (_, elsewhere, _) = connect(b, &resume_query(&status, 0)).await;
    assert_eq!(elsewhere["recovered"], false, "{elsewhere}");
    assert_eq!(elsewhere["reason"], "unknown");

    // The server that held the socket does.
    let (mut again, status, _) = connect(a, &resume_query(&status, 0)).await;
    assert_eq!(status["recovered"], true, "{status}");
    assert_eq!(again.next_broadcast().await.1, "from b");
    lobby(&on_b, json!("later")).await;
    assert_eq!(again.next_broadcast().await.1, "later");
}
