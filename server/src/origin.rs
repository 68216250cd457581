//! Which pages may open a socket: the origin policy checked at the handshake.
//!
//! A browser sends the page's origin in the `Origin` header of every
//! WebSocket handshake, and sends the visitor's cookies with it whatever the
//! page. Without a check, a page on any site could open a socket to this
//! server and act in the visitor's session (cross-site WebSocket hijacking).
//! By default only pages of the server's own origin may connect; Sails'
//! `onlyAllowOrigins` is [`OriginPolicy::SameOriginAnd`].

use std::fmt;
use std::str::FromStr;

/// A web origin, `scheme://host[:port]`, as browsers send it in `Origin`.
///
/// Kept normalised: scheme and host lower-case, the scheme's default port
/// (80 for `http`, 443 for `https`) left out, so that equal origins compare equal.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Origin {
    scheme: String,
    host: String,
    /// The port, unless it is the scheme's default.
    port: Option<u16>,
}

/// Why a text is not an [`Origin`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("`{value}` is not an origin (scheme://host[:port], e.g. https://app.example): {reason}")]
pub struct InvalidOrigin {
    value: String,
    reason: &'static str,
}

impl Origin {
    /// The scheme (`http`, `https`, or an app's own such as `capacitor`).
    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    /// The host name or address (IPv6 in brackets), lower-case.
    pub fn host(&self) -> &str {
        &self.host
    }

    /// The port: the one given, else the scheme's default (`None` for a
    /// scheme without one).
    pub fn port(&self) -> Option<u16> {
        self.port.or_else(|| default_port(&self.scheme))
    }

    /// Whether a request sent to `host_header` (a `Host` value,
    /// `host[:port]`) went to this origin's host and port. A `Host` without
    /// a port means this origin's scheme's default port. Only web origins
    /// (`http`, `https`) can match; their schemes are not compared: behind a
    /// TLS proxy the server cannot tell which one the browser used.
    pub fn matches_host(&self, host_header: &str) -> bool {
        let Ok((host, port)) = split_authority(host_header.trim()) else {
            return false;
        };
        default_port(&self.scheme).is_some()
            && host.eq_ignore_ascii_case(&self.host)
            && port.or_else(|| default_port(&self.scheme)) == self.port()
    }
}

impl FromStr for Origin {
    type Err = InvalidOrigin;

    fn from_str(value: &str) -> Result<Self, Self::Err> {
        let invalid = |reason| InvalidOrigin {
            value: value.to_owned(),
            reason,
        };
        let (scheme, authority) = value
            .trim()
            .split_once("://")
            .ok_or_else(|| invalid("it has no scheme"))?;
        // A trailing `/` (as in a copied URL) is tolerated.
        let authority = authority.strip_suffix('/').unwrap_or(authority);
        let scheme_ok = scheme.starts_with(|c: char| c.is_ascii_alphabetic())
            && scheme
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
        if !scheme_ok {
            return Err(invalid("the scheme is not one"));
        }
        if authority.contains(['/', '?', '#']) {
            return Err(invalid("an origin has no path, query or fragment"));
        }
        if authority.contains('@') {
            return Err(invalid("an origin has no user name or password"));
        }
        let (host, port) = split_authority(authority).map_err(invalid)?;
        let scheme = scheme.to_ascii_lowercase();
        let port = port.filter(|port| Some(*port) != default_port(&scheme));
        Ok(Self {
            host: host.to_ascii_lowercase(),
            scheme,
            port,
        })
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}://{}", self.scheme, self.host)?;
        match self.port {
            Some(port) => write!(f, ":{port}"),
            None => Ok(()),
        }
    }
}

/// The port a scheme implies when none is written.
fn default_port(scheme: &str) -> Option<u16> {
    match scheme {
        "http" | "ws" => Some(80),
        "https" | "wss" => Some(443),
        _ => None,
    }
}

