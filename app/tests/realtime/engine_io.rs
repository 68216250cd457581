use std::time::Duration;

use sails_app::demo;
use sails_protocol::engine::{EnginePacket, EngineVersion};
use sails_server::SocketsConfig;
use serde_json::json;

use crate::support::{Client, Options, demo, serve, www};

#[tokio::test]
async fn eio3_client_pings_and_the_server_answers() {
    let addr = demo().await;
    let mut client = Client::connect(addr).await;
    assert_eq!(client.open["pingInterval"], 25000);
    assert_eq!(client.open["pingTimeout"], 60000);
    client.send_frame(EnginePacket::Ping("").encode());
    client.wait_heartbeats(|(_, pongs)| pongs >= 1).await;
    assert_eq!(client.get_ok("/hello").await, "ok!");
}

#[tokio::test]
async fn eio4_server_pings_and_requests_work() {
    let mut config = SocketsConfig::default();
    config.ping_interval = Duration::from_millis(200);
    let addr = serve(demo::app_with_config(www(), config).0).await;
    let options = Options {
        version: EngineVersion::V4,
        ..Options::default()
    };
    let mut client = Client::connect_with(addr, options).await.unwrap();
    client.wait_heartbeats(|(pings, _)| pings >= 2).await;
    let jwr = client.request("post", "/echo", json!({"v": 4})).await;
    assert_eq!(jwr["body"]["body"], json!({"v": 4}));
    assert_eq!(client.get_ok("/count").await, 1);
    assert_eq!(client.get_ok("/count").await, 2);
}
