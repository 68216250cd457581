//! Virtual requests: a socket event (`get`, `post`, …) turned into an
//! [`axum::http::Request`] for the application's own router.

use axum::body::Body;
use axum::http::{HeaderName, HeaderValue, Method, Request, Uri, header};
use serde::Serialize;
use serde_json::{Map, Value};

/// The socket events that carry virtual requests; each name is the lower-case method.
pub const VERB_EVENTS: [&str; 7] = ["get", "post", "put", "delete", "patch", "options", "head"];

/// The oldest sails.io.js version whose requests are accepted.
const MIN_SDK_VERSION: semver::Version = semver::Version::new(0, 11, 0);
/// The version assumed when a client announces none (as Sails does).
const ASSUMED_SDK_VERSION: &str = "0.9.0";

/// Why an incoming socket message is not a usable virtual request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ParseError {
    /// The event carried no request object (e.g. `["get"]` or `["get", null]`).
    #[error("The request must be an object with at least a `url`.")]
    NotAnObject,
    /// The request object has no `url`.
    #[error("Missing `url` in the request.")]
    MissingUrl,
    /// `url` is not a string.
    #[error("The `url` of the request must be a string.")]
    UrlNotString,
    /// `url` is not a valid request target.
    #[error("The `url` of the request is not a valid URL.")]
    InvalidUrl,
    /// The client's announced SDK version is not semver.
    #[error("The client SDK version `{0}` is not a valid version number.")]
    BadSdkVersion(String),
    /// The client's SDK is older than 0.11.0 (or announced no version at all).
    #[error(
        "This server is not compatible with the client SDK version {0}: use sails.io.js 0.11.0 or newer (pass `__sails_io_sdk_version` in the handshake query)."
    )]
    IncompatibleSdk(String),
}

/// The error object Sails answers an unparseable request with, as the ack or
/// in a `sails:parseError` event.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct ParseErrorBody {
    /// Always `SAILS:HOOK:SOCKETS:PARSE_VIRTUAL_REQ`.
    pub code: &'static str,
    /// Always 400.
    pub status: u16,
    /// Always `Failed to parse incoming socket.io request.`
    pub message: &'static str,
    /// What exactly was wrong.
    pub details: String,
}

impl From<&ParseError> for ParseErrorBody {
    fn from(error: &ParseError) -> Self {
        Self {
            code: "SAILS:HOOK:SOCKETS:PARSE_VIRTUAL_REQ",
            status: 400,
            message: "Failed to parse incoming socket.io request.",
            details: error.to_string(),
        }
    }
}

/// The event sent to a client whose unparseable request asked for no ack.
pub const PARSE_ERROR_EVENT: &str = "sails:parseError";

/// Checks the SDK version a client announced (`None`: it announced none).
pub(crate) fn check_sdk_version(announced: Option<&str>) -> Result<(), ParseError> {
    let raw = announced.unwrap_or(ASSUMED_SDK_VERSION);
    let version =
        semver::Version::parse(raw.trim()).map_err(|_| ParseError::BadSdkVersion(raw.into()))?;
    if version < MIN_SDK_VERSION {
        return Err(ParseError::IncompatibleSdk(raw.into()));
    }
    Ok(())
}

/// A parsed virtual request, before it becomes an [`http::Request`].
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VirtualRequest {
    pub(crate) method: Method,
    /// `None` for a target without a leading `/`: it matches no route.
    pub(crate) uri: Option<Uri>,
    pub(crate) headers: Vec<(HeaderName, HeaderValue)>,
    pub(crate) body: Value,
}

impl VirtualRequest {
    /// Reads the request object of a `verb` event (`verb` is one of [`VERB_EVENTS`]).
    pub(crate) fn parse(verb: &str, payload: Option<Value>) -> Result<Self, ParseError> {
        let Some(Value::Object(mut request)) = payload else {
            return Err(ParseError::NotAnObject);
        };
        let url = match request.remove("url") {
            None | Some(Value::Null) => return Err(ParseError::MissingUrl),
            Some(Value::String(url)) => url,
            Some(_) => return Err(ParseError::UrlNotString),
        };
        let uri = request_target(&url)?;
        let method = Method::from_bytes(verb.to_ascii_uppercase().as_bytes())
            .map_err(|_| ParseError::NotAnObject)?;

        let headers = match request.remove("headers") {
            Some(Value::Object(headers)) => headers
                .into_iter()
                .filter_map(|(name, value)| header_pair(&name, value))
                .collect(),
            _ => Vec::new(),
        };

        let body = merge_params(request.remove("params"), request.remove("data"));
        Ok(Self {
            method,
            uri,
            headers,
            body,
        })
    }

