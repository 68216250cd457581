//! One socket in the browser: its options, listeners and requests, and its
//! connection (handshake, heartbeat, reconnection), driven by the page's
//! calls and by WebSocket, timer and cookie-script events (`api` reads each
//! call into the socket's closure as an `operation::Operation` and hands it
//! here). Where the socket stands is its [`Lifecycle`]; what each frame
//! means, its [`Session`]; the console lines, [`Notice`]s.
//!
//! Page code (listeners, callbacks, `toJSON`) is only ever called while no
//! `RefCell` of the client is borrowed, so it may use the socket freely. An
//! exception it throws is kept and rethrown once the client is consistent.
//!
//! The client keeps no JS value of the page past a call (see `held`): the
//! socket's closure owns the client, and the browser frees both once the
//! page drops a socket that no connection keeps busy.

use std::cell::{Cell, RefCell};

use js_sys::{Array, Error, Function, JSON, Math, Object, Promise, Uint8Array};
use sails_protocol::{
    engine::{EngineVersion, Handshake},
    recovery::SUBSCRIBED_HEADER,
};
use wasm_bindgen::{JsCast, JsValue};
use web_sys::Element;

use crate::{
    backoff::Backoff,
    config,
    endpoint::{Endpoint, strip_trailing_slash},
    error::ClientError,
    held::{Held, OBJECT},
    jwr::{self, get, set},
    lifecycle::{Ended, Lifecycle, Outage, Reconnected, Retry},
    listeners::Listeners,
    notice::Notice,
    operation::{BrowserEvent, Operation, Opt},
    recovery::{Subscriptions, push_decimal},
    session::{Session, Step},
    timer::Timeout,
    transport::{Frame, Transport},
};

/// A virtual request waiting to be sent or answered: its method, and the
/// key of its JS values among the socket's (`[url, data, headers, settle,
/// reject]`: `settle` is the callback, or the Promise's `resolve` when
/// `reject` is set; neither for a request replayed by `resubscribe`).
pub(crate) struct Request {
    method: String,
    key: u32,
}

/// How a request's answer reaches the page.
enum Reply {
    /// `cb(body, jwr)`.
    Callback(Function),
    /// The Promise returned when no callback was given.
    Promise { resolve: Function, reject: Function },
    /// None: a replayed subscription (a failure is a warning).
    Silent,
}

/// Timer slots: a timer set in a slot replaces the one there.
#[derive(Clone, Copy)]
enum Slot {
    /// EIO3: the next ping to send.
    Ping = 0,
    /// The connect timeout, then the heartbeat deadline.
    Deadline = 1,
    /// The next reconnection attempt.
    Reconnect = 2,
}

/// Waiting for the cross-origin `/__getcookie` script to call back.
struct CookieWait {
    script: Element,
    callback: Function,
}

impl Drop for CookieWait {
    fn drop(&mut self) {
        set(&self.script, "onload", &JsValue::NULL);
        set(&self.script, "onerror", &JsValue::NULL);
        self.script.remove();
        let global = js_sys::global();
        if get(&global, COOKIE_CALLBACK) == **self.callback {
            let _ = js_sys::Reflect::delete_property(&global, &COOKIE_CALLBACK.into());
        }
    }
}

const COOKIE_CALLBACK: &str = "_sailsIoJSConnect";
const DISCONNECTED: &str = "The socket disconnected before the request completed.";

/// The state of one `SailsSocket`.
pub(crate) struct Client {
    /// Where the socket stands: connecting, connected, reconnecting, …
    lifecycle: RefCell<Lifecycle>,
    /// The protocol: frames in, requests queued and in flight.
    session: RefCell<Session<Request>>,
    listeners: RefCell<Listeners<u32>>,
    /// The socket's JS values: its object, closure, options, listeners and
    /// requests.
    held: Held,
    transport: RefCell<Option<Transport>>,
    timers: RefCell<[Option<Timeout>; 3]>,
    cookie: RefCell<Option<CookieWait>>,
    handshake: Cell<Handshake>,
    /// A reconnection whose recovery outcome the page has not been told:
    /// `Some(attempts)` of an automatic one (its `reconnect` waits too).
    reconnection: Cell<Option<Option<u32>>>,
    /// With `resubscribe`, the requests that put the socket into a room (the
    /// key of `[url, data, headers]`).
    subscriptions: RefCell<Subscriptions<Request>>,
    /// The first exception page code threw during the current call.
    thrown: RefCell<Option<JsValue>>,
}

fn is_function(value: &JsValue) -> bool {
    value.is_function()
}

