//! Engine.IO packets: the transport framing under Socket.IO.
//!
//! Over a WebSocket each text frame is one packet: a type digit and its data.
//! The two protocol versions differ in who pings (EIO3: the client; EIO4: the
//! server) and in how binary frames are marked (EIO3 prefixes a `4` byte).
//! Over HTTP long-polling several packets share one body: a payload
//! ([`decode_payload`], [`encode_payload`]).

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

/// One packet of an HTTP long-polling payload: a text packet, or the bytes of
/// a binary message (sent base64-encoded in a text payload).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayloadPacket<'a> {
    /// A text packet, as a WebSocket text frame would carry it.
    Text(EnginePacket<'a>),
    /// A binary message (a Socket.IO attachment), decoded from base64.
    Binary(Vec<u8>),
}

/// Why a long-polling payload could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PayloadError {
    /// The payload is empty.
    Empty,
    /// EIO3: a length prefix that is missing, not a number, or longer than what follows.
    BadLength,
    /// A packet of the payload is not an Engine.IO packet.
    Packet(EngineError),
    /// A binary packet whose base64 is invalid (or, EIO3, not a message).
    BadBinary,
}

impl fmt::Display for PayloadError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("empty Engine.IO payload"),
            Self::BadLength => f.write_str("bad packet length in Engine.IO payload"),
            Self::Packet(err) => write!(f, "{err} in Engine.IO payload"),
            Self::BadBinary => f.write_str("bad binary packet in Engine.IO payload"),
        }
    }
}

impl std::error::Error for PayloadError {}

/// EIO4 separates the packets of a payload with a record separator.
const RECORD_SEPARATOR: char = '\u{1e}';

/// Reads the packets of an HTTP long-polling payload (a response body of a
/// polling `GET`, or a request body of a polling `POST`), in text form.
///
/// EIO3 frames each packet as `<length>:<packet>`, the length counted in
/// UTF-16 code units (JavaScript's string length); a binary message is
/// `b4<base64>`. EIO4 separates packets with `\x1e`; a binary message is
/// `b<base64>`. All or nothing: one bad packet fails the payload.
pub fn decode_payload(
    version: EngineVersion,
    payload: &str,
) -> Result<Vec<PayloadPacket<'_>>, PayloadError> {
    if payload.is_empty() {
        return Err(PayloadError::Empty);
    }
    let mut packets = Vec::new();
    match version {
        EngineVersion::V3 => {
            let mut rest = payload;
            while !rest.is_empty() {
                let (packet, after) = split_counted(rest)?;
                rest = after;
                // A zero-length packet is skipped, as engine.io-parser does.
                if !packet.is_empty() {
                    packets.push(payload_packet(version, packet)?);
                }
            }
        }
        EngineVersion::V4 => {
            for packet in payload.split(RECORD_SEPARATOR) {
                packets.push(payload_packet(version, packet)?);
            }
        }
    }
    Ok(packets)
}

/// Writes packets as an HTTP long-polling payload in text form (see
/// [`decode_payload`]). EIO3 writes no packets as `0:` (an empty payload is
/// an error); EIO4 cannot carry a text packet holding `\x1e`.
pub fn encode_payload(version: EngineVersion, packets: &[PayloadPacket<'_>]) -> String {
    if packets.is_empty() && version == EngineVersion::V3 {
        return "0:".into();
    }
    let mut payload = String::new();
    for (at, packet) in packets.iter().enumerate() {
        let text = match packet {
            PayloadPacket::Text(packet) => packet.encode(),
            PayloadPacket::Binary(bytes) => {
                let mut text = String::from(match version {
                    EngineVersion::V3 => "b4",
                    EngineVersion::V4 => "b",
                });
                base64_encode(bytes, &mut text);
                text
            }
        };
        match version {
            EngineVersion::V3 => {
                let units: usize = text.chars().map(char::len_utf16).sum();
                payload.push_str(&units.to_string());
                payload.push(':');
            }
            EngineVersion::V4 if at > 0 => payload.push(RECORD_SEPARATOR),
            EngineVersion::V4 => {}
        }
        payload.push_str(&text);
    }
    payload
}

/// EIO3: splits `<length>:<packet>` off the front of `payload`.
fn split_counted(payload: &str) -> Result<(&str, &str), PayloadError> {
    let colon = payload
        .bytes()
        .position(|b| b == b':')
        .ok_or(PayloadError::BadLength)?;
    let digits = &payload[..colon];
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return Err(PayloadError::BadLength);
    }
    let length: usize = digits.parse().map_err(|_| PayloadError::BadLength)?;
    let after = &payload[colon + 1..];
    let (mut units, mut end) = (0, 0);
    for c in after.chars() {
        if units >= length {
            break;
        }
        units += c.len_utf16();
        end += c.len_utf8();
    }
    // Short, or the length ends inside a surrogate pair.
    if units != length {
        return Err(PayloadError::BadLength);
    }
    Ok(after.split_at(end))
}

/// One packet of a payload: `b…` is a base64 binary message, anything else
/// a text packet.
fn payload_packet(version: EngineVersion, text: &str) -> Result<PayloadPacket<'_>, PayloadError> {
    let Some(base64) = text.strip_prefix('b') else {
        return EnginePacket::decode(text)
            .map(PayloadPacket::Text)
            .map_err(PayloadError::Packet);
    };
    let base64 = match version {
        EngineVersion::V3 => base64.strip_prefix('4').ok_or(PayloadError::BadBinary)?,
        EngineVersion::V4 => base64,
    };
    base64_decode(base64)
        .map(PayloadPacket::Binary)
        .ok_or(PayloadError::BadBinary)
}