/// `host[:port]` (IPv6 addresses in brackets) into its host and port.
fn split_authority(authority: &str) -> Result<(&str, Option<u16>), &'static str> {
    let (host, port) = if authority.starts_with('[') {
        let end = authority.find(']').ok_or("an IPv6 address lacks its `]`")?;
        let (host, rest) = authority.split_at(end + 1);
        match rest {
            "" => (host, None),
            _ => (
                host,
                Some(rest.strip_prefix(':').ok_or("junk after the host")?),
            ),
        }
    } else {
        match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        }
    };
    let host_ok = !host.is_empty()
        && (host.starts_with('[')
            || host
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_')));
    if !host_ok {
        return Err("the host is not a host name or address");
    }
    let port = match port {
        None => None,
        Some(port) => Some(port.parse().map_err(|_| "the port is not a port number")?),
    };
    Ok((host, port))
}

/// Which pages may open a socket (Sails' `sails.config.sockets.onlyAllowOrigins`).
///
/// Checked on every handshake request; a refused one gets 403 (the client
/// sees a `connect_error`). A handshake without an `Origin` header is not
/// from a browser: [`MissingOrigin`](crate::MissingOrigin) decides it, except
/// under [`AnyOrigin`](Self::AnyOrigin), which accepts it too.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub enum OriginPolicy {
    /// Only pages of the server's own origin: the `Origin`'s host and port
    /// are those of the `Host` the handshake was sent to. The default.
    #[default]
    SameOrigin,
    /// The server's own origin and these ones (Sails' `onlyAllowOrigins`,
    /// which lists every origin, the server's own included).
    SameOriginAnd(Vec<Origin>),
    /// Any origin, for development only: any site a visitor opens could then
    /// use the visitor's session over a socket. Building the layer with it
    /// logs a warning.
    AnyOrigin,
}

impl OriginPolicy {
    /// The server's own origin and these ones, parsed (as Sails'
    /// `onlyAllowOrigins: ['https://app.example', …]`); an empty list is
    /// [`SameOrigin`](Self::SameOrigin).
    pub fn only_allow_origins<I>(origins: I) -> Result<Self, InvalidOrigin>
    where
        I: IntoIterator,
        I::Item: AsRef<str>,
    {
        let origins = origins
            .into_iter()
            .map(|origin| origin.as_ref().parse())
            .collect::<Result<Vec<Origin>, _>>()?;
        Ok(if origins.is_empty() {
            Self::SameOrigin
        } else {
            Self::SameOriginAnd(origins)
        })
    }

    /// Whether a browser's handshake with this `Origin` header value, sent
    /// to this `Host`, may connect. (A missing `Origin` is decided by
    /// [`SocketsConfig::origin_allowed`](crate::SocketsConfig::origin_allowed).)
    pub fn allows(&self, origin: &str, host: Option<&str>) -> bool {
        if *self == Self::AnyOrigin {
            return true;
        }
        // `null` (a sandboxed frame, a local file) or anything else that is
        // not an origin matches nothing.
        let Ok(origin) = origin.parse::<Origin>() else {
            return false;
        };
        if host.is_some_and(|host| origin.matches_host(host)) {
            return true;
        }
        match self {
            Self::SameOriginAnd(listed) => listed.contains(&origin),
            Self::SameOrigin | Self::AnyOrigin => false,
        }
    }

    /// Says which policy is in force, when the layer is built: a warning for
    /// [`AnyOrigin`](Self::AnyOrigin).
    pub(crate) fn log_in_force(&self, missing: crate::MissingOrigin) {
        let without_origin = match missing {
            crate::MissingOrigin::Allow => "accepted",
            crate::MissingOrigin::Refuse => "refused",
        };
        match self {
            Self::AnyOrigin => tracing::warn!(
                "socket handshakes accepted from any origin: a page on any site can use its \
                 visitor's session over a socket; for development only"
            ),
            policy => tracing::info!(
                "socket handshakes accepted from {policy}; without an Origin header \
                 (not a browser): {without_origin}"
            ),
        }
    }
}