fn now() -> f64 {
    js_sys::Date::now()
}

fn number_or(value: &JsValue, default: f64) -> f64 {
    value.as_f64().unwrap_or(default)
}

impl Client {
    /// A disconnected client starting in `lifecycle` (its options are among
    /// the socket's JS values).
    pub(crate) fn new(lifecycle: Lifecycle) -> Self {
        Self {
            lifecycle: RefCell::new(lifecycle),
            session: RefCell::new(Session::new(EngineVersion::V3)),
            listeners: RefCell::default(),
            held: Held::default(),
            transport: RefCell::default(),
            timers: RefCell::default(),
            cookie: RefCell::default(),
            handshake: Cell::new(Handshake::DEFAULT),
            reconnection: Cell::new(None),
            subscriptions: RefCell::default(),
            thrown: RefCell::default(),
        }
    }

    /// The socket's closure bound to browser event `event`, for a callback.
    fn bound(&self, event: BrowserEvent) -> Function {
        self.held.bound(Operation::Event(event))
    }

    /// The JS object the page sees (for chaining, and `this` of listeners).
    pub(crate) fn object(&self) -> JsValue {
        self.held.get(OBJECT)
    }

    /// Runs `operation` with the socket's JS values `held` at hand;
    /// rethrows what page code threw meanwhile.
    pub(crate) fn run(
        &self,
        held: JsValue,
        operation: impl FnOnce() -> Result<JsValue, ClientError>,
    ) -> Result<JsValue, JsValue> {
        let outer = self.held.enter(held.unchecked_into());
        let result = operation();
        self.held.leave(outer);
        match (self.take_thrown(), result) {
            (Some(thrown), Ok(_)) => Err(thrown),
            (_, result) => result.map_err(JsValue::from),
        }
    }

    /// A callback from the browser: `event` (a WebSocket `message` event for
    /// [`BrowserEvent::Message`]).
    pub(crate) fn on_browser_event(&self, event: BrowserEvent, value: &JsValue) {
        match event {
            BrowserEvent::Message => {
                if let Some(frame) = Frame::of(value) {
                    self.on_frame(frame);
                }
            }
            BrowserEvent::Close => self.lost("transport close", true),
            BrowserEvent::CookieArrived => self.cookie_arrived(),
            BrowserEvent::PingDue => {
                self.send("2");
                let ping_timeout = self.handshake.get().ping_timeout;
                self.set_timer(Slot::Deadline, ping_timeout, BrowserEvent::HeartbeatLost);
            }
            BrowserEvent::ConnectTimedOut => {
                self.emit("connect_timeout", &[]);
                self.lost("timeout", true);
            }
            BrowserEvent::HeartbeatLost => self.lost("ping timeout", true),
            BrowserEvent::ReconnectDue => self.reconnect_due(),
        }
    }

    // ---- page-facing state -------------------------------------------------

    /// `isConnected()`.
    pub(crate) fn is_connected(&self) -> bool {
        self.lifecycle.borrow().is_connected()
    }

    /// `isConnecting()`.
    pub(crate) fn is_connecting(&self) -> bool {
        self.lifecycle.borrow().is_connecting()
    }

    /// `mightBeAboutToAutoConnect()`.
    pub(crate) fn might_be_about_to_auto_connect(&self) -> bool {
        self.lifecycle.borrow().might_be_about_to_auto_connect()
    }

    /// The first exception page code threw since the last call.
    fn take_thrown(&self) -> Option<JsValue> {
        self.thrown.borrow_mut().take()
    }

    fn keep_thrown(&self, result: Result<JsValue, JsValue>) {
        if let Err(err) = result {
            self.thrown.borrow_mut().get_or_insert(err);
        }
    }

    // ---- options -----------------------------------------------------------

    /// The socket's own value of option `opt`.
    pub(crate) fn own_option(&self, opt: Opt) -> JsValue {
        self.held.option(opt)
    }

    /// Sets option `opt`; refused while connected (unless `io.sails.strict`
    /// is `false` or the value is the same). A scheduled reconnection stops.
    /// `headers` and `resubscribe` may change at any time.
    pub(crate) fn set_option(&self, opt: Opt, value: JsValue) -> Result<(), ClientError> {
        if !matches!(opt, Opt::Headers | Opt::Resubscribe) {
            if self.is_connected()
                && config::default_of("strict") != JsValue::FALSE
                && !value.loose_eq(&self.own_option(opt))
            {
                return Err(ClientError::ChangeWhileConnected(opt.name()));
            }
            if self.lifecycle.borrow_mut().stop_reconnecting() {
                self.clear_timer(Slot::Reconnect);
                Notice::StoppingReconnect.log();
            }
        }
        self.held.set_option(opt, &value);
        Ok(())
    }

