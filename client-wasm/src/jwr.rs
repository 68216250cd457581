//! The JWR ("JSON WebSocket Response"): what a Sails server answers to a
//! virtual request, as sails.io.js hands it to callbacks.

use js_sys::{Error, JSON, Object, Reflect};
use wasm_bindgen::prelude::*;

#[wasm_bindgen]
extern "C" {
    /// `String(value)`, as JS string concatenation converts it.
    #[wasm_bindgen(js_name = String)]
    pub(crate) fn js_string(value: &JsValue) -> String;
}

/// The response to a virtual request: `body`, `headers`, `statusCode`, and
/// `error` when the status is below 200 or 400 and above.
#[wasm_bindgen(js_name = JWR)]
pub struct Jwr {
    body: JsValue,
    headers: JsValue,
    status_code: JsValue,
    error: JsValue,
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

impl Jwr {
    /// Reads the response object of an ack (`{body, headers, statusCode}`).
    pub(crate) fn from_response(response: &JsValue) -> Self {
        let body = get(response, "body");
        let headers = match get(response, "headers") {
            h if h.is_object() => h,
            _ => Object::new().into(),
        };
        let status_code = match get(response, "statusCode") {
            s if s.is_undefined() => JsValue::from_f64(200.0),
            s => s,
        };
        let status = status_code.as_f64().unwrap_or(f64::NAN);
        let error = if !status.is_nan() && !(200.0..400.0).contains(&status) {
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
            Error::new(&message).into()
        } else {
            JsValue::UNDEFINED
        };
        Self {
            body,
            headers,
            status_code,
            error,
        }
    }

    /// The error of a failed status, if any.
    pub(crate) fn failure(&self) -> Option<&JsValue> {
        (!self.error.is_undefined()).then_some(&self.error)
    }
}

#[wasm_bindgen(js_class = JWR)]
impl Jwr {
    /// The response body.
    #[wasm_bindgen(getter)]
    pub fn body(&self) -> JsValue {
        self.body.clone()
    }

    /// The response headers (`{}` when the server sent none).
    #[wasm_bindgen(getter)]
    pub fn headers(&self) -> JsValue {
        self.headers.clone()
    }

    /// The status code (200 when the server sent none).
    #[wasm_bindgen(getter, js_name = statusCode)]
    pub fn status_code(&self) -> JsValue {
        self.status_code.clone()
    }

    /// An `Error` when the status is below 200 or 400 and above, else `undefined`.
    #[wasm_bindgen(getter)]
    pub fn error(&self) -> JsValue {
        self.error.clone()
    }

    /// `[ResponseFromSails]  -- Status: …  -- Headers: …  -- Body: …`
    #[wasm_bindgen(js_name = toString)]
    pub fn describe(&self) -> String {
        let mut text = String::from("[ResponseFromSails]  -- Status: ");
        text.push_str(&js_string(&self.status_code));
        text.push_str("  -- Headers: ");
        text.push_str(&js_string(&self.headers));
        text.push_str("  -- Body: ");
        text.push_str(&js_string(&self.body));
        text
    }

    /// A plain object `{body, headers, statusCode}`.
    #[wasm_bindgen(js_name = toPOJO)]
    pub fn to_pojo(&self) -> Object {
        let pojo = Object::new();
        set(&pojo, "body", &self.body);
        set(&pojo, "headers", &self.headers);
        set(&pojo, "statusCode", &self.status_code);
        pojo
    }

    /// What `JSON.stringify(jwr)` shows: the same as [`Jwr::to_pojo`].
    #[wasm_bindgen(js_name = toJSON)]
    pub fn to_json(&self) -> Object {
        self.to_pojo()
    }

    /// Streaming is not supported: returns an `Error`, as sails.io.js does.
    pub fn pipe(&self) -> Error {
        Error::new("Client-side streaming support not implemented yet.")
    }
}
