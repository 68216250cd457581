//! A socket whose extensions hold a `BroadcastSink` gets its packets of
//! broadcasts through the sink, in place of its channel.
#![cfg(feature = "extensions")]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use socketioxide::handler::Value;
use socketioxide::socket::{AbsentMemberSink, BroadcastSink, Sid};
use socketioxide::{BroadcastError, SocketError, SocketIo, extract::SocketRef};
use tokio::sync::mpsc;
use tokio::time::timeout;

/// Keeps what it is given, or refuses it.
struct Recorder {
    packets: Mutex<Vec<String>>,
    sequences: Mutex<Vec<u64>>,
    refuse: bool,
}

impl BroadcastSink for Recorder {
    fn deliver(self: Arc<Self>, packet: Value, sequence: u64) -> Result<(), SocketError> {
        if self.refuse {
            return Err(SocketError::Closed);
        }
        self.packets.lock().unwrap().push(text_of(packet));
        self.sequences.lock().unwrap().push(sequence);
        Ok(())
    }
}

fn text_of(packet: Value) -> String {
    match packet {
        Value::Str(text, _) => text.to_string(),
        Value::Bytes(_) => "<binary>".to_owned(),
    }
}

fn recorder(refuse: bool) -> Arc<Recorder> {
    Arc::new(Recorder {
        packets: Mutex::new(Vec::new()),
        sequences: Mutex::new(Vec::new()),
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

/// A socket with a sink, connected (its connect packet read).
async fn connect_with_sink(
    io: &SocketIo,
) -> (
    mpsc::Sender<engineioxide::Packet>,
    mpsc::Receiver<engineioxide::Packet>,
) {
    let (tx, mut rx) = io
        .new_dummy_sock("/", serde_json::json!({"sink": true}))
        .await;
    assert!(next_text(&mut rx).await.starts_with('0'));
    (tx, rx)
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
    let (_tx, mut sunk) = connect_with_sink(&io).await;
    io.to("room").volatile().emit("news", &1).await.unwrap();
    io.to("room").emit("news", &2).await.unwrap();
    assert_eq!(*sink.packets.lock().unwrap(), [r#"2["news",2]"#]);
}

#[tokio::test]
async fn broadcasts_are_numbered_in_the_order_members_get_them() {
    let sink = recorder(false);
    let io = server(sink.clone());
    let (_tx, mut sunk) = connect_with_sink(&io).await;
    io.to("room").emit("a", &1).await.unwrap();
    io.to("elsewhere").emit("b", &2).await.unwrap();
    io.to("room").emit("c", &3).await.unwrap();
    let sequences = sink.sequences.lock().unwrap().clone();
    assert_eq!(sequences.len(), 2);
    assert!(sequences[0] < sequences[1], "{sequences:?}");
}

/// Keeps the packets delivered for members that are not connected.
#[derive(Default)]
struct Absent(Mutex<Vec<(Sid, String, u64)>>);

impl AbsentMemberSink for Absent {
    fn deliver(&self, sid: Sid, packet: Value, sequence: u64) {
        self.0
            .lock()
            .unwrap()
            .push((sid, text_of(packet), sequence));
    }
}

#[tokio::test]
async fn members_without_a_socket_get_their_packet_through_the_absent_member_sink() {
    use socketioxide::handler::ConnectHandler;
    let (_svc, io) = SocketIo::new_svc();
    let admitted = Arc::new(tokio::sync::Notify::new());
    let waiting = admitted.clone();
    // A connect middleware that joins a room, then waits: meanwhile the
    // socket is a member of the room without being connected.
    io.ns(
        "/",
        (async |_: SocketRef| {}).with(async move |socket: SocketRef| {
            socket.join("room");
            waiting.notified().await;
            Ok::<(), std::convert::Infallible>(())
        }),
    );
    let absent = Arc::new(Absent::default());
    assert!(io.set_absent_member_sink("/", absent.clone()));
    assert!(!io.set_absent_member_sink("/", absent.clone()));
    assert!(!io.set_absent_member_sink("/nowhere", absent.clone()));
    let connecting = tokio::spawn({
        let io = io.clone();
        async move { io.new_dummy_sock("/", serde_json::json!({})).await }
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(5);
    while absent.0.lock().unwrap().is_empty() {
        assert!(tokio::time::Instant::now() < deadline, "no delivery");
        io.to("room").emit("early", &1).await.unwrap();
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    let (_, text, sequence) = absent.0.lock().unwrap()[0].clone();
    assert_eq!(text, r#"2["early",1]"#);
    assert!(sequence > 0);
    admitted.notify_one();
    let (_tx, mut rx) = connecting.await.unwrap();
    assert!(next_text(&mut rx).await.starts_with('0'));
    let before = absent.0.lock().unwrap().len();
    io.to("room").emit("late", &2).await.unwrap();
    assert_eq!(next_text(&mut rx).await, r#"2["late",2]"#);
    assert_eq!(
        absent.0.lock().unwrap().len(),
        before,
        "a connected member is not absent"
    );
}