    /// The socket's value of `opt`, else `io.sails`'s.
    fn option(&self, opt: Opt) -> JsValue {
        let own = self.own_option(opt);
        if own.is_undefined() {
            config::default_of(opt.name())
        } else {
            own
        }
    }

    /// The socket's `url`, if a string.
    fn url(&self) -> Option<String> {
        self.option(Opt::Url).as_string()
    }

    // ---- listeners ---------------------------------------------------------

    /// `on(event, fn)`.
    pub(crate) fn on(&self, event: &str, handler: &Function) {
        let key = self.held.put(handler);
        self.listeners.borrow_mut().add(event, key);
    }

    /// `off(event, fn)`.
    pub(crate) fn off(&self, event: &str, handler: &JsValue) {
        let removed = self
            .listeners
            .borrow_mut()
            .remove(event, |&key| self.held.get(key) == *handler);
        if let Some(key) = removed {
            self.held.take(key);
        }
    }

    /// `off(event)` and `removeAllListeners([event])`: only the page's listeners.
    pub(crate) fn remove_all_listeners(&self, event: Option<&str>) {
        self.listeners.borrow_mut().remove_all(event, |&key| {
            self.held.take(key);
        });
    }

    fn emit(&self, event: &str, args: &[JsValue]) {
        self.emit_array(event, &args.iter().collect());
    }

    /// Calls `event`'s listeners with the elements of `args`.
    fn emit_array(&self, event: &str, args: &Array) {
        // All of them first: a listener may remove another, and add one.
        let handlers = self.listeners.borrow().handlers(event, |&key| {
            self.held.get(key).unchecked_into::<Function>()
        });
        let this = self.object();
        for handler in handlers {
            self.keep_thrown(handler.apply(&this, args));
        }
    }

    // ---- requests ----------------------------------------------------------

    /// `request(options, [cb])`: validates like sails.io.js, then sends or
    /// queues. Without a callback, returns a Promise of `{body, jwr}`.
    pub(crate) fn request(&self, options: &JsValue, cb: &JsValue) -> Result<JsValue, ClientError> {
        if !cb.is_undefined() && !is_function(cb) {
            return Err(ClientError::InvalidCallback);
        }
        let url = get(options, "url");
        if !options.is_object() || !url.is_string() {
            return Err(ClientError::InvalidUrl);
        }
        let method = get(options, "method");
        let headers = get(options, "headers");
        let params = get(options, "params");
        let data = get(options, "data");
        let not_object = |value: &JsValue| value.is_truthy() && !value.is_object();
        if method.is_truthy() && !method.is_string() {
            return Err(ClientError::InvalidMethod);
        }
        if not_object(&headers) {
            return Err(ClientError::InvalidHeaders);
        }
        if not_object(&params) {
            return Err(ClientError::InvalidParams);
        }
        if not_object(&data) {
            return Err(ClientError::InvalidData);
        }
        if params.is_truthy() && data.is_truthy() {
            return Err(ClientError::ParamsAndData);
        }
        let data = if params.is_truthy() {
            params
        } else if data.is_truthy() {
            data
        } else {
            Object::new().into()
        };
        let method = method
            .dyn_into::<js_sys::JsString>()
            .ok()
            .filter(|m| m.length() > 0)
            .map_or_else(|| "get".to_owned(), |m| m.to_lower_case().into());
        let (settle, reject, promise) = if is_function(cb) {
            (cb.clone(), JsValue::UNDEFINED, JsValue::UNDEFINED)
        } else {
            let mut reply = None;
            let promise = Promise::new(&mut |resolve, reject| {
                reply = Some((resolve, reject));
            });
            let Some((resolve, reject)) = reply else {
                return Ok(promise.into());
            };
            (resolve.into(), reject.into(), promise.into())
        };
        let key = self
            .held
            .put(&Array::of5(&url, &data, &headers, &settle, &reject));
        self.submit(Request { method, key });
        Ok(promise)
    }

    fn submit(&self, request: Request) {
        if !self.is_connected() {
            self.session.borrow_mut().enqueue(request);
            return;
        }
        let ack_id = self.session.borrow_mut().next_ack_id();
        let frame = match self.frame_of(&request, ack_id) {
            Ok(frame) => frame,
            Err(err) => return self.fail(request, err),
        };
        let sent = self
            .transport
            .borrow()
            .as_ref()
            .is_some_and(|transport| transport.send(&frame));
        let mut session = self.session.borrow_mut();
        if sent {
            session.track(ack_id, request);
        } else {
            session.enqueue(request);
        }
    }

