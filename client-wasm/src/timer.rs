//! `setTimeout` owned: dropping a [`Timeout`] cancels it.

use js_sys::Function;
use wasm_bindgen::{JsValue, prelude::wasm_bindgen};

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
}

impl Timeout {
    /// Calls `callback` once after `ms` milliseconds.
    pub(crate) fn new(ms: u32, callback: &Function) -> Self {
        Self {
            id: set_timeout(callback, f64::from(ms)),
        }
    }
}

impl Drop for Timeout {
    fn drop(&mut self) {
        clear_timeout(&self.id);
    }
}
