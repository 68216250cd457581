//! What the browser test files share: the module's exports as the scenarios
//! of `tests/support.js` take them, and the way a scenario fails a test.

use js_sys::{Object, Promise, Reflect};
use wasm_bindgen::prelude::*;
use wasm_bindgen_futures::JsFuture;

/// `{ connect, createSocket, sails }`, the module's exports as JS functions.
pub(crate) fn api() -> JsValue {
    let api = Object::new();
    let connect =
        Closure::<dyn Fn(JsValue, JsValue) -> Result<JsValue, JsValue>>::new(|url, opts| {
            sails_io_wasm::connect(Some(url), Some(opts)).map(JsValue::from)
        });
    let create = Closure::<dyn Fn(JsValue) -> JsValue>::new(|opts| {
        sails_io_wasm::create_socket(Some(opts)).into()
    });
    let sails = Closure::<dyn Fn() -> JsValue>::new(|| sails_io_wasm::sails().into());
    for (name, function) in [
        ("connect", connect.into_js_value()),
        ("createSocket", create.into_js_value()),
        ("sails", sails.into_js_value()),
    ] {
        Reflect::set(&api, &name.into(), &function).unwrap();
    }
    api.into()
}

/// Awaits a scenario and fails the test with its error message.
pub(crate) async fn run(scenario: Promise) {
    if let Err(error) = JsFuture::from(scenario).await {
        let message = Reflect::get(&error, &"message".into())
            .ok()
            .and_then(|m| m.as_string())
            .unwrap_or_else(|| format!("{error:?}"));
        panic!("{message}");
    }
}