    /// `42<id>["get",{"method":…,"headers":…,"data":…,"url":…}]`, with the
    /// socket's headers under the request's own.
    fn frame_of(&self, request: &Request, ack_id: u64) -> Result<String, JsValue> {
        let parts: Array = self.held.get(request.key).unchecked_into();
        let headers = Object::new();
        let socket_headers = self.option(Opt::Headers);
        if socket_headers.is_object() {
            Object::assign(&headers, socket_headers.unchecked_ref());
        }
        let request_headers = parts.get(2);
        if request_headers.is_object() {
            Object::assign(&headers, request_headers.unchecked_ref());
        }
        let context = Object::new();
        let method = JsValue::from_str(&request.method);
        set(&context, "method", &method);
        set(&context, "headers", &headers);
        set(&context, "data", &parts.get(1));
        set(&context, "url", &parts.get(0));
        let json = JSON::stringify(&Array::of2(&method, &context))?;
        let mut frame = String::from("42");
        push_decimal(&mut frame, ack_id);
        frame.push_str(&String::from(json));
        Ok(frame)
    }

    /// How `request` is answered; its JS values are given back.
    fn reply(&self, request: Request) -> Reply {
        let parts: Array = self.held.take(request.key).unchecked_into();
        let (settle, reject) = (parts.get(3), parts.get(4));
        if settle.is_undefined() {
            Reply::Silent
        } else if reject.is_undefined() {
            Reply::Callback(settle.unchecked_into())
        } else {
            Reply::Promise {
                resolve: settle.unchecked_into(),
                reject: reject.unchecked_into(),
            }
        }
    }

    fn respond(&self, request: Request, response: &JsValue) {
        let jwr = jwr::from_response(response);
        let body = get(&jwr, "body");
        if !get(&get(&jwr, "headers"), SUBSCRIBED_HEADER).is_undefined()
            && self.option(Opt::Resubscribe).is_truthy()
        {
            self.keep_subscription(&request);
        }
        match self.reply(request) {
            Reply::Callback(cb) => {
                self.keep_thrown(cb.call2(&JsValue::NULL, &body, &jwr));
            }
            Reply::Promise { resolve, reject } => {
                let error = get(&jwr, "error");
                let (settle, outcome) = if error.is_undefined() {
                    (resolve, Object::new().into())
                } else {
                    (reject, error)
                };
                set(&outcome, "body", &body);
                set(&outcome, "jwr", &jwr);
                self.keep_thrown(settle.call1(&JsValue::NULL, &outcome));
            }
            Reply::Silent => {
                if !get(&jwr, "error").is_undefined() {
                    Notice::ResubscribeFailed.log_with(&jwr);
                }
            }
        }
    }

    /// Keeps a copy of `request` for `resubscribe`, unless one of the same
    /// method, url and data is kept.
    fn keep_subscription(&self, request: &Request) {
        let parts: Array = self.held.get(request.key).unchecked_into();
        let method = JsValue::from_str(&request.method);
        let Ok(identity) = JSON::stringify(&Array::of3(&method, &parts.get(0), &parts.get(1)))
        else {
            return;
        };
        let identity = String::from(identity);
        if self.subscriptions.borrow().contains(&identity) {
            return;
        }
        let key = self.held.put(&parts.slice(0, 3));
        let method = request.method.clone();
        self.subscriptions
            .borrow_mut()
            .add(identity, Request { method, key });
    }

    /// Sends the kept subscriptions again, in order, without callbacks.
    fn resubscribe(&self) {
        let kept: Vec<_> = self
            .subscriptions
            .borrow()
            .iter()
            .map(|request| (request.method.clone(), self.held.get(request.key)))
            .collect();
        for (method, parts) in kept {
            let key = self.held.put(&parts.unchecked_into::<Array>().slice(0, 3));
            self.submit(Request { method, key });
        }
    }

    fn fail(&self, request: Request, error: JsValue) {
        let response = Object::new();
        set(&response, "body", &JsValue::NULL);
        set(&response, "statusCode", &JsValue::from_f64(0.0));
        set(&response, "headers", &Object::new());
        match self.reply(request) {
            Reply::Callback(cb) => {
                self.keep_thrown(cb.call2(&JsValue::NULL, &error, &response));
            }
            Reply::Promise { reject, .. } => {
                set(&error, "jwr", &response);
                self.keep_thrown(reject.call1(&JsValue::NULL, &error));
            }
            Reply::Silent => Notice::ResubscribeFailed.log_with(&error),
        }
    }

