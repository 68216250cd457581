//! Tests that run inside headless Chromium (`wasm-pack test --headless --chrome`).
//!
//! Each test drives one scenario of `tests/support.js`, written against the
//! client's JS API as a page uses it. The server scenarios run twice: against
//! our interop server (`SAILS_TEST_URL`) and against the real Sails app with
//! the same routes (`SAILS_APP_TEST_URL`), both URLs read at compile time
//! (`cargo xtask test` starts both servers and sets them). The other tests
//! replace `WebSocket` with a fake server to play bad input, heartbeats and
//! reconnection exactly.
#![cfg(target_arch = "wasm32")]

mod common;

use common::{api, run};
use js_sys::Promise;
use wasm_bindgen::prelude::*;
use wasm_bindgen_test::*;

wasm_bindgen_test_configure!(run_in_browser);

#[wasm_bindgen(module = "/tests/support.js")]
extern "C" {
    #[wasm_bindgen(js_name = verbsAndJwr)]
    fn verbs_and_jwr(api: &JsValue, url: &str) -> Promise;
    fn promises(api: &JsValue, url: &str) -> Promise;
    fn validation(api: &JsValue, url: &str) -> Promise;
    #[wasm_bindgen(js_name = headersPrecedence)]
    fn headers_precedence(api: &JsValue, url: &str) -> Promise;
    #[wasm_bindgen(js_name = queueBeforeConnect)]
    fn queue_before_connect(api: &JsValue, url: &str) -> Promise;
    #[wasm_bindgen(js_name = inFlightOnDisconnect)]
    fn in_flight_on_disconnect(api: &JsValue, url: &str) -> Promise;
    #[wasm_bindgen(js_name = listenersSurviveReconnect)]
    fn listeners_survive_reconnect(api: &JsValue, url: &str) -> Promise;
    #[wasm_bindgen(js_name = serverEvents)]
    fn server_events(api: &JsValue, url: &str) -> Promise;
    fn sessions(api: &JsValue, url: &str) -> Promise;
    #[wasm_bindgen(js_name = engineIo4)]
    fn engine_io_4(api: &JsValue, url: &str) -> Promise;
    #[wasm_bindgen(js_name = queryAndPath)]
    fn query_and_path(api: &JsValue, url: &str) -> Promise;
    #[wasm_bindgen(js_name = configFallback)]
    fn config_fallback(api: &JsValue, url: &str) -> Promise;
    #[wasm_bindgen(js_name = badServerInput)]
    fn bad_server_input(api: &JsValue) -> Promise;
    #[wasm_bindgen(js_name = heartbeatsAndEngineIo4)]
    fn heartbeats_and_engine_io_4(api: &JsValue) -> Promise;
    #[wasm_bindgen(js_name = refusedAndReconnection)]
    fn refused_and_reconnection(api: &JsValue) -> Promise;
    #[wasm_bindgen(js_name = timeoutsAndListenerRemoval)]
    fn timeouts_and_listener_removal(api: &JsValue) -> Promise;
    #[wasm_bindgen(js_name = consoleNotices)]
    fn console_notices(api: &JsValue) -> Promise;
    #[wasm_bindgen(js_name = optionChangeStopsReconnection)]
    fn option_change_stops_reconnection(api: &JsValue) -> Promise;
    #[wasm_bindgen(js_name = crossOriginCookie)]
    fn cross_origin_cookie(api: &JsValue) -> Promise;
    fn recovery(api: &JsValue) -> Promise;
}

/// The interop server's URL, or a clear failure.
fn interop_server() -> &'static str {
    match option_env!("SAILS_TEST_URL") {
        Some(url) => url,
        None => panic!(
            "SAILS_TEST_URL is not set: start the interop example \
             (`cargo run -p sails-server --example interop -- --port 0`) and build the \
             tests with SAILS_TEST_URL=http://127.0.0.1:<PORT> (`cargo xtask test` does both)"
        ),
    }
}

/// The real Sails app's URL, or a clear failure.
fn sails_app_server() -> &'static str {
    match option_env!("SAILS_APP_TEST_URL") {
        Some(url) => url,
        None => panic!(
            "SAILS_APP_TEST_URL is not set: start the Sails app \
             (`node tests/sails-app/app.js --port 0`) and build the tests with \
             SAILS_APP_TEST_URL=http://127.0.0.1:<PORT> (`cargo xtask test` does both)"
        ),
    }
}

#[wasm_bindgen_test]
fn announces_the_sails_io_js_sdk() {
    let version = sails_io_wasm::sdk_version_string();
    assert!(version.starts_with("__sails_io_sdk_version=1.2.1&"));
}

// ---- both servers -------------------------------------------------------------

/// One test per scenario against our interop server (module `interop`) and
/// one against the real Sails app (module `sails_app`).
macro_rules! against_both_servers {
    ($($test:ident: $scenario:ident,)*) => {
        mod interop {
            use super::*;
            $(
                #[wasm_bindgen_test]
                async fn $test() {
                    run(super::$scenario(&api(), interop_server())).await;
                }
            )*
        }
        mod sails_app {
            use super::*;
            $(
                #[wasm_bindgen_test]
                async fn $test() {
                    run(super::$scenario(&api(), sails_app_server())).await;
                }
            )*
        }
    };
}

against_both_servers! {
    verbs_and_the_jwr: verbs_and_jwr,
    promise_api: promises,
    validation_and_option_setters: validation,
    header_precedence: headers_precedence,
    requests_queue_until_connected: queue_before_connect,
    in_flight_requests_fail_on_disconnect: in_flight_on_disconnect,
    listeners_survive_reconnect: listeners_survive_reconnect,
    server_events_rooms_and_pubsub: server_events,
    one_session_per_socket: sessions,
    engine_io_4: engine_io_4,
    query_and_path: query_and_path,
    io_sails_defaults_and_headers: config_fallback,
}

// ---- fake server ------------------------------------------------------------

#[wasm_bindgen_test]
async fn bad_server_input_is_reported_not_fatal() {
    run(bad_server_input(&api())).await;
}

#[wasm_bindgen_test]
async fn heartbeats_in_both_engine_io_versions() {
    run(heartbeats_and_engine_io_4(&api())).await;
}

#[wasm_bindgen_test]
async fn refusal_and_reconnection_with_backoff() {
    run(refused_and_reconnection(&api())).await;
}

#[wasm_bindgen_test]
async fn connection_state_recovery() {
    run(recovery(&api())).await;
}

#[wasm_bindgen_test]
async fn cross_origin_session_cookie_first() {
    run(cross_origin_cookie(&api())).await;
}

#[wasm_bindgen_test]
async fn connect_timeout_and_listener_removal() {
    run(timeouts_and_listener_removal(&api())).await;
}

#[wasm_bindgen_test]
async fn banner_and_notices_only_in_development() {
    run(console_notices(&api())).await;
}

#[wasm_bindgen_test]
async fn changing_an_option_stops_reconnection() {
    run(option_change_stops_reconnection(&api())).await;
}
