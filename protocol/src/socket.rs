//! Socket.IO packets, carried in Engine.IO messages.
//!
//! Text form: `<type>[<attachments>-][<namespace>,][<ack id>][<json>]`, e.g.
//! `2["get",{"url":"/hello"}]` (an event) or `312[{"statusCode":200}]` (the
//! ack of request 12). Protocol revisions 4 (socket.io 2.x) and 5 (3.x and
//! later) share this framing; they differ in who opens the default namespace.
//! The JSON payload is kept as text: each side parses it with its own JSON
//! (the browser's `JSON.parse`, serde on the server).

use core::fmt;

/// The Socket.IO packet type (the first character).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PacketType {
    /// `0`: open a namespace (v5: the client asks, the server answers with `{"sid"}`).
    Connect,
    /// `1`: leave a namespace.
    Disconnect,
    /// `2`: an event `[name, ...args]`.
    Event,
    /// `3`: the answer to an event sent with an ack id: `[...args]`.
    Ack,
    /// `4`: the namespace refused the connection (v4 calls it `ERROR`).
    ConnectError,
    /// `5`: an event with binary attachments following as binary frames.
    BinaryEvent,
    /// `6`: an ack with binary attachments following as binary frames.
    BinaryAck,
}

impl PacketType {
    const fn digit(self) -> char {
        match self {
            Self::Connect => '0',
            Self::Disconnect => '1',
            Self::Event => '2',
            Self::Ack => '3',
            Self::ConnectError => '4',
            Self::BinaryEvent => '5',
            Self::BinaryAck => '6',
        }
    }

    const fn from_digit(digit: char) -> Option<Self> {
        Some(match digit {
            '0' => Self::Connect,
            '1' => Self::Disconnect,
            '2' => Self::Event,
            '3' => Self::Ack,
            '4' => Self::ConnectError,
            '5' => Self::BinaryEvent,
            '6' => Self::BinaryAck,
            _ => return None,
        })
    }

    /// Whether binary attachments follow this packet.
    pub const fn is_binary(self) -> bool {
        matches!(self, Self::BinaryEvent | Self::BinaryAck)
    }
}

/// One Socket.IO packet, borrowing from the frame it was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SocketPacket<'a> {
    /// What the packet is.
    pub kind: PacketType,
    /// The namespace, `/` unless the frame names another.
    pub namespace: &'a str,
    /// The ack id of an event that wants an answer, or of the answer itself.
    pub ack_id: Option<u64>,
    /// How many binary frames follow (binary packets only).
    pub attachments: usize,
    /// The JSON payload as text; empty when the packet has none.
    pub payload: &'a str,
}

/// Why a message is not a Socket.IO packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SocketError {
    /// The message is empty.
    Empty,
    /// The first character is not a packet type digit (`0`-`6`).
    UnknownType(char),
    /// A binary packet whose attachment count is missing or not a number.
    BadAttachmentCount,
    /// An ack id too large for 64 bits.
    BadAckId,
    /// An event or ack whose payload is not a JSON array.
    PayloadNotArray,
}

impl fmt::Display for SocketError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("empty Socket.IO packet"),
            Self::UnknownType(c) => write!(f, "unknown Socket.IO packet type {c:?}"),
            Self::BadAttachmentCount => {
                f.write_str("binary packet without a valid attachment count")
            }
            Self::BadAckId => f.write_str("ack id out of range"),
            Self::PayloadNotArray => f.write_str("event or ack payload is not a JSON array"),
        }
    }
}

impl std::error::Error for SocketError {}

/// The default namespace.
pub const DEFAULT_NAMESPACE: &str = "/";

impl<'a> SocketPacket<'a> {
    /// An event or ack packet on the default namespace.
    pub const fn new(kind: PacketType, ack_id: Option<u64>, payload: &'a str) -> Self {
        Self {
            kind,
            namespace: DEFAULT_NAMESPACE,
            ack_id,
            attachments: 0,
            payload,
        }
    }

    /// Reads a packet from the data of an Engine.IO message.
    pub fn decode(message: &'a str) -> Result<Self, SocketError> {
        let first = message.chars().next().ok_or(SocketError::Empty)?;
        let kind = PacketType::from_digit(first).ok_or(SocketError::UnknownType(first))?;
        let mut rest = &message[1..];

        let mut attachments = 0;
        if kind.is_binary() {
            // Byte searches here and below: `char` patterns would pull
            // Unicode searching code into the browser client.
            let dash = rest
                .bytes()
                .position(|b| b == b'-')
                .ok_or(SocketError::BadAttachmentCount)?;
            let (count, after) = (&rest[..dash], &rest[dash + 1..]);
            if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
                return Err(SocketError::BadAttachmentCount);
            }
            attachments = count.parse().map_err(|_| SocketError::BadAttachmentCount)?;
            rest = after;
        }