    // ---- connection lifecycle ---------------------------------------------

    /// `_connect()`: starts connecting; a scheduled reconnection attempt
    /// starts now.
    pub(crate) fn connect(&self) -> Result<(), ClientError> {
        self.begin(Lifecycle::connect)
    }

    /// `reconnect()`: starts connecting afresh.
    pub(crate) fn reconnect(&self) -> Result<(), ClientError> {
        self.begin(Lifecycle::reconnect)
    }

    /// `disconnect()`: closes the connection for good (no reconnection); stops
    /// a connection attempt, or a scheduled one, quietly.
    pub(crate) fn disconnect(&self) -> Result<(), ClientError> {
        let ended = self.lifecycle.borrow_mut().disconnect(now())?;
        self.send("41");
        self.ended(ended, "io client disconnect", false);
        Ok(())
    }

    /// Starts an attempt once `transition` allows it; an attempt that cannot
    /// start leaves the socket idle.
    fn begin(
        &self,
        transition: fn(&mut Lifecycle) -> Result<(), ClientError>,
    ) -> Result<(), ClientError> {
        transition(&mut self.lifecycle.borrow_mut())?;
        self.clear_timer(Slot::Reconnect);
        let started = self.start_attempt();
        if started.is_err() {
            self.abandon_attempt();
        }
        started
    }

    /// An attempt that never got under way: idle again, without a word.
    fn abandon_attempt(&self) {
        self.lifecycle.borrow_mut().end(now());
        self.ended(Ended::Nothing, "", false);
    }

    /// Resolves options against `io.sails`, fetches the session cookie first
    /// when cross-origin, opens the WebSocket.
    fn start_attempt(&self) -> Result<(), ClientError> {
        for &opt in &Opt::ALL {
            if self.own_option(opt).is_undefined() {
                self.held.set_option(opt, &config::default_of(opt.name()));
            }
        }
        let query = self.option(Opt::Query);
        if query.is_object() {
            return Err(ClientError::QueryIsObject);
        }
        let transports = self.option(Opt::Transports);
        if self.option(Opt::InitialConnectionHeaders).is_truthy() {
            Notice::InitialConnectionHeaders.log();
        }
        if transports.is_object() && !Array::from(&transports).includes(&"websocket".into(), 0) {
            Notice::WebsocketOnly.log();
        }
        let eio = self.option(Opt::Eio);
        let version = if eio.as_f64() == Some(4.0) || eio == "4" {
            EngineVersion::V4
        } else {
            EngineVersion::V3
        };
        {
            let mut session = self.session.borrow_mut();
            session.set_version(version);
            session.opening();
        }
        let url = self.url();
        let cross_origin = url.as_deref().is_some_and(|url| {
            Endpoint {
                url: Some(url),
                page_origin: &page_origin(),
                path: None,
                query: None,
                version,
                recovery: "",
            }
            .is_cross_origin()
        });
        let cookie_route = self.option(Opt::UseCorsRouteToGetCookie);
        if let (true, true, Some(url)) = (cross_origin, cookie_route.is_truthy(), url) {
            let mut src = strip_trailing_slash(&url).to_owned();
            src.push_str(
                cookie_route
                    .as_string()
                    .as_deref()
                    .unwrap_or("/__getcookie"),
            );
            return self.fetch_cookie(&src);
        }
        self.open_transport()
    }

    /// Loads `src` as a script and connects once it calls
    /// `window._sailsIoJSConnect()`, or has loaded or failed to load (so that
    /// sockets fetching cookies at the same time do not wait for each other).
    fn fetch_cookie(&self, src: &str) -> Result<(), ClientError> {
        let document = web_sys::window()
            .and_then(|window| window.document())
            .ok_or(ClientError::BadEndpoint)?;
        let script = document
            .create_element("script")
            .map_err(|_| ClientError::BadEndpoint)?;
        let callback = self.bound(BrowserEvent::CookieArrived);
        set(&js_sys::global(), COOKIE_CALLBACK, &callback);
        set(&script, "onload", &callback);
        set(&script, "onerror", &callback);
        let _ = script.set_attribute("src", src);
        if let Some(head) = document.head() {
            let _ = head.append_child(&script);
        }
        *self.cookie.borrow_mut() = Some(CookieWait { script, callback });
        Ok(())
    }

