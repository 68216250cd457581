//! The WebSocket under a socket, with its event handlers owned: dropping a
//! [`Transport`] detaches them and closes the connection.

use js_sys::{ArrayBuffer, Uint8Array};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::{BinaryType, MessageEvent, WebSocket};

use crate::Handler;

/// What arrives on the WebSocket.
pub(crate) enum Frame {
    /// A text frame (an Engine.IO packet).
    Text(String),
    /// A binary frame (an attachment).
    Binary(Vec<u8>),
}

/// An open or opening WebSocket.
pub(crate) struct Transport {
    socket: WebSocket,
    _on_message: Handler,
    _on_close: Handler,
}

impl Transport {
    /// Opens `url`; `on_frame` gets each frame, `on_close` the end of the
    /// connection (also after a failure to connect). An error they return is
    /// thrown to the browser after the handler is done.
    pub(crate) fn open(
        url: &str,
        mut on_frame: impl FnMut(Frame) -> Result<(), JsValue> + 'static,
        mut on_close: impl FnMut() -> Result<(), JsValue> + 'static,
    ) -> Result<Self, JsValue> {
        let socket = WebSocket::new(url)?;
        socket.set_binary_type(BinaryType::Arraybuffer);
        let on_message = Handler::new(move |event: JsValue| {
            let data = event.unchecked_into::<MessageEvent>().data();
            if let Some(text) = data.as_string() {
                on_frame(Frame::Text(text))
            } else if let Some(buffer) = data.dyn_ref::<ArrayBuffer>() {
                on_frame(Frame::Binary(Uint8Array::new(buffer).to_vec()))
            } else {
                Ok(())
            }
        });
        let on_close = Handler::new(move |_| on_close());
        socket.set_onmessage(Some(on_message.as_ref().unchecked_ref()));
        socket.set_onclose(Some(on_close.as_ref().unchecked_ref()));
        Ok(Self {
            socket,
            _on_message: on_message,
            _on_close: on_close,
        })
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
