//! Engine.IO packets: the transport framing under Socket.IO.
//!
//! Over a WebSocket each text frame is one packet: a type digit and its data.
//! The two protocol versions differ in who pings (EIO3: the client; EIO4: the
//! server) and in how binary frames are marked (EIO3 prefixes a `4` byte).

use core::fmt;

/// The Engine.IO protocol revision, as sent in the `EIO` query parameter.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EngineVersion {
    /// `EIO=3` (socket.io 2.x, sails.io.js 1.2.1): the client pings.
    V3,
    /// `EIO=4` (socket.io 3.x and later): the server pings.
    V4,
}

impl EngineVersion {
    /// The value of the `EIO` query parameter.
    pub const fn query_value(self) -> &'static str {
        match self {
            Self::V3 => "3",
            Self::V4 => "4",
        }
    }

    /// Whether the client sends pings (EIO3) rather than answering the server's (EIO4).
    pub const fn client_pings(self) -> bool {
        matches!(self, Self::V3)
    }
}

/// One Engine.IO packet, borrowing its data from the frame it was read from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EnginePacket<'a> {
    /// `0{json}`: the handshake (`sid`, `upgrades`, `pingInterval`, `pingTimeout`).
    Open(&'a str),
    /// `1`: the peer closes the transport.
    Close,
    /// `2[data]`: a heartbeat (EIO3: from the client; EIO4: from the server).
    Ping(&'a str),
    /// `3[data]`: the answer to a ping.
    Pong(&'a str),
    /// `4data`: a message for the layer above (a Socket.IO packet).
    Message(&'a str),
    /// `5`: transport upgrade (unused over a plain WebSocket).
    Upgrade,
    /// `6`: no-op.
    Noop,
}

/// Why a frame is not an Engine.IO packet.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EngineError {
    /// The frame is empty.
    Empty,
    /// The first character is not a packet type digit (`0`-`6`).
    UnknownType(char),
}

impl fmt::Display for EngineError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("empty Engine.IO frame"),
            Self::UnknownType(c) => write!(f, "unknown Engine.IO packet type {c:?}"),
        }
    }
}

impl std::error::Error for EngineError {}

impl<'a> EnginePacket<'a> {
    /// Reads one packet from a WebSocket text frame.
    pub fn decode(frame: &'a str) -> Result<Self, EngineError> {
        let mut chars = frame.chars();
        let kind = chars.next().ok_or(EngineError::Empty)?;
        let data = chars.as_str();
        Ok(match kind {
            '0' => Self::Open(data),
            '1' => Self::Close,
            '2' => Self::Ping(data),
            '3' => Self::Pong(data),
            '4' => Self::Message(data),
            '5' => Self::Upgrade,
            '6' => Self::Noop,
            other => return Err(EngineError::UnknownType(other)),
        })
    }

    /// Writes the packet as a WebSocket text frame.
    pub fn encode(&self) -> String {
        let (kind, data) = match *self {
            Self::Open(data) => ('0', data),
            Self::Close => ('1', ""),
            Self::Ping(data) => ('2', data),
            Self::Pong(data) => ('3', data),
            Self::Message(data) => ('4', data),
            Self::Upgrade => ('5', ""),
            Self::Noop => ('6', ""),
        };
        let mut frame = String::with_capacity(1 + data.len());
        frame.push(kind);
        frame.push_str(data);
        frame
    }
}

/// The timing fields of an Engine.IO `open` packet, in milliseconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Handshake {
    /// How often a ping is due (`pingInterval`).
    pub ping_interval: u32,
    /// How long to wait for the answer to a ping (`pingTimeout`).
    pub ping_timeout: u32,
}

impl Handshake {
    /// Engine.IO's defaults, used for a field the server leaves out.
    pub const DEFAULT: Self = Self {
        ping_interval: 25_000,
        ping_timeout: 20_000,
    };

    /// Reads `pingInterval` and `pingTimeout` from the JSON of an `open` packet.
    ///
    /// A scanner rather than a JSON parser: it looks for the two keys and reads
    /// the integer after each, keeping the default for a key that is missing or
    /// not a plain number. Returns `None` when the data is not a JSON object.
    pub fn parse(json: &str) -> Option<Self> {
        let json = json.trim_ascii();
        if !(json.starts_with('{') && json.ends_with('}')) {
            return None;
        }
        let field = |key: &str, default: u32| {
            // A byte search: `str::find` would pull a substring searcher into
            // the browser client.
            json.as_bytes()
                .windows(key.len())
                .position(|window| window == key.as_bytes())
                .and_then(|at| {
                    let after = json
                        .get(at + key.len()..)?
                        .trim_ascii_start()
                        .strip_prefix(':')?;
                    let after = after.trim_ascii_start();
                    let digits = after.bytes().take_while(u8::is_ascii_digit).count();
                    after[..digits].parse().ok()
                })
                .unwrap_or(default)
        };
        Some(Self {
            ping_interval: field("\"pingInterval\"", Self::DEFAULT.ping_interval),
            ping_timeout: field("\"pingTimeout\"", Self::DEFAULT.ping_timeout),
        })
    }
}

