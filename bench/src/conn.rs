//! One lean EIO3 Socket.IO connection: the handshake, request frames and a
//! minimal reading of what comes back, all on the project's codec.

use std::net::{IpAddr, SocketAddr};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

use futures_util::StreamExt;
use sails_bench_record::Key;
use sails_protocol::engine::{EnginePacket, EngineVersion};
use sails_protocol::recovery;
use sails_protocol::sdk;
use sails_protocol::socket::{PacketType, SocketPacket};
use tokio::net::{TcpSocket, TcpStream};
use tokio::time::timeout;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::{self, Message};

/// A connected socket.
pub type Ws = WebSocketStream<TcpStream>;

/// How long one handshake may take.
pub const HANDSHAKE_LIMIT: Duration = Duration::from_secs(10);

/// Microseconds since the first call in this process (a shared time base
/// that fits in a JSON number, for broadcast timestamps).
pub fn now_us() -> u64 {
    static BASE: OnceLock<Instant> = OnceLock::new();
    BASE.get_or_init(Instant::now).elapsed().as_micros() as u64
}

/// The server under load.
#[derive(Debug, Clone)]
pub struct Target {
    /// Its TCP address.
    pub addr: SocketAddr,
    /// The WebSocket URL of its Socket.IO endpoint (EIO3, sails.io.js query).
    pub url: String,
}

impl Target {
    /// From the server's base URL `http://127.0.0.1:PORT`.
    pub fn from_base(base: &str) -> Result<Self, String> {
        let host = base
            .strip_prefix("http://")
            .ok_or_else(|| format!("`{base}` is not an http:// URL"))?
            .trim_end_matches('/');
        let addr: SocketAddr = host
            .parse()
            .map_err(|_| format!("`{host}` is not an IP address and port"))?;
        let url = format!(
            "ws://{addr}/socket.io/?{}&EIO={}&transport=websocket",
            sdk::handshake_query("node"),
            EngineVersion::V3.query_value()
        );
        Ok(Self { addr, url })
    }

    /// The same server, for sockets that opt in to connection recovery.
    pub fn recovering(&self) -> Self {
        Self {
            addr: self.addr,
            url: format!("{}&{}=1", self.url, recovery::OPT_IN_KEY),
        }
    }

    /// The same server, for an opted-in socket that reconnects with `token`,
    /// having received every broadcast up to `offset`.
    pub fn resuming(&self, token: &str, offset: u64) -> Self {
        Self {
            addr: self.addr,
            url: format!(
                "{}&{}={token}&{}={offset}",
                self.recovering().url,
                recovery::TOKEN_KEY,
                recovery::OFFSET_KEY
            ),
        }
    }
}

/// Why a handshake failed (counted, never hidden).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectFailure {
    /// The TCP connection was refused (backlog full, server gone).
    Refused,
    /// The HTTP upgrade was answered with an error status.
    Http,
    /// The namespace refused the socket, or the server closed it during the handshake.
    Rejected,
    /// No complete handshake within [`HANDSHAKE_LIMIT`].
    TimedOut,
    /// Anything else (reset, local port exhaustion, …).
    Other,
}

impl ConnectFailure {
    /// Every kind, in report order.
    pub const ALL: [Self; 5] = [
        Self::Refused,
        Self::Http,
        Self::Rejected,
        Self::TimedOut,
        Self::Other,
    ];

    /// The record's count of this kind.
    pub const fn key(self) -> Key {
        match self {
            Self::Refused => Key::Refused,
            Self::Http => Key::HttpError,
            Self::Rejected => Key::Rejected,
            Self::TimedOut => Key::TimedOut,
            Self::Other => Key::ConnectError,
        }
    }
}

impl std::fmt::Display for ConnectFailure {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            Self::Refused => "connection refused",
            Self::Http => "HTTP error status",
            Self::Rejected => "rejected",
            Self::TimedOut => "timed out",
            Self::Other => "connection failed",
        })
    }
}