impl fmt::Display for OriginPolicy {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::SameOrigin => f.write_str("the server's own origin only"),
            Self::SameOriginAnd(origins) => {
                f.write_str("the server's own origin and ")?;
                for (index, origin) in origins.iter().enumerate() {
                    if index > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{origin}")?;
                }
                Ok(())
            }
            Self::AnyOrigin => f.write_str("any origin"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn origin(text: &str) -> Origin {
        text.parse().unwrap_or_else(|error| panic!("{error}"))
    }

    #[test]
    fn origins_are_normalised() {
        assert_eq!(
            origin("HTTP://App.Example:80/"),
            origin("http://app.example")
        );
        assert_eq!(
            origin("https://app.example:443").to_string(),
            "https://app.example"
        );
        assert_eq!(origin("http://app.example:8080").port(), Some(8080));
        assert_eq!(origin("https://app.example").port(), Some(443));
        assert_eq!(origin("http://[::1]:3000").host(), "[::1]");
        assert_eq!(origin("capacitor://localhost").port(), None);
        assert_ne!(origin("http://app.example"), origin("https://app.example"));
    }

    #[test]
    fn explains_what_is_not_an_origin() {
        for (text, reason) in [
            ("app.example", "no scheme"),
            ("http://app.example/path", "no path"),
            ("http://user@app.example", "no user name"),
            ("http://app.example:99999", "not a port number"),
            ("http://app.example:", "not a port number"),
            ("http://", "not a host"),
            ("http://app example", "not a host"),
            ("1http://app.example", "scheme is not one"),
            ("null", "no scheme"),
        ] {
            let error = text.parse::<Origin>().expect_err(text).to_string();
            assert!(error.contains(reason), "{text}: {error}");
            assert!(error.contains(&format!("`{text}`")), "{error}");
        }
    }

    #[test]
    fn the_own_origin_is_the_host_the_handshake_went_to() {
        let own = OriginPolicy::SameOrigin;
        assert!(own.allows("http://127.0.0.1:1337", Some("127.0.0.1:1337")));
        assert!(own.allows("http://APP.example", Some("app.example:80")));
        assert!(own.allows("https://app.example", Some("App.Example")));
        assert!(own.allows("https://app.example", Some("app.example:443")));
        assert!(own.allows("http://[::1]:8080", Some("[::1]:8080")));
        assert!(!own.allows("http://127.0.0.1:1338", Some("127.0.0.1:1337")));
        assert!(!own.allows("http://app.example:8080", Some("app.example")));
        assert!(!own.allows("https://app.example", Some("app.example:80")));
        assert!(!own.allows("http://evil.example", Some("app.example")));
        assert!(!own.allows("http://app.example", None));
        assert!(!own.allows("null", Some("app.example")));
        assert!(!own.allows("capacitor://localhost", Some("localhost")));
    }

    #[test]
    fn listed_origins_widen_the_own_origin() {
        let policy =
            OriginPolicy::only_allow_origins(["https://app.example", "http://localhost:3000"])
                .unwrap();
        assert!(policy.allows("https://app.example:443", Some("api.example")));
        assert!(policy.allows("http://LOCALHOST:3000", Some("api.example")));
        assert!(policy.allows("https://api.example", Some("api.example")));
        assert!(!policy.allows("http://app.example", Some("api.example")));
        assert!(!policy.allows("http://localhost:3001", Some("api.example")));
        assert_eq!(
            policy.to_string(),
            "the server's own origin and https://app.example, http://localhost:3000"
        );
        let none: [&str; 0] = [];
        assert_eq!(
            OriginPolicy::only_allow_origins(none).unwrap(),
            OriginPolicy::SameOrigin
        );
        assert!(OriginPolicy::only_allow_origins(["app.example"]).is_err());
    }

    #[test]
    fn any_origin_is_any() {
        assert!(OriginPolicy::AnyOrigin.allows("http://evil.example", Some("app.example")));
        assert!(OriginPolicy::AnyOrigin.allows("null", None));
    }
}
