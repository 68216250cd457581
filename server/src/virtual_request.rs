//! Virtual requests: a socket event (`get`, `post`, …) turned into an
//! [`axum::http::Request`] for the application's own router.

use std::borrow::Cow;
use std::collections::BTreeMap;

use axum::body::{Body, Bytes};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, Request, StatusCode, Uri, header};
use serde::de::{IgnoredAny, MapAccess, SeqAccess, Visitor};
use serde::{Deserialize, Deserializer, Serialize};
use serde_json::Value;
use serde_json::value::RawValue;

use crate::config::RequestLimits;

/// The socket events that carry virtual requests; each name is the lower-case method.
pub const VERB_EVENTS: [&str; 7] = ["get", "post", "put", "delete", "patch", "options", "head"];

/// The header (or handshake query parameter) that asks for no session.
pub(crate) const NOSESSION: &str = "nosession";

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
    /// The request body: JSON text, or the text itself when the data is a string.
    pub(crate) body: Bytes,
}

/// The request object of a virtual request as the client sent it; the
/// fields the server reads are kept as their JSON text.
#[derive(Debug, Default)]
struct WireRequest<'a> {
    url: Option<&'a RawValue>,
    headers: Option<Value>,
    params: Option<&'a RawValue>,
    data: Option<&'a RawValue>,
}

#[derive(Deserialize)]
#[serde(field_identifier, rename_all = "lowercase")]
enum WireField {
    Url,
    Headers,
    Params,
    Data,
    #[serde(other)]
    Other,
}

impl<'de> Deserialize<'de> for WireRequest<'de> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct ObjectVisitor;
        impl<'de> Visitor<'de> for ObjectVisitor {
            type Value = WireRequest<'de>;
            fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                formatter.write_str("a request object")
            }
            // A key given twice counts once, with its last value.
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
                let mut request = WireRequest::default();
                while let Some(field) = map.next_key::<WireField>()? {
                    match field {
                        WireField::Url => request.url = Some(map.next_value()?),
                        WireField::Headers => request.headers = Some(map.next_value()?),
                        WireField::Params => request.params = Some(map.next_value()?),
                        WireField::Data => request.data = Some(map.next_value()?),
                        WireField::Other => {
                            map.next_value::<IgnoredAny>()?;
                        }
                    }
                }
                Ok(request)
            }
        }
        deserializer.deserialize_map(ObjectVisitor)
    }
}

/// A virtual request event's JSON text, `["get", {…}, …]`: the event name
/// and the request object, the first argument after it. `None` when the
/// text is not such an array or that argument is not an object.
fn event_request(event: &str) -> Option<(&str, Option<WireRequest<'_>>)> {
    struct ArgsVisitor;
    impl<'de> Visitor<'de> for ArgsVisitor {
        type Value = Option<(&'de str, Option<WireRequest<'de>>)>;
        fn expecting(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            formatter.write_str("an event array")
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let Some(name) = seq.next_element::<&'de str>()? else {
                return Ok(None);
            };
            let request = seq.next_element::<WireRequest<'de>>()?;
            while seq.next_element::<IgnoredAny>()?.is_some() {}
            Ok(Some((name, request)))
        }
    }
    let mut deserializer = serde_json::Deserializer::from_str(event);
    deserializer.deserialize_seq(ArgsVisitor).ok().flatten()
}

/// Whether an event's JSON text, `["name", …]`, names one of [`VERB_EVENTS`]
/// (reading no further than the name).
pub(crate) fn is_verb_event(event: &str) -> bool {
    let Some(args) = event.trim_start().strip_prefix('[') else {
        return false;
    };
    let first = serde_json::Deserializer::from_str(args)
        .into_iter::<&RawValue>()
        .next();
    matches!(first, Some(Ok(name))
        if json_str(name.get()).is_some_and(|name| VERB_EVENTS.contains(&&*name)))
}