    /// The cookie script called back (or loaded, or failed): connect.
    fn cookie_arrived(&self) {
        let Some(wait) = self.cookie.borrow_mut().take() else {
            return;
        };
        drop(wait);
        if let Err(err) = self.open_transport() {
            self.abandon_attempt();
            self.emit("error", &[err.into()]);
        }
    }

    /// Opens the WebSocket, and arms the connect timeout.
    fn open_transport(&self) -> Result<(), ClientError> {
        let version = self.session.borrow().version();
        let url = self.url();
        let path = self.option(Opt::Path).as_string();
        let query = self.option(Opt::Query).as_string();
        let origin = page_origin();
        let recovery = self.session.borrow_mut().recovery().handshake_query();
        let websocket_url = Endpoint {
            url: url.as_deref(),
            page_origin: &origin,
            path: path.as_deref(),
            query: query.as_deref(),
            version,
            recovery: &recovery,
        }
        .websocket_url();
        let transport = websocket_url
            .and_then(|url| {
                Transport::open(
                    &url,
                    &self.bound(BrowserEvent::Message),
                    &self.bound(BrowserEvent::Close),
                )
                .ok()
            })
            .ok_or(ClientError::BadEndpoint)?;
        self.session.borrow_mut().opening();
        *self.transport.borrow_mut() = Some(transport);
        let timeout = self.option(Opt::Timeout);
        if timeout != JsValue::FALSE {
            let ms = number_or(&timeout, 20_000.0).clamp(0.0, 2_147_483_647.0) as u32;
            self.set_timer(Slot::Deadline, ms, BrowserEvent::ConnectTimedOut);
        }
        Ok(())
    }

    /// Calls back `event` in `ms` milliseconds, replacing the timer in `slot`.
    fn set_timer(&self, slot: Slot, ms: u32, event: BrowserEvent) {
        let timeout = Timeout::new(ms, &self.bound(event));
        self.timers.borrow_mut()[slot as usize] = Some(timeout);
    }

    fn clear_timer(&self, slot: Slot) {
        let timer = self.timers.borrow_mut()[slot as usize].take();
        drop(timer);
    }

    fn send(&self, frame: &str) {
        if let Some(transport) = self.transport.borrow().as_ref() {
            transport.send(frame);
        }
    }

    /// A WebSocket frame arrived.
    pub(crate) fn on_frame(&self, frame: Frame) {
        match frame {
            Frame::Text(text) => {
                let step = self.session.borrow_mut().text_frame(&text);
                self.act(step);
            }
            Frame::Binary(bytes) => {
                let step = self.session.borrow_mut().binary_frame(&bytes);
                self.act(step);
            }
        }
    }

    fn act(&self, step: Step<'_, Request>) {
        // No status came first: the server does not recover connections.
        if matches!(
            step,
            Step::Event { .. } | Step::Ack { .. } | Step::UnknownAck(_) | Step::Heartbeat { .. }
        ) {
            self.reconnection_settled(&JsValue::UNDEFINED);
        }
        match step {
            Step::Nothing | Step::UnknownAck(_) => {}
            Step::Opened {
                handshake,
                connect_frame,
            } => {
                self.handshake.set(handshake);
                if let Some(frame) = connect_frame {
                    self.send(frame);
                }
                self.arm_heartbeat();
            }
            Step::Heartbeat { reply } => {
                if let Some(frame) = reply {
                    self.send(frame);
                }
                self.arm_heartbeat();
            }
            Step::Connected { replay } => self.connected(replay),
            Step::Status { payload } => {
                let status = JSON::parse(payload).unwrap_or_default();
                let token = get(&status, "token").as_string();
                let offset = get(&status, "offset").as_f64();
                self.session.borrow_mut().recovery().status(token, offset);
                self.reconnection_settled(&status);
            }
            Step::Event {
                payload,
                attachments,
            } => {
                let Some(args) = self.parse(&payload, &attachments) else {
                    return;
                };
                // `[name, ...args]`: the listeners get the array without its name.
                let args: Array = args.unchecked_into();
                if let Some(name) = args.shift().as_string() {
                    if name == "sails:parseError" {
                        Notice::ParseError.log_with(&args.get(0));
                    }
                    self.emit_array(&name, &args);
                }
            }
            Step::Ack {
                request,
                payload,
                attachments,
            } => match self.parse(&payload, &attachments) {
                Some(args) => self.respond(request, &Array::from(&args).get(0)),
                None => self.respond(request, &JsValue::UNDEFINED),
            },
            Step::Refused { payload } => {
                let reason = JSON::parse(payload)
                    .ok()
                    .filter(|value| !value.is_undefined())
                    .unwrap_or_else(|| Error::new("Connection refused by the server").into());
                Notice::Refused.log_with(&reason);
                self.emit("connect_error", std::slice::from_ref(&reason));
                self.emit("error", &[reason]);
                self.lost("io server disconnect", false);
            }
            Step::ServerClosed => self.lost("io server disconnect", false),
            Step::Invalid(err) => {
                self.emit("error", &[ClientError::Protocol(err).into()]);
            }
        }
    }

