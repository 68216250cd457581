//! A socket's JS values, kept where the JS garbage collector sees them.
//!
//! What a socket holds from the page (its options, listeners, and the
//! callbacks and Promises of its requests), the socket object and the
//! socket's closure live in one JS array. Only JS refers to that array: the
//! socket object's methods, and the WebSocket handlers, timers and cookie
//! script of a connection under way, are the closure bound to an operation
//! number and to the array, so each call hands the array to the client for
//! its length. A JS value held by Rust would be a garbage-collection root: a
//! listener that refers to its socket would keep the socket, and the client
//! behind it, for ever. Once the page drops a socket that no connection keeps
//! busy, the array and the closure are garbage; when the browser collects the
//! closure, wasm-bindgen drops the Rust client it owns.

use std::cell::RefCell;

use js_sys::{Array, Function};
use wasm_bindgen::{JsCast, JsValue};

use crate::operation::{Operation, Opt};

/// The key of the socket object (option `opt` is under key `opt.index()`).
pub(crate) const OBJECT: u32 = Opt::COUNT as u32;
/// The key of the socket's closure (`closure::Dispatch`).
pub(crate) const DISPATCH: u32 = OBJECT + 1;
/// The first key handed out by [`Held::put`].
const FIRST_FREE: u32 = DISPATCH + 1;

/// The socket's closure, as found in `array`, bound to `operation` and to
/// `array`.
pub(crate) fn bound(array: &Array, operation: Operation) -> Function {
    let dispatch: Function = array.get(DISPATCH).unchecked_into();
    let bound: JsValue = dispatch
        .bind2(&JsValue::NULL, &JsValue::from(operation.number()), array)
        .into();
    bound.unchecked_into()
}

/// A client's view of its socket's array: the array, while a call into the
/// socket runs.
#[derive(Default)]
pub(crate) struct Held {
    array: RefCell<Option<Array>>,
}

impl Held {
    /// Makes `array` available for a call; returns what [`Held::leave`]
    /// restores (the same array when the call is re-entrant, else `None`).
    pub(crate) fn enter(&self, array: Array) -> Option<Array> {
        self.array.replace(Some(array))
    }

    /// Ends a call begun by [`Held::enter`].
    pub(crate) fn leave(&self, outer: Option<Array>) {
        *self.array.borrow_mut() = outer;
    }

    /// The value under `key` (`undefined` outside a call).
    pub(crate) fn get(&self, key: u32) -> JsValue {
        self.array
            .borrow()
            .as_ref()
            .map_or(JsValue::UNDEFINED, |array| array.get(key))
    }

    /// Puts `value` under `key`.
    pub(crate) fn set(&self, key: u32, value: &JsValue) {
        if let Some(array) = self.array.borrow().as_ref() {
            array.set_ref(key, value);
        }
    }

    /// Keeps `value` (never `undefined`) under a free key: one that was
    /// given back, else a new one.
    pub(crate) fn put(&self, value: &JsValue) -> u32 {
        let array = self.array.borrow();
        let Some(array) = array.as_ref() else {
            return u32::MAX;
        };
        match u32::try_from(array.index_of(&JsValue::UNDEFINED, FIRST_FREE as i32)) {
            Ok(key) => {
                array.set_ref(key, value);
                key
            }
            Err(_) => array.push(value) - 1,
        }
    }

    /// The value under `key`, which is given back (left `undefined`).
    pub(crate) fn take(&self, key: u32) -> JsValue {
        let value = self.get(key);
        self.set(key, &JsValue::UNDEFINED);
        value
    }

    /// The socket's closure bound to `operation` (see [`bound`]).
    pub(crate) fn bound(&self, operation: Operation) -> Function {
        bound(&self.array.borrow().clone().unwrap_or_default(), operation)
    }

    /// The socket's own value of option `opt`.
    pub(crate) fn option(&self, opt: Opt) -> JsValue {
        self.get(opt.index() as u32)
    }

    /// Sets the socket's own value of option `opt`.
    pub(crate) fn set_option(&self, opt: Opt, value: &JsValue) {
        self.set(opt.index() as u32, value);
    }
}
