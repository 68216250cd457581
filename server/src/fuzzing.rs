//! Entry points for the fuzz targets (`fuzz/`): the crate's private parsers,
//! reachable from outside. Not an API.
#![doc(hidden)]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use axum::body::Body;
use axum::http::{HeaderValue, Request, Response};

use crate::config::RequestLimits;
use crate::jwr::{Jwr, JwrError};
use crate::listener::Incoming;
use crate::virtual_request::{ParseError, Refusal, SocketHeaders, VirtualRequest};

/// The `cookie` header of the socket [`virtual_request`] sends from.
pub const SOCKET_COOKIE: &str = "sails.sid=s%3Afuzz";
/// The `origin` header of the socket [`virtual_request`] sends from.
pub const SOCKET_ORIGIN: &str = "http://page.example";

/// Parses a virtual request event's JSON text and, when it parses, builds
/// the router's request as a socket with [`SOCKET_COOKIE`] and
/// [`SOCKET_ORIGIN`] would send it, under the default limits (`Ok(Err(_))`:
/// answered without the router, a 404 or a limit's 4xx).
pub fn virtual_request(event: &str) -> Result<Result<Request<Body>, Refusal>, ParseError> {
    let socket = SocketHeaders {
        cookie: Some(HeaderValue::from_static(SOCKET_COOKIE)),
        origin: Some(HeaderValue::from_static(SOCKET_ORIGIN)),
        nosession: false,
    };
    Ok(VirtualRequest::parse(Some(event))?.into_http(&socket, &RequestLimits::default()))
}

/// The JWR of `response`, whose body must be in memory (never pending).
pub fn jwr(response: Response<Body>, max_body: usize) -> Result<Jwr, JwrError> {
    let future = pin!(Jwr::from_response(response, max_body));
    match future.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(jwr) => jwr,
        Poll::Pending => panic!("a body in memory was read with a wait"),
    }
}

/// Follows a client's WebSocket frames through `bytes`, whole and split at
/// `split`, with a message limit of `max`; returns where the first message
/// over the limit begins. Panics when the split changes the answer (split,
/// a header that began in the first part is reported at the second's start).
pub fn ws_frames(bytes: &[u8], split: usize, max: u64) -> Option<usize> {
    let whole = Incoming::new(max).check(bytes);
    let (first, second) = bytes.split_at(split.min(bytes.len()));
    let mut incoming = Incoming::new(max);
    let in_parts = incoming
        .check(first)
        .or_else(|| incoming.check(second).map(|at| first.len() + at));
    let expected = whole.map(|at| {
        if at < first.len() && in_parts.is_some_and(|found| found >= first.len()) {
            first.len()
        } else {
            at
        }
    });
    assert_eq!(in_parts, expected, "split at {split}");
    whole
}