    /// Parses an event or ack array and puts binary attachments in place.
    fn parse(&self, payload: &str, attachments: &[Vec<u8>]) -> Option<JsValue> {
        match JSON::parse(payload) {
            Ok(value) if Array::is_array(&value) => Some(fill_placeholders(value, attachments)),
            _ => {
                self.emit("error", &[ClientError::BadJson.into()]);
                None
            }
        }
    }

    fn arm_heartbeat(&self) {
        let Handshake {
            ping_interval,
            ping_timeout,
        } = self.handshake.get();
        if self.session.borrow().version().client_pings() {
            self.clear_timer(Slot::Deadline);
            self.set_timer(Slot::Ping, ping_interval, BrowserEvent::PingDue);
        } else {
            self.set_timer(
                Slot::Deadline,
                ping_interval.saturating_add(ping_timeout),
                BrowserEvent::HeartbeatLost,
            );
        }
    }

    fn connected(&self, replay: Vec<Request>) {
        let reconnected = self.lifecycle.borrow_mut().connected(now());
        let url = self.url();
        let at = String::from(js_sys::Date::new_0().to_string());
        Notice::Connected {
            url: url.as_deref(),
            at: &at,
        }
        .log();
        if let Some(Reconnected {
            offline_seconds, ..
        }) = reconnected
        {
            Notice::Reconnected {
                offline_seconds: &js_number(offline_seconds),
            }
            .log();
        }
        let asked = self.session.borrow_mut().recovery().asked();
        if reconnected.is_some() || asked {
            self.reconnection
                .set(Some(reconnected.map(|reconnected| reconnected.attempts)));
            if !asked {
                self.reconnection_settled(&JsValue::UNDEFINED);
            }
        }
        self.emit("connect", &[]);
        for request in replay {
            self.submit(request);
        }
    }

    /// Tells the page how the reconnection under way went, from the server's
    /// `status` (`undefined`: it sent none): `socket.recovery`, and the
    /// `reconnect(attempts, outcome)` event of an automatic reconnection;
    /// then, when the rooms were not recovered, `resubscribe` replays.
    fn reconnection_settled(&self, status: &JsValue) {
        let Some(attempts) = self.reconnection.take() else {
            return;
        };
        let recovered = get(status, "recovered") == JsValue::TRUE;
        let reason = match get(status, "reason") {
            _ if recovered => JsValue::UNDEFINED,
            _ if status.is_undefined() => "unsupported".into(),
            reason if reason.is_string() => reason,
            _ => JsValue::UNDEFINED,
        };
        let outcome = Object::new();
        set(&outcome, "recovered", &recovered.into());
        set(&outcome, "reason", &reason);
        set(
            &outcome,
            "missed",
            &number_or(&get(status, "missed"), 0.0).into(),
        );
        show_recovery(&self.object(), &outcome);
        if let Some(attempts) = attempts {
            self.emit("reconnect", &[attempts.into(), outcome.into()]);
        }
        if !recovered && self.option(Opt::Resubscribe).is_truthy() {
            self.resubscribe();
        }
    }

    /// The connection ended (or failed to start): fail what was in flight,
    /// tell the page, and schedule a reconnection if allowed.
    fn lost(&self, reason: &str, may_reconnect: bool) {
        let ended = self.lifecycle.borrow_mut().end(now());
        self.ended(ended, reason, may_reconnect);
    }

