//! `io.sails`: the page-wide defaults every socket falls back to.

use std::cell::RefCell;

use js_sys::{Array, Object};
use sails_protocol::sdk;
use wasm_bindgen::prelude::*;

use crate::jwr::{get, set};

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
        ("resubscribe", JsValue::FALSE),
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
