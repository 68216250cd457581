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
    client::{self, Client},
    closure::{Dispatch, module_closure},
    config,
    error::ClientError,
    held::{self, DISPATCH, OBJECT},
    jwr::{get, set},
    lifecycle::Lifecycle,
    operation::{Method, Operation, Opt},
};

thread_local! {
    /// `io.sails.connect(url, opts)` itself: a closure of the module's own,
    /// as it outlives any one socket.
    static CONNECT: Dispatch = module_closure(|url, opts, _, _, _| {
        connect(Some(url), Some(opts)).map(JsValue::from)
    });
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

/// A call into a socket's closure: operation number `op` (see
/// `operation`) with the socket's JS values `held` and the call's arguments.
fn dispatch(
    client: &Client,
    op: JsValue,
    held: JsValue,
    a: JsValue,
    b: JsValue,
    c: JsValue,
) -> Result<JsValue, JsValue> {
    client.run(held, || {
        match Operation::from_number(op.as_f64().unwrap_or(f64::NAN))? {
            Operation::Event(event) => {
                client.on_browser_event(event, &a);
                Ok(JsValue::UNDEFINED)
            }
            Operation::Method(method) => call_method(client, method, a, b, c),
            Operation::GetOption(opt) => Ok(client.own_option(opt)),
            Operation::SetOption(opt) => client.set_option(opt, a).map(|()| JsValue::UNDEFINED),
        }
    })
}

/// The page's call of socket method `method`, with its arguments.
fn call_method(
    client: &Client,
    method: Method,
    a: JsValue,
    b: JsValue,
    c: JsValue,
) -> Result<JsValue, ClientError> {
    let chain = || Ok(client.object());
    let event_name = |value: &JsValue| value.as_string().unwrap_or_default();
    match method {
        // get/post/put/patch/delete(url, [data], [cb])
        Method::Get | Method::Post | Method::Put | Method::Patch | Method::Delete => {
            let (data, cb) = if b.is_function() {
                (Object::new().into(), b)
            } else {
                (b, c)
            };
            let options = Object::new();
            set(&options, "method", &method.name().into());
            set(&options, method.verb_data_key(), &data);
            set(&options, "url", &a);
            client.request(&options, &cb)
        }
        Method::Request => client.request(&a, &b),
        Method::On => {
            if let Some(handler) = b.dyn_ref::<Function>() {
                client.on(&event_name(&a), handler);
            }
            chain()
        }
        Method::Off => {
            if b.is_function() {
                client.off(&event_name(&a), &b);
            } else {
                client.remove_all_listeners(Some(&event_name(&a)));
            }
            chain()
        }
        Method::RemoveAllListeners => {
            client.remove_all_listeners(a.as_string().as_deref());
            chain()
        }
        Method::IsConnected => Ok(client.is_connected().into()),
        Method::IsConnecting => Ok(client.is_connecting().into()),
        Method::MightBeAboutToAutoConnect => Ok(client.might_be_about_to_auto_connect().into()),
        Method::Disconnect => client.disconnect().and_then(|()| chain()),
        Method::Reconnect => client.reconnect().and_then(|()| chain()),
        Method::Connect => client.connect().and_then(|()| chain()),
    }
}

/// Makes a socket with options `opts`: its client, and its JS values (see
/// `held`), which hold its object and its closure, the client's owner.
fn new_socket(opts: &JsValue, lifecycle: Lifecycle) -> (Rc<Client>, Array) {
    let values = Array::new();
    for &opt in &Opt::ALL {
        values.set_ref(opt.index() as u32, &get(opts, opt.name()));
    }
    let object = Object::new();
    values.set_ref(OBJECT, &object);
    let client = Rc::new(Client::new(lifecycle));
    let owner = client.clone();
    let dispatch = Dispatch::new(move |op, held, a, b, c| dispatch(&owner, op, held, a, b, c));
    // From here on the JS function owns the closure: the browser frees it
    // (and the client) once the function is garbage.
    values.set(DISPATCH, dispatch.into_js_value());
    let bound = |operation| held::bound(&values, operation);
    for &method in &Method::ALL {
        set(&object, method.name(), &bound(Operation::Method(method)));
    }
    for &opt in &Opt::ALL {
        let descriptor = Object::new();
        set(&descriptor, "get", &bound(Operation::GetOption(opt)));
        set(&descriptor, "set", &bound(Operation::SetOption(opt)));
        set(&descriptor, "enumerable", &JsValue::TRUE);
        Object::define_property(&object, &JsValue::from_str(opt.name()), &descriptor);
    }
    client::show_recovery(&object, &JsValue::NULL);
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
    let (client, values) = new_socket(&merged, Lifecycle::idle());
    let object = dispatch(
        &client,
        Operation::Method(Method::Connect).number().into(),
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
    let (_, values) = new_socket(
        &opts.unwrap_or(JsValue::UNDEFINED),
        Lifecycle::about_to_auto_connect(),
    );
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
    CONNECT.with(|connect| set(&settings, "connect", connect.as_ref()));
    Reflect::set(&io, &"sails".into(), &settings)?;
    Ok(io)
}