        let mut namespace = DEFAULT_NAMESPACE;
        if rest.starts_with('/') {
            let end = rest.bytes().position(|b| b == b',').unwrap_or(rest.len());
            namespace = &rest[..end];
            rest = rest.get(end + 1..).unwrap_or("");
        }

        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let ack_id = match digits {
            0 => None,
            _ => Some(rest[..digits].parse().map_err(|_| SocketError::BadAckId)?),
        };
        let payload = &rest[digits..];

        let wants_array = matches!(
            kind,
            PacketType::Event | PacketType::Ack | PacketType::BinaryEvent | PacketType::BinaryAck
        );
        if wants_array && !(payload.starts_with('[') && payload.ends_with(']')) {
            return Err(SocketError::PayloadNotArray);
        }
        Ok(Self {
            kind,
            namespace,
            ack_id,
            attachments,
            payload,
        })
    }

    /// Writes the packet as the data of an Engine.IO message.
    pub fn encode(&self) -> String {
        let mut out = String::with_capacity(self.payload.len() + self.namespace.len() + 24);
        out.push(self.kind.digit());
        if self.kind.is_binary() {
            out.push_str(&self.attachments.to_string());
            out.push('-');
        }
        // The default namespace is written too before a payload that would
        // read as a namespace.
        if self.namespace != DEFAULT_NAMESPACE || self.payload.starts_with('/') {
            out.push_str(self.namespace);
            out.push(',');
        }
        if let Some(id) = self.ack_id {
            out.push_str(&id.to_string());
        }
        out.push_str(self.payload);
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn decode(message: &str) -> SocketPacket<'_> {
        SocketPacket::decode(message).unwrap_or_else(|err| panic!("{message:?}: {err}"))
    }

    #[test]
    fn decodes_a_virtual_request_with_ack() {
        let packet = decode(r#"21["get",{"method":"get","headers":{},"data":{},"url":"/hello"}]"#);
        assert_eq!(packet.kind, PacketType::Event);
        assert_eq!(packet.namespace, "/");
        assert_eq!(packet.ack_id, Some(1));
        assert!(packet.payload.starts_with(r#"["get","#));
    }

    #[test]
    fn decodes_connect_ack_and_namespaces() {
        assert_eq!(
            decode("0"),
            SocketPacket::new(PacketType::Connect, None, "")
        );
        let v5_connect = decode(r#"0{"sid":"x1"}"#);
        assert_eq!(v5_connect.payload, r#"{"sid":"x1"}"#);
        let ack = decode(r#"3/chat,12[{"statusCode":200}]"#);
        assert_eq!(
            (ack.kind, ack.namespace, ack.ack_id),
            (PacketType::Ack, "/chat", Some(12))
        );
        assert_eq!(decode("0/admin,").namespace, "/admin");
        assert_eq!(decode("1/admin").namespace, "/admin");
    }

    #[test]
    fn decodes_binary_packets() {
        let packet = decode(r#"62-/ns,7[{"_placeholder":true,"num":0}]"#);
        assert_eq!(packet.kind, PacketType::BinaryAck);
        assert_eq!(
            (packet.attachments, packet.namespace, packet.ack_id),
            (2, "/ns", Some(7))
        );
    }

    #[test]
    fn rejects_malformed_packets() {
        assert_eq!(SocketPacket::decode(""), Err(SocketError::Empty));
        assert_eq!(
            SocketPacket::decode("9"),
            Err(SocketError::UnknownType('9'))
        );
        assert_eq!(
            SocketPacket::decode("5[]"),
            Err(SocketError::BadAttachmentCount)
        );
        assert_eq!(
            SocketPacket::decode("5x-[]"),
            Err(SocketError::BadAttachmentCount)
        );
        assert_eq!(
            SocketPacket::decode("299999999999999999999999[\"a\"]"),
            Err(SocketError::BadAckId)
        );
        assert_eq!(SocketPacket::decode("2"), Err(SocketError::PayloadNotArray));
        assert_eq!(
            SocketPacket::decode("2{\"a\":1}"),
            Err(SocketError::PayloadNotArray)
        );
        assert_eq!(SocketPacket::decode("3"), Err(SocketError::PayloadNotArray));
    }

    #[test]
    fn encode_is_the_inverse_of_decode() {
        for message in [
            "0",
            r#"0{"sid":"a"}"#,
            "1",
            r#"2["message",{"a":1}]"#,
            r#"27["get",{}]"#,
            r#"2/chat,["x"]"#,
            r#"3/chat,5[null]"#,
            r#"4{"message":"no"}"#,
            r#"51-["up",{"_placeholder":true,"num":0}]"#,
            r#"61-/n,3[{"_placeholder":true,"num":0}]"#,
        ] {
            assert_eq!(decode(message).encode(), message);
        }
    }

    #[test]
    fn a_payload_that_looks_like_a_namespace_keeps_the_default_one() {
        // Found by fuzzing: `1/,/E` was written back as `1/E`, which reads
        // as a disconnect from namespace `/E`.
        let packet = decode("1/,/E");
        assert_eq!((packet.namespace, packet.payload), ("/", "/E"));
        assert_eq!(packet.encode(), "1/,/E");
        assert_eq!(decode(&packet.encode()), packet);
    }
}