/// A full handshake: TCP, WebSocket upgrade, Engine.IO open and the
/// namespace connect (`40`, which an EIO3 server sends by itself).
pub async fn connect(target: &Target, source: Option<IpAddr>) -> Result<Ws, ConnectFailure> {
    match timeout(HANDSHAKE_LIMIT, handshake(target, source)).await {
        Ok(result) => result,
        Err(_) => Err(ConnectFailure::TimedOut),
    }
}

async fn handshake(target: &Target, source: Option<IpAddr>) -> Result<Ws, ConnectFailure> {
    let socket = TcpSocket::new_v4().map_err(|_| ConnectFailure::Other)?;
    if let Some(ip) = source {
        socket
            .bind(SocketAddr::new(ip, 0))
            .map_err(|_| ConnectFailure::Other)?;
    }
    let stream = socket.connect(target.addr).await.map_err(|err| {
        if err.kind() == std::io::ErrorKind::ConnectionRefused {
            ConnectFailure::Refused
        } else {
            ConnectFailure::Other
        }
    })?;
    stream
        .set_nodelay(true)
        .map_err(|_| ConnectFailure::Other)?;
    let (mut ws, _) = tokio_tungstenite::client_async(target.url.as_str(), stream)
        .await
        .map_err(|err| match err {
            tungstenite::Error::Http(_) => ConnectFailure::Http,
            _ => ConnectFailure::Other,
        })?;
    let mut opened = false;
    while let Some(message) = ws.next().await {
        let Ok(Message::Text(text)) = message else {
            return Err(ConnectFailure::Rejected);
        };
        match EnginePacket::decode(text.as_str()) {
            Ok(EnginePacket::Open(_)) => opened = true,
            Ok(EnginePacket::Message(data)) if opened => {
                return match SocketPacket::decode(data).map(|p| p.kind) {
                    Ok(PacketType::Connect) => Ok(ws),
                    _ => Err(ConnectFailure::Rejected),
                };
            }
            _ => return Err(ConnectFailure::Rejected),
        }
    }
    Err(ConnectFailure::Rejected)
}

/// A virtual request frame as sails.io.js sends it: `42<ack>["get",{…}]`.
/// `data` is the request's JSON body text.
pub fn request_frame(ack_id: u64, method: &str, url: &str, data: &str) -> Message {
    let payload = format!(
        r#"["{method}",{{"method":"{method}","headers":{{}},"data":{data},"url":"{url}"}}]"#
    );
    let packet = SocketPacket::new(PacketType::Event, Some(ack_id), &payload).encode();
    Message::text(EnginePacket::Message(&packet).encode())
}

/// The EIO3 heartbeat a client sends (`2`).
pub fn ping_frame() -> Message {
    Message::text(EnginePacket::Ping("").encode())
}

/// What the load generator needs to know of an incoming frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Incoming<'a> {
    /// A JWR ack: its id and `statusCode` (0 when absent).
    Ack {
        /// The ack id.
        id: u64,
        /// The JWR's status code.
        status: u16,
    },
    /// An event: its name and the rest of the payload after the name.
    Event {
        /// The event name.
        name: &'a str,
        /// What follows the name in the JSON array.
        args: &'a str,
    },
    /// The server closed the connection.
    Closed,
    /// Anything else (pongs, noops).
    Other,
}

impl<'a> Incoming<'a> {
    /// Reads one WebSocket message.
    pub fn read(message: &'a Message) -> Self {
        let text = match message {
            Message::Text(text) => text.as_str(),
            Message::Close(_) => return Self::Closed,
            _ => return Self::Other,
        };
        let Ok(EnginePacket::Message(data)) = EnginePacket::decode(text) else {
            return match EnginePacket::decode(text) {
                Ok(EnginePacket::Close) => Self::Closed,
                _ => Self::Other,
            };
        };
        let Ok(packet) = SocketPacket::decode(data) else {
            return Self::Other;
        };
        match packet.kind {
            PacketType::Ack => Self::Ack {
                id: packet.ack_id.unwrap_or(0),
                status: number_after(packet.payload, "\"statusCode\":")
                    .and_then(|n| u16::try_from(n).ok())
                    .unwrap_or(0),
            },
            PacketType::Event => {
                let rest = packet.payload.strip_prefix("[\"").unwrap_or("");
                match rest.split_once('"') {
                    Some((name, args)) => Self::Event { name, args },
                    None => Self::Other,
                }
            }
            PacketType::Disconnect => Self::Closed,
            _ => Self::Other,
        }
    }
}

