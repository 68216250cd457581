//! Extractors that tell a socket request from an HTTP one (Sails' `req.isSocket`
//! and `req.socket`).

use std::convert::Infallible;

use crate::sockets::SocketId;
use axum::extract::{FromRequestParts, OptionalFromRequestParts};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};

/// The socket a virtual request came from.
///
/// As an extractor it rejects HTTP requests with 400; take
/// `Option<SocketRequest>` to serve both.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SocketRequest {
    id: SocketId,
}

impl SocketRequest {
    pub(crate) fn new(id: SocketId) -> Self {
        Self { id }
    }

    /// The requesting socket's id (Sails' `sails.sockets.getId(req)`); also a room name.
    pub fn id(&self) -> SocketId {
        self.id
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
