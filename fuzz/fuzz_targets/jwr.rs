//! A response turned into a JWR. The input reads like an HTTP response:
//!
//! ```text
//! <status> <max body> <piece size>
//! name: value
//! …
//!
//! body
//! ```
//!
//! The body reaches the JWR in pieces of `<piece size>` bytes (0: one
//! piece). No panic; a body within the limit gives a JWR, a larger one an
//! error; the JWR serialises to JSON with the response's status and without
//! `set-cookie` or `content-length`; a text body has a JSON value, a JSON one
//! equals itself; only an empty 200 has no body.
#![no_main]

use std::collections::HashMap;

use axum::body::{Body, Bytes};
use axum::http::{HeaderName, HeaderValue, Response, StatusCode};
use libfuzzer_sys::fuzz_target;
use sails_server::JwrBody;
use sails_server::fuzzing;
use serde_json::value::RawValue;

/// The largest limit and piece size the input may ask for.
const MAX: usize = 1 << 20;

fn number(text: Option<&[u8]>) -> Option<usize> {
    std::str::from_utf8(text?).ok()?.trim().parse().ok()
}

fuzz_target!(|data: &[u8]| {
    let (head, body) = match data.windows(2).position(|pair| pair == b"\n\n") {
        Some(at) => (&data[..at], &data[at + 2..]),
        None => (data, &[][..]),
    };
    let mut lines = head.split(|&b| b == b'\n');
    let mut first = lines.next().unwrap_or_default().split(|&b| b == b' ');
    let Some(status) = number(first.next())
        .and_then(|status| u16::try_from(status).ok())
        .and_then(|status| StatusCode::from_u16(status).ok())
    else {
        return;
    };
    let max_body = number(first.next()).unwrap_or(MAX).min(MAX);
    let piece = number(first.next()).unwrap_or(0).min(MAX);

    let pieces: Vec<Bytes> = match piece {
        0 => vec![Bytes::copy_from_slice(body)],
        size => body.chunks(size).map(Bytes::copy_from_slice).collect(),
    };
    let stream = futures_util::stream::iter(pieces.into_iter().map(Ok::<_, std::io::Error>));
    let mut response = Response::new(Body::from_stream(stream));
    *response.status_mut() = status;
    for line in lines {
        let Some(colon) = line.iter().position(|&b| b == b':') else {
            continue;
        };
        let (name, value) = (&line[..colon], line[colon + 1..].trim_ascii());
        if let (Ok(name), Ok(value)) =
            (HeaderName::from_bytes(name), HeaderValue::from_bytes(value))
        {
            response.headers_mut().append(name, value);
        }
    }

    let Ok(jwr) = fuzzing::jwr(response, max_body) else {
        assert!(body.len() > max_body, "a body within the limit was refused");
        return;
    };
    assert!(body.len() <= max_body, "a body over the limit was read");
    assert_eq!(jwr.status_code, status.as_u16());
    match &jwr.body {
        // Nothing answered: only an empty 200 without a `content-type`.
        None => assert!(body.is_empty() && status == StatusCode::OK),
        Some(JwrBody::Binary(_)) => {}
        // Any JSON text, even one too deep for a `Value`, equals itself.
        Some(raw @ JwrBody::RawJson(_)) => assert_eq!(raw, &raw.clone()),
        Some(other) => assert!(other.to_value().is_some(), "{other:?}"),
    }
    let json = serde_json::to_string(&jwr).expect("a JWR serialises");
    // Its fields as text: a JSON body may be deeper than a `Value` may be.
    let fields: HashMap<String, Box<RawValue>> =
        serde_json::from_str(&json).expect("a JWR is JSON");
    let status_code: u16 = serde_json::from_str(fields["statusCode"].get()).expect("a status");
    assert_eq!(status_code, status.as_u16());
    let headers: HashMap<String, String> =
        serde_json::from_str(fields["headers"].get()).expect("headers are an object of strings");
    assert!(!headers.contains_key("set-cookie") && !headers.contains_key("content-length"));
});