    /// Whether the client asked to skip the session (a `nosession` header).
    pub(crate) fn skips_session(&self) -> bool {
        self.headers.iter().any(|(name, _)| name == "nosession")
    }

    fn has_header(&self, name: &HeaderName) -> bool {
        self.headers.iter().any(|(have, _)| have == name)
    }

    /// The HTTP request the router sees: the client's headers, then the
    /// socket's `cookie` and `origin` where the client set none, and the body
    /// as JSON. `None` when the target cannot be routed (no leading `/`).
    pub(crate) fn into_http(
        self,
        cookie: Option<&str>,
        origin: Option<&HeaderValue>,
    ) -> Option<Request<Body>> {
        let mut request = Request::new(Body::empty());
        *request.method_mut() = self.method.clone();
        *request.uri_mut() = self.uri.clone()?;
        let headers = request.headers_mut();
        if !self.has_header(&header::CONTENT_TYPE) {
            headers.insert(
                header::CONTENT_TYPE,
                HeaderValue::from_static("application/json"),
            );
        }
        if !self.has_header(&header::COOKIE)
            && !self.skips_session()
            && let Some(cookie) = cookie.and_then(|c| HeaderValue::from_str(c).ok())
        {
            headers.insert(header::COOKIE, cookie);
        }
        if !self.has_header(&header::ORIGIN)
            && let Some(origin) = origin
        {
            headers.insert(header::ORIGIN, origin.clone());
        }
        let body = match &self.body {
            Value::String(text) => text.clone().into_bytes(),
            other => serde_json::to_vec(other).unwrap_or_default(),
        };
        for (name, value) in self.headers {
            headers.append(name, value);
        }
        *request.body_mut() = Body::from(body);
        Some(request)
    }
}

/// `params` and `data` together: objects are merged (`data` wins), otherwise
/// whichever is present (`params` first), and `{}` when neither is.
fn merge_params(params: Option<Value>, data: Option<Value>) -> Value {
    match (params, data) {
        (Some(Value::Object(mut params)), Some(Value::Object(data))) => {
            params.extend(data);
            Value::Object(params)
        }
        (Some(params), _) if !params.is_null() => params,
        (_, Some(data)) if !data.is_null() => data,
        _ => Value::Object(Map::new()),
    }
}

/// The URI of a virtual request's `url`, taken as Express takes it: bytes a
/// URI may not hold (spaces, quotes, non-ASCII, …) are percent-encoded, and a
/// target without a leading `/` (`None`) matches no route: a 404, not an error.
fn request_target(url: &str) -> Result<Option<Uri>, ParseError> {
    if url.is_empty() {
        return Err(ParseError::InvalidUrl);
    }
    let mut target = String::with_capacity(url.len());
    for byte in url.bytes() {
        let allowed = byte.is_ascii_graphic() && !b"\"<>\\^`{|}".contains(&byte);
        if allowed {
            target.push(char::from(byte));
        } else {
            const HEX: &[u8; 16] = b"0123456789ABCDEF";
            target.push('%');
            target.push(char::from(HEX[usize::from(byte >> 4)]));
            target.push(char::from(HEX[usize::from(byte & 0x0f)]));
        }
    }
    if !target.starts_with('/') && !target.contains("://") {
        return Ok(None);
    }
    let uri: Uri = target.parse().map_err(|_| ParseError::InvalidUrl)?;
    Ok(Some(uri))
}

