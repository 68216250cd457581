//! Sails' `security.csrf`: requests that change something (POST, PUT, PATCH,
//! DELETE) must carry a token granted to their session, over HTTP and
//! sockets alike. Off unless [`SailsBuilder::csrf`](crate::SailsBuilder::csrf)
//! turns it on, as in Sails.
//!
//! A session has one secret (kept in the session under `_csrfSecret`). Each
//! token handed out is the secret masked with fresh random bytes, so no two
//! responses carry the same token (a compressed response cannot leak it a
//! byte at a time), and every token of the session is valid.
//!
//! The token is read, as Sails reads it, from the `_csrf` body field (JSON or
//! form), the `_csrf` query parameter, or one of the headers `x-csrf-token`,
//! `csrf-token`, `xsrf-token`, `x-xsrf-token`. A request without a valid one
//! is answered 403 `CSRF mismatch`.

use axum::body::{Body, Bytes};
use axum::extract::{Request, State};
use axum::http::{Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use tower_sessions::Session;

use crate::extract::SocketRequest;

/// The session key of the secret tokens are made from.
const SECRET_KEY: &str = "_csrfSecret";
/// Bytes of a secret (and of each token's mask).
const SECRET_LEN: usize = 32;
/// The largest body searched for a `_csrf` field.
const MAX_BODY_SEARCHED: usize = 1024 * 1024;
/// Headers a token may come in, in the order they are read.
const TOKEN_HEADERS: [&str; 4] = ["csrf-token", "xsrf-token", "x-csrf-token", "x-xsrf-token"];
/// What a request without a valid token is told (Sails' words).
const MISMATCH: &str = "CSRF mismatch";

/// Which requests need a token.
#[derive(Debug, Clone, Default)]
#[non_exhaustive]
pub struct Csrf {
    /// Paths whose requests need no token (Sails' `csrf: false` on a route):
    /// a path, or a prefix ending in `/*`.
    pub exempt: Vec<String>,
}

impl Csrf {
    /// Every POST, PUT, PATCH and DELETE needs a token.
    pub fn new() -> Self {
        Self::default()
    }

    /// Requests to `path` (or, for `"/prefix/*"`, under it) need no token.
    pub fn exempt(mut self, path: impl Into<String>) -> Self {
        self.exempt.push(path.into());
        self
    }

    fn exempts(&self, path: &str) -> bool {
        self.exempt
            .iter()
            .any(|exempt| match exempt.strip_suffix("/*") {
                Some(prefix) => {
                    path == prefix
                        || path
                            .strip_prefix(prefix)
                            .is_some_and(|rest| rest.starts_with('/'))
                }
                None => path == exempt,
            })
    }
}

/// Whether a method changes something (GET, HEAD and OPTIONS do not).
fn needs_token(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

fn random_bytes() -> Result<[u8; SECRET_LEN], getrandom::Error> {
    let mut bytes = [0; SECRET_LEN];
    getrandom::fill(&mut bytes)?;
    Ok(bytes)
}

/// A fresh token for `secret`: a random mask, then the secret XOR the mask.
fn mask(secret: &[u8; SECRET_LEN]) -> Result<String, getrandom::Error> {
    let mask = random_bytes()?;
    let mut token = Vec::with_capacity(2 * SECRET_LEN);
    token.extend_from_slice(&mask);
    token.extend(secret.iter().zip(mask).map(|(s, m)| s ^ m));
    Ok(URL_SAFE_NO_PAD.encode(token))
}

/// Whether `token` was made from `secret`, compared in constant time.
fn verify(secret: &[u8; SECRET_LEN], token: &str) -> bool {
    let Ok(bytes) = URL_SAFE_NO_PAD.decode(token.as_bytes()) else {
        return false;
    };
    if bytes.len() != 2 * SECRET_LEN {
        return false;
    }
    let (mask, masked) = bytes.split_at(SECRET_LEN);
    let difference = secret
        .iter()
        .zip(mask.iter().zip(masked))
        .fold(0u8, |acc, (s, (m, x))| acc | (s ^ m ^ x));
    difference == 0
}

/// The session's secret, if it has one.
async fn secret(session: &Session) -> Result<Option<[u8; SECRET_LEN]>, Response> {
    let stored: Option<String> = session.get(SECRET_KEY).await.map_err(|_| internal())?;
    Ok(stored
        .and_then(|text| URL_SAFE_NO_PAD.decode(text).ok())
        .and_then(|bytes| bytes.try_into().ok()))
}

fn internal() -> Response {
    StatusCode::INTERNAL_SERVER_ERROR.into_response()
}

fn mismatch() -> Response {
    (StatusCode::FORBIDDEN, MISMATCH).into_response()
}

/// `GET /csrfToken` (Sails' `security/grant-csrf-token` action): `{"_csrf": token}`
/// for the request's session, making its secret on first use. Route it where
/// the application wants it; socket requests are refused with 400, as in
/// Sails (a token is meant for a page's HTTP requests).
pub async fn grant_token(
    socket: Option<SocketRequest>,
    session: Result<Session, (StatusCode, &'static str)>,
) -> Result<Response, Response> {
    if socket.is_some() {
        return Err((
            StatusCode::BAD_REQUEST,
            "Cannot access CSRF token via socket request.  Instead, send an HTTP request (i.e. XHR) to this endpoint.",
        )
            .into_response());
    }
    let Ok(session) = session else {
        return Err((
            StatusCode::INTERNAL_SERVER_ERROR,
            "CSRF protection needs sessions.",
        )
            .into_response());
    };
    let secret = match secret(&session).await? {
        Some(secret) => secret,
        None => {
            let secret = random_bytes().map_err(|_| internal())?;
            session
                .insert(SECRET_KEY, URL_SAFE_NO_PAD.encode(secret))
                .await
                .map_err(|_| internal())?;
            secret
        }
    };
    let token = mask(&secret).map_err(|_| internal())?;
    Ok(axum::Json(json!({ "_csrf": token })).into_response())
}

/// The token a request carries in its headers or query, if any.
fn token_outside_body(request: &Request) -> Option<String> {
    let query_token = request.uri().query().and_then(|query| {
        query.split('&').find_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            (name == "_csrf").then(|| percent_decode(value))
        })
    });
    query_token.or_else(|| {
        TOKEN_HEADERS.iter().find_map(|name| {
            request
                .headers()
                .get(*name)
                .and_then(|value| value.to_str().ok())
                .map(str::to_owned)
        })
    })
}

/// `_csrf` of a JSON object or an `application/x-www-form-urlencoded` body.
fn token_in_body(content_type: Option<&str>, body: &Bytes) -> Option<String> {
    let is_form =
        content_type.is_some_and(|kind| kind.starts_with("application/x-www-form-urlencoded"));
    if is_form {
        return std::str::from_utf8(body).ok()?.split('&').find_map(|pair| {
            let (name, value) = pair.split_once('=')?;
            (name == "_csrf").then(|| percent_decode(value))
        });
    }
    let value: serde_json::Value = serde_json::from_slice(body).ok()?;
    value.get("_csrf")?.as_str().map(str::to_owned)
}

/// Percent-decoding of a query or form value (`+` is a space); a `%` not
/// followed by two hex digits stays as it is.
fn percent_decode(text: &str) -> String {
    fn hex(digit: u8) -> Option<u8> {
        char::from(digit)
            .to_digit(16)
            .and_then(|d| u8::try_from(d).ok())
    }
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let decoded = match bytes[i] {
            b'+' => Some(b' '),
            b'%' if i + 2 < bytes.len() => hex(bytes[i + 1])
                .zip(hex(bytes[i + 2]))
                .map(|(high, low)| high * 16 + low),
            _ => None,
        };
        match decoded {
            Some(byte) if bytes[i] == b'%' => {
                out.push(byte);
                i += 3;
            }
            Some(byte) => {
                out.push(byte);
                i += 1;
            }
            None => {
                out.push(bytes[i]);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The middleware: lets through what needs no token, and what carries a
/// valid one; answers 403 to the rest.
pub(crate) async fn check(State(csrf): State<Csrf>, request: Request, next: Next) -> Response {
    if !needs_token(request.method()) || csrf.exempts(request.uri().path()) {
        return next.run(request).await;
    }
    let Some(session) = request.extensions().get::<Session>().cloned() else {
        return mismatch();
    };
    let secret = match secret(&session).await {
        Ok(Some(secret)) => secret,
        Ok(None) => return mismatch(),
        Err(response) => return response,
    };
    if let Some(token) = token_outside_body(&request) {
        return if verify(&secret, &token) {
            next.run(request).await
        } else {
            mismatch()
        };
    }
    let content_type = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|value| value.to_str().ok())
        .map(str::to_owned);
    let (parts, body) = request.into_parts();
    let Ok(body) = axum::body::to_bytes(body, MAX_BODY_SEARCHED).await else {
        return mismatch();
    };
    match token_in_body(content_type.as_deref(), &body) {
        Some(token) if verify(&secret, &token) => {
            next.run(Request::from_parts(parts, Body::from(body))).await
        }
        _ => mismatch(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_differ_and_all_verify() {
        let secret = random_bytes().expect("random");
        let (a, b) = (mask(&secret).expect("token"), mask(&secret).expect("token"));
        assert_ne!(a, b);
        assert!(verify(&secret, &a) && verify(&secret, &b));
        let other = random_bytes().expect("random");
        assert!(!verify(&other, &a));
        assert!(!verify(&secret, ""));
        assert!(!verify(&secret, "not base64 !"));
        assert!(!verify(&secret, &a[..a.len() - 2]));
    }

    #[test]
    fn exempt_paths_and_prefixes() {
        let csrf = Csrf::new().exempt("/hook").exempt("/api/*");
        assert!(csrf.exempts("/hook") && csrf.exempts("/api") && csrf.exempts("/api/x/y"));
        assert!(!csrf.exempts("/hooks") && !csrf.exempts("/apix") && !csrf.exempts("/"));
    }

    #[test]
    fn tokens_are_found_where_sails_looks() {
        let form = Bytes::from_static(b"a=1&_csrf=ab%2Dc+d");
        assert_eq!(
            token_in_body(Some("application/x-www-form-urlencoded"), &form).as_deref(),
            Some("ab-c d")
        );
        let json = Bytes::from_static(br#"{"_csrf":"t","x":1}"#);
        assert_eq!(
            token_in_body(Some("application/json"), &json).as_deref(),
            Some("t")
        );
        assert_eq!(token_in_body(None, &Bytes::from_static(b"[1]")), None);
        assert_eq!(percent_decode("%zz%4"), "%zz%4");
    }
}
