//! Connection-state recovery, the client's side (the wire is
//! `sails_protocol::recovery`): the token and offset a socket holds, the
//! handshake keys it adds, which events it delivers, and the requests it
//! replays when the server could not give its rooms back.
//!
//! A broadcast's offset is recognised in the exact form the server appends
//! it, `,{"__sails_offset":<digits>}]`; anything else (a string or negative
//! offset, spaces) is no offset, and the object stays an argument of the
//! event. JSON is otherwise left to the browser.

use std::borrow::Cow;

use sails_protocol::recovery::{OFFSET_KEY, OPT_IN_KEY, STATUS_EVENT, TOKEN_KEY};

/// What an incoming event is to the client.
#[derive(Debug, PartialEq, Eq)]
pub enum Heard<'a> {
    /// The status event: the JSON text of its object argument.
    Status(&'a str),
    /// An event for the page: `[name, ...args]`, without its offset.
    Event(Cow<'a, str>),
    /// A broadcast at or below the current offset: already delivered.
    Duplicate,
}

/// One socket's recovery state, kept across its connections.
#[derive(Debug, Default)]
pub struct Recovery {
    token: Option<String>,
    offset: Option<u64>,
    asked: bool,
}

impl Recovery {
    /// The last token a status gave.
    pub fn token(&self) -> Option<&str> {
        self.token.as_deref()
    }

    /// The offset of the last broadcast delivered, or the last status gave.
    pub fn offset(&self) -> Option<u64> {
        self.offset
    }

    /// Whether the last handshake asked to recover (it carried a token), so
    /// that the server's status says how the reconnection went.
    pub fn asked(&self) -> bool {
        self.asked
    }

    /// The keys the handshake query gets after the SDK's:
    /// `&__sails_recover=1`, then the token and offset when one is held.
    pub fn handshake_query(&mut self) -> String {
        let mut query = String::from("&");
        query.push_str(OPT_IN_KEY);
        query.push_str("=1");
        self.asked = self.token.is_some();
        if let Some(token) = &self.token {
            query.push('&');
            query.push_str(TOKEN_KEY);
            query.push('=');
            push_encoded(&mut query, token);
            if let Some(offset) = self.offset {
                query.push('&');
                query.push_str(OFFSET_KEY);
                query.push('=');
                push_decimal(&mut query, offset);
            }
        }
        query
    }

    /// The server's status: keeps its `token`, and its `offset` if it gives
    /// one (replacing the current one: it may be another server's count).
    /// An offset that is no whole number in range is ignored.
    pub fn status(&mut self, token: Option<String>, offset: Option<f64>) {
        if token.is_some() {
            self.token = token;
        }
        if let Some(offset) = offset.filter(|n| *n >= 0.0 && n.fract() == 0.0 && *n < 1.8e19) {
            self.offset = Some(offset as u64);
        }
    }

    /// Reads an event's JSON array `[name, ...args]`.
    pub fn heard<'a>(&mut self, payload: &'a str) -> Heard<'a> {
        if let Some(status) = payload
            .strip_prefix("[\"")
            .and_then(|rest| rest.strip_prefix(STATUS_EVENT))
            .and_then(|rest| rest.strip_prefix("\","))
            .and_then(|rest| rest.strip_suffix(']'))
        {
            return Heard::Status(status);
        }
        let Some((event, offset)) = split_offset(payload) else {
            return Heard::Event(Cow::Borrowed(payload));
        };
        if self.offset.is_some_and(|current| offset <= current) {
            return Heard::Duplicate;
        }
        self.offset = Some(offset);
        let mut stripped = String::with_capacity(event.len() + 1);
        stripped.push_str(event);
        stripped.push(']');
        Heard::Event(Cow::Owned(stripped))
    }
}