impl VirtualRequest {
    /// Reads a verb event (one of [`VERB_EVENTS`]) from its JSON text,
    /// `["get", {…request…}]`; `None`: an event the server cannot read as text.
    pub(crate) fn parse(event: Option<&str>) -> Result<Self, ParseError> {
        let (verb, request) = event
            .and_then(event_request)
            .ok_or(ParseError::NotAnObject)?;
        let request = request.ok_or(ParseError::NotAnObject)?;
        let url = match request.url.map(RawValue::get) {
            None | Some("null") => return Err(ParseError::MissingUrl),
            Some(raw) => json_str(raw).ok_or(ParseError::UrlNotString)?,
        };
        let uri = request_target(&url)?;
        let method = verb_method(verb).ok_or(ParseError::NotAnObject)?;

        let headers = match request.headers {
            Some(Value::Object(headers)) => headers
                .into_iter()
                .filter_map(|(name, value)| header_pair(&name, value))
                .collect(),
            _ => Vec::new(),
        };

        let body = request_body(request.params, request.data);
        Ok(Self {
            method,
            uri,
            headers,
            body,
        })
    }

    /// Whether the client asked to skip the session (a `nosession` header).
    pub(crate) fn skips_session(&self) -> bool {
        self.headers.iter().any(|(name, _)| name == NOSESSION)
    }

    /// The HTTP request the router sees: the client's headers, except
    /// `cookie` and `origin`, which are always the socket's own (from its
    /// handshake, or its pinned session), as in Sails; `content-type` is
    /// `application/json` unless the client set one; the body as JSON.
    pub(crate) fn into_http(
        self,
        socket: &SocketHeaders,
        limits: &RequestLimits,
    ) -> Result<Request<Body>, Refusal> {
        let url_bytes = self.uri.as_ref().map_or(0, uri_len);
        if url_bytes > limits.max_url_bytes {
            return Err(Refusal::UrlTooLong {
                limit: limits.max_url_bytes,
            });
        }
        if self.headers.len() > limits.max_headers {
            return Err(Refusal::TooManyHeaders {
                limit: limits.max_headers,
            });
        }
        let header_bytes: usize = self
            .headers
            .iter()
            .map(|(name, value)| name.as_str().len() + value.len())
            .sum();
        if header_bytes > limits.max_header_bytes {
            return Err(Refusal::HeadersTooLarge {
                limit: limits.max_header_bytes,
            });
        }
        let skips_session = self.skips_session() || socket.nosession;
        let socket_skips_session = socket.nosession && !self.skips_session();
        let uri = self.uri.ok_or(Refusal::NotRoutable)?;
        let pinned = |name: &HeaderName| *name == header::COOKIE || *name == header::ORIGIN;
        // The map's own limit lies far beyond `max_headers`; reaching it is that refusal too.
        let too_many = |_| Refusal::TooManyHeaders {
            limit: limits.max_headers,
        };
        let mut headers = HeaderMap::try_with_capacity(self.headers.len() + 3).map_err(too_many)?;
        let mut has_content_type = false;
        for (name, value) in self.headers {
            if pinned(&name) {
                continue;
            }
            has_content_type |= name == header::CONTENT_TYPE;
            headers.try_append(name, value).map_err(too_many)?;
        }
        let own = [
            (!has_content_type).then(|| {
                (
                    header::CONTENT_TYPE,
                    HeaderValue::from_static("application/json"),
                )
            }),
            socket
                .cookie
                .clone()
                .filter(|_| !skips_session)
                .map(|cookie| (header::COOKIE, cookie)),
            socket.origin.clone().map(|origin| (header::ORIGIN, origin)),
            // As in Sails, the handshake's `nosession` stands for each request.
            socket_skips_session.then(|| {
                (
                    HeaderName::from_static(NOSESSION),
                    HeaderValue::from_static("true"),
                )
            }),
        ];
        for (name, value) in own.into_iter().flatten() {
            headers.try_insert(name, value).map_err(too_many)?;
        }
        let mut request = Request::new(Body::from(self.body));
        *request.method_mut() = self.method;
        *request.uri_mut() = uri;
        *request.headers_mut() = headers;
        Ok(request)
    }
}

/// The headers a socket's requests carry whatever the client says: its
/// handshake's `cookie` (or its pinned session's) and `origin`, and
/// `nosession` when its handshake had it.
#[derive(Debug, Clone, Default)]
pub(crate) struct SocketHeaders {
    pub(crate) cookie: Option<HeaderValue>,
    pub(crate) origin: Option<HeaderValue>,
    pub(crate) nosession: bool,
}

