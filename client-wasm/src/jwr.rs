//! The JWR ("JSON WebSocket Response"): what a Sails server answers to a
//! virtual request, as sails.io.js hands it to callbacks.

use js_sys::{Error, Function, JSON, Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::{
    closure::{Dispatch, module_closure},
    error::ClientError,
    operation::JwrMethod,
};

#[wasm_bindgen]
extern "C" {
    /// `String(value)`, as JS string concatenation converts it.
    #[wasm_bindgen(js_name = String)]
    pub(crate) fn js_string(value: &JsValue) -> String;
}

thread_local! {
    /// The closure of the JWRs' methods: each method of a JWR is it, bound
    /// to the method's number and to the JWR (a JWR the page keeps keeps no
    /// socket).
    static METHODS: Dispatch = module_closure(|op, jwr, _, _, _| {
        let method = JwrMethod::from_number(op.as_f64().unwrap_or(f64::NAN))
            .map_err(ClientError::from)?;
        Ok(call(method, &jwr))
    });
}

/// Reads `object[key]`, `undefined` when `object` is not an object.
pub(crate) fn get(object: &JsValue, key: &str) -> JsValue {
    if object.is_object() {
        Reflect::get(object, &JsValue::from_str(key)).unwrap_or(JsValue::UNDEFINED)
    } else {
        JsValue::UNDEFINED
    }
}

/// Sets `object[key]`; a frozen or non-object target is left alone.
pub(crate) fn set(object: &JsValue, key: &str, value: &JsValue) {
    let _ = Reflect::set(object, &JsValue::from_str(key), value);
}

/// The JWR of an ack's response object (`{body, headers, statusCode}`): an
/// object with those as its own properties (`headers` `{}` and `statusCode`
/// 200 when the server sent none), `error` when the status is below 200 or
/// 400 and above, and the [`JwrMethod`]s as non-enumerable properties.
pub(crate) fn from_response(response: &JsValue) -> Object {
    let body = get(response, "body");
    let headers = match get(response, "headers") {
        h if h.is_object() => h,
        _ => Object::new().into(),
    };
    let status_code = match get(response, "statusCode") {
        s if s.is_undefined() => JsValue::from_f64(200.0),
        s => s,
    };
    let jwr = Object::new();
    set(&jwr, "body", &body);
    set(&jwr, "headers", &headers);
    set(&jwr, "statusCode", &status_code);
    let status = status_code.as_f64().unwrap_or(f64::NAN);
    if !status.is_nan() && !(200.0..400.0).contains(&status) {
        let message = if status == 0.0 {
            "The socket request failed.".to_owned()
        } else {
            let pretty = JSON::stringify_with_replacer_and_space(
                &body,
                &JsValue::NULL,
                &JsValue::from_f64(2.0),
            )
            .ok()
            .and_then(|text| text.as_string())
            .unwrap_or_else(|| "undefined".to_owned());
            let mut message = String::from("Server responded with a ");
            message.push_str(&js_string(&status_code));
            message.push_str(" status code:\n```\n");
            message.push_str(&pretty);
            message.push_str("\n```");
            message
        };
        set(&jwr, "error", &Error::new(&message));
    }
    let descriptor = Object::new();
    set(&descriptor, "writable", &JsValue::TRUE);
    set(&descriptor, "configurable", &JsValue::TRUE);
    METHODS.with(|methods| {
        let methods: &Function = methods.as_ref().unchecked_ref();
        for method in JwrMethod::ALL {
            let number = JsValue::from(method.index() as u32);
            set(
                &descriptor,
                "value",
                &methods.bind2(&JsValue::NULL, &number, &jwr),
            );
            Object::define_property(&jwr, &JsValue::from_str(method.name()), &descriptor);
        }
    });
    jwr
}

/// JWR method `method` on `jwr`.
fn call(method: JwrMethod, jwr: &JsValue) -> JsValue {
    match method {
        // `[ResponseFromSails]  -- Status: …  -- Headers: …  -- Body: …`
        JwrMethod::ToString => {
            let mut text = String::from("[ResponseFromSails]  -- Status: ");
            text.push_str(&js_string(&get(jwr, "statusCode")));
            text.push_str("  -- Headers: ");
            text.push_str(&js_string(&get(jwr, "headers")));
            text.push_str("  -- Body: ");
            text.push_str(&js_string(&get(jwr, "body")));
            text.into()
        }
        // `toPOJO()`, and `toJSON()` (what `JSON.stringify(jwr)` shows).
        JwrMethod::ToPojo | JwrMethod::ToJson => {
            let pojo = Object::new();
            for key in ["body", "headers", "statusCode"] {
                set(&pojo, key, &get(jwr, key));
            }
            pojo.into()
        }
        // Streaming is not supported: an `Error`, as sails.io.js returns.
        JwrMethod::Pipe => Error::new("Client-side streaming support not implemented yet.").into(),
    }
}
