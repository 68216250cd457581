//! The JWR ("JSON WebSocket Response"): how a virtual request's HTTP response
//! travels back in the ack.

use std::borrow::Cow;
use std::pin::Pin;

use axum::body::{Body, Bytes, HttpBody};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Response, StatusCode, header};
use serde::Serialize;
use serde::ser::SerializeMap;
use serde_json::Value;
use serde_json::value::RawValue;

/// The body of a JWR.
#[derive(Debug, Clone)]
pub enum JwrBody {
    /// A JSON value built by the server (a reason phrase, a redirect notice).
    Json(Value),
    /// A JSON body (other than a JSON string), checked and sent as its own
    /// text rather than rebuilt.
    RawJson(Box<RawValue>),
    /// A text body (UTF-8), sent as a JSON string.
    Text(Bytes),
    /// Binary bodies (`application/octet-stream`, or not UTF-8), sent as a
    /// Socket.IO binary attachment like a Sails `Buffer` body.
    Binary(Bytes),
}

impl JwrBody {
    /// The body as a JSON value (binary bodies: `None`; so is a JSON body
    /// nested deeper than a [`Value`] may be, 128 levels, though it is sent
    /// as its own text all the same).
    pub fn to_value(&self) -> Option<Value> {
        match self {
            Self::Json(value) => Some(value.clone()),
            Self::RawJson(raw) => serde_json::from_str(raw.get()).ok(),
            Self::Text(text) => Some(Value::String(String::from_utf8_lossy(text).into_owned())),
            Self::Binary(_) => None,
        }
    }
}

impl Serialize for JwrBody {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Json(value) => value.serialize(serializer),
            Self::RawJson(raw) => raw.serialize(serializer),
            Self::Text(text) => serializer.serialize_str(&String::from_utf8_lossy(text)),
            Self::Binary(bytes) => serializer.serialize_bytes(bytes),
        }
    }
}

impl PartialEq for JwrBody {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Self::Binary(a), Self::Binary(b)) => a == b,
            (Self::Binary(_), _) | (_, Self::Binary(_)) => false,
            _ => match (self.to_value(), other.to_value()) {
                (Some(a), Some(b)) => a == b,
                // JSON too deep for a `Value`: equal when the text is.
                _ => {
                    matches!((self, other), (Self::RawJson(a), Self::RawJson(b)) if a.get() == b.get())
                }
            },
        }
    }
}

impl PartialEq<Value> for JwrBody {
    fn eq(&self, other: &Value) -> bool {
        self.to_value().as_ref() == Some(other)
    }
}

/// The `headers` of a JWR: the response's headers, written as one JSON
/// object with lower-case names (as `http` stores them) and repeated headers
/// joined with `, `, without `set-cookie` (the session lives in the socket)
/// or `content-length` (the body is re-encoded).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct JwrHeaders(HeaderMap);

impl JwrHeaders {
    /// The headers of `response`.
    pub fn new(headers: HeaderMap) -> Self {
        Self(headers)
    }

    /// Sends `name` with `value` (in place of any value it had).
    pub(crate) fn insert(&mut self, name: &'static str, value: HeaderValue) {
        self.0.insert(HeaderName::from_static(name), value);
    }

    /// The value sent for `name`, if it is sent.
    pub fn get(&self, name: &str) -> Option<String> {
        let name = self.sent_names().find(|sent| sent.as_str() == name)?;
        Some(self.joined(name).into_owned())
    }

    fn sent_names(&self) -> impl Iterator<Item = &HeaderName> {
        self.0
            .keys()
            .filter(|name| *name != header::SET_COOKIE && *name != header::CONTENT_LENGTH)
    }

    fn joined(&self, name: &HeaderName) -> Cow<'_, str> {
        let mut values = self.0.get_all(name).iter();
        let first = values.next().map_or(Cow::Borrowed(""), |value| {
            String::from_utf8_lossy(value.as_bytes())
        });
        values.fold(first, |mut joined, value| {
            let joined_mut = joined.to_mut();
            joined_mut.push_str(", ");
            joined_mut.push_str(&String::from_utf8_lossy(value.as_bytes()));
            joined
        })
    }
}

