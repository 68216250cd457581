//! The integration tests' Socket.IO client, written on the protocol crate's
//! codec and tokio-tungstenite, and a server for them on 127.0.0.1:0. Every
//! wait has a time limit; [`postgres`], a temporary PostgreSQL server. For
//! tests only.

pub mod postgres;

use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::Router;
use futures_util::{SinkExt, StreamExt};
use sails_protocol::engine::{EnginePacket, EngineVersion};
use sails_protocol::sdk;
use sails_protocol::socket::{PacketType, SocketPacket};
use serde_json::{Value, json};
use tokio::sync::{mpsc, oneshot};
use tokio::time::timeout;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

/// How long any single wait may take.
pub const WAIT: Duration = Duration::from_secs(5);

pub mod redis;

/// Serves `app` on a free port of 127.0.0.1 (with peer addresses, and
/// messages over the default size limit closed with 1009) and returns its address.
pub async fn serve(app: Router) -> SocketAddr {
    serve_with_limit(app, &sails_server::SocketsConfig::default()).await
}

/// [`serve`], closing messages over `config`'s size limit with 1009.
pub async fn serve_with_limit(app: Router, config: &sails_server::SocketsConfig) -> SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind 127.0.0.1:0");
    let addr = listener.local_addr().expect("local addr");
    let listener = sails_server::listener::guarded(listener, config);
    tokio::spawn(async move {
        axum::serve(
            listener,
            app.into_make_service_with_connect_info::<SocketAddr>(),
        )
        .await
        .expect("serve");
    });
    addr
}

/// How a test client connects.
#[derive(Debug, Clone)]
pub struct Options {
    /// Engine.IO revision (EIO3 like sails.io.js 1.2.1 unless a test says otherwise).
    pub version: EngineVersion,
    /// The Socket.IO path.
    pub path: String,
    /// The SDK query sails.io.js adds (`None`: a raw socket.io client).
    pub sdk_version: Option<String>,
    /// Extra handshake headers (cookie, origin, …).
    pub headers: Vec<(String, String)>,
}

impl Default for Options {
    fn default() -> Self {
        Self {
            version: EngineVersion::V3,
            path: "/socket.io".into(),
            sdk_version: Some(sdk::SDK_VERSION.into()),
            headers: Vec::new(),
        }
    }
}

impl Options {
    /// The default options plus one handshake header.
    pub fn header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

/// Why a connection attempt failed.
#[derive(Debug)]
pub enum ConnectError {
    /// The HTTP handshake was answered with this status.
    Http(u16),
    /// The namespace refused the socket (`44…`); the payload as text.
    Refused(String),
    /// Anything else (closed, timed out, …).
    Other(String),
}

/// A binary ack waiting for its attachments: (ack id, payload, count, attachments so far).
type PendingBinaryAck = (Option<u64>, Value, usize, Vec<Vec<u8>>);

#[derive(Default)]
struct Inbox {
    events: VecDeque<(String, Vec<Value>)>,
    acks: HashMap<u64, oneshot::Sender<Vec<Value>>>,
    pongs: usize,
    pings: usize,
    closed: bool,
    /// The code of the server's close frame, if one came.
    close_code: Option<u16>,
}

/// A connected test socket.
pub struct Client {
    out: mpsc::UnboundedSender<Message>,
    inbox: Arc<Mutex<Inbox>>,
    notify: Arc<tokio::sync::Notify>,
    next_ack: u64,
    /// The Engine.IO handshake (`sid`, `pingInterval`, …).
    pub open: Value,
}

impl Client {
    /// Connects with the default options (EIO3, sails.io.js SDK query).
    pub async fn connect(addr: SocketAddr) -> Self {
        Self::connect_with(addr, Options::default())
            .await
            .expect("socket connects")
    }

