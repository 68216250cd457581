//! The JavaScript surface: `SailsSocket` objects and the module exports
//! (`connect`, `createSocket`, `sails`, `install`).
//!
//! A socket is a plain JS object whose methods and option properties are
//! Rust closures owned here, so methods chain (`on()` returns the very same
//! object), work detached from the object, and page code may add its own
//! properties, as with sails.io.js.

use std::{cell::RefCell, rc::Rc};

use js_sys::{Function, Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::{
    client::Client,
    config::{self, OPTION_NAMES},
    error::ClientError,
    jwr::{get, set},
};

type Method = Closure<dyn FnMut(JsValue, JsValue, JsValue) -> Result<JsValue, JsValue>>;

thread_local! {
    /// Every socket made, with the closures behind its methods. Sockets live
    /// as long as the page, as with sails.io.js.
    static SOCKETS: RefCell<Vec<(Rc<Client>, Vec<Method>)>> = const { RefCell::new(Vec::new()) };
    /// `io.sails.connect`, installed once per page.
    static CONNECT: RefCell<Option<Method>> = const { RefCell::new(None) };
}

#[wasm_bindgen]
extern "C" {
    /// A socket object (`io.socket`, or what `io.sails.connect()` returns).
    #[wasm_bindgen(typescript_type = "SailsSocket")]
    pub type SailsSocket;
    /// The `io.sails` settings object.
    #[wasm_bindgen(typescript_type = "SailsConfig")]
    pub type SailsConfig;
    /// The `io` global (or any object to install the client on).
    #[wasm_bindgen(typescript_type = "SailsIo")]
    pub type SailsIo;
}

fn js_error(err: ClientError) -> JsValue {
    js_sys::Error::new(&err.message()).into()
}

fn to_function(closure: &Method) -> &Function {
    closure.as_ref().unchecked_ref()
}

/// What a method does with the client and its (up to three) arguments.
type Body = Box<dyn Fn(&Client, JsValue, JsValue, JsValue) -> Result<JsValue, ClientError>>;

/// A closure calling `body` on the client, turning errors into JS `Error`s
/// and rethrowing what page code threw meanwhile. (One closure type for every
/// method keeps the wasm small.)
fn method(client: &Rc<Client>, body: Body) -> Method {
    let weak = Rc::downgrade(client);
    Closure::new(move |a, b, c| {
        let Some(client) = weak.upgrade() else {
            return Ok(JsValue::UNDEFINED);
        };
        let result = body(&client, a, b, c).map_err(js_error);
        match (client.take_thrown(), result) {
            (Some(thrown), Ok(_)) => Err(thrown),
            (_, result) => result,
        }
    })
}

/// `get/post/put/patch/delete(url, [data], [cb])`.
fn verb(method_name: &'static str, data_key: &'static str) -> Body {
    Box::new(move |client, url, data, cb| {
        let (data, cb) = if data.is_function() {
            (Object::new().into(), data)
        } else {
            (data, cb)
        };
        let options = Object::new();
        set(&options, "method", &method_name.into());
        set(&options, data_key, &data);
        set(&options, "url", &url);
        client.request(&options, &cb)
    })
}

fn event_name(value: &JsValue) -> String {
    value.as_string().unwrap_or_default()
}

/// Makes a socket object for a client with options `opts`.
fn new_socket(opts: &JsValue) -> Rc<Client> {
    let object = Object::new();
    let client = Client::new(opts, object.clone());
    fn chain(client: &Client) -> Result<JsValue, ClientError> {
        Ok(client.object.clone().into())
    }
    let bodies: [(&str, Body); 15] = [
        ("get", verb("get", "params")),
        ("post", verb("post", "data")),
        ("put", verb("put", "params")),
        ("patch", verb("patch", "params")),
        ("delete", verb("delete", "params")),
        (
            "request",
            Box::new(|client, options, cb, _| client.request(&options, &cb)),
        ),
        (
            "on",
            Box::new(|client, event, handler, _| {
                if let Ok(handler) = handler.dyn_into::<Function>() {
                    client.on(&event_name(&event), handler);
                }
                chain(client)
            }),
        ),
        (
            "off",
            Box::new(|client, event, handler, _| {
                client.off(&event_name(&event), handler.dyn_into::<Function>().ok());
                chain(client)
            }),
        ),
        (
            "removeAllListeners",
            Box::new(|client, event, _, _| {
                client.remove_all_listeners(event.as_string().as_deref());
                chain(client)
            }),
        ),
        (
            "isConnected",
            Box::new(|client, _, _, _| Ok(client.is_connected().into())),
        ),
        (
            "isConnecting",
            Box::new(|client, _, _, _| Ok(client.is_connecting().into())),
        ),
        (
            "mightBeAboutToAutoConnect",
            Box::new(|client, _, _, _| Ok(client.might_be_about_to_autoconnect().into())),
        ),
        (
            "disconnect",
            Box::new(|client, _, _, _| {
                client.disconnect()?;
                chain(client)
            }),
        ),
        (
            "reconnect",
            Box::new(|client, _, _, _| {
                client.reconnect()?;
                chain(client)
            }),
        ),
        (
            "_connect",
            Box::new(|client, _, _, _| {
                client.connect()?;
                chain(client)
            }),
        ),
    ];
    let mut owned = Vec::with_capacity(bodies.len() + 2 * OPTION_NAMES.len());
    for (name, body) in bodies {
        let closure = method(&client, body);
        set(&object, name, to_function(&closure));
        owned.push(closure);
    }
    for (index, name) in OPTION_NAMES.iter().enumerate() {
        let getter = method(
            &client,
            Box::new(move |client, _, _, _| Ok(client.own_option(index))),
        );
        let setter = method(
            &client,
            Box::new(move |client, value, _, _| {
                client.set_option(index, value)?;
                Ok(JsValue::UNDEFINED)
            }),
        );
        let descriptor = Object::new();
        set(&descriptor, "get", to_function(&getter));
        set(&descriptor, "set", to_function(&setter));
        set(&descriptor, "enumerable", &JsValue::TRUE);
        Object::define_property(&object, &JsValue::from_str(name), &descriptor);
        owned.push(getter);
        owned.push(setter);
    }
    SOCKETS.with(|sockets| sockets.borrow_mut().push((client.clone(), owned)));
    client
}

/// Connects a new socket: `connect([url], [opts])`, like `io.sails.connect()`.
///
/// `opts` takes the per-socket options of sails.io.js (`url`, `headers`,
/// `query`, `path`, `reconnection`, …) and `eio` (3 or 4); anything left
/// out falls back to [`sails`]' settings.
#[wasm_bindgen]
pub fn connect(
    #[wasm_bindgen(unchecked_param_type = "string | SocketOptions")] url: Option<JsValue>,
    #[wasm_bindgen(unchecked_param_type = "SocketOptions")] opts: Option<JsValue>,
) -> Result<SailsSocket, JsValue> {
    let url = url.unwrap_or(JsValue::UNDEFINED);
    let opts = opts.unwrap_or(JsValue::UNDEFINED);
    let (url, opts) = if url.is_object() {
        (JsValue::UNDEFINED, url)
    } else {
        (url, opts)
    };
    let merged = Object::new();
    if opts.is_object() {
        Object::assign(&merged, opts.unchecked_ref());
    }
    let url = if url.is_truthy() {
        url
    } else {
        get(&merged, "url")
    };
    set(
        &merged,
        "url",
        &if url.is_truthy() {
            url
        } else {
            JsValue::UNDEFINED
        },
    );
    let client = new_socket(&merged);
    client.connect().map_err(js_error)?;
    Ok(client.object.clone().unchecked_into())
}

/// A socket that does not connect until its `_connect()` (the loader uses it
/// for `io.socket`, which connects on the next tick unless `autoConnect` is
/// `false`). `mightBeAboutToAutoConnect()` is `true` until then.
#[wasm_bindgen(js_name = createSocket)]
pub fn create_socket(
    #[wasm_bindgen(unchecked_param_type = "SocketOptions")] opts: Option<JsValue>,
) -> SailsSocket {
    let client = new_socket(&opts.unwrap_or(JsValue::UNDEFINED));
    client.set_about_to_autoconnect(true);
    client.object.clone().unchecked_into()
}

/// The settings every socket falls back to (`io.sails` once installed):
/// `autoConnect`, `reconnection`, `environment`, `url`, `headers`, …
#[wasm_bindgen]
pub fn sails() -> SailsConfig {
    JsValue::from(config::config()).unchecked_into()
}

/// Installs the client on `io` (e.g. `window.io`): `io.sails` becomes the
/// settings (kept if already there, defaults filled in) and gets
/// `connect()`. Returns `io`. Nothing global is touched unless this is called.
#[wasm_bindgen]
pub fn install(io: SailsIo) -> Result<SailsIo, JsValue> {
    let existing = get(&io, "sails");
    let settings: Object = if existing.is_object() {
        existing.unchecked_into()
    } else {
        Object::new()
    };
    config::adopt(&settings);
    CONNECT.with(|connect| {
        let mut connect = connect.borrow_mut();
        let closure =
            connect.get_or_insert_with(|| Closure::new(|url, opts, _| connect_value(url, opts)));
        set(&settings, "connect", to_function(closure));
    });
    Reflect::set(&io, &"sails".into(), &settings)?;
    Ok(io)
}

fn connect_value(url: JsValue, opts: JsValue) -> Result<JsValue, JsValue> {
    connect(Some(url), Some(opts)).map(JsValue::from)
}
