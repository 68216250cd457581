//! Tests that run inside headless Chromium (`wasm-pack test --headless --chrome`).
#![cfg(target_arch = "wasm32")]

use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen_test]
fn announces_the_sails_io_js_sdk() {
    let version = sails_io_wasm::sdk_version_string();
    assert!(version.starts_with("__sails_io_sdk_version=1.2.1&"));
    // The test really runs in a browser page: the DOM is there.
    let has_document = js_sys::Reflect::has(&js_sys::global(), &"document".into()).unwrap();
    assert!(has_document);
}