/// `payload` without its last argument `{"__sails_offset":n}` and closing
/// bracket, and `n`; `None` when it has no such argument.
fn split_offset(payload: &str) -> Option<(&str, u64)> {
    let rest = payload.strip_suffix("}]")?.as_bytes();
    let head = rest.iter().rposition(|b| !b.is_ascii_digit())? + 1;
    if head == rest.len() || rest.len() - head > 19 {
        return None;
    }
    let offset = rest[head..]
        .iter()
        .fold(0, |n: u64, &d| n * 10 + u64::from(d - b'0'));
    let event = payload[..head]
        .strip_suffix("\":")?
        .strip_suffix(OFFSET_KEY)?
        .strip_suffix(",{\"")?;
    Some((event, offset))
}

/// Appends `value` in decimal (without `core::fmt`).
pub fn push_decimal(out: &mut String, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut len = 0;
    loop {
        digits[len] = b'0' + (value % 10) as u8;
        len += 1;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    out.extend(digits[..len].iter().rev().map(|&d| char::from(d)));
}

/// Appends `text` percent-encoded for a query value (all but unreserved
/// characters).
fn push_encoded(out: &mut String, text: &str) {
    const HEX: &[u8; 16] = b"0123456789ABCDEF";
    for byte in text.bytes() {
        if byte.is_ascii_alphanumeric() || matches!(byte, b'-' | b'_' | b'.' | b'~') {
            out.push(char::from(byte));
        } else {
            out.push('%');
            out.push(char::from(HEX[usize::from(byte >> 4)]));
            out.push(char::from(HEX[usize::from(byte & 15)]));
        }
    }
}

/// The requests whose answers said they put the socket into a room, in the
/// order they were first answered, each once; generic over what is kept of
/// a request (in the browser, its method and the key of its JS values).
#[derive(Debug)]
pub struct Subscriptions<R> {
    entries: Vec<(String, R)>,
}

impl<R> Default for Subscriptions<R> {
    fn default() -> Self {
        Self {
            entries: Vec::new(),
        }
    }
}

impl<R> Subscriptions<R> {
    /// Whether a request of the same `identity` (method, url and data) is
    /// already kept.
    pub fn contains(&self, identity: &str) -> bool {
        self.entries.iter().any(|(known, _)| known == identity)
    }

    /// Keeps `request` under `identity` unless one of that identity is kept:
    /// `false` then, and the first keeps its place.
    pub fn add(&mut self, identity: String, request: R) -> bool {
        if self.contains(&identity) {
            return false;
        }
        self.entries.push((identity, request));
        true
    }

    /// The requests kept, in order.
    pub fn iter(&self) -> impl Iterator<Item = &R> {
        self.entries.iter().map(|(_, request)| request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(payload: &str) -> Heard<'_> {
        Heard::Event(Cow::Borrowed(payload))
    }

    #[test]
    fn the_offset_is_stripped_and_becomes_current() {
        let mut recovery = Recovery::default();
        assert_eq!(
            recovery.heard(r#"["order",{"id":1},{"__sails_offset":42}]"#),
            Heard::Event(Cow::Owned(r#"["order",{"id":1}]"#.into()))
        );
        assert_eq!(recovery.offset(), Some(42));
        assert_eq!(
            recovery.heard(r#"["tick",{"__sails_offset":43}]"#),
            Heard::Event(Cow::Owned(r#"["tick"]"#.into()))
        );
        assert_eq!(recovery.offset(), Some(43));
    }

    #[test]
    fn repeated_and_older_offsets_are_dropped() {
        let mut recovery = Recovery::default();
        recovery.heard(r#"["m",1,{"__sails_offset":5}]"#);
        assert_eq!(
            recovery.heard(r#"["m",1,{"__sails_offset":5}]"#),
            Heard::Duplicate
        );
        assert_eq!(
            recovery.heard(r#"["m",0,{"__sails_offset":4}]"#),
            Heard::Duplicate
        );
        assert_eq!(recovery.offset(), Some(5));
        assert!(matches!(
            recovery.heard(r#"["m",2,{"__sails_offset":6}]"#),
            Heard::Event(_)
        ));
    }

    #[test]
    fn events_without_an_offset_are_untouched() {
        let mut recovery = Recovery::default();
        recovery.status(Some("t".into()), Some(9.0));
        for payload in [
            r#"["order",{"id":1}]"#,
            r#"["m"]"#,
            r#"["m",{"x":{"__sails_offset":1}}]"#,
            r#"["m","{\"__sails_offset\":1}]"]"#,
            r#"["m",{"a":1,"__sails_offset":1}]"#,
        ] {
            assert_eq!(recovery.heard(payload), event(payload), "{payload}");
        }
        assert_eq!(recovery.offset(), Some(9));
    }

    #[test]
    fn a_malformed_offset_is_an_argument_like_any_other() {
        let mut recovery = Recovery::default();
        for payload in [
            r#"["m",{"__sails_offset":"x"}]"#,
            r#"["m",{"__sails_offset":-1}]"#,
            r#"["m",{"__sails_offset":}]"#,
            r#"["m",{"__sails_offset":1.5}]"#,
            r#"["m",{"__sails_offset": 1}]"#,
            r#"["m",{"__sails_offset":99999999999999999999999}]"#,
            r#"{"__sails_offset":1}]"#,
            "}]",
        ] {
            assert_eq!(recovery.heard(payload), event(payload), "{payload}");
        }
        assert_eq!(recovery.offset(), None);
    }

    #[test]
    fn the_status_is_consumed_and_its_offset_replaces_the_current_one() {
        let mut recovery = Recovery::default();
        assert_eq!(
            recovery.heard(r#"["sails:recovery",{"token":"a","offset":41}]"#),
            Heard::Status(r#"{"token":"a","offset":41}"#)
        );
        recovery.status(Some("a".into()), Some(41.0));
        recovery.heard(r#"["m",{"__sails_offset":50}]"#);
        recovery.status(Some("b".into()), Some(7.0));
        assert_eq!((recovery.token(), recovery.offset()), (Some("b"), Some(7)));
        assert!(matches!(
            recovery.heard(r#"["m",{"__sails_offset":8}]"#),
            Heard::Event(_)
        ));
        recovery.status(Some("c".into()), None);
        recovery.status(None, Some(-3.0));
        recovery.status(None, Some(2.5));
        assert_eq!((recovery.token(), recovery.offset()), (Some("c"), Some(8)));
        assert_eq!(
            recovery.heard(r#"["sails:recoveryx",{}]"#),
            event(r#"["sails:recoveryx",{}]"#)
        );
    }

    #[test]
    fn the_handshake_opts_in_and_sends_the_token_once_it_has_one() {
        let mut recovery = Recovery::default();
        assert_eq!(recovery.handshake_query(), "&__sails_recover=1");
        assert!(!recovery.asked());
        recovery.status(Some("a+b/c=".into()), Some(41.0));
        assert_eq!(
            recovery.handshake_query(),
            "&__sails_recover=1&__sails_token=a%2Bb%2Fc%3D&__sails_offset=41"
        );
        assert!(recovery.asked());
        recovery.heard(r#"["m",{"__sails_offset":44}]"#);
        assert!(recovery.handshake_query().ends_with("&__sails_offset=44"));
        let mut no_offset = Recovery::default();
        no_offset.status(Some("t-1_~.".into()), None);
        assert_eq!(
            no_offset.handshake_query(),
            "&__sails_recover=1&__sails_token=t-1_~."
        );
    }

    #[test]
    fn subscriptions_keep_the_first_of_each_request() {
        let mut kept = Subscriptions::default();
        assert!(kept.add("get /a {}".into(), 1));
        assert!(kept.add("post /b {}".into(), 2));
        assert!(!kept.add("get /a {}".into(), 3));
        assert!(kept.add("get /a {\"x\":1}".into(), 4));
        assert_eq!(kept.iter().copied().collect::<Vec<_>>(), [1, 2, 4]);
    }
}