    /// Connects with `options`; resolves once the namespace accepted the socket.
    pub async fn connect_with(addr: SocketAddr, options: Options) -> Result<Self, ConnectError> {
        let mut url = format!(
            "ws://{addr}{}/?EIO={}&transport=websocket",
            options.path.trim_end_matches('/'),
            options.version.query_value()
        );
        if let Some(version) = &options.sdk_version {
            url.push_str(&format!(
                "&__sails_io_sdk_version={version}&__sails_io_sdk_platform=node&__sails_io_sdk_language=javascript"
            ));
        }
        let mut request = url
            .into_client_request()
            .map_err(|e| ConnectError::Other(e.to_string()))?;
        for (name, value) in &options.headers {
            let name: tokio_tungstenite::tungstenite::http::HeaderName = name
                .parse()
                .map_err(|_| ConnectError::Other("header name".into()))?;
            request.headers_mut().insert(
                name,
                HeaderValue::from_str(value).map_err(|_| ConnectError::Other("header".into()))?,
            );
        }
        let (stream, _) = match timeout(WAIT, tokio_tungstenite::connect_async(request)).await {
            Err(_) => return Err(ConnectError::Other("handshake timed out".into())),
            Ok(Err(tokio_tungstenite::tungstenite::Error::Http(response))) => {
                return Err(ConnectError::Http(response.status().as_u16()));
            }
            Ok(Err(error)) => return Err(ConnectError::Other(error.to_string())),
            Ok(Ok(connected)) => connected,
        };
        let (mut sink, mut source) = stream.split();
        let (out, mut out_rx) = mpsc::unbounded_channel::<Message>();
        tokio::spawn(async move {
            while let Some(message) = out_rx.recv().await {
                if sink.send(message).await.is_err() {
                    break;
                }
            }
            let _ = sink.close().await;
        });

        let inbox = Arc::new(Mutex::new(Inbox::default()));
        let notify = Arc::new(tokio::sync::Notify::new());
        let (open_tx, open_rx) = oneshot::channel::<Result<Value, ConnectError>>();
        let (reader_inbox, reader_notify, reader_out) =
            (inbox.clone(), notify.clone(), out.clone());
        let version = options.version;
        tokio::spawn(async move {
            let mut open_tx = Some(open_tx);
            let mut open = Value::Null;
            let mut binary_ack: Option<PendingBinaryAck> = None;
            while let Some(Ok(message)) = source.next().await {
                if let Message::Close(frame) = &message {
                    reader_inbox.lock().unwrap().close_code =
                        frame.as_ref().map(|frame| u16::from(frame.code));
                }
                if let Message::Binary(frame) = &message {
                    let Ok(data) = sails_protocol::engine::decode_binary(version, frame) else {
                        continue;
                    };
                    if let Some((_, _, needed, parts)) = binary_ack.as_mut() {
                        parts.push(data.to_vec());
                        if parts.len() == *needed
                            && let Some((ack_id, payload, _, parts)) = binary_ack.take()
                            && let Value::Array(args) = fill_placeholders(payload, &parts)
                        {
                            let waiter =
                                ack_id.and_then(|id| reader_inbox.lock().unwrap().acks.remove(&id));
                            if let Some(waiter) = waiter {
                                let _ = waiter.send(args);
                            }
                        }
                    }
                    continue;
                }
                let Message::Text(text) = message else {
                    continue;
                };
                let Ok(packet) = EnginePacket::decode(text.as_str()) else {
                    continue;
                };
                match packet {
                    EnginePacket::Open(data) => {
                        open = serde_json::from_str(data).unwrap_or(Value::Null);
                        if version == EngineVersion::V4 {
                            let _ = reader_out.send(Message::text("40"));
                        }
                    }
                    EnginePacket::Ping(data) => {
                        reader_inbox.lock().unwrap().pings += 1;
                        let _ = reader_out.send(Message::text(EnginePacket::Pong(data).encode()));
                    }
                    EnginePacket::Pong(_) => reader_inbox.lock().unwrap().pongs += 1,
                    EnginePacket::Close => break,
                    EnginePacket::Message(data) => {
                        let Ok(packet) = SocketPacket::decode(data) else {
                            continue;
                        };
                        match packet.kind {
                            PacketType::Connect => {
                                if let Some(tx) = open_tx.take() {
                                    let _ = tx.send(Ok(open.clone()));
                                }
                            }
                            PacketType::ConnectError => {
                                if let Some(tx) = open_tx.take() {
                                    let _ = tx.send(Err(ConnectError::Refused(
                                        packet.payload.to_owned(),
                                    )));
                                }
                            }
                            PacketType::Event => {
                                let Ok(Value::Array(mut args)) =
                                    serde_json::from_str(packet.payload)
                                else {
                                    continue;
                                };
                                if args.is_empty() {
                                    continue;
                                }
                                let name = args.remove(0).as_str().unwrap_or_default().to_owned();
                                reader_inbox.lock().unwrap().events.push_back((name, args));
                            }
                            PacketType::BinaryAck => {
                                let Ok(payload) = serde_json::from_str(packet.payload) else {
                                    continue;
                                };
                                binary_ack =
                                    Some((packet.ack_id, payload, packet.attachments, Vec::new()));
                            }
                            PacketType::Ack => {
                                let Ok(Value::Array(args)) = serde_json::from_str(packet.payload)
                                else {
                                    continue;
                                };
                                let waiter = packet
                                    .ack_id
                                    .and_then(|id| reader_inbox.lock().unwrap().acks.remove(&id));
                                if let Some(waiter) = waiter {
                                    let _ = waiter.send(args);
                                }
                            }
                            _ => {}
                        }
                    }
                    _ => {}
                }
                reader_notify.notify_waiters();
            }
            reader_inbox.lock().unwrap().closed = true;
            reader_notify.notify_waiters();
            if let Some(tx) = open_tx.take() {
                let _ = tx.send(Err(ConnectError::Other("closed before connect".into())));
            }
        });
        let open = match timeout(WAIT, open_rx).await {
            Ok(Ok(result)) => result?,
            _ => return Err(ConnectError::Other("no connect packet in time".into())),
        };
        Ok(Self {
            out,
            inbox,
            notify,
            next_ack: 0,
            open,
        })
    }

