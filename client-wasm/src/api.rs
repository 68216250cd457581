//! The JavaScript surface: `SailsSocket` objects and the module exports
//! (`connect`, `createSocket`, `sails`, `install`).
//!
//! A socket is a plain JS object whose methods and option properties are
//! one Rust closure owned here, bound to an operation number each, so methods
//! chain (`on()` returns the very same object), work detached from the
//! object, and page code may add its own properties, as with sails.io.js.

use std::{cell::RefCell, rc::Rc};

use js_sys::{Function, Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::{
    Dispatch,
    client::{self, Client, js_error},
    config::{self, OPTION_NAMES},
    error::ClientError,
    jwr::{get, set},
};

thread_local! {
    /// Every socket made. Sockets live as long as the page, as with sails.io.js.
    static SOCKETS: RefCell<Vec<Rc<Client>>> = const { RefCell::new(Vec::new()) };
    /// `io.sails.connect`, installed once per page.
    static CONNECT: RefCell<Option<Dispatch>> = const { RefCell::new(None) };
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

/// The socket methods, in operation-number order (a socket's methods and
/// option accessors are its client's closure bound to these numbers).
const METHODS: [&str; 15] = [
    "get",
    "post",
    "put",
    "patch",
    "delete",
    "request",
    "on",
    "off",
    "removeAllListeners",
    "isConnected",
    "isConnecting",
    "mightBeAboutToAutoConnect",
    "disconnect",
    "reconnect",
    "_connect",
];

/// Operation numbers after the methods: option `i`'s getter is
/// `GET_OPTION + i`, its setter `SET_OPTION + i`.
const GET_OPTION: usize = METHODS.len();
const SET_OPTION: usize = GET_OPTION + OPTION_NAMES.len();

/// The verbs' operation numbers are their index in [`METHODS`]: `post` sends
/// its data as `data`, the others as `params` (as sails.io.js names them).
const VERB_DATA_KEYS: [&str; 5] = ["params", "data", "params", "params", "params"];

fn event_name(value: &JsValue) -> String {
    value.as_string().unwrap_or_default()
}

const _: () = assert!(SET_OPTION + OPTION_NAMES.len() <= client::FIRST_EVENT);

/// Operation `op` of a socket's methods and accessors, with its arguments.
pub(crate) fn operate(
    client: &Client,
    op: usize,
    a: JsValue,
    b: JsValue,
    c: JsValue,
) -> Result<JsValue, ClientError> {
    let chain = || Ok(client.object.clone().into());
    match op {
        // get/post/put/patch/delete(url, [data], [cb])
        0..5 => {
            let (data, cb) = if b.is_function() {
                (Object::new().into(), b)
            } else {
                (b, c)
            };
            let options = Object::new();
            set(&options, "method", &METHODS[op].into());
            set(&options, VERB_DATA_KEYS[op], &data);
            set(&options, "url", &a);
            client.request(&options, &cb)
        }
        5 => client.request(&a, &b),
        6 => {
            if let Ok(handler) = b.dyn_into::<Function>() {
                client.on(&event_name(&a), handler);
            }
            chain()
        }
        7 => {
            client.off(&event_name(&a), b.dyn_into::<Function>().ok());
            chain()
        }
        8 => {
            client.remove_all_listeners(a.as_string().as_deref());
            chain()
        }
        9 => Ok(client.is_connected().into()),
        10 => Ok(client.is_connecting().into()),
        11 => Ok(client.might_be_about_to_autoconnect().into()),
        12 => client.disconnect().and_then(|()| chain()),
        13 => client.reconnect().and_then(|()| chain()),
        14 => client.connect().and_then(|()| chain()),
        op if op < SET_OPTION => Ok(client.own_option(op - GET_OPTION)),
        op => client
            .set_option(op - SET_OPTION, a)
            .map(|()| JsValue::UNDEFINED),
    }
}

/// Makes a socket object for a client with options `opts`.
fn new_socket(opts: &JsValue) -> Rc<Client> {
    let object = Object::new();
    let client = Client::new(opts, object.clone());
    let bound = |op: usize| client.bound(op);
    for (op, name) in METHODS.iter().enumerate() {
        set(&object, name, &bound(op));
    }
    for (index, name) in OPTION_NAMES.iter().enumerate() {
        let descriptor = Object::new();
        set(&descriptor, "get", &bound(GET_OPTION + index));
        set(&descriptor, "set", &bound(SET_OPTION + index));
        set(&descriptor, "enumerable", &JsValue::TRUE);
        Object::define_property(&object, &JsValue::from_str(name), &descriptor);
    }
    SOCKETS.with(|sockets| sockets.borrow_mut().push(client.clone()));
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
            connect.get_or_insert_with(|| Closure::new(|url, opts, _, _| connect_value(url, opts)));
        set(&settings, "connect", closure.as_ref());
    });
    Reflect::set(&io, &"sails".into(), &settings)?;
    Ok(io)
}

fn connect_value(url: JsValue, opts: JsValue) -> Result<JsValue, JsValue> {
    connect(Some(url), Some(opts)).map(JsValue::from)
}