/// Why a parsed request is answered without reaching the router.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refusal {
    /// The target has no leading `/`: it matches no route, as in Express (404).
    #[error("Not Found")]
    NotRoutable,
    /// More headers than [`RequestLimits::max_headers`] (431).
    #[error("Too many request headers: at most {limit} are accepted.")]
    TooManyHeaders {
        /// The limit in force.
        limit: usize,
    },
    /// Headers larger than [`RequestLimits::max_header_bytes`] (431).
    #[error("The request headers are too large: at most {limit} bytes are accepted.")]
    HeadersTooLarge {
        /// The limit in force.
        limit: usize,
    },
    /// A URL longer than [`RequestLimits::max_url_bytes`] (414).
    #[error("The request URL is too long: at most {limit} bytes are accepted.")]
    UrlTooLong {
        /// The limit in force.
        limit: usize,
    },
}

impl Refusal {
    /// The status the refusal is answered with.
    pub fn status(&self) -> StatusCode {
        match self {
            Self::NotRoutable => StatusCode::NOT_FOUND,
            Self::TooManyHeaders { .. } | Self::HeadersTooLarge { .. } => {
                StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
            }
            Self::UrlTooLong { .. } => StatusCode::URI_TOO_LONG,
        }
    }
}

/// The length of a URI as text.
fn uri_len(uri: &Uri) -> usize {
    uri.scheme_str().map_or(0, |scheme| scheme.len() + 3)
        + uri
            .authority()
            .map_or(0, |authority| authority.as_str().len())
        + uri.path_and_query().map_or(0, |pq| pq.as_str().len())
}

/// The method of a verb event, without allocating for the usual ones.
fn verb_method(verb: &str) -> Option<Method> {
    Some(match verb {
        "get" => Method::GET,
        "post" => Method::POST,
        "put" => Method::PUT,
        "delete" => Method::DELETE,
        "patch" => Method::PATCH,
        "options" => Method::OPTIONS,
        "head" => Method::HEAD,
        other => Method::from_bytes(other.to_ascii_uppercase().as_bytes()).ok()?,
    })
}

/// The string a JSON text holds, if it holds a string.
fn json_str(raw: &str) -> Option<Cow<'_, str>> {
    if !raw.starts_with('"') {
        return None;
    }
    match serde_json::from_str::<&str>(raw) {
        Ok(text) => Some(Cow::Borrowed(text)),
        // Escapes: the string has to be unescaped into a copy.
        Err(_) => serde_json::from_str::<String>(raw).ok().map(Cow::Owned),
    }
}