/// The payload of a binary WebSocket frame (a Socket.IO attachment):
/// EIO3 prefixes it with the message type byte `4`, EIO4 sends it bare.
pub fn decode_binary(version: EngineVersion, frame: &[u8]) -> Result<&[u8], EngineError> {
    match version {
        EngineVersion::V4 => Ok(frame),
        EngineVersion::V3 => match frame.split_first() {
            Some((4, payload)) => Ok(payload),
            Some((other, _)) => Err(EngineError::UnknownType(char::from(*other))),
            None => Err(EngineError::Empty),
        },
    }
}

/// A binary WebSocket frame carrying `payload`, framed for `version`.
pub fn encode_binary(version: EngineVersion, payload: &[u8]) -> Vec<u8> {
    match version {
        EngineVersion::V4 => payload.to_vec(),
        EngineVersion::V3 => {
            let mut frame = Vec::with_capacity(payload.len() + 1);
            frame.push(4);
            frame.extend_from_slice(payload);
            frame
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_each_packet_type() {
        let open = r#"{"sid":"abc","upgrades":[],"pingInterval":25000,"pingTimeout":60000}"#;
        assert_eq!(
            EnginePacket::decode(&format!("0{open}")),
            Ok(EnginePacket::Open(open))
        );
        assert_eq!(EnginePacket::decode("1"), Ok(EnginePacket::Close));
        assert_eq!(EnginePacket::decode("2"), Ok(EnginePacket::Ping("")));
        assert_eq!(
            EnginePacket::decode("3probe"),
            Ok(EnginePacket::Pong("probe"))
        );
        assert_eq!(EnginePacket::decode("40"), Ok(EnginePacket::Message("0")));
        assert_eq!(EnginePacket::decode("5"), Ok(EnginePacket::Upgrade));
        assert_eq!(EnginePacket::decode("6"), Ok(EnginePacket::Noop));
    }

    #[test]
    fn rejects_garbage() {
        assert_eq!(EnginePacket::decode(""), Err(EngineError::Empty));
        assert_eq!(
            EnginePacket::decode("9x"),
            Err(EngineError::UnknownType('9'))
        );
        assert_eq!(
            EnginePacket::decode("é"),
            Err(EngineError::UnknownType('é'))
        );
    }

    #[test]
    fn encode_is_the_inverse_of_decode() {
        for frame in ["0{}", "1", "2", "3", "42[\"a\"]", "5", "6", "2probe"] {
            assert_eq!(EnginePacket::decode(frame).unwrap().encode(), frame);
        }
    }

    #[test]
    fn binary_frames_per_version() {
        assert_eq!(encode_binary(EngineVersion::V3, b"ab"), b"\x04ab");
        assert_eq!(decode_binary(EngineVersion::V3, b"\x04ab"), Ok(&b"ab"[..]));
        assert!(decode_binary(EngineVersion::V3, b"").is_err());
        assert!(decode_binary(EngineVersion::V3, b"\x03ab").is_err());
        assert_eq!(encode_binary(EngineVersion::V4, b"ab"), b"ab");
        assert_eq!(decode_binary(EngineVersion::V4, b"ab"), Ok(&b"ab"[..]));
    }

    #[test]
    fn reads_the_handshake_timings() {
        let open = r#"{"sid":"a","upgrades":[],"pingInterval":25000,"pingTimeout":60000}"#;
        assert_eq!(
            Handshake::parse(open),
            Some(Handshake {
                ping_interval: 25_000,
                ping_timeout: 60_000
            })
        );
        assert_eq!(
            Handshake::parse(r#"{ "pingTimeout" : 5 }"#),
            Some(Handshake {
                ping_interval: 25_000,
                ping_timeout: 5
            })
        );
        assert_eq!(
            Handshake::parse(r#"{"pingInterval":"x"}"#),
            Some(Handshake::DEFAULT)
        );
        assert_eq!(
            Handshake::parse(r#"{"pingInterval":99999999999}"#),
            Some(Handshake::DEFAULT)
        );
        assert_eq!(Handshake::parse("garbage"), None);
    }
}
