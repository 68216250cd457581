//! Run: `cargo bench -p sails-bench --bench jwr`
//!
//! The answer half of a virtual request: an HTTP response turned into the
//! JWR `{body, headers, statusCode}` and serialised for the ack.

use std::hint::black_box;

use axum::body::Body;
use axum::http::{Response, header};
use criterion::Criterion;
use futures_util::FutureExt;
use sails_server::Jwr;

const MAX_BODY: usize = 16 * 1024 * 1024;

fn text_response() -> Response<Body> {
    Response::builder()
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Body::from("ok!"))
        .expect("a valid response")
}

fn json_response(body: &str) -> Response<Body> {
    Response::builder()
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(body.to_owned()))
        .expect("a valid response")
}

/// A full body is ready at once: no runtime needed.
fn jwr(response: Response<Body>) -> Jwr {
    Jwr::from_response(response, MAX_BODY)
        .now_or_never()
        .expect("a full body is ready at once")
        .expect("a readable body")
}

fn from_response(c: &mut Criterion) {
    c.bench_function("jwr: text body (GET /hello)", |b| {
        b.iter(|| serde_json::to_string(&jwr(text_response())))
    });
    let echo = format!(
        r#"{{"method":"POST","url":"/echo","path":"/echo","query":{{}},"body":{{"pad":"{}"}},"isSocket":true,"socketId":"abc","headers":{{"content-type":"application/json"}}}}"#,
        "x".repeat(1014)
    );
    c.bench_function("jwr: 1 KB JSON body (POST /echo)", |b| {
        b.iter(|| serde_json::to_string(&jwr(json_response(black_box(&echo)))))
    });
}

fn main() {
    let mut criterion = Criterion::default().configure_from_args();
    from_response(&mut criterion);
    criterion.final_summary();
}
