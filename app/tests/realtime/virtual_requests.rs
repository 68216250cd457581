use std::net::SocketAddr;

use axum::Router;
use axum::extract::ConnectInfo;
use axum::http::HeaderValue;
use axum::routing::get;
use serde_json::json;
use tower_sessions::MemoryStore;

use crate::support::{Client, Options, demo, http, serve};

#[tokio::test]
async fn every_verb_reaches_the_same_handler_as_http() {
    let addr = demo().await;
    let mut client = Client::connect(addr).await;
    let id = client.id().await;
    for verb in ["get", "post", "put", "patch", "delete", "options"] {
        let jwr = client
            .request(verb, "/echo?x=1&y=two", json!({"a": 1}))
            .await;
        assert_eq!(jwr["statusCode"], 200, "{verb}: {jwr}");
        let body = &jwr["body"];
        assert_eq!(body["method"], verb.to_uppercase());
        assert_eq!(body["url"], "/echo?x=1&y=two");
        assert_eq!(body["path"], "/echo");
        assert_eq!(body["query"], json!({"x": "1", "y": "two"}));
        assert_eq!(body["body"], json!({"a": 1}));
        assert_eq!(body["isSocket"], true);
        assert_eq!(body["socketId"], id.as_str());
        assert_eq!(jwr["headers"]["content-type"], "application/json");
    }
    // HEAD: the status and headers, no body.
    let head = client.request("head", "/echo", json!({})).await;
    assert_eq!(head["statusCode"], 200);

    let (status, _, body) = http(
        addr,
        "POST",
        "/echo?x=1",
        &[("content-type", "application/json")],
        r#"{"a":1}"#,
    )
    .await;
    assert_eq!(status, 200);
    let body: serde_json::Value = serde_json::from_str(&body).unwrap();
    assert_eq!(body["isSocket"], false);
    assert_eq!(body["socketId"], serde_json::Value::Null);
    assert_eq!(body["body"], json!({"a": 1}));
}

#[tokio::test]
async fn jwr_shapes_and_status_codes() {
    let addr = demo().await;
    let mut client = Client::connect(addr).await;
    let hello = client.request("get", "/hello", json!({})).await;
    assert_eq!(hello["body"], "ok!");
    assert_eq!(hello["statusCode"], 200);
    assert_eq!(
        hello["headers"]["content-type"],
        "text/plain; charset=utf-8"
    );

    let teapot = client.request("get", "/status/418", json!({})).await;
    assert_eq!(teapot["statusCode"], 418);
    assert_eq!(teapot["body"], json!({"code": 418}));

    let missing = client.request("get", "/no/such/route", json!({})).await;
    assert_eq!(missing["statusCode"], 404);
    assert_eq!(missing["body"], "Not Found");

    let redirect = client.request("get", "/redirect", json!({})).await;
    assert_eq!(redirect["statusCode"], 302);
    assert_eq!(redirect["headers"]["location"], "/hello");
    assert_eq!(redirect["body"], "Redirecting to /hello");

    // The session layer sets a cookie; the JWR never carries it.
    let count = client.request("get", "/count", json!({})).await;
    assert_eq!(count["body"], 1);
    assert!(count["headers"].get("set-cookie").is_none(), "{count}");
    for name in count["headers"].as_object().unwrap().keys() {
        assert_eq!(name, &name.to_lowercase());
    }
}

#[tokio::test]
async fn params_data_and_request_headers() {
    let addr = demo().await;
    let mut client = Client::connect(addr).await;
    // `params` (what sails.io.js' get sends) and `data` are merged.
    let payload = json!(["get", {"url": "/echo", "params": {"a": 1, "b": 1}, "data": {"b": 2}}]);
    let jwr = client
        .emit_raw_with_ack(&payload.to_string())
        .await
        .remove(0);
    assert_eq!(jwr["body"]["body"], json!({"a": 1, "b": 2}));
    // An array body arrives unchanged.
    let jwr = client.request("post", "/echo", json!([1, 2, 3])).await;
    assert_eq!(jwr["body"]["body"], json!([1, 2, 3]));
    // Request headers reach the handler with lower-case names.
    let jwr = client
        .request_with_headers("get", "/echo", json!({}), json!({"X-Custom": "yes"}))
        .await;
    assert_eq!(jwr["body"]["headers"]["x-custom"], "yes");
}

async fn panicking_handler() -> &'static str {
    panic!("a handler bug")
}

