//! The work every virtual request does on its way through, one call at a
//! time: the wire codec on a request and its answer, and the JWR made from
//! an HTTP response. The Criterion benches time these; `sails-instructions`
//! runs them under valgrind to count their instructions.

use std::hint::black_box;
use std::sync::LazyLock;

use axum::body::Body;
use axum::http::{Response, header};
use futures_util::FutureExt;
use sails_protocol::engine::EnginePacket;
use sails_protocol::socket::{PacketType, SocketPacket};
use sails_server::Jwr;

/// One piece of per-request work.
pub struct HotPath {
    /// Its name on the command line and in the baseline file.
    pub key: &'static str,
    /// What it is, in reports.
    pub name: &'static str,
    /// Does it once.
    pub run: fn(),
}

/// Every hot path, the codec's first (their keys start with `codec-` or `jwr-`).
pub const HOT_PATHS: [HotPath; 5] = [
    HotPath {
        key: "codec-decode-request",
        name: "decode request frame (Engine.IO + Socket.IO)",
        run: decode_request,
    },
    HotPath {
        key: "codec-decode-ack",
        name: "decode ack frame",
        run: decode_ack,
    },
    HotPath {
        key: "codec-encode-request",
        name: "encode request frame",
        run: encode_request,
    },
    HotPath {
        key: "jwr-text",
        name: "jwr: text body (GET /hello), response to JSON text",
        run: jwr_text,
    },
    HotPath {
        key: "jwr-json-1k",
        name: "jwr: 1 KB JSON body (POST /echo), response to JSON text",
        run: jwr_json_1k,
    },
];

const REQUEST: &str = r#"4212["get",{"method":"get","headers":{},"data":{},"url":"/hello"}]"#;
const ACK: &str = r#"4312[{"body":"ok!","headers":{"content-type":"text/plain; charset=utf-8"},"statusCode":200}]"#;
const PAYLOAD: &str = r#"["get",{"method":"get","headers":{},"data":{},"url":"/hello"}]"#;
const MAX_BODY: usize = 16 * 1024 * 1024;

/// What the interop app's `POST /echo` answers to a 1 KB body.
static ECHO: LazyLock<String> = LazyLock::new(|| {
    format!(
        r#"{{"method":"POST","url":"/echo","path":"/echo","query":{{}},"body":{{"pad":"{}"}},"isSocket":true,"socketId":"abc","headers":{{"content-type":"application/json"}}}}"#,
        "x".repeat(1014)
    )
});

fn decode(frame: &str) {
    let packet = match EnginePacket::decode(black_box(frame)) {
        Ok(EnginePacket::Message(data)) => SocketPacket::decode(data).ok(),
        _ => None,
    };
    black_box(packet);
}

fn decode_request() {
    decode(REQUEST);
}

fn decode_ack() {
    decode(ACK);
}

fn encode_request() {
    let packet = SocketPacket::new(PacketType::Event, Some(12), black_box(PAYLOAD));
    black_box(EnginePacket::Message(&packet.encode()).encode());
}

/// The JWR of `response`, serialised; a full body is ready at once, so no
/// runtime is needed.
fn jwr_of(response: Response<Body>) {
    let jwr = Jwr::from_response(response, MAX_BODY)
        .now_or_never()
        .expect("a full body is ready at once")
        .expect("a readable body");
    black_box(serde_json::to_string(&jwr).expect("a JWR serialises"));
}

fn jwr_text() {
    let response = Response::builder()
        .header(header::CONTENT_TYPE, "text/plain; charset=utf-8")
        .body(Body::from(black_box("ok!")))
        .expect("a valid response");
    jwr_of(response);
}

fn jwr_json_1k() {
    let response = Response::builder()
        .header(header::CONTENT_TYPE, "application/json")
        .body(Body::from(black_box(ECHO.as_str()).to_owned()))
        .expect("a valid response");
    jwr_of(response);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_hot_path_runs_and_keys_are_unique() {
        for path in &HOT_PATHS {
            (path.run)();
        }
        let mut keys: Vec<_> = HOT_PATHS.iter().map(|path| path.key).collect();
        keys.sort_unstable();
        keys.dedup();
        assert_eq!(keys.len(), HOT_PATHS.len());
    }
}