/// A header from the request object; names are lower-cased, values that are
/// not strings are written as JSON, `null` and invalid pairs are dropped.
fn header_pair(name: &str, value: Value) -> Option<(HeaderName, HeaderValue)> {
    let value = match value {
        Value::Null => return None,
        Value::String(text) => text,
        other => other.to_string(),
    };
    let name = HeaderName::from_bytes(name.to_ascii_lowercase().as_bytes()).ok()?;
    let value = HeaderValue::from_str(&value).ok()?;
    Some((name, value))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn parses_a_sails_io_js_request() {
        let request = VirtualRequest::parse(
            "post",
            Some(json!({"method":"post","url":"/echo?x=1","headers":{"X-A":"b","n":3,"gone":null},"data":{"a":1}})),
        )
        .unwrap();
        assert_eq!(request.method, Method::POST);
        assert_eq!(request.uri.expect("routable"), "/echo?x=1");
        assert_eq!(request.body, json!({"a":1}));
        let names: Vec<_> = request
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.to_str().unwrap()))
            .collect();
        assert_eq!(names, [("x-a", "b"), ("n", "3")]);
    }

    #[test]
    fn merges_params_and_data() {
        let request = VirtualRequest::parse(
            "get",
            Some(json!({"url":"/","params":{"a":1,"b":1},"data":{"b":2}})),
        )
        .unwrap();
        assert_eq!(request.body, json!({"a":1,"b":2}));
        let request = VirtualRequest::parse("get", Some(json!({"url":"/"}))).unwrap();
        assert_eq!(request.body, json!({}));
        let request = VirtualRequest::parse("post", Some(json!({"url":"/","data":[1,2]}))).unwrap();
        assert_eq!(request.body, json!([1, 2]));
    }

    #[test]
    fn refuses_bad_requests() {
        assert_eq!(
            VirtualRequest::parse("get", None),
            Err(ParseError::NotAnObject)
        );
        assert_eq!(
            VirtualRequest::parse("get", Some(Value::Null)),
            Err(ParseError::NotAnObject)
        );
        assert_eq!(
            VirtualRequest::parse("get", Some(json!({}))),
            Err(ParseError::MissingUrl)
        );
        assert_eq!(
            VirtualRequest::parse("get", Some(json!({"url":7}))),
            Err(ParseError::UrlNotString)
        );
        assert_eq!(
            VirtualRequest::parse("get", Some(json!({"url":""}))),
            Err(ParseError::InvalidUrl)
        );
    }

    #[test]
    fn takes_urls_as_express_does() {
        let target = |url: &str| request_target(url).map(|uri| uri.map(|uri| uri.to_string()));
        let routed = |uri: &str| Ok(Some(uri.to_owned()));
        assert_eq!(
            target("/rooms/a b/join?q=a b"),
            routed("/rooms/a%20b/join?q=a%20b")
        );
        assert_eq!(target("/caf\u{e9}"), routed("/caf%C3%A9"));
        assert_eq!(target("/x?a=\"1\"&b={}"), routed("/x?a=%221%22&b=%7B%7D"));
        assert_eq!(target("/already%20encoded"), routed("/already%20encoded"));
        assert_eq!(
            target("http://example.test/x?y=1"),
            routed("http://example.test/x?y=1")
        );
        assert_eq!(target("hello"), Ok(None));
    }

    #[test]
    fn checks_sdk_versions() {
        assert_eq!(check_sdk_version(Some("1.2.1")), Ok(()));
        assert_eq!(check_sdk_version(Some("0.11.0")), Ok(()));
        assert!(matches!(
            check_sdk_version(None),
            Err(ParseError::IncompatibleSdk(_))
        ));
        assert!(matches!(
            check_sdk_version(Some("0.10.9")),
            Err(ParseError::IncompatibleSdk(_))
        ));
        assert!(matches!(
            check_sdk_version(Some("banana")),
            Err(ParseError::BadSdkVersion(_))
        ));
    }

    #[test]
    fn socket_cookie_and_origin_fill_in_missing_headers() {
        let origin = HeaderValue::from_static("http://page.example");
        let request = VirtualRequest::parse("get", Some(json!({"url":"/"}))).unwrap();
        let http = request
            .into_http(Some("sails.sid=abc"), Some(&origin))
            .expect("routable");
        assert_eq!(http.headers()["cookie"], "sails.sid=abc");
        assert_eq!(http.headers()["origin"], "http://page.example");
        assert_eq!(http.headers()["content-type"], "application/json");

        let request =
            VirtualRequest::parse("get", Some(json!({"url":"/","headers":{"nosession":"1"}})))
                .unwrap();
        let http = request
            .into_http(Some("sails.sid=abc"), None)
            .expect("routable");
        assert!(http.headers().get("cookie").is_none());
    }
}
