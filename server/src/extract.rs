//! Extractors that tell a socket request from an HTTP one (Sails' `req.isSocket`
//! and `req.socket`).

use std::convert::Infallible;
use std::sync::{Arc, Weak};

use socketioxide::socket::Socket;

use crate::sails::Handshake;
use crate::sockets::SocketId;
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

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