    /// Sends one raw Engine.IO text frame.
    pub fn send_frame(&self, frame: impl Into<String>) {
        let _ = self.out.send(Message::text(frame.into()));
    }

    /// Sends `[event, ...args]` (a JSON array text) with a fresh ack id and waits for the ack.
    pub async fn emit_raw_with_ack(&mut self, payload: &str) -> Vec<Value> {
        self.next_ack += 1;
        let id = self.next_ack;
        let (tx, rx) = oneshot::channel();
        self.inbox.lock().unwrap().acks.insert(id, tx);
        let packet = SocketPacket::new(PacketType::Event, Some(id), payload);
        self.send_frame(EnginePacket::Message(&packet.encode()).encode());
        match timeout(WAIT, rx).await {
            Ok(Ok(args)) => args,
            _ => panic!("no ack for {payload} within {WAIT:?}"),
        }
    }

    /// Sends a virtual request now and returns a future of its JWR (for many in flight).
    pub fn start_request(
        &mut self,
        method: &str,
        url: &str,
        data: Value,
    ) -> impl std::future::Future<Output = Value> + use<> {
        self.next_ack += 1;
        let id = self.next_ack;
        let (tx, rx) = oneshot::channel();
        self.inbox.lock().unwrap().acks.insert(id, tx);
        let payload = json!([method, {"method": method, "headers": {}, "data": data, "url": url}])
            .to_string();
        let packet = SocketPacket::new(PacketType::Event, Some(id), &payload);
        self.send_frame(EnginePacket::Message(&packet.encode()).encode());
        async move {
            match timeout(WAIT, rx).await {
                Ok(Ok(mut args)) => args.remove(0),
                _ => panic!("no ack for request {id} within {WAIT:?}"),
            }
        }
    }

    /// Sends `[event, ...args]` without an ack id.
    pub fn emit_raw(&self, payload: &str) {
        let packet = SocketPacket::new(PacketType::Event, None, payload);
        self.send_frame(EnginePacket::Message(&packet.encode()).encode());
    }

    /// A sails.io.js-shaped virtual request; returns the JWR.
    pub async fn request(&mut self, method: &str, url: &str, data: Value) -> Value {
        self.request_with_headers(method, url, data, json!({}))
            .await
    }

    /// A virtual request with per-request headers; returns the JWR.
    pub async fn request_with_headers(
        &mut self,
        method: &str,
        url: &str,
        data: Value,
        headers: Value,
    ) -> Value {
        let payload =
            json!([method, {"method": method, "headers": headers, "data": data, "url": url}]);
        let mut args = self.emit_raw_with_ack(&payload.to_string()).await;
        assert_eq!(args.len(), 1, "one ack argument");
        args.remove(0)
    }

    /// `GET url` and the JWR body, asserting status 200.
    pub async fn get_ok(&mut self, url: &str) -> Value {
        let jwr = self.request("get", url, json!({})).await;
        assert_eq!(jwr["statusCode"], 200, "{url}: {jwr}");
        jwr["body"].clone()
    }

    /// This socket's id, as the server knows it.
    pub async fn id(&mut self) -> String {
        self.get_ok("/echo").await["socketId"]
            .as_str()
            .expect("socketId")
            .to_owned()
    }

    /// A round trip: everything the server sent this socket before now has arrived.
    pub async fn sync(&mut self) {
        self.get_ok("/hello").await;
    }

    /// Waits for the next `event` (skipping, and keeping, other events); returns its first argument.
    pub async fn next_event(&self, event: &str) -> Value {
        self.next_event_args(event)
            .await
            .into_iter()
            .next()
            .unwrap_or(Value::Null)
    }

    /// Waits for the next `event`; returns all its arguments.
    pub async fn next_event_args(&self, event: &str) -> Vec<Value> {
        let wait = async {
            loop {
                let notified = self.notify.notified();
                {
                    let mut inbox = self.inbox.lock().unwrap();
                    if let Some(index) = inbox.events.iter().position(|(name, _)| name == event) {
                        return inbox
                            .events
                            .remove(index)
                            .map(|(_, args)| args)
                            .unwrap_or_default();
                    }
                    assert!(!inbox.closed, "connection closed while waiting for {event}");
                }
                notified.await;
            }
        };
        timeout(WAIT, wait)
            .await
            .unwrap_or_else(|_| panic!("no `{event}` event within {WAIT:?}"))
    }