#[tokio::test]
async fn middleware_and_extractors_run_for_socket_requests_too() {
    let router = Router::new()
        .route("/tagged", get(|| async { "tagged" }))
        .route(
            "/peer",
            get(|ConnectInfo(peer): ConnectInfo<SocketAddr>| async move { peer.ip().to_string() }),
        )
        .route("/panic", get(panicking_handler))
        .route("/bytes", get(|| async { vec![0_u8, 159, 146, 150] }))
        .layer(axum::middleware::map_response(
            |mut response: axum::response::Response| async {
                response
                    .headers_mut()
                    .insert("x-layer", HeaderValue::from_static("on"));
                response
            },
        ));
    let (app, _sails) = sails_server::Sails::builder()
        .sessions(MemoryStore::default())
        .build(router);
    let addr = serve(app).await;
    let mut client = Client::connect(addr).await;
    let jwr = client.request("get", "/tagged", json!({})).await;
    assert_eq!(jwr["body"], "tagged");
    assert_eq!(jwr["headers"]["x-layer"], "on");
    let (_, headers, _) = http(addr, "GET", "/tagged", &[], "").await;
    assert!(headers.contains(&("x-layer".into(), "on".into())));
    // `req.ip`: the handshake's peer address.
    assert_eq!(client.get_ok("/peer").await, "127.0.0.1");
    // A binary body is a binary attachment, as Sails sends a Buffer.
    let jwr = client.request("get", "/bytes", json!({})).await;
    assert_eq!(jwr["body"], json!([0, 159, 146, 150]));
    assert_eq!(jwr["headers"]["content-type"], "application/octet-stream");
    // A panicking handler answers 500 and the socket keeps working.
    let jwr = client.request("get", "/panic", json!({})).await;
    assert_eq!(jwr["statusCode"], 500);
    assert_eq!(jwr["body"], "Internal Server Error");
    assert_eq!(client.get_ok("/tagged").await, "tagged");
}

#[tokio::test]
async fn a_flood_of_requests_on_one_socket_is_answered() {
    let addr = demo().await;
    let mut client = Client::connect(addr).await;
    let pending: Vec<_> = (0..1_000)
        .map(|n| client.start_request("post", "/echo", json!({"n": n})))
        .collect();
    for (n, reply) in pending.into_iter().enumerate() {
        let jwr = reply.await;
        assert_eq!(jwr["body"]["body"]["n"], n);
    }
}

#[tokio::test]
async fn requests_run_concurrently_and_without_ack() {
    let addr = demo().await;
    let mut slow_client = Client::connect(addr).await;
    let mut client = Client::connect(addr).await;
    let slow = tokio::spawn(async move {
        let jwr = slow_client.request("get", "/slow?ms=400", json!({})).await;
        (jwr, slow_client)
    });
    // Another socket is served while the slow request is pending.
    assert_eq!(client.get_ok("/hello").await, "ok!");
    assert!(!slow.is_finished());
    let (jwr, _) = slow.await.unwrap();
    assert_eq!(jwr["body"], "slow");

    // A request without an ack id still runs.
    let mut listener = Client::connect(addr).await;
    listener.sync().await;
    client.emit_raw(
        &json!(["post", {"url": "/blast", "data": {"event": "fire", "data": 1}}]).to_string(),
    );
    assert_eq!(listener.next_event("fire").await, 1);
}

#[tokio::test]
async fn a_route_that_answers_nothing_sends_a_jwr_without_body() {
    let router = Router::new()
        .route("/nothing", get(|| async {}))
        .route("/empty", get(|| async { "" }));
    let (app, _) = sails_server::Sails::builder().build(router);
    let addr = serve(app).await;
    let mut client = Client::connect(addr).await;
    let nothing = client.request("get", "/nothing", json!({})).await;
    assert_eq!(nothing, json!({"headers": {}, "statusCode": 200}));
    let empty = client.request("get", "/empty", json!({})).await;
    assert_eq!(empty["body"], "");
}

#[tokio::test]
async fn handlers_read_the_handshake_of_the_requesting_socket() {
    async fn handshake(handshake: sails_server::Handshake) -> String {
        let token = handshake.query_value("token").unwrap_or("none");
        let header = handshake
            .headers
            .get("x-kick")
            .and_then(|value| value.to_str().ok())
            .unwrap_or("none");
        format!("{token} {header} {}", handshake.uri.path())
    }
    let router = Router::new().route("/handshake", get(handshake));
    let mut config = sails_server::SocketsConfig::default();
    config.extra_paths = vec!["/more".into()];
    let (app, _) = sails_server::Sails::builder().config(config).build(router);
    let addr = serve(app).await;
    let options = Options {
        path: "/more".into(),
        // A query parameter of the client's own, after the SDK's version.
        sdk_version: Some(format!("{}&token=290891", sails_protocol::sdk::SDK_VERSION)),
        ..Options::default().header("x-kick", "yes")
    };
    let mut client = Client::connect_with(addr, options).await.unwrap();
    let jwr = client
        .request("get", "/handshake?token=no", json!({}))
        .await;
    // The handshake's own query and path, not the request's.
    assert_eq!(jwr["body"], "290891 yes /more/");
    let (status, _, body) = http(addr, "GET", "/handshake", &[], "").await;
    assert_eq!(
        (status, body.as_str()),
        (400, "This endpoint only answers socket requests.")
    );
}