impl Serialize for JwrHeaders {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let mut map = serializer.serialize_map(None)?;
        for name in self.sent_names() {
            map.serialize_entry(name.as_str(), &self.joined(name))?;
        }
        map.end()
    }
}

/// The ack of a virtual request: `{body, headers, statusCode}`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Jwr {
    /// JSON bodies as JSON, text bodies as strings, others as binary;
    /// `None` when the route answered nothing (a 200 with an empty body and
    /// no `content-type`): the JWR then has no `body` key, as in Sails.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub body: Option<JwrBody>,
    /// The response headers sent with it.
    pub headers: JwrHeaders,
    /// The HTTP status code.
    #[serde(rename = "statusCode")]
    pub status_code: u16,
}

/// Why a response could not become a JWR.
#[derive(Debug, thiserror::Error)]
pub enum JwrError {
    /// The body could not be read in full (too large, or the handler's stream failed).
    #[error("the response body could not be read")]
    Body,
}

impl Jwr {
    /// Reads a whole response (up to `max_body` bytes) into a JWR.
    pub async fn from_response(
        response: Response<Body>,
        max_body: usize,
    ) -> Result<Self, JwrError> {
        let (parts, body) = response.into_parts();
        let bytes = read_body(body, max_body).await?;
        Ok(Self {
            body: body_of(&parts.headers, parts.status, bytes),
            headers: JwrHeaders(parts.headers),
            status_code: parts.status.as_u16(),
        })
    }

    /// A JWR with `status` and its reason phrase as the body, as Express sends it.
    pub fn plain(status: StatusCode) -> Self {
        Self {
            body: Some(reason_phrase(status)),
            headers: JwrHeaders::default(),
            status_code: status.as_u16(),
        }
    }

    /// A JWR with `status` and `message` as its text body.
    pub fn text(status: StatusCode, message: String) -> Self {
        Self {
            body: Some(JwrBody::Text(Bytes::from(message))),
            headers: JwrHeaders::default(),
            status_code: status.as_u16(),
        }
    }

