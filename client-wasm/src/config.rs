//! `io.sails`: the page-wide defaults every socket falls back to, and the
//! console notices that `environment: 'production'` silences.

use std::cell::RefCell;

use js_sys::{Array, Object};
use sails_protocol::sdk;
use wasm_bindgen::prelude::*;

use crate::jwr::{get, set};

/// The per-socket option names of sails.io.js, then this client's own `eio`
/// (3 or 4: the Engine.IO revision).
pub(crate) const OPTION_NAMES: [&str; 16] = [
    "useCORSRouteToGetCookie",
    "url",
    "multiplex",
    "transports",
    "query",
    "path",
    "headers",
    "initialConnectionHeaders",
    "reconnection",
    "reconnectionAttempts",
    "reconnectionDelay",
    "reconnectionDelayMax",
    "rejectUnauthorized",
    "randomizationFactor",
    "timeout",
    "eio",
];

/// Index of an option in [`OPTION_NAMES`].
#[derive(Debug, Clone, Copy)]
pub(crate) enum Opt {
    UseCorsRouteToGetCookie = 0,
    Url = 1,
    Transports = 3,
    Query = 4,
    Path = 5,
    Headers = 6,
    InitialConnectionHeaders = 7,
    Reconnection = 8,
    ReconnectionAttempts = 9,
    ReconnectionDelay = 10,
    ReconnectionDelayMax = 11,
    RandomizationFactor = 13,
    Timeout = 14,
    Eio = 15,
}

thread_local! {
    static CONFIG: RefCell<Option<Object>> = const { RefCell::new(None) };
}

/// The `io.sails` object (made with Sails' defaults on first use).
pub(crate) fn config() -> Object {
    CONFIG.with(|cell| {
        cell.borrow_mut()
            .get_or_insert_with(|| {
                let config = Object::new();
                fill_defaults(&config);
                config
            })
            .clone()
    })
}

/// Makes `object` the `io.sails` of this module, filling in missing defaults.
pub(crate) fn adopt(object: &Object) {
    fill_defaults(object);
    CONFIG.with(|cell| *cell.borrow_mut() = Some(object.clone()));
}

fn fill_defaults(config: &Object) {
    let transports: JsValue = Array::of1(&"websocket".into()).into();
    let info = Object::new();
    set(&info, "version", &sdk::SDK_VERSION.into());
    set(&info, "language", &sdk::SDK_LANGUAGE.into());
    set(&info, "platform", &sdk::SDK_PLATFORM_BROWSER.into());
    set(
        &info,
        "versionString",
        &sdk::handshake_query(sdk::SDK_PLATFORM_BROWSER).into(),
    );
    for (key, value) in [
        ("autoConnect", JsValue::TRUE),
        ("reconnection", JsValue::FALSE),
        ("useCORSRouteToGetCookie", JsValue::TRUE),
        ("environment", "development".into()),
        ("transports", transports),
        ("sdk", info.into()),
    ] {
        if get(config, key).is_undefined() {
            set(config, key, &value);
        }
    }
}

/// `io.sails[name]`.
pub(crate) fn default_of(name: &str) -> JsValue {
    get(&config(), name)
}

#[wasm_bindgen]
extern "C" {
    #[wasm_bindgen(js_namespace = console, js_name = log)]
    fn console_log(text: &str);
    #[wasm_bindgen(js_namespace = console, js_name = log)]
    fn console_log_value(text: &str, value: &JsValue);
    #[wasm_bindgen(js_namespace = console, js_name = warn)]
    fn console_warn(text: &str);
}

fn is_production() -> bool {
    default_of("environment").as_string().as_deref() == Some("production")
}

/// Logs a notice, unless `io.sails.environment` is `production`.
pub(crate) fn notice(text: &str) {
    if !is_production() {
        console_log(text);
    }
}

/// Logs a notice with a value, unless in production.
pub(crate) fn notice_value(text: &str, value: &JsValue) {
    if !is_production() {
        console_log_value(text, value);
    }
}

/// A warning about a setting that cannot work, even in production.
pub(crate) fn warn(text: &str) {
    console_warn(text);
}
