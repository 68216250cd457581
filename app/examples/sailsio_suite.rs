//! Run: `cargo run -p sails-app --example sailsio_suite -- --port 0`
//!
//! The app that sails.io.js 1.2.1's own test suite expects: a few routes
//! (`/hello` for every verb, JSON, `null` and `0` bodies, a 501, request and
//! handshake headers, a handshake query parameter, a session counter, a slow
//! route, `/foo` and `/bar`, `/blast`), sessions in memory, any origin, WebSocket and long-polling
//! transports, and the Socket.IO endpoint at `/socket.io`, `/socketsarefun` and
//! `/socketz`, all three one server. Prints one ready line,
//! `listening on http://127.0.0.1:<PORT>`, once it accepts sockets.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;
use std::time::Duration;

use axum::Router;
use axum::body::Bytes;
use axum::extract::Query;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Json, Response};
use axum::routing::{get, post};
use serde::Deserialize;
use serde_json::{Value, json};
use tower_sessions::{MemoryStore, Session};

use sails_server::{
    DEFAULT_EVENT, Handshake, OriginPolicy, Sails, Sockets, SocketsConfig, Transport,
};

/// How long `GET /ok` waits before it answers: 150 ms, where the suite's
/// own route waits 100 ms. Its disconnect case sends `/ok` at 100, 200 and
/// 300 ms and disconnects at 400 ms, expecting the first two answered and the
/// third still running; with 100 ms the third answer is due the very
/// millisecond the client disconnects, which Sails (a few milliseconds slower
/// per request) wins and a server answering on time loses now and then.
/// 150 ms leaves 50 ms either way.
const OK_DELAY: Duration = Duration::from_millis(150);

#[tokio::main]
async fn main() -> ExitCode {
    let port = match port_from(std::env::args().skip(1)) {
        Ok(port) => port,
        Err(message) => {
            eprintln!("sailsio_suite: {message}\nusage: sailsio_suite [--port 1337]");
            return ExitCode::from(2);
        }
    };
    sails_app::cli::install_logging();
    let mut sockets = SocketsConfig::default();
    sockets.extra_paths = vec!["/socketsarefun".into(), "/socketz".into()];
    sockets.transports = vec![Transport::Websocket, Transport::Polling];
    sockets.origins = OriginPolicy::AnyOrigin;
    let (app, _) = Sails::builder()
        .config(sockets.clone())
        .sessions(MemoryStore::default())
        .build(routes());
    let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
    match sails_app::serve(addr, &sockets, app).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("sailsio_suite: {error}");
            ExitCode::FAILURE
        }
    }
}

/// The port of `--port P` (or `--port=P`), 1337 without it.
fn port_from(mut args: impl Iterator<Item = String>) -> Result<u16, String> {
    let mut port = 1337;
    while let Some(arg) = args.next() {
        let value = match arg.strip_prefix("--port") {
            Some("") => args.next().ok_or("--port needs a value")?,
            Some(inline) if inline.starts_with('=') => inline[1..].to_owned(),
            _ => return Err(format!("unknown argument `{arg}`")),
        };
        port = value
            .parse()
            .map_err(|_| format!("--port: `{value}` is not a port number"))?;
    }
    Ok(port)
}

/// The suite's routes.
fn routes() -> Router {
    Router::new()
        .route(
            "/hello",
            get(|| async { "ok!" })
                .delete(|| async { "deleted!" })
                .post(|| async { "posted!" })
                .put(|| async { "putted!" })
                .patch(|| async { "patched!" }),
        )
        .route("/someJSON", get(|| async { Json(json!({"foo": "bar"})) }))
        .route("/someNull", get(|| async { Json(Value::Null) }))
        .route("/someZero", get(|| async { Json(0) }))
        .route(
            "/someError",
            get(|| async { (StatusCode::NOT_IMPLEMENTED, Json(json!({"blah": "blah"}))) }),
        )
        .route("/headers", get(test_header))
        .route("/headersOverride", get(test_header))
        .route("/headersRemove", get(test_header))
        .route("/count", get(count))
        .route("/ok", get(ok))
        .route("/auth", post(auth))
        .route("/foo", get(|| async { "foo" }))
        .route("/bar", get(|| async { "bar" }))
        .route("/canikickit", get(can_i_kick_it))
        .route("/blast", post(blast))
}

/// A string answered as it is, or nothing at all (a JWR without `body`).
fn text_or_nothing(text: Option<&str>) -> Response {
    match text {
        Some(text) => text.to_owned().into_response(),
        None => ().into_response(),
    }
}

/// The request header `x-test-header-one`.
async fn test_header(headers: HeaderMap) -> Response {
    text_or_nothing(
        headers
            .get("x-test-header-one")
            .and_then(|value| value.to_str().ok()),
    )
}

/// The session's counter: 1, 2, 3, … per session; `NOSESSION` for a
/// request without one (a `nosession` header, of its own or its socket's).
async fn count(headers: HeaderMap, session: Session) -> Result<Response, StatusCode> {
    if headers.contains_key("nosession") {
        return Ok("NOSESSION".into_response());
    }
    let store_failed = |_| StatusCode::INTERNAL_SERVER_ERROR;
    let count = session
        .get::<u64>("count")
        .await
        .map_err(store_failed)?
        .unwrap_or(1);
    session
        .insert("count", count + 1)
        .await
        .map_err(store_failed)?;
    Ok(Json(count).into_response())
}

#[derive(Deserialize)]
struct OkQuery {
    x: Option<String>,
}

/// The query parameter `x`, after [`OK_DELAY`].
async fn ok(Query(query): Query<OkQuery>) -> Response {
    tokio::time::sleep(OK_DELAY).await;
    text_or_nothing(query.x.as_deref())
}

/// The `token` parameter of the socket's handshake query.
async fn auth(handshake: Handshake) -> Response {
    text_or_nothing(handshake.query_value("token"))
}

/// The `canikickit` header of the socket's handshake.
async fn can_i_kick_it(handshake: Handshake) -> Response {
    text_or_nothing(
        handshake
            .headers
            .get("canikickit")
            .and_then(|value| value.to_str().ok()),
    )
}

#[derive(Deserialize)]
struct BlastBody {
    event: Option<String>,
    #[serde(default)]
    data: Value,
}

/// `{event?, data}` sent to every connected socket (Sails' `sails.sockets.blast`).
async fn blast(sockets: Sockets, body: Bytes) -> Result<Json<Value>, (StatusCode, &'static str)> {
    let body: BlastBody = serde_json::from_slice(&body).map_err(|_| {
        (
            StatusCode::BAD_REQUEST,
            "Expected a JSON body {event?, data}.",
        )
    })?;
    let event = body.event.as_deref().unwrap_or(DEFAULT_EVENT);
    sockets
        .all()
        .emit(event, &body.data)
        .await
        .map_err(|_| (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error"))?;
    Ok(Json(json!({ "sent": true })))
}
