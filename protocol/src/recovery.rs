//! Connection-state recovery: how a client that lost its connection gets its
//! rooms and the broadcasts it missed back on its next one.
//!
//! Recovery is opt-in per connection, so a client that knows nothing of it
//! (sails.io.js) sees the protocol unchanged:
//!
//! 1. The client adds [`OPT_IN_KEY`]`=1` to its handshake query. A server
//!    that recovers connections then sends the [`STATUS_EVENT`] as the first
//!    event after the namespace's connect packet, with a one-argument object:
//!    `{"token": "…", "offset": 41}` on a first connection.
//! 2. Every broadcast the socket is sent carries one more argument, last:
//!    `{"__sails_offset": 42}` ([`OFFSET_KEY`]). Offsets grow in the order the
//!    socket is sent broadcasts; events sent to the socket alone carry none.
//! 3. A client that reconnects adds [`TOKEN_KEY`] (the last token it was
//!    given) and [`OFFSET_KEY`] (the largest offset it received, or the one
//!    the status gave it). The status then says whether the socket got its
//!    rooms back: `{"token": "…", "recovered": true, "missed": 3}`, followed
//!    by the missed broadcasts, each once, in order, before any new one; or
//!    `{"token": "…", "offset": 7, "recovered": false, "reason": "expired"}`
//!    (a [`Reason`]), after which the client starts again from `offset`.
//!    Every status gives a new token, for the next reconnection.

/// Handshake query key that opts a connection in (value `1`).
pub const OPT_IN_KEY: &str = "__sails_recover";
/// Handshake query key of a reconnection: the token of the last connection.
pub const TOKEN_KEY: &str = "__sails_token";
/// Handshake query key of a reconnection: the largest offset received, and
/// the key of the object a broadcast carries as its last argument.
pub const OFFSET_KEY: &str = "__sails_offset";
/// The event that tells the client where it stands (see the module docs).
pub const STATUS_EVENT: &str = "sails:recovery";
/// The JWR header present on the answer to a request that put the socket
/// into a room: the request a client replays, in order, when recovery failed.
pub const SUBSCRIBED_HEADER: &str = "x-sails-subscribed";

/// Why a reconnection did not get its rooms and missed broadcasts back.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    /// The window for reconnecting had passed.
    Expired,
    /// More was sent meanwhile than the server keeps for one socket.
    Trimmed,
    /// The server knows no such token (another server, or a made-up one).
    Unknown,
    /// The token is from before the server restarted.
    Restarted,
    /// The server answered with no status: it does not recover connections.
    Unsupported,
}

impl Reason {
    /// Every reason, for tables and tests.
    pub const ALL: [Self; 5] = [
        Self::Expired,
        Self::Trimmed,
        Self::Unknown,
        Self::Restarted,
        Self::Unsupported,
    ];

    /// The reason as the status event names it.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::Expired => "expired",
            Self::Trimmed => "trimmed",
            Self::Unknown => "unknown",
            Self::Restarted => "restarted",
            Self::Unsupported => "unsupported",
        }
    }

    /// The reason named `text`, if any.
    pub fn from_name(text: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|reason| reason.as_str() == text)
    }
}

/// A Socket.IO event packet as encoded for one socket (`2["event",data]`,
/// default namespace, no ack id) with `{"__sails_offset":offset}` appended to
/// its arguments, or `None` when `packet` is not such a packet (binary
/// packets, acks and other namespaces are left as they are).
pub fn with_offset(packet: &str, offset: u64) -> Option<String> {
    let arguments = packet.strip_prefix("2[")?;
    let arguments = arguments
        .strip_suffix(']')
        .filter(|text| !text.is_empty())?;
    let mut marked = String::with_capacity(packet.len() + OFFSET_KEY.len() + 26);
    marked.push_str("2[");
    marked.push_str(arguments);
    marked.push_str(",{\"");
    marked.push_str(OFFSET_KEY);
    marked.push_str("\":");
    marked.push_str(&offset.to_string());
    marked.push_str("}]");
    Some(marked)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_event_gets_its_offset_as_a_last_argument() {
        assert_eq!(
            with_offset(r#"2["message",{"a":1}]"#, 42).as_deref(),
            Some(r#"2["message",{"a":1},{"__sails_offset":42}]"#)
        );
        assert_eq!(
            with_offset(r#"2["tick"]"#, 0).as_deref(),
            Some(r#"2["tick",{"__sails_offset":0}]"#)
        );
        assert_eq!(
            with_offset(r#"2["m",1]"#, u64::MAX).as_deref(),
            Some(r#"2["m",1,{"__sails_offset":18446744073709551615}]"#)
        );
    }

    #[test]
    fn other_packets_are_left_alone() {
        for packet in [
            r#"3[{"body":1}]"#,
            r#"21["m",1]"#,
            r#"2/chat,["m",1]"#,
            r#"51-["m",{"_placeholder":true,"num":0}]"#,
            "2[]",
            "2",
            "",
        ] {
            assert_eq!(with_offset(packet, 1), None, "{packet}");
        }
    }

    #[test]
    fn reasons_round_trip_by_name() {
        for reason in Reason::ALL {
            assert_eq!(Reason::from_name(reason.as_str()), Some(reason));
        }
        assert_eq!(Reason::from_name("nope"), None);
    }
}
