//! The shared test client (`sails-testkit`), and the demo app served for the tests.

use std::net::SocketAddr;
use std::path::PathBuf;

pub(crate) use sails_testkit::*;

/// The repository's `www/` directory.
pub(crate) fn www() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../www"))
}

/// The demo app with default configuration, served.
pub(crate) async fn demo() -> SocketAddr {
    serve(sails_app::demo::app(www()).0).await
}

/// The demo app served, with its realtime handle for use outside handlers.
pub(crate) async fn demo_with_handle() -> (SocketAddr, sails_server::Sails) {
    let (app, sails) = sails_app::demo::app(www());
    (serve(app).await, sails)
}

type WebSocket =
    tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

/// An EIO3 WebSocket handled frame by frame, for tests that decide when it
/// reads (or that it stops reading) and what it sends.
pub(crate) struct RawSocket(WebSocket);

impl RawSocket {
    /// Connects to the demo at `addr` as sails.io.js does, and waits for the
    /// namespace's connect packet.
    pub(crate) async fn connect(addr: SocketAddr) -> Self {
        Self::connect_with(addr, "").await
    }

    /// [`connect`](Self::connect) with more of a handshake query (`&key=value…`).
    pub(crate) async fn connect_with(addr: SocketAddr, query: &str) -> Self {
        Self::connect_with_cookie(addr, query, None).await
    }

    /// [`connect_with`](Self::connect_with), sending `cookie` with the handshake.
    pub(crate) async fn connect_with_cookie(
        addr: SocketAddr,
        query: &str,
        cookie: Option<&str>,
    ) -> Self {
        use tokio_tungstenite::tungstenite::client::IntoClientRequest;
        let url = format!(
            "ws://{addr}/socket.io/?EIO=3&transport=websocket&__sails_io_sdk_version=1.2.1{query}"
        );
        let mut request = url.into_client_request().expect("a WebSocket request");
        if let Some(cookie) = cookie {
            request
                .headers_mut()
                .insert("cookie", cookie.parse().expect("a cookie header"));
        }
        let (ws, _) = tokio::time::timeout(WAIT, tokio_tungstenite::connect_async(request))
            .await
            .expect("connects in time")
            .expect("connects");
        let mut socket = Self(ws);
        while socket.next_text().await.expect("the connect packet") != "40" {}
        socket
    }

    /// Sends one text frame.
    pub(crate) async fn send(&mut self, text: &str) {
        use futures_util::SinkExt;
        self.0
            .send(tokio_tungstenite::tungstenite::Message::text(text))
            .await
            .expect("sends");
    }

    /// The next text frame (other frames are skipped), `None` once the
    /// connection is closed; panics when nothing comes within [`WAIT`].
    pub(crate) async fn next_text(&mut self) -> Option<String> {
        use futures_util::StreamExt;
        use tokio_tungstenite::tungstenite::Message;
        loop {
            match tokio::time::timeout(WAIT, self.0.next()).await {
                Ok(Some(Ok(Message::Text(text)))) => return Some(text.to_string()),
                Ok(Some(Ok(_))) => {}
                Ok(Some(Err(_)) | None) => return None,
                Err(_) => panic!("nothing read within {WAIT:?}"),
            }
        }
    }

    /// Sends a virtual request as sails.io.js frames it (ack id 1), and
    /// waits for its answer's frame.
    pub(crate) async fn request(&mut self, method: &str, url: &str) -> String {
        self.send(&format!(r#"421["{method}",{{"url":"{url}"}}]"#))
            .await;
        loop {
            let text = self.next_text().await.expect("the answer");
            if let Some(answer) = text.strip_prefix("431") {
                return answer.to_owned();
            }
        }
    }
}
