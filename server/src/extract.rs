//! Extractors that tell a socket request from an HTTP one (Sails' `req.isSocket`
//! and `req.socket`), and the socket's handshake (`req.socket.handshake`).

use std::convert::Infallible;
use std::sync::{Arc, Weak};

use crate::cluster::Socket;
use axum::extract::{FromRequestParts, OptionalFromRequestParts, OriginalUri};
use axum::http::request::Parts;
use axum::http::{HeaderMap, StatusCode, Uri};
use axum::response::{IntoResponse, Response};

use crate::sockets::SocketId;

/// The socket a virtual request came from.
///
/// As an extractor it rejects HTTP requests with 400; take
/// `Option<SocketRequest>` to serve both.
#[derive(Debug, Clone)]
pub struct SocketRequest {
    id: SocketId,
    socket: Weak<Socket>,
}

impl PartialEq for SocketRequest {
    fn eq(&self, other: &Self) -> bool {
        self.id == other.id
    }
}

impl Eq for SocketRequest {}

impl SocketRequest {
    pub(crate) fn new(socket: &Arc<Socket>) -> Self {
        Self {
            id: SocketId::new(socket.id),
            socket: Arc::downgrade(socket),
        }
    }

    /// The requesting socket's id (Sails' `sails.sockets.getId(req)`); also a room name.
    pub fn id(&self) -> SocketId {
        self.id
    }

    /// The requesting socket's handshake (Sails' `req.socket.handshake`):
    /// the headers and URL of the request that opened it; `None` once the
    /// socket is gone. Also an extractor of its own, [`Handshake`].
    pub fn handshake(&self) -> Option<Handshake> {
        self.socket.upgrade().map(|socket| Handshake::of(&socket))
    }
}

/// The rejection of [`SocketRequest`] for a plain HTTP request.
#[derive(Debug, thiserror::Error)]
#[error("This endpoint only answers socket requests.")]
pub struct NotASocketRequest;

impl IntoResponse for NotASocketRequest {
    fn into_response(self) -> Response {
        (StatusCode::BAD_REQUEST, self.to_string()).into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for SocketRequest {
    type Rejection = NotASocketRequest;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts
            .extensions
            .get::<SocketRequest>()
            .cloned()
            .ok_or(NotASocketRequest)
    }
}

impl<S: Send + Sync> OptionalFromRequestParts<S> for SocketRequest {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Option<Self>, Self::Rejection> {
        Ok(parts.extensions.get::<SocketRequest>().cloned())
    }
}

/// `req.isSocket`: whether the request is a socket virtual request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IsSocket(pub bool);

impl<S: Send + Sync> FromRequestParts<S> for IsSocket {
    type Rejection = Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(Self(parts.extensions.get::<SocketRequest>().is_some()))
    }
}

/// The rejection of [`Handshake`] as an extractor.
#[derive(Debug, thiserror::Error)]
pub enum HandshakeRejection {
    /// A plain HTTP request has no handshake (400).
    #[error("This endpoint only answers socket requests.")]
    NotASocketRequest,
    /// The requesting socket has disconnected (410); nobody reads the answer.
    #[error("The socket has disconnected.")]
    Disconnected,
}

impl IntoResponse for HandshakeRejection {
    fn into_response(self) -> Response {
        let status = match self {
            Self::NotASocketRequest => StatusCode::BAD_REQUEST,
            Self::Disconnected => StatusCode::GONE,
        };
        (status, self.to_string()).into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Handshake {
    type Rejection = HandshakeRejection;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        let socket = parts
            .extensions
            .get::<SocketRequest>()
            .ok_or(HandshakeRejection::NotASocketRequest)?;
        socket.handshake().ok_or(HandshakeRejection::Disconnected)
    }
}

/// What a `before_connect` hook sees of a handshake; also an extractor, in
/// handlers of socket requests, of the handshake of the requesting socket
/// (Sails' `req.socket.handshake`), which rejects HTTP requests with 400.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Handshake {
    /// The handshake request's headers (`cookie`, `origin`, `user-agent`, …).
    pub headers: HeaderMap,
    /// The handshake URL, with its query (`__sails_io_sdk_version=…`, the client's own query).
    pub uri: Uri,
}

impl Handshake {
    /// The handshake of a connected socket, as its client sent it.
    pub(crate) fn of(socket: &Socket) -> Self {
        let parts = socket.req_parts();
        // The URI before any rewrite (an extra path of the endpoint).
        let uri = parts
            .extensions
            .get::<OriginalUri>()
            .map_or_else(|| parts.uri.clone(), |original| original.0.clone());
        Self {
            headers: parts.headers.clone(),
            uri,
        }
    }
}

impl Handshake {
    /// The raw (not percent-decoded) value of a query parameter of the handshake URL.
    pub fn query_value(&self, key: &str) -> Option<&str> {
        query_value(&self.uri, key)
    }
}

/// The raw value of the query parameter `key` of `uri`, if present.
pub(crate) fn query_value<'a>(uri: &'a Uri, key: &str) -> Option<&'a str> {
    uri.query()?.split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        (name == key).then_some(value)
    })
}
