//! A socket whose extensions hold a `BroadcastSink` gets its packets of
//! broadcasts through the sink, in place of its channel.
#![cfg(feature = "extensions")]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use socketioxide::handler::Value;
use socketioxide::socket::BroadcastSink;
use socketioxide::{BroadcastError, SocketError, SocketIo, extract::SocketRef};
use tokio::sync::mpsc;
use tokio::time::timeout;

/// Keeps what it is given, or refuses it.
struct Recorder {
    packets: Mutex<Vec<String>>,
    refuse: bool,
}

impl BroadcastSink for Recorder {
    fn deliver(self: Arc<Self>, packet: Value) -> Result<(), SocketError> {
        if self.refuse {
            return Err(SocketError::Closed);
        }
        let text = match packet {
            Value::Str(text, _) => text.to_string(),
            Value::Bytes(_) => "<binary>".to_owned(),
        };
        self.packets.lock().unwrap().push(text);
        Ok(())
    }
}

fn recorder(refuse: bool) -> Arc<Recorder> {
    Arc::new(Recorder {
        packets: Mutex::new(Vec::new()),
        refuse,
    })
}

/// A server whose sockets join `room`; those connecting with
/// `{"sink": true}` as auth get `sink` as their broadcast sink.
fn server(sink: Arc<Recorder>) -> SocketIo {
    let (_svc, io) = SocketIo::new_svc();
    io.ns(
        "/",
        async move |socket: SocketRef,
                    socketioxide::extract::Data(auth): socketioxide::extract::Data<
            serde_json::Value,
        >| {
            if auth["sink"] == true {
                let sink: Arc<dyn BroadcastSink> = sink.clone();
                socket.extensions.insert(sink);
            }
            socket.join("room");
        },
    );
    io
}

async fn next_text(rx: &mut mpsc::Receiver<engineioxide::Packet>) -> String {
    match timeout(Duration::from_secs(5), rx.recv()).await {
        Ok(Some(engineioxide::Packet::Message(text))) => text.to_string(),
        other => panic!("expected a message, got {other:?}"),
    }
}

#[tokio::test]
async fn a_broadcast_goes_through_the_sink_of_a_socket_that_has_one() {
    let sink = recorder(false);
    let io = server(sink.clone());
    let (_tx, mut plain) = io.new_dummy_sock("/", serde_json::json!({})).await;
    let (_tx2, mut sunk) = io
        .new_dummy_sock("/", serde_json::json!({"sink": true}))
        .await;
    assert!(next_text(&mut plain).await.starts_with('0'));
    assert!(next_text(&mut sunk).await.starts_with('0'));

    io.to("room").emit("news", &1).await.unwrap();
    io.emit("all", &2).await.unwrap();

    assert_eq!(next_text(&mut plain).await, r#"2["news",1]"#);
    assert_eq!(next_text(&mut plain).await, r#"2["all",2]"#);
    assert_eq!(
        *sink.packets.lock().unwrap(),
        [r#"2["news",1]"#, r#"2["all",2]"#]
    );
    // Nothing of them reached the channel of the socket with a sink.
    assert!(sunk.try_recv().is_err());

    // What a socket sends to itself does not go through its sink.
    for socket in io.sockets() {
        socket.emit("own", &3).unwrap();
    }
    assert_eq!(next_text(&mut plain).await, r#"2["own",3]"#);
    assert_eq!(next_text(&mut sunk).await, r#"2["own",3]"#);
    assert_eq!(sink.packets.lock().unwrap().len(), 2);
}

#[tokio::test]
async fn a_sinks_error_is_the_broadcasts_error_for_that_socket() {
    let io = server(recorder(true));
    let (_tx, mut plain) = io.new_dummy_sock("/", serde_json::json!({})).await;
    let (_tx2, _sunk) = io
        .new_dummy_sock("/", serde_json::json!({"sink": true}))
        .await;
    assert!(next_text(&mut plain).await.starts_with('0'));

    let result = io.to("room").emit("news", &1).await;
    match result {
        Err(BroadcastError::Socket(errors)) => {
            assert_eq!(errors.len(), 1);
            assert!(matches!(errors[0], SocketError::Closed));
        }
        other => panic!("expected the sink's error, got {other:?}"),
    }
    // The other member got it all the same.
    assert_eq!(next_text(&mut plain).await, r#"2["news",1]"#);
}

#[tokio::test]
async fn volatile_broadcasts_do_not_use_the_sink() {
    let sink = recorder(false);
    let io = server(sink.clone());
    let (_tx, mut sunk) = io
        .new_dummy_sock("/", serde_json::json!({"sink": true}))
        .await;
    assert!(next_text(&mut sunk).await.starts_with('0'));
    io.to("room").volatile().emit("news", &1).await.unwrap();
    io.to("room").emit("news", &2).await.unwrap();
    assert_eq!(*sink.packets.lock().unwrap(), [r#"2["news",2]"#]);
}
