//! One socket's protocol state, without any browser API: what each incoming
//! frame means, which requests wait for a connection, which wait for an ack.
//!
//! The browser glue feeds frames in and acts on the returned [`Step`]; it
//! never calls page code while it holds the session, so a callback may use
//! the socket again.

use std::borrow::Cow;

use sails_protocol::{
    engine::{self, EngineError, EnginePacket, EngineVersion, Handshake},
    socket::{DEFAULT_NAMESPACE, PacketType, SocketError, SocketPacket},
};

use crate::recovery::{Heard, Recovery};

/// Where the connection stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Phase {
    /// No transport.
    Closed,
    /// The WebSocket is opening or waiting for the Engine.IO handshake.
    Opening,
    /// Engine.IO is open; the Socket.IO `connect` packet has not come yet.
    Handshaken,
    /// Connected: requests go out at once.
    Connected,
}

/// Why the server's input could not be understood.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ProtocolError {
    /// A text frame that is no Engine.IO packet.
    Engine(EngineError),
    /// An Engine.IO message that is no Socket.IO packet.
    Socket(SocketError),
    /// The `open` packet is not a JSON object.
    BadHandshake,
    /// A binary frame that no binary packet announced.
    UnexpectedBinary,
}

impl ProtocolError {
    /// A short description, without the offending bytes.
    pub fn description(&self) -> &'static str {
        match self {
            Self::Engine(EngineError::Empty) => "empty Engine.IO frame",
            Self::Engine(EngineError::UnknownType(_)) => "unknown Engine.IO packet type",
            Self::Socket(SocketError::Empty) => "empty Socket.IO packet",
            Self::Socket(SocketError::UnknownType(_)) => "unknown Socket.IO packet type",
            Self::Socket(SocketError::BadAttachmentCount) => "bad attachment count",
            Self::Socket(SocketError::BadAckId) => "ack id out of range",
            Self::Socket(SocketError::PayloadNotArray) => "event or ack payload is not an array",
            Self::BadHandshake => "malformed Engine.IO handshake",
            Self::UnexpectedBinary => "unexpected binary frame",
        }
    }
}

impl core::fmt::Display for ProtocolError {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.description())
    }
}

/// What the glue must do after a frame.
#[derive(Debug, PartialEq)]
pub enum Step<'a, R> {
    /// Nothing (a no-op, another namespace, an incomplete binary packet).
    Nothing,
    /// Engine.IO opened: start the heartbeat, and send `connect_frame` if any
    /// (EIO4: the client opens the namespace).
    Opened {
        /// The timings the server asked for.
        handshake: Handshake,
        /// A frame to send right away.
        connect_frame: Option<&'static str>,
    },
    /// A sign of life from the server; send `reply` if any (EIO4 pong).
    Heartbeat {
        /// A frame to send back.
        reply: Option<&'static str>,
    },
    /// Socket.IO connected: send every queued request, oldest first.
    Connected {
        /// Requests made while not connected.
        replay: Vec<R>,
    },
    /// The recovery status (see [`crate::recovery`]), not for the page: the
    /// JSON text of its object.
    Status {
        /// The JSON text of the status object.
        payload: &'a str,
    },
    /// A server event: a JSON array `[name, ...args]` (a broadcast's offset
    /// taken off; a broadcast already delivered is [`Step::Nothing`]).
    Event {
        /// The JSON text of the array.
        payload: Cow<'a, str>,
        /// Binary attachments that replace `{"_placeholder":true,"num":i}`.
        attachments: Vec<Vec<u8>>,
    },
    /// The answer to a request: a JSON array `[jwr]`.
    Ack {
        /// The request it answers.
        request: R,
        /// The JSON text of the array.
        payload: Cow<'a, str>,
        /// Binary attachments.
        attachments: Vec<Vec<u8>>,
    },
    /// An ack that matches no request in flight (ignored).
    UnknownAck(u64),
    /// The server refused the namespace (`connect_error`).
    Refused {
        /// The JSON text of the reason, possibly empty.
        payload: &'a str,
    },
    /// The server closed the Socket.IO or Engine.IO session.
    ServerClosed,
    /// Input that is not the protocol; the connection stays up.
    Invalid(ProtocolError),
}

/// A binary packet waiting for its attachments.
#[derive(Debug)]
struct Assembly {
    kind: PacketType,
    ack_id: Option<u64>,
    payload: String,
    missing: usize,
    attachments: Vec<Vec<u8>>,
}

/// One socket's protocol state, generic over the request type `R`.
#[derive(Debug)]
pub struct Session<R> {
    version: EngineVersion,
    phase: Phase,
    queue: Vec<R>,
    in_flight: Vec<(u64, R)>,
    next_ack: u64,
    assembly: Option<Assembly>,
    recovery: Recovery,
}

