use serde_json::json;

use crate::support::{Client, Options, demo, http};

#[tokio::test]
async fn a_cookieless_socket_keeps_one_session_for_its_life() {
    let addr = demo().await;
    let mut client = Client::connect(addr).await;
    assert_eq!(client.get_ok("/count").await, 1);
    assert_eq!(client.get_ok("/count").await, 2);
    let mut other = Client::connect(addr).await;
    assert_eq!(other.get_ok("/count").await, 1);
    assert_eq!(client.get_ok("/count").await, 3);
}

#[tokio::test]
async fn a_browser_socket_shares_the_page_session() {
    let addr = demo().await;
    let (status, headers, body) = http(addr, "GET", "/count", &[], "").await;
    assert_eq!((status, body.as_str()), (200, "1"));
    let cookie = headers
        .iter()
        .find(|(name, _)| name == "set-cookie")
        .map(|(_, value)| value.split(';').next().unwrap().to_owned())
        .expect("session cookie");
    assert!(cookie.starts_with("sails.sid="), "{cookie}");

    let mut client = Client::connect_with(addr, Options::default().header("cookie", &cookie))
        .await
        .unwrap();
    assert_eq!(client.get_ok("/count").await, 2);
    let (_, _, body) = http(addr, "GET", "/count", &[("cookie", &cookie)], "").await;
    assert_eq!(body, "3");
}

#[tokio::test]
async fn an_unknown_session_cookie_gets_a_fresh_pinned_session() {
    let addr = demo().await;
    let options =
        Options::default().header("cookie", "sails.sid=AAAAAAAAAAAAAAAAAAAAAA; theme=dark");
    let mut client = Client::connect_with(addr, options).await.unwrap();
    assert_eq!(client.get_ok("/count").await, 1);
    assert_eq!(client.get_ok("/count").await, 2);
    let echoed = client.get_ok("/echo").await;
    assert!(
        echoed["headers"]["cookie"]
            .as_str()
            .unwrap()
            .contains("theme=dark")
    );
}

#[tokio::test]
async fn nosession_skips_the_session() {
    let addr = demo().await;
    let mut client = Client::connect(addr).await;
    for _ in 0..2 {
        let jwr = client
            .request_with_headers("get", "/count", json!({}), json!({"nosession": "true"}))
            .await;
        assert_eq!(jwr["body"], 1);
    }
    assert_eq!(client.get_ok("/count").await, 1);
}

#[tokio::test]
async fn getcookie_serves_the_connect_script_with_a_session_cookie() {
    let addr = demo().await;
    let (status, headers, body) = http(addr, "GET", "/__getcookie", &[], "").await;
    assert_eq!(status, 200);
    assert_eq!(body, "_sailsIoJSConnect();");
    assert!(headers.contains(&("content-type".into(), "application/javascript".into())));
    assert!(
        headers
            .iter()
            .any(|(name, value)| name == "set-cookie" && value.starts_with("sails.sid="))
    );
}

async fn login(session: tower_sessions::Session) -> &'static str {
    session.cycle_id().await.expect("cycle the session id");
    session.insert("user", "ada").await.expect("store the user");
    "welcome"
}

async fn whoami(session: tower_sessions::Session) -> String {
    session
        .get::<String>("user")
        .await
        .ok()
        .flatten()
        .unwrap_or_else(|| "nobody".into())
}

#[tokio::test]
async fn a_socket_follows_its_session_across_a_login_id_change() {
    use axum::routing::{get, post};
    let router = axum::Router::new()
        .route("/login", post(login))
        .route("/whoami", get(whoami));
    let (app, _) = sails_server::Sails::builder()
        .sessions(tower_sessions::MemoryStore::default())
        .build(router);
    let addr = crate::support::serve(app).await;
    let mut client = Client::connect(addr).await;
    assert_eq!(client.get_ok("/whoami").await, "nobody");
    assert_eq!(
        client.request("post", "/login", json!({})).await["body"],
        "welcome"
    );
    assert_eq!(client.get_ok("/whoami").await, "ada");
}

#[tokio::test]
async fn a_nosession_handshake_leaves_every_request_without_a_session() {
    let addr = demo().await;
    let options = Options::default().header("nosession", "true");
    let mut client = Client::connect_with(addr, options).await.unwrap();
    for _ in 0..2 {
        let echoed = client.get_ok("/echo").await;
        assert_eq!(echoed["headers"]["nosession"], "true");
        assert_eq!(echoed["headers"]["cookie"], serde_json::Value::Null);
        // The demo's counter starts a fresh session each time.
        assert_eq!(client.get_ok("/count").await, 1);
    }
}
