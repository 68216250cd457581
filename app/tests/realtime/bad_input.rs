use serde_json::{Value, json};

use sails_app::demo;
use sails_server::SocketsConfig;

use crate::support::{Client, Options, demo, serve_with_limit, www};

fn assert_parse_error(value: &Value) {
    assert_eq!(
        value["code"], "SAILS:HOOK:SOCKETS:PARSE_VIRTUAL_REQ",
        "{value}"
    );
    assert_eq!(value["status"], 400);
    assert_eq!(
        value["message"],
        "Failed to parse incoming socket.io request."
    );
    assert!(value["details"].is_string());
}

#[tokio::test]
async fn malformed_requests_get_the_parse_error_as_ack() {
    let addr = demo().await;
    let mut client = Client::connect(addr).await;
    for payload in [
        r#"["get",null]"#,
        r#"["get"]"#,
        r#"["get",{}]"#,
        r#"["get",{"url":null}]"#,
        r#"["get",{"url":42}]"#,
        r#"["post",{"url":["/hello"]}]"#,
        r#"["get","/hello"]"#,
        r#"["get",{"url":""}]"#,
    ] {
        let ack = client.emit_raw_with_ack(payload).await;
        assert_parse_error(&ack[0]);
    }
    // Targets Express would still route: spaces are encoded, a target
    // without a leading `/` matches no route.
    let ack = client
        .emit_raw_with_ack(r#"["put",{"url":"/rooms/a b/join"}]"#)
        .await;
    assert_eq!(ack[0]["statusCode"], 200, "{}", ack[0]);
    assert_eq!(ack[0]["body"], json!({ "room": "a b" }));
    let ack = client
        .emit_raw_with_ack(r#"["get",{"url":"not a path"}]"#)
        .await;
    assert_eq!(ack[0]["statusCode"], 404, "{}", ack[0]);
    assert_eq!(ack[0]["body"], "Not Found");
    // The socket is still fine.
    assert_eq!(client.get_ok("/hello").await, "ok!");
}

#[tokio::test]
async fn without_an_ack_the_parse_error_is_an_event() {
    let addr = demo().await;
    let mut client = Client::connect(addr).await;
    client.emit_raw(r#"["get",null]"#);
    assert_parse_error(&client.next_event("sails:parseError").await);
    client.sync().await;
}

#[tokio::test]
async fn unknown_events_are_ignored() {
    let addr = demo().await;
    let mut client = Client::connect(addr).await;
    client.emit_raw(r#"["GET",{"url":"/hello"}]"#);
    client.emit_raw(r#"["whatever",1,2,3]"#);
    client.sync().await;
    assert_eq!(client.get_ok("/hello").await, "ok!");
}

#[tokio::test]
async fn old_missing_or_garbage_sdk_versions_are_refused_per_request() {
    let addr = demo().await;
    for version in [None, Some("0.10.5"), Some("banana"), Some("")] {
        let options = Options {
            sdk_version: version.map(str::to_owned),
            ..Options::default()
        };
        let mut client = Client::connect_with(addr, options).await.unwrap();
        let jwr = client.request("get", "/hello", json!({})).await;
        assert_parse_error(&jwr);
        if version.is_none() {
            assert!(jwr["details"].as_str().unwrap().contains("0.9.0"), "{jwr}");
        }
    }
    let newer = Options {
        sdk_version: Some("0.11.0".into()),
        ..Options::default()
    };
    let mut client = Client::connect_with(addr, newer).await.unwrap();
    assert_eq!(client.get_ok("/hello").await, "ok!");
}

#[tokio::test]
async fn a_huge_frame_closes_only_its_own_connection_with_1009() {
    let mut config = SocketsConfig::default();
    config.max_payload = 4096;
    let addr = serve_with_limit(demo::app_with_config(www(), config.clone()).0, &config).await;
    let mut bystander = Client::connect(addr).await;
    let mut offender = Client::connect(addr).await;
    let huge = "x".repeat(64 * 1024);
    offender.emit_raw(&json!(["post", {"url": "/echo", "data": huge}]).to_string());
    assert_eq!(offender.close_code().await, Some(1009), "message too big");
    assert_eq!(bystander.get_ok("/hello").await, "ok!");
    // A request just under the limit still works.
    let mut fine = Client::connect(addr).await;
    let jwr = fine.request("post", "/echo", json!("y".repeat(1000))).await;
    assert_eq!(jwr["statusCode"], 200);
    let _ = &mut offender;
}

#[tokio::test]
async fn invalid_json_does_not_hurt_other_sockets() {
    let addr = demo().await;
    let mut bystander = Client::connect(addr).await;
    let mut broken = Client::connect(addr).await;
    broken.send_frame(r#"421["get",{"url":"#);
    broken.send_frame("4{{{");
    broken.send_frame("9garbage");
    broken.send_frame("");
    broken.emit_raw("[42]");
    // A frame that is not Socket.IO closes the offending connection only.
    broken.closed().await;
    assert_eq!(bystander.get_ok("/hello").await, "ok!");
    let mut fresh = Client::connect(addr).await;
    assert_eq!(fresh.get_ok("/hello").await, "ok!");
    let _ = &mut broken;
}
