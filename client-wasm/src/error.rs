//! The client's errors. Inside the crate they are typed; at the JS boundary
//! they become `Error` objects whose messages match sails.io.js.

use core::fmt;

use crate::{operation::UnknownOperation, session::ProtocolError};

/// Something the page or the server did that the client refuses.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClientError {
    /// `request()` got a callback that is not a function.
    InvalidCallback,
    /// `request()` got no options object or no string `url`.
    InvalidUrl,
    /// `method` is not a string.
    InvalidMethod,
    /// `headers` is not an object.
    InvalidHeaders,
    /// `params` is not an object.
    InvalidParams,
    /// `data` is not an object.
    InvalidData,
    /// Both `params` and `data` were given.
    ParamsAndData,
    /// An option was changed while connected.
    ChangeWhileConnected(&'static str),
    /// `disconnect()` on a socket that is not connected.
    AlreadyDisconnected,
    /// `reconnect()` while connecting.
    AlreadyConnecting,
    /// `reconnect()` while connected.
    AlreadyConnected,
    /// `query` is an object instead of a string.
    QueryIsObject,
    /// `url`/`path` cannot make a WebSocket URL, or the browser refused it.
    BadEndpoint,
    /// The server sent something that is not the protocol.
    Protocol(ProtocolError),
    /// A server event or ack whose JSON does not parse.
    BadJson,
    /// The socket's closure was called with a number that names no
    /// operation (see `operation`).
    UnknownOperation,
}

const USAGE: &str = "\nUsage:\nsocket.request( options, [fnToCallWhenComplete] )\n\noptions.url :: e.g. \"/foo/bar\"\noptions.method :: e.g. \"get\", \"post\", \"put\", or \"delete\", etc.\noptions.params :: e.g. { emailAddress: \"mike@example.com\" }\noptions.headers :: e.g. { \"x-my-custom-header\": \"some string\" }";

impl ClientError {
    /// The message of the JS `Error` (built without `core::fmt`, which would
    /// cost the wasm module kilobytes).
    pub fn message(&self) -> String {
        let (text, usage) = match self {
            Self::InvalidCallback => ("Invalid callback function!", true),
            Self::InvalidUrl => ("Invalid or missing URL!", true),
            Self::InvalidMethod => (
                "Invalid `method` provided (should be a string like \"post\" or \"put\")",
                true,
            ),
            Self::InvalidHeaders => (
                "Invalid `headers` provided (should be a dictionary with string values)",
                true,
            ),
            Self::InvalidParams => (
                "Invalid `params` provided (should be a dictionary with JSON-serializable values)",
                true,
            ),
            Self::InvalidData => (
                "Invalid `data` provided (should be a dictionary with JSON-serializable values)",
                true,
            ),
            Self::ParamsAndData => (
                "Cannot specify both `params` and `data`!  They are aliases of each other.",
                true,
            ),
            Self::ChangeWhileConnected(option) => {
                let mut text = String::from("Cannot change value of `");
                text.push_str(option);
                text.push_str("` while socket is connected.");
                return text;
            }
            Self::AlreadyDisconnected => {
                ("Cannot disconnect- socket is already disconnected", false)
            }
            Self::AlreadyConnecting => ("Cannot connect- socket is already connecting", false),
            Self::AlreadyConnected => ("Cannot connect- socket is already connected", false),
            Self::QueryIsObject => (
                "`query` setting does not currently support configuration as a dictionary (`{}`).  Instead, it must be specified as a string like `foo=89&bar=hi`",
                false,
            ),
            Self::BadEndpoint => ("Cannot make a WebSocket URL from `url` and `path`.", false),
            Self::Protocol(err) => {
                let mut text = String::from("Unexpected data from the server: ");
                text.push_str(err.description());
                return text;
            }
            Self::BadJson => ("Unexpected data from the server: invalid JSON", false),
            Self::UnknownOperation => ("Unknown operation: not a function of this socket.", false),
        };
        let mut message = String::from(text);
        if usage {
            message.push_str(USAGE);
        }
        message
    }
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message())
    }
}

impl std::error::Error for ClientError {}

impl From<ProtocolError> for ClientError {
    fn from(err: ProtocolError) -> Self {
        Self::Protocol(err)
    }
}

impl From<UnknownOperation> for ClientError {
    fn from(_: UnknownOperation) -> Self {
        Self::UnknownOperation
    }
}

/// The JS `Error` the page gets.
impl From<ClientError> for wasm_bindgen::JsValue {
    fn from(err: ClientError) -> Self {
        js_sys::Error::new(&err.message()).into()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_match_sails_io_js() {
        assert!(
            ClientError::InvalidUrl
                .message()
                .starts_with("Invalid or missing URL!\nUsage:")
        );
        assert_eq!(
            ClientError::ChangeWhileConnected("url").message(),
            "Cannot change value of `url` while socket is connected."
        );
        assert_eq!(
            ClientError::AlreadyDisconnected.message(),
            "Cannot disconnect- socket is already disconnected"
        );
    }
}