/// The body from `params` and `data`: objects are merged (`data` wins),
/// otherwise whichever is present and not `null` (`params` first), and `{}`
/// when neither is. A string is the body's text itself; anything else is
/// passed on as its JSON text.
fn request_body(params: Option<&RawValue>, data: Option<&RawValue>) -> Bytes {
    let is_object = |raw: &RawValue| raw.get().starts_with('{');
    let params = params.filter(|raw| raw.get() != "null");
    let data = data.filter(|raw| raw.get() != "null");
    match (params, data) {
        (Some(params), Some(data)) if is_object(params) && is_object(data) => {
            // Merged by their top-level members, each kept as its own text:
            // no depth limit applies to what lies below them.
            type Members<'a> = BTreeMap<String, &'a RawValue>;
            let merged =
                serde_json::from_str::<Members<'_>>(params.get()).and_then(|mut merged| {
                    merged.extend(serde_json::from_str::<Members<'_>>(data.get())?);
                    serde_json::to_vec(&merged)
                });
            // Both were read as objects already; `data` alone if not.
            merged.map_or_else(
                |_| Bytes::copy_from_slice(data.get().as_bytes()),
                Bytes::from,
            )
        }
        (Some(raw), _) | (None, Some(raw)) => match json_str(raw.get()) {
            Some(text) => Bytes::from(text.into_owned()),
            None if raw.get() == "{}" => Bytes::from_static(b"{}"),
            None => Bytes::copy_from_slice(raw.get().as_bytes()),
        },
        (None, None) => Bytes::from_static(b"{}"),
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
    let uri = Uri::from_maybe_shared(Bytes::from(target)).map_err(|_| ParseError::InvalidUrl)?;
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
    use serde_json::{Map, json};

    /// Parses `request` sent as the argument of a `verb` event.
    fn parse(verb: &str, request: Value) -> Result<VirtualRequest, ParseError> {
        VirtualRequest::parse(Some(&json!([verb, request]).to_string()))
    }

    fn body(request: &VirtualRequest) -> Value {
        serde_json::from_slice(&request.body).unwrap()
    }

    #[test]
    fn parses_a_sails_io_js_request() {
        let request = parse("post", json!({"method":"post","url":"/echo?x=1","headers":{"X-A":"b","n":3,"gone":null},"data":{"a":1}}),
        )
        .unwrap();
        assert_eq!(request.method, Method::POST);
        assert_eq!(request.uri.as_ref().expect("routable"), "/echo?x=1");
        assert_eq!(body(&request), json!({"a":1}));
        let names: Vec<_> = request
            .headers
            .iter()
            .map(|(n, v)| (n.as_str(), v.to_str().unwrap()))
            .collect();
        assert_eq!(names, [("x-a", "b"), ("n", "3")]);
    }

    #[test]
    fn merges_params_and_data() {
        let request = parse(
            "get",
            json!({"url":"/","params":{"a":1,"b":1},"data":{"b":2}}),
        )
        .unwrap();
        assert_eq!(body(&request), json!({"a":1,"b":2}));
        let request = parse("get", json!({"url":"/"})).unwrap();
        assert_eq!(body(&request), json!({}));
        let request = parse("post", json!({"url":"/","data":[1,2]})).unwrap();
        assert_eq!(body(&request), json!([1, 2]));
        let request = parse("post", json!({"url":"/","params":"p","data":{"a":1}})).unwrap();
        assert_eq!(request.body, "p");
        let request = parse("post", json!({"url":"/","params":null,"data":"a \"b\""})).unwrap();
        assert_eq!(request.body, "a \"b\"");
    }

    #[test]
    fn merges_deeply_nested_params_and_data() {
        let deep = format!("{}1{}", "[".repeat(200), "]".repeat(200));
        let event =
            format!(r#"["post",{{"url":"/","params":{{"a":1,"b":1}},"data":{{"b":{deep}}}}}]"#);
        let request = VirtualRequest::parse(Some(&event)).unwrap();
        assert_eq!(request.body, format!(r#"{{"a":1,"b":{deep}}}"#));
    }

    #[test]
    fn reads_the_request_from_the_event_arguments() {
        let event = |text: &str| VirtualRequest::parse(Some(text));
        assert_eq!(event(r#"["get"]"#), Err(ParseError::NotAnObject));
        assert_eq!(event(r#"["get","/hello"]"#), Err(ParseError::NotAnObject));
        assert_eq!(event(r#"["get",[1]]"#), Err(ParseError::NotAnObject));
        let request = event(r#"["get",{"url":"/a","url":"/h\u00e9llo"},"extra",{}]"#).unwrap();
        assert_eq!(request.uri.as_ref().expect("routable"), "/h%C3%A9llo");
        let request = event(r#"["get",{"u\u0072l":"/x","data":{ "b" : [1, 2] }}]"#).unwrap();
        assert_eq!(request.uri.as_ref().expect("routable"), "/x");
        assert_eq!(request.body, r#"{ "b" : [1, 2] }"#);
    }

    #[test]
    fn refuses_bad_requests() {
        assert_eq!(VirtualRequest::parse(None), Err(ParseError::NotAnObject));
        assert_eq!(parse("get", Value::Null), Err(ParseError::NotAnObject));
        assert_eq!(parse("get", json!({})), Err(ParseError::MissingUrl));
        assert_eq!(
            parse("get", json!({"url":7})),
            Err(ParseError::UrlNotString)
        );
        assert_eq!(parse("get", json!({"url":""})), Err(ParseError::InvalidUrl));
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

    fn socket() -> SocketHeaders {
        SocketHeaders {
            cookie: Some(HeaderValue::from_static("sails.sid=abc")),
            origin: Some(HeaderValue::from_static("http://page.example")),
            nosession: false,
        }
    }

    fn http(request: Value) -> Result<Request<Body>, Refusal> {
        parse("get", request)
            .unwrap()
            .into_http(&socket(), &RequestLimits::default())
    }

    #[test]
    fn verb_events_are_told_from_other_events_by_their_name_alone() {
        for verb in VERB_EVENTS {
            assert!(is_verb_event(&format!(r#"["{verb}",{{"url":"/"}}]"#)));
            assert!(is_verb_event(&format!(r#" [ "{verb}" , 5 ]"#)), "{verb}");
        }
        assert!(is_verb_event(r#"["g\u0065t"]"#), "escaped");
        assert!(is_verb_event(r#"["post",{"_placeholder":true,"num":0}]"#));
        for other in [
            r#"["message",{"url":"/"}]"#,
            r#"["GET",{"url":"/"}]"#,
            r#"["gets"]"#,
            r#"[5,"get"]"#,
            r#"{"get":1}"#,
            "",
        ] {
            assert!(!is_verb_event(other), "{other}");
        }
    }

    #[test]
    fn the_socket_cookie_and_origin_stand_for_every_request() {
        let request = http(json!({"url":"/"})).unwrap();
        assert_eq!(request.headers()["cookie"], "sails.sid=abc");
        assert_eq!(request.headers()["origin"], "http://page.example");
        assert_eq!(request.headers()["content-type"], "application/json");

        let claims = json!({"url":"/","headers":{"Cookie":"sails.sid=other","origin":"http://evil.example","content-type":"text/plain"}});
        let request = http(claims).unwrap();
        let values = |name: &str| -> Vec<_> { request.headers().get_all(name).iter().collect() };
        assert_eq!(values("cookie"), ["sails.sid=abc"]);
        assert_eq!(values("origin"), ["http://page.example"]);
        assert_eq!(values("content-type"), ["text/plain"]);

        let request = http(json!({"url":"/","headers":{"nosession":"1","cookie":"a=b"}})).unwrap();
        assert!(request.headers().get("cookie").is_none());
    }

    #[test]
    fn a_nosession_handshake_stands_for_every_request() {
        let socket = SocketHeaders {
            nosession: true,
            ..socket()
        };
        let request = parse("get", json!({"url":"/"}))
            .unwrap()
            .into_http(&socket, &RequestLimits::default())
            .unwrap();
        assert_eq!(request.headers()["nosession"], "true");
        assert!(request.headers().get("cookie").is_none());
        let request = parse("get", json!({"url":"/","headers":{"nosession":"1"}}))
            .unwrap()
            .into_http(&socket, &RequestLimits::default())
            .unwrap();
        let values: Vec<_> = request.headers().get_all("nosession").iter().collect();
        assert_eq!(values, ["1"]);
    }

    #[test]
    fn oversized_requests_are_refused_with_the_limit_they_broke() {
        let limits = RequestLimits::default();
        let many: Map<String, Value> = (0..25_000)
            .map(|n| (format!("x-{n}"), json!("v")))
            .collect();
        assert_eq!(
            http(json!({"url":"/","headers":many})).unwrap_err(),
            Refusal::TooManyHeaders {
                limit: limits.max_headers
            }
        );
        let big = "v".repeat(limits.max_header_bytes);
        let refused = http(json!({"url":"/","headers":{"x-big":big}})).unwrap_err();
        assert_eq!(
            refused.status(),
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE
        );
        let long = format!("/{}", "a".repeat(limits.max_url_bytes));
        let refused = http(json!({ "url": long })).unwrap_err();
        assert_eq!(
            refused,
            Refusal::UrlTooLong {
                limit: limits.max_url_bytes
            }
        );
        assert_eq!(refused.status(), StatusCode::URI_TOO_LONG);
        assert_eq!(
            http(json!({"url":"hello"})).unwrap_err(),
            Refusal::NotRoutable
        );
        // Within the limits, nothing is refused.
        let fine: Map<String, Value> = (0..limits.max_headers)
            .map(|n| (format!("x-{n}"), json!("v")))
            .collect();
        assert!(http(json!({"url":"/","headers":fine})).is_ok());
    }
}