    /// The `event`s received so far (not yet taken), removed from the inbox.
    pub fn take_events(&self, event: &str) -> Vec<Value> {
        let mut inbox = self.inbox.lock().unwrap();
        let mut taken = Vec::new();
        inbox.events.retain(|(name, args)| {
            if name == event {
                taken.push(args.first().cloned().unwrap_or(Value::Null));
                false
            } else {
                true
            }
        });
        taken
    }

    /// Waits until the server closed the connection.
    pub async fn closed(&self) {
        let wait = async {
            loop {
                let notified = self.notify.notified();
                if self.inbox.lock().unwrap().closed {
                    return;
                }
                notified.await;
            }
        };
        timeout(WAIT, wait)
            .await
            .expect("connection closed in time");
    }

    /// Waits until the server closed the connection; the code of its close
    /// frame (`None` without one).
    pub async fn close_code(&self) -> Option<u16> {
        self.closed().await;
        self.inbox.lock().unwrap().close_code
    }

    /// How many pings the server sent (EIO4) and pongs it answered (EIO3).
    pub fn heartbeats(&self) -> (usize, usize) {
        let inbox = self.inbox.lock().unwrap();
        (inbox.pings, inbox.pongs)
    }

    /// Waits until `condition` holds on the heartbeat counters.
    pub async fn wait_heartbeats(&self, condition: impl Fn((usize, usize)) -> bool) {
        let wait = async {
            loop {
                let notified = self.notify.notified();
                if condition(self.heartbeats()) {
                    return;
                }
                notified.await;
            }
        };
        timeout(WAIT, wait).await.expect("heartbeat in time");
    }

    /// Closes the connection (Engine.IO close packet, then the WebSocket).
    pub fn close(self) {
        self.send_frame(EnginePacket::Close.encode());
        let _ = self.out.send(Message::Close(None));
    }
}

/// Replaces `{"_placeholder":true,"num":i}` with attachment `i` as an array of byte values.
fn fill_placeholders(value: Value, parts: &[Vec<u8>]) -> Value {
    match value {
        Value::Object(object) if object.get("_placeholder") == Some(&Value::Bool(true)) => {
            let num = object.get("num").and_then(Value::as_u64).unwrap_or(0) as usize;
            parts.get(num).map_or(Value::Null, |bytes| json!(bytes))
        }
        Value::Object(object) => Value::Object(
            object
                .into_iter()
                .map(|(k, v)| (k, fill_placeholders(v, parts)))
                .collect(),
        ),
        Value::Array(items) => Value::Array(
            items
                .into_iter()
                .map(|v| fill_placeholders(v, parts))
                .collect(),
        ),
        other => other,
    }
}

/// Polls `check` until it returns `Some`, with a time limit (for effects that
/// happen after the fact on the server, like disconnect cleanup).
pub async fn eventually<T, F, Fut>(mut check: F) -> T
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Option<T>>,
{
    let wait = async {
        loop {
            if let Some(value) = check().await {
                return value;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    };
    timeout(WAIT, wait)
        .await
        .expect("condition reached in time")
}

/// A plain HTTP request on the test server: (status, headers, body).
pub async fn http(
    addr: SocketAddr,
    method: &str,
    path: &str,
    headers: &[(&str, &str)],
    body: &str,
) -> (u16, Vec<(String, String)>, String) {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let work = async {
        let mut stream = tokio::net::TcpStream::connect(addr).await.expect("connect");
        let mut request = format!(
            "{method} {path} HTTP/1.0\r\nHost: {addr}\r\nContent-Length: {}\r\n",
            body.len()
        );
        for (name, value) in headers {
            request.push_str(&format!("{name}: {value}\r\n"));
        }
        request.push_str("\r\n");
        request.push_str(body);
        stream.write_all(request.as_bytes()).await.expect("write");
        let mut response = Vec::new();
        stream.read_to_end(&mut response).await.expect("read");
        response
    };
    let response = timeout(WAIT, work).await.expect("HTTP answer in time");
    let response = String::from_utf8_lossy(&response).into_owned();
    let (head, body) = response.split_once("\r\n\r\n").unwrap_or((&response, ""));
    let mut lines = head.lines();
    let status = lines
        .next()
        .and_then(|line| line.split_whitespace().nth(1))
        .and_then(|code| code.parse().ok())
        .expect("status line");
    let headers = lines
        .filter_map(|line| line.split_once(':'))
        .map(|(name, value)| (name.trim().to_ascii_lowercase(), value.trim().to_owned()))
        .collect();
    (status, headers, body.to_owned())
}
