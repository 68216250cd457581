//! A page's sockets are freed once disconnected and unreferenced, and only
//! then: scenarios of `tests/support.js` against its fake server, in headless
//! Chromium with `gc()` exposed (`webdriver.json`). A test file of its own, so
//! that the module's memory is measured on a page where nothing else runs.
#![cfg(target_arch = "wasm32")]

mod common;

use common::{api, run};
use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(module = "/tests/support.js")]
extern "C" {
    #[wasm_bindgen(js_name = disconnectedSocketsAreFreed)]
    fn disconnected_sockets_are_freed(api: &JsValue, memory: &JsValue, report: &JsValue)
    -> Promise;
    #[wasm_bindgen(js_name = socketsInUseAreKept)]
    fn sockets_in_use_are_kept(api: &JsValue) -> Promise;
}

#[wasm_bindgen_test]
async fn ten_thousand_connect_disconnect_cycles_leave_the_memory_flat() {
    let report = Closure::<dyn Fn(String)>::new(|text: String| console_log!("{text}"));
    run(disconnected_sockets_are_freed(
        &api(),
        &wasm_bindgen::memory(),
        report.as_ref(),
    ))
    .await;
}

#[wasm_bindgen_test]
async fn connected_or_referenced_sockets_are_kept() {
    run(sockets_in_use_are_kept(&api())).await;
}
