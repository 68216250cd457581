//! The JavaScript surface: `SailsSocket` objects and the module exports
//! (`connect`, `createSocket`, `sails`, `install`).
//!
//! A socket is a plain JS object whose methods and option properties are
//! its closure, bound to an operation number each (and to the socket's JS
//! values, see `held`), so methods chain (`on()` returns the very same
//! object), work detached from the object, and page code may add its own
//! properties, as with sails.io.js. The closure owns the socket's client:
//! both live as long as the page or a connection under way refers to them.

use std::rc::Rc;

use js_sys::{Array, Function, Object, Reflect};
use wasm_bindgen::prelude::*;

use crate::{
    Dispatch,
    client::{self, Client},
    config::{self, OPTION_NAMES},
    error::ClientError,
    held::{self, DISPATCH, OBJECT},
    jwr::{self, get, set},
};

thread_local! {
    /// The module's own closure, for what outlives any one socket: operation
    /// 0 is `io.sails.connect(url, opts)`, `1 + i` JWR method `i` of
    /// `jwr::METHODS` on its bound JWR.
    static MODULE: Dispatch = Dispatch::new(module_operation);
}

fn module_operation(
    op: JsValue,
    a: JsValue,
    b: JsValue,
    _: JsValue,
    _: JsValue,
) -> Result<JsValue, JsValue> {
    match op.as_f64().unwrap_or(0.0) as usize {
        0 => connect_value(a, b),
        op => Ok(jwr::method(op - 1, &a)),
    }
}

/// The module's closure bound to operation `op` and to `arg`.
fn module_bound(op: u32, arg: &JsValue) -> Function {
    MODULE.with(|module| {
        let module: &Function = module.as_ref().unchecked_ref();
        let bound: JsValue = module.bind2(&JsValue::NULL, &op.into(), arg).into();
        bound.unchecked_into()
    })
}

/// JWR method `index` of `jwr::METHODS`, bound to `jwr`.
pub(crate) fn jwr_method(index: usize, jwr: &Object) -> Function {
    module_bound(1 + index as u32, jwr)
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
/// option accessors are its closure bound to these numbers).
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

/// The operation number of `_connect`.
const CONNECT: u32 = 14;
const _: () = assert!(matches!(METHODS[CONNECT as usize].as_bytes(), b"_connect"));

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
    let chain = || Ok(client.object());
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
            if let Some(handler) = b.dyn_ref::<Function>() {
                client.on(&event_name(&a), handler);
            }
            chain()
        }
        7 => {
            if b.is_function() {
                client.off(&event_name(&a), &b);
            } else {
                client.remove_all_listeners(Some(&event_name(&a)));
            }
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

/// Makes a socket with options `opts`: its client, and its JS values (see
/// `held`), which hold its object and its closure, the client's owner.
fn new_socket(opts: &JsValue) -> (Rc<Client>, Array) {
    let values = Array::new();
    for (index, name) in OPTION_NAMES.iter().enumerate() {
        values.set_ref(index as u32, &get(opts, name));
    }
    let object = Object::new();
    values.set_ref(OBJECT, &object);
    let client = Rc::new(Client::new());
    let owner = client.clone();
    let dispatch = Dispatch::new(move |op, held, a, b, c| owner.dispatch(op, held, a, b, c));
    // From here on the JS function owns the closure: the browser frees it
    // (and the client) once the function is garbage.
    values.set(DISPATCH, dispatch.into_js_value());
    let bound = |op: usize| held::bound(&values, op);
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
    (client, values)
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
    let (client, values) = new_socket(&merged);
    let object = client.dispatch(
        CONNECT.into(),
        values.into(),
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
        JsValue::UNDEFINED,
    )?;
    Ok(object.unchecked_into())
}

/// A socket that does not connect until its `_connect()` (the loader uses it
/// for `io.socket`, which connects on the next tick unless `autoConnect` is
/// `false`). `mightBeAboutToAutoConnect()` is `true` until then.
#[wasm_bindgen(js_name = createSocket)]
pub fn create_socket(
    #[wasm_bindgen(unchecked_param_type = "SocketOptions")] opts: Option<JsValue>,
) -> SailsSocket {
    let (client, values) = new_socket(&opts.unwrap_or(JsValue::UNDEFINED));
    client.set_about_to_autoconnect(true);
    values.get(OBJECT).unchecked_into()
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
    set(&settings, "connect", &module_bound(0, &JsValue::UNDEFINED));
    Reflect::set(&io, &"sails".into(), &settings)?;
    Ok(io)
}

fn connect_value(url: JsValue, opts: JsValue) -> Result<JsValue, JsValue> {
    connect(Some(url), Some(opts)).map(JsValue::from)
}
