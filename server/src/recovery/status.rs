//! Where a recovering connection stands, as its first event tells the
//! client (see `sails_protocol::recovery`).

use sails_protocol::recovery::Reason;
use serde::Serialize;

/// What the status event tells the client (see `sails_protocol::recovery`).
#[derive(Debug, Clone, Serialize)]
pub(crate) struct Status {
    token: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    offset: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    recovered: Option<bool>,
    #[serde(skip_serializing_if = "Option::is_none")]
    reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    missed: Option<usize>,
}

/// What became of a connection's attempt to recover.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Outcome {
    /// A first connection: nothing to recover.
    Fresh,
    /// The rooms and missed broadcasts are back.
    Recovered,
    /// Nothing came back, for this reason.
    Failed(Reason),
}

impl Outcome {
    /// The status for the socket's new `token`, once `missed` broadcasts
    /// are about to be replayed (`complete`: all it missed).
    pub(crate) fn status(self, token: String, missed: usize, complete: bool) -> Status {
        let outcome = match self {
            Self::Recovered if !complete => Self::Failed(Reason::Trimmed),
            other => other,
        };
        let (offset, recovered, reason, missed) = match outcome {
            Self::Fresh => (Some(0), None, None, None),
            Self::Recovered => (None, Some(true), None, Some(missed)),
            Self::Failed(reason) => (Some(0), Some(false), Some(reason.as_str()), None),
        };
        Status {
            token,
            offset,
            recovered,
            reason,
            missed,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statuses_say_what_the_wire_says() {
        let json = |outcome: Outcome, missed| {
            serde_json::to_string(&outcome.status("t".into(), missed, true)).expect("serialises")
        };
        assert_eq!(json(Outcome::Fresh, 0), r#"{"token":"t","offset":0}"#);
        assert_eq!(
            json(Outcome::Recovered, 3),
            r#"{"token":"t","recovered":true,"missed":3}"#
        );
        assert_eq!(
            json(Outcome::Failed(Reason::Expired), 0),
            r#"{"token":"t","offset":0,"recovered":false,"reason":"expired"}"#
        );
        // What the journal dropped meanwhile cannot be sent again.
        assert_eq!(
            serde_json::to_string(&Outcome::Recovered.status("t".into(), 2, false)).unwrap(),
            r#"{"token":"t","offset":0,"recovered":false,"reason":"trimmed"}"#
        );
    }
}