    /// Lets go of the connection's resources once `ended` ended, tells the
    /// page, and schedules a reconnection if `may_reconnect` and the
    /// `reconnection` option allow.
    fn ended(&self, ended: Ended, reason: &str, may_reconnect: bool) {
        let transport = self.transport.borrow_mut().take();
        drop(transport);
        let cookie = self.cookie.borrow_mut().take();
        drop(cookie);
        let timers = std::mem::take(&mut *self.timers.borrow_mut());
        drop(timers);
        let in_flight = self.session.borrow_mut().closed();
        self.reconnection.set(None);
        match ended {
            Ended::Connection(_) => {
                let url = self.url();
                Notice::Disconnected {
                    url: url.as_deref(),
                }
                .log();
                self.emit("disconnect", &[reason.into()]);
            }
            Ended::Attempt { reconnecting, .. } => {
                let error: JsValue = Error::new(&{
                    let mut text = String::from("Could not connect the socket: ");
                    text.push_str(reason);
                    text
                })
                .into();
                Notice::UnableToConnect.log_with(&error);
                // As socket.io-client: every failed attempt is a `connect_error`, and
                // a failed reconnection attempt a `reconnect_error` too.
                self.emit("connect_error", std::slice::from_ref(&error));
                if reconnecting {
                    self.emit("reconnect_error", &[error]);
                }
            }
            Ended::Nothing => {}
        }
        for request in in_flight {
            self.fail(request, Error::new(DISCONNECTED).into());
        }
        if let Some(outage) = ended.outage()
            && may_reconnect
            && self.option(Opt::Reconnection).is_truthy()
        {
            self.wait_to_reconnect(outage);
        }
    }

    /// Schedules the next reconnection attempt of `outage`, or gives up.
    fn wait_to_reconnect(&self, outage: Outage) {
        let backoff = Backoff {
            delay: number_or(&self.option(Opt::ReconnectionDelay), 1000.0),
            delay_max: number_or(&self.option(Opt::ReconnectionDelayMax), 5000.0),
            randomization: number_or(&self.option(Opt::RandomizationFactor), 0.5),
            max_attempts: number_or(&self.option(Opt::ReconnectionAttempts), f64::INFINITY),
        };
        let retry = self
            .lifecycle
            .borrow_mut()
            .wait_to_reconnect(outage, &backoff, Math::random());
        match retry {
            Retry::In(ms) => self.set_timer(Slot::Reconnect, ms, BrowserEvent::ReconnectDue),
            Retry::GaveUp => self.emit("reconnect_failed", &[]),
            Retry::Superseded => {}
        }
    }

    /// The reconnection timer fired: announce the attempt, then make it
    /// (unless a listener disconnected the socket or changed an option).
    fn reconnect_due(&self) {
        let Some(attempt) = self.lifecycle.borrow().attempt_due() else {
            return;
        };
        let attempt = JsValue::from(attempt);
        self.emit("reconnect_attempt", std::slice::from_ref(&attempt));
        self.emit("reconnecting", std::slice::from_ref(&attempt));
        let url = self.url();
        Notice::Reconnecting {
            url: url.as_deref(),
            attempt: &jwr::js_string(&attempt),
        }
        .log();
        if !self.lifecycle.borrow_mut().start_reconnect_attempt() {
            return;
        }
        self.session.borrow_mut().opening();
        if self.open_transport().is_err() {
            self.lost("transport error", true);
        }
    }
}

/// Sets the socket's read-only `recovery` property to `outcome`.
pub(crate) fn show_recovery(object: &JsValue, outcome: &JsValue) {
    let descriptor = Object::new();
    set(&descriptor, "value", outcome);
    set(&descriptor, "enumerable", &JsValue::TRUE);
    set(&descriptor, "configurable", &JsValue::TRUE);
    Object::define_property(
        object.unchecked_ref::<Object>(),
        &"recovery".into(),
        &descriptor,
    );
}

/// A number as JS prints it.
fn js_number(value: f64) -> String {
    crate::jwr::js_string(&JsValue::from_f64(value))
}

/// The page's origin (`location.origin`), or an empty string off a page.
fn page_origin() -> String {
    web_sys::window()
        .and_then(|window| window.location().origin().ok())
        .unwrap_or_default()
}

/// Replaces each `{"_placeholder":true,"num":i}` by attachment `i` as an
/// `ArrayBuffer`.
fn fill_placeholders(value: JsValue, attachments: &[Vec<u8>]) -> JsValue {
    if attachments.is_empty() || !value.is_object() {
        return value;
    }
    if get(&value, "_placeholder") == JsValue::TRUE {
        let index = get(&value, "num").as_f64().unwrap_or(-1.0);
        if index >= 0.0
            && let Some(bytes) = attachments.get(index as usize)
        {
            return Uint8Array::from(bytes.as_slice()).buffer().into();
        }
        return value;
    }
    let object: &Object = value.unchecked_ref();
    for key in Object::keys(object).iter() {
        if let Some(key) = key.as_string() {
            let inner = fill_placeholders(get(&value, &key), attachments);
            set(&value, &key, &inner);
        }
    }
    value
}
