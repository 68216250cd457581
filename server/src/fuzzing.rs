//! Entry points for the fuzz targets (`fuzz/`): the crate's private parsers,
//! reachable from outside. Not an API.
#![doc(hidden)]

use std::future::Future;
use std::pin::pin;
use std::task::{Context, Poll, Waker};

use axum::body::Body;
use axum::http::{HeaderValue, Request, Response};

use crate::jwr::{Jwr, JwrError};
use crate::virtual_request::{ParseError, VirtualRequest};

/// Parses a virtual request event's JSON text and, when it parses, builds
/// the router's request with a fixed socket cookie and origin
/// (`Ok(None)`: a target no route matches).
pub fn virtual_request(event: &str) -> Result<Option<Request<Body>>, ParseError> {
    let cookie = HeaderValue::from_static("sails.sid=s%3Afuzz");
    let origin = HeaderValue::from_static("http://page.example");
    Ok(VirtualRequest::parse(Some(event))?.into_http(Some(&cookie), Some(&origin)))
}

/// The JWR of `response`, whose body must be in memory (never pending).
pub fn jwr(response: Response<Body>, max_body: usize) -> Result<Jwr, JwrError> {
    let future = pin!(Jwr::from_response(response, max_body));
    match future.poll(&mut Context::from_waker(Waker::noop())) {
        Poll::Ready(jwr) => jwr,
        Poll::Pending => panic!("a body in memory was read with a wait"),
    }
}