const BASE64: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/// Standard base64 with padding.
fn base64_encode(bytes: &[u8], out: &mut String) {
    for chunk in bytes.chunks(3) {
        let group = chunk.iter().enumerate().fold(0u32, |group, (at, &byte)| {
            group | u32::from(byte) << (16 - 8 * at)
        });
        for at in 0..4 {
            if at <= chunk.len() {
                let index = (group >> (18 - 6 * at)) & 0x3f;
                out.push(char::from(BASE64[index as usize]));
            } else {
                out.push('=');
            }
        }
    }
}

/// Standard base64, padding optional; `None` for any other character, or a
/// length no encoding has.
fn base64_decode(text: &str) -> Option<Vec<u8>> {
    let text = text.as_bytes();
    let padding = text
        .iter()
        .rev()
        .take(2)
        .take_while(|&&b| b == b'=')
        .count();
    let digits = &text[..text.len() - padding];
    if digits.len() % 4 == 1 || (padding > 0 && !text.len().is_multiple_of(4)) {
        return None;
    }
    let mut bytes = Vec::with_capacity(digits.len() / 4 * 3 + 2);
    let (mut bits, mut held) = (0u32, 0u32);
    for &digit in digits {
        let value = BASE64.iter().position(|&b| b == digit)?;
        bits = (bits << 6 | value as u32) & 0xff_ffff;
        held += 6;
        if held >= 8 {
            held -= 8;
            bytes.push((bits >> held) as u8);
        }
    }
    Some(bytes)
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
    #[test]
    fn eio3_payloads_count_utf16_units() {
        use PayloadPacket::{Binary, Text};
        // `42["é😀"]` is 9 UTF-16 units: the emoji counts twice.
        assert_eq!(
            decode_payload(EngineVersion::V3, "2:409:42[\"é😀\"]"),
            Ok(vec![
                Text(EnginePacket::Message("0")),
                Text(EnginePacket::Message("2[\"é😀\"]")),
            ])
        );
        assert_eq!(
            decode_payload(EngineVersion::V3, "0:1:2"),
            Ok(vec![Text(EnginePacket::Ping(""))])
        );
        assert_eq!(
            decode_payload(EngineVersion::V3, "6:b4AQID1:6"),
            Ok(vec![Binary(vec![1, 2, 3]), Text(EnginePacket::Noop)])
        );
    }

    #[test]
    fn eio3_refuses_bad_lengths() {
        for payload in [
            "",
            "2",
            "x:2",
            ":2",
            "3:2",
            "1:22",
            "2:😀2",
            "1:😀",
            "99999999999999999999999:2",
        ] {
            assert!(
                decode_payload(EngineVersion::V3, payload).is_err(),
                "{payload:?}"
            );
        }
        assert_eq!(
            decode_payload(EngineVersion::V3, "1:9"),
            Err(PayloadError::Packet(EngineError::UnknownType('9')))
        );
        assert_eq!(
            decode_payload(EngineVersion::V3, "3:b3A"),
            Err(PayloadError::BadBinary)
        );
    }

    #[test]
    fn eio4_payloads_are_separated_by_record_separators() {
        use PayloadPacket::{Binary, Text};
        assert_eq!(
            decode_payload(EngineVersion::V4, "2\u{1e}42[\"a\"]\u{1e}bAQI="),
            Ok(vec![
                Text(EnginePacket::Ping("")),
                Text(EnginePacket::Message("2[\"a\"]")),
                Binary(vec![1, 2]),
            ])
        );
        assert_eq!(
            decode_payload(EngineVersion::V4, "b"),
            Ok(vec![Binary(vec![])])
        );
        // Padding is optional.
        assert_eq!(
            decode_payload(EngineVersion::V4, "bAQ"),
            Ok(vec![Binary(vec![1])])
        );
        for payload in [
            "",
            "\u{1e}",
            "2\u{1e}",
            "4a\u{1e}\u{1e}4b",
            "b!",
            "bA",
            "bA=A",
            "bAQ=",
        ] {
            assert!(
                decode_payload(EngineVersion::V4, payload).is_err(),
                "{payload:?}"
            );
        }
    }

    #[test]
    fn payloads_round_trip() {
        use PayloadPacket::{Binary, Text};
        let packets = [
            Text(EnginePacket::Open(r#"{"sid":"a"}"#)),
            Text(EnginePacket::Message("2[\"é😀\"]")),
            Binary(vec![]),
            Binary(vec![0]),
            Binary(vec![0, 255]),
            Binary((0..=255).collect()),
            Text(EnginePacket::Close),
        ];
        for version in [EngineVersion::V3, EngineVersion::V4] {
            let payload = encode_payload(version, &packets);
            assert_eq!(
                decode_payload(version, &payload).as_deref(),
                Ok(&packets[..])
            );
        }
        assert_eq!(
            encode_payload(EngineVersion::V3, &packets[..3]),
            "12:0{\"sid\":\"a\"}9:42[\"é😀\"]2:b4"
        );
        // Found by fuzzing: `0:` holds no packet, and no packets were
        // written as an empty payload, which is an error.
        assert_eq!(decode_payload(EngineVersion::V3, "0:"), Ok(vec![]));
        assert_eq!(encode_payload(EngineVersion::V3, &[]), "0:");
        assert_eq!(
            encode_payload(EngineVersion::V4, &packets[3..5]),
            "bAA==\u{1e}bAP8="
        );
    }
}