/// The arguments after an event's name (`,{…},{…}]`, as [`Incoming::Event`]
/// gives them) as a JSON array.
pub fn event_args(args: &str) -> Option<Vec<serde_json::Value>> {
    let array: serde_json::Value = serde_json::from_str(&format!("[0{args}")).ok()?;
    let mut array = match array {
        serde_json::Value::Array(array) => array,
        _ => return None,
    };
    array.remove(0);
    Some(array)
}

/// The id and JWR body of an ack (`43<id>[{"body":…}]`), if `message` is one.
pub fn ack_body(message: &Message) -> Option<(u64, serde_json::Value)> {
    let Message::Text(text) = message else {
        return None;
    };
    let Ok(EnginePacket::Message(data)) = EnginePacket::decode(text.as_str()) else {
        return None;
    };
    let packet = SocketPacket::decode(data).ok()?;
    if packet.kind != PacketType::Ack {
        return None;
    }
    let mut jwr: serde_json::Value = serde_json::from_str(packet.payload).ok()?;
    Some((packet.ack_id?, jwr.get_mut(0)?.get_mut("body")?.take()))
}

/// The unsigned number that follows the first `key` in `text`.
pub fn number_after(text: &str, key: &str) -> Option<u64> {
    let after = &text[text.find(key)? + key.len()..];
    let after = after.trim_ascii_start();
    let digits = after.bytes().take_while(u8::is_ascii_digit).count();
    after[..digits].parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn request_frames_are_sails_io_js_frames() {
        let frame = request_frame(7, "get", "/hello", "{}");
        assert_eq!(
            frame.to_text().unwrap(),
            r#"427["get",{"method":"get","headers":{},"data":{},"url":"/hello"}]"#
        );
    }

    #[test]
    fn reads_acks_and_events() {
        let ack = Message::text(r#"4312[{"body":"ok!","headers":{},"statusCode":200}]"#);
        assert_eq!(
            Incoming::read(&ack),
            Incoming::Ack {
                id: 12,
                status: 200
            }
        );
        let event = Message::text(r#"42["tick",{"t":5}]"#);
        assert_eq!(
            Incoming::read(&event),
            Incoming::Event {
                name: "tick",
                args: r#",{"t":5}]"#
            }
        );
        assert_eq!(Incoming::read(&Message::text("1")), Incoming::Closed);
        assert_eq!(Incoming::read(&Message::text("3")), Incoming::Other);
        assert_eq!(number_after(r#"{"t": 42}"#, "\"t\":"), Some(42));
    }

    #[test]
    fn target_from_base_url() {
        let target = Target::from_base("http://127.0.0.1:8080").unwrap();
        assert_eq!(target.addr.port(), 8080);
        assert!(
            target
                .url
                .starts_with("ws://127.0.0.1:8080/socket.io/?__sails_io_sdk_version=")
        );
        assert!(target.url.ends_with("&EIO=3&transport=websocket"));
        assert!(Target::from_base("127.0.0.1:1").is_err());
        let resuming = target.resuming("a.b", 7);
        assert!(
            resuming.url.ends_with(
                "&transport=websocket&__sails_recover=1&__sails_token=a.b&__sails_offset=7"
            ),
            "{}",
            resuming.url
        );
    }

    #[test]
    fn reads_event_arguments_and_ack_bodies() {
        let args = event_args(r#",{"n":3},{"__sails_offset":9}]"#).unwrap();
        assert_eq!(args.len(), 2);
        assert_eq!(args[1]["__sails_offset"], 9);
        assert_eq!(event_args("]").unwrap().len(), 0);
        let ack = Message::text(r#"4312[{"body":["a"],"headers":{},"statusCode":200}]"#);
        let (id, body) = ack_body(&ack).unwrap();
        assert_eq!((id, body), (12, serde_json::json!(["a"])));
        assert!(ack_body(&Message::text(r#"42["tick",{}]"#)).is_none());
    }
}
