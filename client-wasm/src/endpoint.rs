//! Where a socket connects: the WebSocket URL of the handshake, and whether
//! the server is on another origin than the page (the `/__getcookie` case).

use sails_protocol::{engine::EngineVersion, sdk};

/// The scheme, host and port of a URL, with default ports filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Origin {
    /// `http` or `https` (a `ws`/`wss` URL counts as its HTTP twin).
    pub secure: bool,
    /// The host name, lower-cased.
    pub host: String,
    /// The port, explicit or the scheme's default.
    pub port: u16,
}

impl Origin {
    /// Reads the origin of an absolute URL (`http://host:port/...`); a URL
    /// without a scheme (`//host`, `host:port`) takes the page's scheme.
    pub fn parse(url: &str, page_secure: bool) -> Option<Self> {
        let (secure, rest) = split_scheme(url, page_secure)?;
        let authority = authority(rest);
        let authority = match authority.bytes().rposition(|b| b == b'@') {
            Some(at) => &authority[at + 1..],
            None => authority,
        };
        if authority.is_empty() {
            return None;
        }
        let colon = authority.bytes().rposition(|b| b == b':');
        let bracket = authority.bytes().rposition(|b| b == b']');
        let (host, port) = match colon {
            Some(at) if bracket.is_none_or(|end| at > end) => {
                (&authority[..at], parse_port(&authority[at + 1..])?)
            }
            _ => (authority, if secure { 443 } else { 80 }),
        };
        Some(Self {
            secure,
            host: host.to_ascii_lowercase(),
            port,
        })
    }
}

/// A port number (digits only).
fn parse_port(digits: &str) -> Option<u16> {
    if digits.is_empty() || digits.len() > 5 {
        return None;
    }
    let mut port: u32 = 0;
    for b in digits.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        port = port * 10 + u32::from(b - b'0');
    }
    u16::try_from(port).ok()
}

/// The `host[:port]` part at the start of `rest` (up to `/`, `?` or `#`).
fn authority(rest: &str) -> &str {
    let end = rest
        .bytes()
        .position(|b| matches!(b, b'/' | b'?' | b'#'))
        .unwrap_or(rest.len());
    &rest[..end]
}

/// Splits `url` into (secure, everything after `scheme://`). Byte searches
/// only: `str` patterns would pull a substring searcher into the wasm.
fn split_scheme(url: &str, page_secure: bool) -> Option<(bool, &str)> {
    let separator = url.as_bytes().windows(3).position(|w| w == b"://");
    let Some(at) = separator else {
        return Some((page_secure, url.strip_prefix("//").unwrap_or(url)));
    };
    let secure = match url[..at].to_ascii_lowercase().as_str() {
        "https" | "wss" => true,
        "http" | "ws" => false,
        _ => return None,
    };
    Some((secure, &url[at + 3..]))
}

/// `url` without its trailing `/` (sails.io.js strips one).
pub fn strip_trailing_slash(url: &str) -> &str {
    url.strip_suffix('/').unwrap_or(url)
}

/// Everything the handshake URL is made of.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint<'a> {
    /// The server URL (`url` option), or `None` for the page's own origin.
    pub url: Option<&'a str>,
    /// The page's origin, e.g. `http://127.0.0.1:1337`.
    pub page_origin: &'a str,
    /// The Socket.IO path (`path` option), default `/socket.io`.
    pub path: Option<&'a str>,
    /// The user's query string (`query` option), with or without a leading `?`.
    pub query: Option<&'a str>,
    /// The Engine.IO revision to speak.
    pub version: EngineVersion,
    /// Keys put after the SDK's (`&key=value…`: the recovery keys).
    pub recovery: &'a str,
}

/// The default Socket.IO path.
pub const DEFAULT_PATH: &str = "/socket.io";