impl<R> Session<R> {
    /// A closed session that will speak `version`.
    pub fn new(version: EngineVersion) -> Self {
        Self {
            version,
            phase: Phase::Closed,
            queue: Vec::new(),
            in_flight: Vec::new(),
            next_ack: 0,
            assembly: None,
            recovery: Recovery::default(),
        }
    }

    /// The recovery state, kept across connections.
    pub fn recovery(&mut self) -> &mut Recovery {
        &mut self.recovery
    }

    /// The Engine.IO revision.
    pub fn version(&self) -> EngineVersion {
        self.version
    }

    /// Chooses the Engine.IO revision of the next connection.
    pub fn set_version(&mut self, version: EngineVersion) {
        self.version = version;
    }

    /// Where the connection stands.
    pub fn phase(&self) -> Phase {
        self.phase
    }

    /// Whether requests go out at once.
    pub fn is_connected(&self) -> bool {
        self.phase == Phase::Connected
    }

    /// Whether a connection is under way.
    pub fn is_connecting(&self) -> bool {
        matches!(self.phase, Phase::Opening | Phase::Handshaken)
    }

    /// A transport is being opened.
    pub fn opening(&mut self) {
        self.phase = Phase::Opening;
        self.assembly = None;
    }

    /// Keeps a request until the socket connects.
    pub fn enqueue(&mut self, request: R) {
        self.queue.push(request);
    }

    /// How many requests wait for a connection.
    pub fn queued(&self) -> usize {
        self.queue.len()
    }

    /// How many requests wait for their answer.
    pub fn in_flight(&self) -> usize {
        self.in_flight.len()
    }

    /// Reserves the ack id of a request about to be sent.
    pub fn next_ack_id(&mut self) -> u64 {
        let id = self.next_ack;
        self.next_ack = self.next_ack.wrapping_add(1);
        id
    }

    /// Remembers a sent request until its ack comes.
    pub fn track(&mut self, ack_id: u64, request: R) {
        self.in_flight.push((ack_id, request));
    }

    /// The transport closed: the session is over. Returns the requests that
    /// were in flight (their callbacks get the disconnect error); queued
    /// requests stay for the next connection.
    pub fn closed(&mut self) -> impl Iterator<Item = R> + use<R> {
        self.phase = Phase::Closed;
        self.assembly = None;
        std::mem::take(&mut self.in_flight)
            .into_iter()
            .map(|(_, request)| request)
    }

