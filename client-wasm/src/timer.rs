//! `setTimeout` with an owned callback: dropping a [`Timeout`] cancels it and
//! frees its closure.

use js_sys::Function;
use wasm_bindgen::{JsCast, JsValue, prelude::wasm_bindgen};

use crate::Handler;

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_name = setTimeout)]
    fn set_timeout(callback: &Function, ms: f64) -> JsValue;
    #[wasm_bindgen(js_name = clearTimeout)]
    fn clear_timeout(id: &JsValue);
}

/// A pending timer; cancelled when dropped.
pub(crate) struct Timeout {
    id: JsValue,
    _callback: Handler,
}

impl Timeout {
    /// Calls `callback` once after `ms` milliseconds; an error it returns
    /// is thrown to the browser once the callback is done.
    pub(crate) fn new(ms: u32, callback: Box<dyn FnOnce() -> Result<(), JsValue>>) -> Self {
        let mut callback = Some(callback);
        let closure = Handler::new(move |_| callback.take().map_or(Ok(()), |callback| callback()));
        let id = set_timeout(closure.as_ref().unchecked_ref(), f64::from(ms));
        Self {
            id,
            _callback: closure,
        }
    }
}

impl Drop for Timeout {
    fn drop(&mut self) {
        clear_timeout(&self.id);
    }
}