    /// A plain 500 JWR, for when the response itself could not be read.
    pub fn internal_error() -> Self {
        Self::plain(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

/// The whole body, up to `max_body` bytes. A body sent in one piece (as
/// most are) is kept as it is, without a copy.
async fn read_body(mut body: Body, max_body: usize) -> Result<Bytes, JwrError> {
    let mut first: Option<Bytes> = None;
    let mut joined: Vec<u8> = Vec::new();
    let mut length = 0usize;
    while let Some(frame) = std::future::poll_fn(|cx| Pin::new(&mut body).poll_frame(cx)).await {
        let Ok(data) = frame.map_err(|_| JwrError::Body)?.into_data() else {
            // Trailers: not part of a JWR.
            continue;
        };
        length = length.saturating_add(data.len());
        if length > max_body {
            return Err(JwrError::Body);
        }
        match &first {
            None if joined.is_empty() => first = Some(data),
            _ => {
                if let Some(first) = first.take() {
                    joined.extend_from_slice(&first);
                }
                joined.extend_from_slice(&data);
            }
        }
    }
    Ok(first.unwrap_or_else(|| Bytes::from(joined)))
}

fn reason_phrase(status: StatusCode) -> JwrBody {
    let reason = status.canonical_reason().unwrap_or_default();
    JwrBody::Text(Bytes::from_static(reason.as_bytes()))
}

/// The body of the JWR. A JSON body that parses is sent as JSON, except a
/// JSON string, which stays its JSON text (as Sails sends it). An empty 200
/// is no body at all (Sails' `res.send()`) unless it has a `content-type`
/// (an empty string, `""`); an empty body on another status becomes what
/// Express would have sent: `Redirecting to <location>` for a redirect, else
/// the status' reason phrase.
fn body_of(headers: &HeaderMap, status: StatusCode, bytes: Bytes) -> Option<JwrBody> {
    if is_binary(headers) || (!bytes.is_empty() && std::str::from_utf8(&bytes).is_err()) {
        return Some(JwrBody::Binary(bytes));
    }
    if bytes.is_empty() {
        if status == StatusCode::OK {
            return headers
                .contains_key(header::CONTENT_TYPE)
                .then_some(JwrBody::Text(bytes));
        }
        if status.is_redirection()
            && let Some(location) = headers.get(header::LOCATION).and_then(|v| v.to_str().ok())
        {
            return Some(JwrBody::Json(Value::String(format!(
                "Redirecting to {location}"
            ))));
        }
        return Some(reason_phrase(status));
    }
    if is_json(headers)
        && let Ok(raw) = serde_json::from_slice::<Box<RawValue>>(&bytes)
        && !raw.get().starts_with('"')
    {
        return Some(JwrBody::RawJson(raw));
    }
    Some(JwrBody::Text(bytes))
}

/// The media type of `content-type`, without parameters.
fn mime(headers: &HeaderMap) -> Option<&str> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(str::trim)
}

fn is_binary(headers: &HeaderMap) -> bool {
    mime(headers).is_some_and(|mime| mime.eq_ignore_ascii_case("application/octet-stream"))
}

fn is_json(headers: &HeaderMap) -> bool {
    mime(headers).is_some_and(|mime| {
        mime.eq_ignore_ascii_case("application/json")
            || mime
                .get(mime.len().saturating_sub(5)..)
                .is_some_and(|suffix| suffix.eq_ignore_ascii_case("+json"))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::http::HeaderValue;
    use serde_json::json;

    async fn to_jwr(response: Response<Body>) -> Jwr {
        Jwr::from_response(response, 1024).await.unwrap()
    }

    fn response(status: u16, content_type: Option<&str>, body: &str) -> Response<Body> {
        let mut response = Response::new(Body::from(body.to_owned()));
        *response.status_mut() = StatusCode::from_u16(status).unwrap();
        if let Some(content_type) = content_type {
            response.headers_mut().insert(
                header::CONTENT_TYPE,
                HeaderValue::from_str(content_type).unwrap(),
            );
        }
        response
    }

    #[tokio::test]
    async fn json_bodies_become_values() {
        let jwr = to_jwr(response(200, Some("application/json"), r#"{"a":1}"#)).await;
        assert_eq!(jwr.body.unwrap(), json!({"a":1}));
        assert_eq!(
            jwr.headers.get("content-type").as_deref(),
            Some("application/json")
        );
        assert_eq!(jwr.status_code, 200);
        assert_eq!(
            to_jwr(response(200, Some("application/json"), "false"))
                .await
                .body
                .unwrap(),
            json!(false)
        );
        assert_eq!(
            to_jwr(response(200, Some("application/json"), r#""foo""#))
                .await
                .body
                .unwrap(),
            json!("\"foo\"")
        );
    }

    #[tokio::test]
    async fn text_and_empty_bodies() {
        assert_eq!(
            to_jwr(response(200, Some("text/plain"), "ok!"))
                .await
                .body
                .unwrap(),
            json!("ok!")
        );
        assert_eq!(
            to_jwr(response(404, None, "")).await.body.unwrap(),
            json!("Not Found")
        );
        assert_eq!(
            to_jwr(response(204, None, "")).await.body.unwrap(),
            json!("No Content")
        );
        let mut redirect = response(302, None, "");
        redirect
            .headers_mut()
            .insert(header::LOCATION, HeaderValue::from_static("/x"));
        redirect
            .headers_mut()
            .insert(header::SET_COOKIE, HeaderValue::from_static("a=b"));
        let jwr = to_jwr(redirect).await;
        assert_eq!(
            to_jwr(response(200, Some("application/octet-stream"), "ab"))
                .await
                .body
                .unwrap(),
            JwrBody::Binary(Bytes::from_static(b"ab"))
        );
        assert_eq!(jwr.body.clone().unwrap(), json!("Redirecting to /x"));
        assert_eq!(jwr.headers.get("set-cookie"), None);
        assert_eq!(jwr.headers.get("location").as_deref(), Some("/x"));
    }

    #[tokio::test]
    async fn an_empty_200_is_no_body_unless_it_has_a_content_type() {
        let nothing = to_jwr(response(200, None, "")).await;
        assert_eq!(nothing.body, None);
        assert_eq!(
            serde_json::to_string(&nothing).unwrap(),
            r#"{"headers":{},"statusCode":200}"#
        );
        let empty_text = to_jwr(response(200, Some("text/plain"), "")).await;
        assert_eq!(empty_text.body.unwrap(), json!(""));
    }

    #[tokio::test]
    async fn serialises_json_bodies_as_sent_and_joins_repeated_headers() {
        let mut json = response(200, Some("application/json"), r#" {"b":1,"a":[1, 2]} "#);
        let headers = json.headers_mut();
        headers.append("x-many", HeaderValue::from_static("1"));
        headers.append("x-many", HeaderValue::from_static("2"));
        headers.insert(header::CONTENT_LENGTH, HeaderValue::from_static("20"));
        headers.insert(header::SET_COOKIE, HeaderValue::from_static("a=b"));
        let jwr = to_jwr(json).await;
        assert_eq!(jwr.headers.get("x-many").as_deref(), Some("1, 2"));
        assert_eq!(
            serde_json::to_string(&jwr).unwrap(),
            r#"{"body":{"b":1,"a":[1, 2]},"headers":{"content-type":"application/json","x-many":"1, 2"},"statusCode":200}"#
        );
        let text = to_jwr(response(404, Some("text/plain"), "gone \"x\"")).await;
        assert_eq!(
            serde_json::to_string(&text).unwrap(),
            r#"{"body":"gone \"x\"","headers":{"content-type":"text/plain"},"statusCode":404}"#
        );
        assert_eq!(
            serde_json::to_string(&Jwr::plain(StatusCode::NOT_FOUND)).unwrap(),
            r#"{"body":"Not Found","headers":{},"statusCode":404}"#
        );
    }

    #[tokio::test]
    async fn bodies_in_several_pieces_are_joined() {
        let pieces = futures_util::stream::iter(
            ["{\"a\":", "[1,", "2]}"].map(|piece| Ok::<_, std::io::Error>(piece.to_owned())),
        );
        let mut streamed = Response::new(Body::from_stream(pieces));
        streamed.headers_mut().insert(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/json"),
        );
        assert_eq!(to_jwr(streamed).await.body.unwrap(), json!({"a":[1,2]}));
        let pieces = futures_util::stream::iter(
            ["x".repeat(600), "y".repeat(600)].map(Ok::<_, std::io::Error>),
        );
        let streamed = Response::new(Body::from_stream(pieces));
        assert!(Jwr::from_response(streamed, 1024).await.is_err());
    }

    #[tokio::test]
    async fn json_too_deep_for_a_value_is_sent_as_its_text() {
        // Found with the fuzz target's invariants: such a body had no value,
        // and any two of them compared equal.
        let deep = |depth: usize| format!("{}{}", "[".repeat(depth), "]".repeat(depth));
        let jwr = to_jwr(response(200, Some("application/json"), &deep(200))).await;
        let body = jwr.body.clone().unwrap();
        assert!(matches!(body, JwrBody::RawJson(_)));
        assert_eq!(body.to_value(), None);
        assert_eq!(body, body.clone());
        let deeper = to_jwr(response(200, Some("application/json"), &deep(201))).await;
        assert_ne!(jwr.body, deeper.body);
        let json = serde_json::to_string(&jwr).unwrap();
        assert!(json.starts_with(&format!(r#"{{"body":{}"#, deep(200))));
    }

    #[tokio::test]
    async fn oversized_bodies_are_an_error() {
        let big = "x".repeat(2048);
        assert!(
            Jwr::from_response(response(200, None, &big), 1024)
                .await
                .is_err()
        );
    }
}
