//! The JWR ("JSON WebSocket Response"): how a virtual request's HTTP response
//! travels back in the ack.

use axum::body::Body;
use axum::http::{HeaderMap, Response, StatusCode, header};
use serde::Serialize;
use serde_json::{Map, Value};

/// The body of a JWR.
#[derive(Debug, Clone, PartialEq)]
pub enum JwrBody {
    /// A JSON value (JSON bodies) or a string (text bodies).
    Json(Value),
    /// Binary bodies (`application/octet-stream`, or not UTF-8), sent as a
    /// Socket.IO binary attachment like a Sails `Buffer` body.
    Binary(Vec<u8>),
}

impl Serialize for JwrBody {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Self::Json(value) => value.serialize(serializer),
            Self::Binary(bytes) => serializer.serialize_bytes(bytes),
        }
    }
}

impl PartialEq<Value> for JwrBody {
    fn eq(&self, other: &Value) -> bool {
        matches!(self, Self::Json(value) if value == other)
    }
}

/// The ack of a virtual request: `{body, headers, statusCode}`.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Jwr {
    /// JSON bodies as JSON values, text bodies as strings, others as binary.
    pub body: JwrBody,
    /// Response headers with lower-case names; `set-cookie` is never included.
    pub headers: Map<String, Value>,
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
        let bytes = axum::body::to_bytes(body, max_body)
            .await
            .map_err(|_| JwrError::Body)?;
        let body = body_value(&parts.headers, parts.status, &bytes);
        Ok(Self {
            body,
            headers: header_object(&parts.headers),
            status_code: parts.status.as_u16(),
        })
    }

    /// A JWR with `status` and its reason phrase as the body, as Express sends it.
    pub fn plain(status: StatusCode) -> Self {
        let reason = status.canonical_reason().unwrap_or_default();
        Self {
            body: JwrBody::Json(Value::String(reason.into())),
            headers: Map::new(),
            status_code: status.as_u16(),
        }
    }

    /// A plain 500 JWR, for when the response itself could not be read.
    pub fn internal_error() -> Self {
        Self::plain(StatusCode::INTERNAL_SERVER_ERROR)
    }
}

/// The body as a JWR value. A JSON body that parses becomes that JSON value,
/// except a JSON string, which stays its JSON text (as Sails sends it). An
/// empty body on a non-200 response becomes what Express would have sent:
/// `Redirecting to <location>` for a redirect, else the status' reason phrase.
fn body_value(headers: &HeaderMap, status: StatusCode, bytes: &[u8]) -> JwrBody {
    if is_binary(headers) || (!bytes.is_empty() && std::str::from_utf8(bytes).is_err()) {
        return JwrBody::Binary(bytes.to_vec());
    }
    JwrBody::Json(text_value(headers, status, bytes))
}

fn text_value(headers: &HeaderMap, status: StatusCode, bytes: &[u8]) -> Value {
    if bytes.is_empty() {
        if status == StatusCode::OK {
            return Value::String(String::new());
        }
        if status.is_redirection()
            && let Some(location) = headers.get(header::LOCATION).and_then(|v| v.to_str().ok())
        {
            return Value::String(format!("Redirecting to {location}"));
        }
        return Value::String(status.canonical_reason().unwrap_or_default().into());
    }
    if is_json(headers)
        && let Ok(value) = serde_json::from_slice::<Value>(bytes)
        && !value.is_string()
    {
        return value;
    }
    Value::String(String::from_utf8_lossy(bytes).into_owned())
}

fn mime(headers: &HeaderMap) -> Option<String> {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|mime| mime.trim().to_ascii_lowercase())
}

fn is_binary(headers: &HeaderMap) -> bool {
    mime(headers).is_some_and(|mime| mime == "application/octet-stream")
}

fn is_json(headers: &HeaderMap) -> bool {
    mime(headers).is_some_and(|mime| mime == "application/json" || mime.ends_with("+json"))
}

/// Response headers for the JWR: lower-case names (as `http` stores them),
/// repeated headers joined with `, `, and without `set-cookie` (the session
/// lives in the socket) or `content-length` (the body is re-encoded).
fn header_object(headers: &HeaderMap) -> Map<String, Value> {
    let mut object = Map::new();
    for name in headers.keys() {
        if name == header::SET_COOKIE || name == header::CONTENT_LENGTH {
            continue;
        }
        let joined = headers
            .get_all(name)
            .iter()
            .map(|value| String::from_utf8_lossy(value.as_bytes()).into_owned())
            .collect::<Vec<_>>()
            .join(", ");
        object.insert(name.as_str().to_owned(), Value::String(joined));
    }
    object
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
        assert_eq!(jwr.body, json!({"a":1}));
        assert_eq!(jwr.headers["content-type"], "application/json");
        assert_eq!(jwr.status_code, 200);
        assert_eq!(
            to_jwr(response(200, Some("application/json"), "false"))
                .await
                .body,
            json!(false)
        );
        assert_eq!(
            to_jwr(response(200, Some("application/json"), r#""foo""#))
                .await
                .body,
            json!("\"foo\"")
        );
    }

    #[tokio::test]
    async fn text_and_empty_bodies() {
        assert_eq!(
            to_jwr(response(200, Some("text/plain"), "ok!")).await.body,
            json!("ok!")
        );
        assert_eq!(
            to_jwr(response(404, None, "")).await.body,
            json!("Not Found")
        );
        assert_eq!(
            to_jwr(response(204, None, "")).await.body,
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
                .body,
            JwrBody::Binary(b"ab".to_vec())
        );
        assert_eq!(jwr.body, json!("Redirecting to /x"));
        assert_eq!(jwr.headers.get("set-cookie"), None);
        assert_eq!(jwr.headers["location"], "/x");
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
