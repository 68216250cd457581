//! The WebSocket under a socket: dropping a [`Transport`] detaches its event
//! handlers and closes the connection.

use js_sys::{ArrayBuffer, Function, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{BinaryType, MessageEvent, WebSocket};

/// What arrives on the WebSocket.
pub(crate) enum Frame {
    /// A text frame (an Engine.IO packet).
    Text(String),
    /// A binary frame (an attachment).
    Binary(Vec<u8>),
}

impl Frame {
    /// The frame a `message` event carries (`None` for a kind of data the
    /// socket never asked for).
    pub(crate) fn of(event: &JsValue) -> Option<Self> {
        let data = event.unchecked_ref::<MessageEvent>().data();
        if let Some(text) = data.as_string() {
            Some(Self::Text(text))
        } else {
            data.dyn_ref::<ArrayBuffer>()
                .map(|buffer| Self::Binary(Uint8Array::new(buffer).to_vec()))
        }
    }
}

/// An open or opening WebSocket.
pub(crate) struct Transport {
    socket: WebSocket,
}

impl Transport {
    /// Opens `url`; `on_message` gets each `message` event (see
    /// [`Frame::of`]), `on_close` the end of the connection (also after a
    /// failure to connect).
    pub(crate) fn open(
        url: &str,
        on_message: &Function,
        on_close: &Function,
    ) -> Result<Self, JsValue> {
        let socket = WebSocket::new(url)?;
        socket.set_binary_type(BinaryType::Arraybuffer);
        socket.set_onmessage(Some(on_message));
        socket.set_onclose(Some(on_close));
        Ok(Self { socket })
    }

    /// Sends a text frame; `false` when the socket is not open.
    pub(crate) fn send(&self, frame: &str) -> bool {
        self.socket.ready_state() == WebSocket::OPEN && self.socket.send_with_str(frame).is_ok()
    }
}

impl Drop for Transport {
    fn drop(&mut self) {
        self.socket.set_onmessage(None);
        self.socket.set_onclose(None);
        if self.socket.ready_state() < WebSocket::CLOSING {
            // Closing an already failing socket may throw; nothing to do then.
            let _ = self.socket.close();
        }
    }
}
