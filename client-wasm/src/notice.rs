//! The console lines the client writes, worded as sails.io.js words them:
//! their text is made here and nowhere else, and so is the rule that
//! `io.sails.environment = 'production'` silences all but the warnings.

use wasm_bindgen::prelude::*;

/// Something the client tells the developer on the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Notice<'a> {
    /// The banner of a new connection to `url` (the socket's `url` option),
    /// made at `at` (the browser's date).
    Connected {
        /// The server, if the socket names one.
        url: Option<&'a str>,
        /// When, as the browser prints a date.
        at: &'a str,
    },
    /// A reconnection succeeded after `offline_seconds` (as JS prints it).
    Reconnected {
        /// How long the socket was offline, in seconds.
        offline_seconds: &'a str,
    },
    /// The connection to `url` ended.
    Disconnected {
        /// The server, if the socket names one.
        url: Option<&'a str>,
    },
    /// Reconnection attempt number `attempt` (as JS prints it) to `url`.
    Reconnecting {
        /// The server, if the socket names one.
        url: Option<&'a str>,
        /// The attempt's number.
        attempt: &'a str,
    },
    /// An option changed while a reconnection was scheduled.
    StoppingReconnect,
    /// A connection attempt failed; logged with the error.
    UnableToConnect,
    /// The server refused the connection; logged with its reason.
    Refused,
    /// `sails:parseError` from the server; logged with its details.
    ParseError,
    /// `initialConnectionHeaders` cannot be sent by a browser (a warning).
    InitialConnectionHeaders,
    /// `transports` without `websocket`, the only one spoken (a warning).
    WebsocketOnly,
    /// A request replayed by `resubscribe` failed; a warning, with its JWR.
    ResubscribeFailed,
}

const RULE: &str = "====================================";

impl Notice<'_> {
    /// The line as the console shows it.
    pub fn text(&self) -> String {
        let mut text = String::new();
        match *self {
            Self::Connected { url, at } => {
                text.push_str("\n\n  |>    Now connected to ");
                text.push_str(url.unwrap_or("Sails"));
                text.push_str(".\n\\___/   For help, see: https://sailsjs.com/documentation/reference/web-sockets/socket-client\n        (using the Rust/wasm sails.io.js browser SDK @v");
                text.push_str(sails_protocol::sdk::SDK_VERSION);
                text.push_str(")\n         Connected at: ");
                text.push_str(at);
                text.push_str("\n\n");
            }
            Self::Reconnected { offline_seconds } => {
                text.push_str(
                    "\n  |>    Socket reconnected successfully after\n\\___/   being offline at least ",
                );
                text.push_str(offline_seconds);
                text.push_str(" seconds.\n");
            }
            Self::Disconnected { url } => {
                text.push_str(RULE);
                text.push_str("\nSocket was disconnected from Sails.\nUsually, this is due to one of the following reasons:\n -> the server ");
                if let Some(url) = url {
                    text.push_str(url);
                    text.push(' ');
                }
                text.push_str("was taken down\n -> your browser lost internet connectivity\n");
                text.push_str(RULE);
            }
            Self::Reconnecting { url, attempt } => {
                text.push_str("\n        Socket is trying to reconnect to ");
                text.push_str(url.unwrap_or("Sails"));
                text.push_str("...\n_-|>_-  (attempt #");
                text.push_str(attempt);
                text.push_str(")\n");
            }
            Self::StoppingReconnect => text.push_str(
                "Stopping reconnect; use .reconnect() to connect socket after changing options.",
            ),
            Self::UnableToConnect => {
                text.push_str(RULE);
                text.push_str("\nThe socket was unable to connect.\nThe server may be offline, or the\nsocket may have failed authorization\nbased on its origin or other factors.\nYou may want to check the values of\n`sails.config.sockets.onlyAllowOrigins`\nor (more rarely) `sails.config.sockets.beforeConnect`\nin your app.\nMore info: https://sailsjs.com/config/sockets\n");
                text.push_str(RULE);
                text.push_str("\nTechnical details:");
            }
            Self::Refused => text.push_str(
                "Failed to connect socket (possibly due to failed `beforeConnect` on server) Error:",
            ),
            Self::ParseError => text.push_str(
                "Sails encountered an error parsing a socket message sent from this client, and did not have access to a callback function to respond with. Error details:",
            ),
            Self::InitialConnectionHeaders => text.push_str(
                "When running in browser, `initialConnectionHeaders` option is only available for the `polling` transport.",
            ),
            Self::WebsocketOnly => {
                text.push_str("This client only speaks the `websocket` transport.")
            }
            Self::ResubscribeFailed => text.push_str(
                "A request replayed to resubscribe after a reconnection failed:",
            ),
        }
        text
    }

    /// Whether it is a warning about a setting that cannot work: shown even
    /// in production, with `console.warn`.
    pub fn is_warning(&self) -> bool {
        matches!(
            self,
            Self::InitialConnectionHeaders | Self::WebsocketOnly | Self::ResubscribeFailed
        )
    }

    /// Writes it on the console (unless silenced).
    pub(crate) fn log(&self) {
        if self.is_warning() {
            console_warn(&self.text());
        } else if !is_production() {
            console_log(&self.text());
        }
    }

    /// Writes it on the console followed by `value` (unless silenced).
    pub(crate) fn log_with(&self, value: &JsValue) {
        if self.is_warning() {
            console_warn_value(&self.text(), value);
        } else if !is_production() {
            console_log_value(&self.text(), value);
        }
    }
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = log)]
    fn console_log(text: &str);
    #[wasm_bindgen(js_namespace = console, js_name = log)]
    fn console_log_value(text: &str, value: &JsValue);
    #[wasm_bindgen(js_namespace = console, js_name = warn)]
    fn console_warn(text: &str);
    #[wasm_bindgen(js_namespace = console, js_name = warn)]
    fn console_warn_value(text: &str, value: &JsValue);
}

