//! CSRF protection (Sails' `security.csrf`): off by default; when on, POST,
//! PUT, PATCH and DELETE need a token of their session, over HTTP and
//! sockets alike, and get 403 `CSRF mismatch` without one.

use sails_app::demo;
use sails_server::{Csrf, Sails};
use serde_json::{Value, json};
use tower_sessions::MemoryStore;

use crate::support::{Client, Options, demo, http, serve};

/// The demo routes with sessions and CSRF protection, `/blast` exempt.
async fn protected() -> std::net::SocketAddr {
    let (app, _) = Sails::builder()
        .sessions(MemoryStore::default())
        .csrf(Csrf::new().exempt("/blast"))
        .build(demo::routes());
    serve(app).await
}

/// The session cookie a response sets (`name=value`).
fn session_cookie(headers: &[(String, String)]) -> String {
    headers
        .iter()
        .find(|(name, value)| name == "set-cookie" && value.starts_with("sails.sid="))
        .and_then(|(_, value)| value.split(';').next())
        .expect("a session cookie")
        .to_owned()
}

/// A session cookie and a token of that session, from `GET /csrfToken`.
async fn grant(addr: std::net::SocketAddr) -> (String, String) {
    let (status, headers, body) = http(addr, "GET", "/csrfToken", &[], "").await;
    assert_eq!(status, 200, "{body}");
    let body: Value = serde_json::from_str(&body).expect("JSON");
    let token = body["_csrf"].as_str().expect("a token").to_owned();
    (session_cookie(&headers), token)
}

#[tokio::test]
async fn off_by_default() {
    let addr = demo().await;
    let (status, _, _) = http(addr, "POST", "/echo", &[], "{}").await;
    assert_eq!(status, 200);
    let mut client = Client::connect(addr).await;
    let jwr = client.request("post", "/echo", json!({})).await;
    assert_eq!(jwr["statusCode"], 200);
}

#[tokio::test]
async fn http_requests_need_a_token_of_their_session() {
    let addr = protected().await;
    let json_type = ("content-type", "application/json");

    // GET needs no token; POST without one is refused.
    assert_eq!(http(addr, "GET", "/hello", &[], "").await.0, 200);
    let (status, _, body) = http(addr, "POST", "/echo", &[json_type], "{}").await;
    assert_eq!((status, body.as_str()), (403, "CSRF mismatch"));

    let (cookie, token) = grant(addr).await;
    let (_, other_token) = grant(addr).await;
    let with_cookie = ("cookie", cookie.as_str());

    // In a header, in the JSON body, in a form body, in the query.
    let header = ("x-csrf-token", token.as_str());
    assert_eq!(
        http(
            addr,
            "POST",
            "/echo",
            &[with_cookie, header, json_type],
            "{}"
        )
        .await
        .0,
        200
    );
    let body = json!({"_csrf": token, "x": 1}).to_string();
    assert_eq!(
        http(addr, "PUT", "/echo", &[with_cookie, json_type], &body)
            .await
            .0,
        200
    );
    let form = format!("a=1&_csrf={token}");
    let form_type = ("content-type", "application/x-www-form-urlencoded");
    assert_eq!(
        http(addr, "PATCH", "/echo", &[with_cookie, form_type], &form)
            .await
            .0,
        200
    );
    let url = format!("/echo?_csrf={token}");
    assert_eq!(http(addr, "DELETE", &url, &[with_cookie], "").await.0, 200);

    // Every token handed out differs, and each one is valid.
    let (status, _, body) = http(addr, "GET", "/csrfToken", &[with_cookie], "").await;
    assert_eq!(status, 200);
    let second: Value = serde_json::from_str(&body).expect("JSON");
    let second = second["_csrf"].as_str().expect("a token");
    assert_ne!(second, token);
    let header = ("x-csrf-token", second);
    assert_eq!(
        http(addr, "POST", "/echo", &[with_cookie, header], "")
            .await
            .0,
        200
    );

    // Wrong, foreign, malformed or sessionless tokens are refused.
    for bad in [other_token.as_str(), "", "x", &token[..token.len() - 1]] {
        let header = ("x-csrf-token", bad);
        let (status, _, _) = http(addr, "POST", "/echo", &[with_cookie, header], "").await;
        assert_eq!(status, 403, "token {bad:?}");
    }
    let header = ("x-csrf-token", token.as_str());
    assert_eq!(http(addr, "POST", "/echo", &[header], "").await.0, 403);

    // An exempt route needs none.
    let blast = json!({"data": 1}).to_string();
    assert_eq!(
        http(addr, "POST", "/blast", &[json_type], &blast).await.0,
        200
    );
}

#[tokio::test]
async fn socket_requests_need_one_too() {
    let addr = protected().await;
    let (cookie, token) = grant(addr).await;
    // The socket shares the page's session through the handshake cookie.
    let mut client = Client::connect_with(addr, Options::default().header("cookie", &cookie))
        .await
        .expect("connects");

    let jwr = client.request("post", "/echo", json!({"x": 1})).await;
    assert_eq!(jwr["statusCode"], 403);
    assert_eq!(jwr["body"], "CSRF mismatch");

    let jwr = client
        .request("post", "/echo", json!({"x": 1, "_csrf": token}))
        .await;
    assert_eq!(jwr["statusCode"], 200, "{jwr}");
    assert_eq!(jwr["body"]["body"]["x"], 1);

    let jwr = client
        .request_with_headers("delete", "/echo", json!({}), json!({"x-csrf-token": token}))
        .await;
    assert_eq!(jwr["statusCode"], 200, "{jwr}");

    // A socket cannot fetch a token, as in Sails.
    let jwr = client.request("get", "/csrfToken", json!({})).await;
    assert_eq!(jwr["statusCode"], 400);

    // A socket with a session of its own (no cookie) has no token to send.
    let mut stranger = Client::connect(addr).await;
    let jwr = stranger
        .request("post", "/echo", json!({"_csrf": token}))
        .await;
    assert_eq!(jwr["statusCode"], 403);
}

#[tokio::test]
async fn without_sessions_every_change_is_refused() {
    let (app, _) = Sails::builder().csrf(Csrf::new()).build(demo::routes());
    let addr = serve(app).await;
    assert_eq!(http(addr, "POST", "/echo", &[], "{}").await.0, 403);
    assert_eq!(http(addr, "GET", "/hello", &[], "").await.0, 200);
}
