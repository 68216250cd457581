//! The module's one closure type, [`Dispatch`].
//!
//! Each socket has one: everything the browser or the page calls on it (its
//! methods and option accessors, WebSocket events, timers, the cookie
//! script's load) is that closure bound to an operation number
//! (`operation::Operation`) and to the socket's JS values
//! (`Function.prototype.bind`, see `held`). The module has two more, for
//! `io.sails.connect` and for the JWR methods. Each closure type costs the
//! module its own glue, so there are as few as can be.

use wasm_bindgen::{JsValue, closure::Closure};

/// A closure called with an operation number (or, for `io.sails.connect`,
/// the page's arguments) and four JS values. It is an `Fn`, so page code it
/// runs may call the socket again.
pub(crate) type Dispatch =
    Closure<dyn Fn(JsValue, JsValue, JsValue, JsValue, JsValue) -> Result<JsValue, JsValue>>;

/// What a closure of the module's own runs (one that belongs to no socket).
type ModuleFunction = fn(JsValue, JsValue, JsValue, JsValue, JsValue) -> Result<JsValue, JsValue>;

/// A closure of the module's own, running `function`. As a function
/// pointer, every such closure is of one Rust type, and shares its glue.
pub(crate) fn module_closure(function: ModuleFunction) -> Dispatch {
    Dispatch::new(function)
}