/// Whether `io.sails.environment` is `production`.
fn is_production() -> bool {
    crate::config::default_of("environment") == "production"
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_connection_notices_name_the_server_or_sails() {
        let banner = Notice::Connected {
            url: Some("http://api.test"),
            at: "Mon Nov 30 2026",
        }
        .text();
        assert!(banner.starts_with("\n\n  |>    Now connected to http://api.test.\n"));
        assert!(banner.ends_with("\n         Connected at: Mon Nov 30 2026\n\n"));
        assert!(banner.contains(sails_protocol::sdk::SDK_VERSION));
        assert_eq!(
            Notice::Reconnecting {
                url: None,
                attempt: "3"
            }
            .text(),
            "\n        Socket is trying to reconnect to Sails...\n_-|>_-  (attempt #3)\n"
        );
        let lost = Notice::Disconnected {
            url: Some("http://api.test"),
        }
        .text();
        assert!(lost.contains(" -> the server http://api.test was taken down\n"));
        let lost = Notice::Disconnected { url: None }.text();
        assert!(lost.contains(" -> the server was taken down\n"));
        assert!(lost.starts_with(RULE) && lost.ends_with(RULE));
        assert_eq!(
            Notice::Reconnected {
                offline_seconds: "1.5"
            }
            .text(),
            "\n  |>    Socket reconnected successfully after\n\\___/   being offline at least 1.5 seconds.\n"
        );
    }

    #[test]
    fn only_unusable_settings_are_warnings() {
        assert!(Notice::WebsocketOnly.is_warning());
        assert!(Notice::InitialConnectionHeaders.is_warning());
        assert!(Notice::ResubscribeFailed.is_warning());
        assert!(!Notice::Refused.is_warning());
        assert!(
            Notice::UnableToConnect
                .text()
                .ends_with("\nTechnical details:")
        );
    }
}
