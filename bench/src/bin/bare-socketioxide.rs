//! Run: `bare-socketioxide --port 0 [--nodelay]`
//!
//! The floor the bench measures our layers against: socketioxide alone (EIO3
//! on, websocket only, like the interop app) that answers every virtual
//! request with a fixed JWR (`POST /echo` echoes its body back), joins
//! `PUT /rooms/:room/join` and broadcasts `POST /rooms/:room/broadcast`.
//! No router, no sessions; Nagle's algorithm stays on (axum's default) unless
//! `--nodelay`. Prints `listening on http://127.0.0.1:<PORT>`.

use std::net::{Ipv4Addr, SocketAddr};
use std::process::ExitCode;

use axum::serve::ListenerExt;
use serde_json::{Value, json};
use socketioxide::SocketIo;
use socketioxide::TransportType;
use socketioxide::extract::{AckSender, Data, SocketRef};

const VERBS: [&str; 5] = ["get", "post", "put", "patch", "delete"];

async fn on_request(socket: SocketRef, Data(request): Data<Value>, ack: AckSender) {
    let url = request.get("url").and_then(Value::as_str).unwrap_or("");
    let mut body = Value::String("ok!".into());
    if let Some(rest) = url.strip_prefix("/rooms/") {
        match rest.split_once('/') {
            Some((room, "join")) => socket.join(room.to_owned()),
            Some((room, "broadcast")) => {
                let data = request.get("data").unwrap_or(&Value::Null);
                let event = data
                    .get("event")
                    .and_then(Value::as_str)
                    .unwrap_or("message");
                let payload = data.get("data").unwrap_or(&Value::Null);
                let _ = socket.within(room.to_owned()).emit(event, payload).await;
                body = json!({"sent": true});
            }
            _ => {}
        }
    } else if url.starts_with("/echo") {
        body = request.get("data").cloned().unwrap_or(Value::Null);
    }
    let _ = ack.send(&json!({"body": body, "headers": {}, "statusCode": 200}));
}

/// `--port P` and `--nodelay`, in any order.
fn parse_args(args: &[String]) -> Result<(u16, bool), String> {
    let usage = || "usage: bare-socketioxide [--port 0] [--nodelay]".to_owned();
    let (mut port, mut nodelay) = (0, false);
    let mut rest = args.iter();
    while let Some(arg) = rest.next() {
        match arg.as_str() {
            "--nodelay" => nodelay = true,
            "--port" => {
                let value = rest.next().ok_or_else(usage)?;
                port = value
                    .parse()
                    .map_err(|_| format!("--port: `{value}` is not a port number"))?;
            }
            _ => return Err(usage()),
        }
    }
    Ok((port, nodelay))
}

#[tokio::main]
async fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (port, nodelay) = match parse_args(&args) {
        Ok(parsed) => parsed,
        Err(message) => {
            eprintln!("{message}");
            return ExitCode::from(2);
        }
    };
    let (layer, io) = SocketIo::builder()
        .transports([TransportType::Websocket])
        .build_layer();
    io.ns("/", async |socket: SocketRef| {
        for verb in VERBS {
            socket.on(verb, on_request);
        }
    });
    let app = axum::Router::new().layer(layer);
    let served = async {
        let listener =
            tokio::net::TcpListener::bind(SocketAddr::from((Ipv4Addr::LOCALHOST, port))).await?;
        println!("listening on http://{}", listener.local_addr()?);
        let listener = listener.tap_io(move |tcp| {
            if nodelay {
                // A failure only leaves Nagle on for that connection.
                let _ = tcp.set_nodelay(true);
            }
        });
        axum::serve(listener, app).await
    };
    match served.await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("bare-socketioxide: {error}");
            ExitCode::FAILURE
        }
    }
}