impl Endpoint<'_> {
    /// The WebSocket URL of the handshake:
    /// `ws[s]://host/socket.io/?<query>&<sdk><recovery>&EIO=3&transport=websocket`.
    ///
    /// The user's query comes first and the SDK metadata after it, as with
    /// sails.io.js; the `query` option itself is never modified, so it does
    /// not grow on each reconnection.
    pub fn websocket_url(&self) -> Option<String> {
        let page_secure = self.page_origin.starts_with("https:");
        let base = self.url.unwrap_or(self.page_origin);
        Origin::parse(base, page_secure)?;
        let (secure, rest) = split_scheme(base, page_secure)?;
        let authority = authority(rest);
        let mut path = self.path.unwrap_or(DEFAULT_PATH).to_owned();
        if !path.starts_with('/') {
            path.insert(0, '/');
        }
        if !path.ends_with('/') {
            path.push('/');
        }
        let mut out = String::with_capacity(128);
        out.push_str(if secure { "wss://" } else { "ws://" });
        out.push_str(authority);
        out.push_str(&path);
        out.push('?');
        if let Some(query) = self.query.map(|q| q.strip_prefix('?').unwrap_or(q))
            && !query.is_empty()
        {
            out.push_str(query);
            out.push('&');
        }
        out.push_str(&sdk::handshake_query(sdk::SDK_PLATFORM_BROWSER));
        out.push_str(self.recovery);
        out.push_str("&EIO=");
        out.push_str(self.version.query_value());
        out.push_str("&transport=websocket");
        Some(out)
    }

    /// Whether `url` names another origin than the page's, so that the
    /// session cookie has to be fetched first through `/__getcookie`.
    pub fn is_cross_origin(&self) -> bool {
        let Some(url) = self.url else {
            return false;
        };
        let page_secure = self.page_origin.starts_with("https:");
        match (
            Origin::parse(url, page_secure),
            Origin::parse(self.page_origin, page_secure),
        ) {
            (Some(target), Some(page)) => target != page,
            _ => false,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const PAGE: &str = "http://127.0.0.1:1337";

    fn endpoint(url: Option<&str>) -> Endpoint<'_> {
        Endpoint {
            url,
            page_origin: PAGE,
            path: None,
            query: None,
            version: EngineVersion::V3,
            recovery: "",
        }
    }

    #[test]
    fn handshake_url_like_sails_io_js() {
        assert_eq!(
            endpoint(None).websocket_url().unwrap(),
            "ws://127.0.0.1:1337/socket.io/?__sails_io_sdk_version=1.2.1&__sails_io_sdk_platform=browser&__sails_io_sdk_language=javascript&EIO=3&transport=websocket"
        );
    }

    #[test]
    fn query_path_scheme_and_version() {
        let url = Endpoint {
            url: Some("https://example.com:8443/"),
            path: Some("/custom"),
            query: Some("?token=abc&x=1"),
            version: EngineVersion::V4,
            recovery: "&__sails_recover=1",
            ..endpoint(None)
        }
        .websocket_url()
        .unwrap();
        assert!(url.starts_with(
            "wss://example.com:8443/custom/?token=abc&x=1&__sails_io_sdk_version=1.2.1&"
        ));
        assert!(url.ends_with(
            "&__sails_io_sdk_language=javascript&__sails_recover=1&EIO=4&transport=websocket"
        ));
    }

    #[test]
    fn url_without_scheme_takes_the_pages() {
        let url = endpoint(Some("//other.test")).websocket_url().unwrap();
        assert!(url.starts_with("ws://other.test/socket.io/?"));
        assert_eq!(endpoint(Some("http://")).websocket_url(), None);
    }

    #[test]
    fn cross_origin_detection() {
        assert!(!endpoint(None).is_cross_origin());
        assert!(!endpoint(Some("http://127.0.0.1:1337")).is_cross_origin());
        assert!(!endpoint(Some("HTTP://127.0.0.1:1337/")).is_cross_origin());
        assert!(endpoint(Some("http://127.0.0.1:1338")).is_cross_origin());
        assert!(endpoint(Some("https://127.0.0.1:1337")).is_cross_origin());
        assert!(endpoint(Some("http://localhost:1337")).is_cross_origin());
    }

    #[test]
    fn origins_fill_in_default_ports() {
        assert_eq!(
            Origin::parse("https://a.test/x", false),
            Some(Origin {
                secure: true,
                host: "a.test".into(),
                port: 443
            })
        );
        assert_eq!(Origin::parse("http://a.test:99", false).unwrap().port, 99);
        assert_eq!(Origin::parse("ftp://a.test", false), None);
        assert_eq!(strip_trailing_slash("http://a/"), "http://a");
    }
}