    /// Reads one text frame.
    pub fn text_frame<'a>(&mut self, frame: &'a str) -> Step<'a, R> {
        let packet = match EnginePacket::decode(frame) {
            Ok(packet) => packet,
            Err(err) => return Step::Invalid(ProtocolError::Engine(err)),
        };
        match packet {
            EnginePacket::Open(json) => {
                let Some(handshake) = Handshake::parse(json) else {
                    return Step::Invalid(ProtocolError::BadHandshake);
                };
                self.phase = Phase::Handshaken;
                let connect_frame = match self.version {
                    EngineVersion::V3 => None,
                    EngineVersion::V4 => Some("40"),
                };
                Step::Opened {
                    handshake,
                    connect_frame,
                }
            }
            EnginePacket::Ping(_) => Step::Heartbeat { reply: Some("3") },
            EnginePacket::Pong(_) => Step::Heartbeat { reply: None },
            EnginePacket::Close => Step::ServerClosed,
            EnginePacket::Message(data) => self.message(data),
            EnginePacket::Upgrade | EnginePacket::Noop => Step::Nothing,
        }
    }

    fn message<'a>(&mut self, data: &'a str) -> Step<'a, R> {
        let packet = match SocketPacket::decode(data) {
            Ok(packet) => packet,
            Err(err) => return Step::Invalid(ProtocolError::Socket(err)),
        };
        if packet.namespace != DEFAULT_NAMESPACE {
            return Step::Nothing;
        }
        match packet.kind {
            PacketType::Connect => {
                self.phase = Phase::Connected;
                Step::Connected {
                    replay: std::mem::take(&mut self.queue),
                }
            }
            PacketType::Disconnect => Step::ServerClosed,
            PacketType::ConnectError => Step::Refused {
                payload: packet.payload,
            },
            PacketType::Event => match self.recovery.heard(packet.payload) {
                Heard::Status(payload) => Step::Status { payload },
                Heard::Event(payload) => Step::Event {
                    payload,
                    attachments: Vec::new(),
                },
                Heard::Duplicate => Step::Nothing,
            },
            PacketType::Ack => self.ack(packet.ack_id, Cow::Borrowed(packet.payload), Vec::new()),
            PacketType::BinaryEvent | PacketType::BinaryAck => {
                let assembly = Assembly {
                    kind: packet.kind,
                    ack_id: packet.ack_id,
                    payload: packet.payload.to_owned(),
                    missing: packet.attachments,
                    attachments: Vec::with_capacity(packet.attachments.min(16)),
                };
                if assembly.missing == 0 {
                    return self.assembled(assembly);
                }
                self.assembly = Some(assembly);
                Step::Nothing
            }
        }
    }

    /// Reads one binary frame (an attachment of the pending binary packet).
    pub fn binary_frame(&mut self, frame: &[u8]) -> Step<'static, R> {
        let Some(mut assembly) = self.assembly.take() else {
            return Step::Invalid(ProtocolError::UnexpectedBinary);
        };
        let payload = match engine::decode_binary(self.version, frame) {
            Ok(payload) => payload,
            Err(err) => return Step::Invalid(ProtocolError::Engine(err)),
        };
        assembly.attachments.push(payload.to_vec());
        assembly.missing -= 1;
        if assembly.missing > 0 {
            self.assembly = Some(assembly);
            return Step::Nothing;
        }
        self.assembled(assembly)
    }

    fn assembled(&mut self, assembly: Assembly) -> Step<'static, R> {
        let payload = Cow::Owned(assembly.payload);
        match assembly.kind {
            PacketType::BinaryAck => self.ack(assembly.ack_id, payload, assembly.attachments),
            _ => Step::Event {
                payload,
                attachments: assembly.attachments,
            },
        }
    }

    fn ack<'a>(
        &mut self,
        ack_id: Option<u64>,
        payload: Cow<'a, str>,
        attachments: Vec<Vec<u8>>,
    ) -> Step<'a, R> {
        let Some(id) = ack_id else {
            return Step::Nothing;
        };
        match self.in_flight.iter().position(|(known, _)| *known == id) {
            Some(at) => Step::Ack {
                request: self.in_flight.remove(at).1,
                payload,
                attachments,
            },
            None => Step::UnknownAck(id),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const OPEN: &str = r#"0{"sid":"s","upgrades":[],"pingInterval":25000,"pingTimeout":60000}"#;

    fn connected(version: EngineVersion) -> Session<&'static str> {
        let mut session = Session::new(version);
        session.opening();
        assert!(session.is_connecting());
        session.text_frame(OPEN);
        session.text_frame("40");
        assert!(session.is_connected());
        session
    }

    fn send(session: &mut Session<&'static str>, request: &'static str) -> u64 {
        let id = session.next_ack_id();
        session.track(id, request);
        id
    }

    #[test]
    fn eio3_waits_for_the_servers_connect() {
        let mut session = Session::<()>::new(EngineVersion::V3);
        session.opening();
        let Step::Opened {
            handshake,
            connect_frame,
        } = session.text_frame(OPEN)
        else {
            panic!("no open");
        };
        assert_eq!((handshake.ping_interval, connect_frame), (25_000, None));
        assert_eq!(session.phase(), Phase::Handshaken);
        assert_eq!(session.text_frame("3"), Step::Heartbeat { reply: None });
    }

    #[test]
    fn eio4_opens_the_namespace_and_answers_pings() {
        let mut session = Session::<()>::new(EngineVersion::V4);
        session.opening();
        assert!(matches!(
            session.text_frame(OPEN),
            Step::Opened {
                connect_frame: Some("40"),
                ..
            }
        ));
        assert_eq!(
            session.text_frame("2"),
            Step::Heartbeat { reply: Some("3") }
        );
        assert!(matches!(
            session.text_frame(r#"40{"sid":"x"}"#),
            Step::Connected { .. }
        ));
    }

    #[test]
    fn queued_requests_replay_in_order_on_connect() {
        let mut session = Session::new(EngineVersion::V3);
        session.enqueue("first");
        session.enqueue("second");
        session.opening();
        session.text_frame(OPEN);
        assert_eq!(
            session.text_frame("40"),
            Step::Connected {
                replay: vec!["first", "second"]
            }
        );
        assert_eq!(session.queued(), 0);
    }

    #[test]
    fn acks_resolve_their_own_request_once() {
        let mut session = connected(EngineVersion::V3);
        let a = send(&mut session, "a");
        let b = send(&mut session, "b");
        assert_eq!((a, b), (0, 1));
        let frame = r#"431[{"body":"ok!","statusCode":200}]"#;
        assert_eq!(
            session.text_frame(frame),
            Step::Ack {
                request: "b",
                payload: Cow::Borrowed(r#"[{"body":"ok!","statusCode":200}]"#),
                attachments: vec![]
            }
        );
        assert_eq!(session.text_frame(frame), Step::UnknownAck(1));
        assert_eq!(session.in_flight(), 1);
    }

    #[test]
    fn close_hands_back_in_flight_requests_and_keeps_the_queue() {
        let mut session = connected(EngineVersion::V3);
        send(&mut session, "sent");
        session.enqueue("later");
        assert_eq!(session.closed().collect::<Vec<_>>(), ["sent"]);
        assert_eq!(session.phase(), Phase::Closed);
        assert_eq!(session.queued(), 1);
        assert_eq!(session.in_flight(), 0);
    }

    #[test]
    fn events_and_server_close() {
        let mut session = connected(EngineVersion::V3);
        assert_eq!(
            session.text_frame(r#"42["order",{"id":1}]"#),
            Step::Event {
                payload: Cow::Borrowed(r#"["order",{"id":1}]"#),
                attachments: vec![]
            }
        );
        assert_eq!(session.text_frame(r#"42/other,["x"]"#), Step::Nothing);
        assert_eq!(session.text_frame("41"), Step::ServerClosed);
        assert_eq!(session.text_frame("1"), Step::ServerClosed);
        assert_eq!(
            session.text_frame(r#"44{"message":"no"}"#),
            Step::Refused {
                payload: r#"{"message":"no"}"#
            }
        );
    }

    #[test]
    fn recovery_statuses_are_kept_and_broadcasts_delivered_once() {
        let mut session = connected(EngineVersion::V3);
        assert_eq!(
            session.text_frame(r#"42["sails:recovery",{"token":"t","offset":41}]"#),
            Step::Status {
                payload: r#"{"token":"t","offset":41}"#
            }
        );
        session.recovery().status(Some("t".into()), Some(41.0));
        let marked = r#"42["order",{"id":1},{"__sails_offset":42}]"#;
        assert_eq!(
            session.text_frame(marked),
            Step::Event {
                payload: Cow::Owned(r#"["order",{"id":1}]"#.into()),
                attachments: vec![]
            }
        );
        assert_eq!(session.text_frame(marked), Step::Nothing);
        assert_eq!(
            session.text_frame(r#"42["order",{"__sails_offset":40}]"#),
            Step::Nothing
        );
        assert_eq!(
            session.text_frame(r#"42["order",{"__sails_offset":"x"}]"#),
            Step::Event {
                payload: Cow::Borrowed(r#"["order",{"__sails_offset":"x"}]"#),
                attachments: vec![]
            }
        );
        session.closed().for_each(drop);
        session.opening();
        assert_eq!(session.recovery().offset(), Some(42));
        assert!(
            session
                .recovery()
                .handshake_query()
                .ends_with("&__sails_token=t&__sails_offset=42")
        );
    }

    #[test]
    fn binary_acks_collect_their_attachments() {
        for (version, frames) in [
            (EngineVersion::V3, [&b"\x04ab"[..], &b"\x04c"[..]]),
            (EngineVersion::V4, [&b"ab"[..], &b"c"[..]]),
        ] {
            let mut session = connected(version);
            let id = send(&mut session, "file");
            let header = format!(r#"462-{id}[{{"body":{{"_placeholder":true,"num":0}}}}]"#);
            assert_eq!(session.text_frame(&header), Step::Nothing);
            assert_eq!(session.binary_frame(frames[0]), Step::Nothing);
            let Step::Ack {
                request,
                attachments,
                ..
            } = session.binary_frame(frames[1])
            else {
                panic!("not assembled");
            };
            assert_eq!(request, "file");
            assert_eq!(attachments, [b"ab".to_vec(), b"c".to_vec()]);
        }
    }

    #[test]
    fn binary_events_and_zero_attachments() {
        let mut session = connected(EngineVersion::V3);
        assert!(matches!(
            session.text_frame(r#"450-["x",1]"#),
            Step::Event { .. }
        ));
        session.text_frame(r#"451-["file",{"_placeholder":true,"num":0}]"#);
        assert!(matches!(
            session.binary_frame(b"\x04z"),
            Step::Event { attachments, .. } if attachments == [b"z".to_vec()]
        ));
    }

    #[test]
    fn garbage_is_reported_and_harmless() {
        let mut session = connected(EngineVersion::V3);
        for frame in ["", "9", "4", "4x", "42", r#"42{"a":1}"#, "0nope"] {
            assert!(
                matches!(session.text_frame(frame), Step::Invalid(_)),
                "{frame:?}"
            );
        }
        assert_eq!(
            session.binary_frame(b"\x04stray"),
            Step::Invalid(ProtocolError::UnexpectedBinary)
        );
        session.text_frame(r#"451-["file",{"_placeholder":true,"num":0}]"#);
        assert!(matches!(
            session.binary_frame(b"\x07bad"),
            Step::Invalid(ProtocolError::Engine(_))
        ));
        assert!(session.is_connected());
        assert_eq!(session.text_frame("6"), Step::Nothing);
    }
}
