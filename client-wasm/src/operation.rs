//! What a call into a socket's closure asks for, as typed values.
//!
//! Everything the page or the browser calls on a socket (its methods, its
//! option accessors, WebSocket events, timers, the cookie script) is the
//! socket's one closure bound to an operation number. The numbers are made
//! here from [`Operation`] and read back with [`Operation::from_number`],
//! which refuses a number it does not know. Each enum below is declared
//! once, with its JS names where it has any: the names the socket object
//! gets are these tables, so they cannot drift from the variants.

/// Declares an enum of unit variants numbered from 0 in declaration order,
/// with `COUNT`, `ALL` (in number order) and `from_index`, and, when each
/// variant is given a JS name (`Variant = "name"`), `NAMES` and `name()`.
macro_rules! numbered {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $($(#[$doc:meta])* $variant:ident $(= $js:literal)?,)* }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        pub enum $name {
            $($(#[$doc])* $variant,)*
        }

        impl $name {
            /// How many values there are.
            pub const COUNT: usize = [$(Self::$variant),*].len();
            /// Every value, in number order.
            pub const ALL: [Self; Self::COUNT] = [$(Self::$variant),*];

            /// The value numbered `index`, if any.
            pub fn from_index(index: usize) -> Option<Self> {
                $(if index == Self::$variant as usize {
                    return Some(Self::$variant);
                })*
                None
            }

            /// Its number (its index in [`Self::ALL`]).
            pub fn index(self) -> usize {
                self as usize
            }
        }

        numbered!(@names $name $($variant $(= $js)?,)*);
    };
    (@names $name:ident $($variant:ident = $js:literal,)*) => {
        impl $name {
            /// The JS names, in number order.
            pub const NAMES: [&'static str; Self::COUNT] = [$($js),*];

            /// Its JS name.
            pub fn name(self) -> &'static str {
                Self::NAMES[self as usize]
            }
        }
    };
    (@names $name:ident $($variant:ident,)*) => {};
}

numbered! {
    /// A socket method, as the page calls it (`socket.get(…)`).
    pub enum Method {
        /// `get(url, [data], [cb])`.
        Get = "get",
        /// `post(url, [data], [cb])`.
        Post = "post",
        /// `put(url, [data], [cb])`.
        Put = "put",
        /// `patch(url, [data], [cb])`.
        Patch = "patch",
        /// `delete(url, [data], [cb])`.
        Delete = "delete",
        /// `request(options, [cb])`.
        Request = "request",
        /// `on(event, fn)`.
        On = "on",
        /// `off(event, [fn])`.
        Off = "off",
        /// `removeAllListeners([event])`.
        RemoveAllListeners = "removeAllListeners",
        /// `isConnected()`.
        IsConnected = "isConnected",
        /// `isConnecting()`.
        IsConnecting = "isConnecting",
        /// `mightBeAboutToAutoConnect()`.
        MightBeAboutToAutoConnect = "mightBeAboutToAutoConnect",
        /// `disconnect()`.
        Disconnect = "disconnect",
        /// `reconnect()`.
        Reconnect = "reconnect",
        /// `_connect()`: starts connecting.
        Connect = "_connect",
    }
}

impl Method {
    /// For the verbs (`get` … `delete`), the request option their `data`
    /// argument becomes: `post` sends it as `data`, the others as `params`
    /// (as sails.io.js names them).
    pub fn verb_data_key(self) -> &'static str {
        match self {
            Self::Post => "data",
            _ => "params",
        }
    }
}

numbered! {
    /// A per-socket option of sails.io.js, then this client's own `eio` and
    /// `resubscribe`.
    pub enum Opt {
        /// `useCORSRouteToGetCookie`: fetch the session cookie first when cross-origin.
        UseCorsRouteToGetCookie = "useCORSRouteToGetCookie",
        /// `url`: the server.
        Url = "url",
        /// `multiplex` (kept, unused: one WebSocket per socket).
        Multiplex = "multiplex",
        /// `transports`: only `websocket` is spoken.
        Transports = "transports",
        /// `query`: appended to the handshake URL.
        Query = "query",
        /// `path`: the Socket.IO path.
        Path = "path",
        /// `headers`: sent with every request.
        Headers = "headers",
        /// `initialConnectionHeaders` (a browser WebSocket cannot send them).
        InitialConnectionHeaders = "initialConnectionHeaders",
        /// `reconnection`: reconnect automatically.
        Reconnection = "reconnection",
        /// `reconnectionAttempts`.
        ReconnectionAttempts = "reconnectionAttempts",
        /// `reconnectionDelay`.
        ReconnectionDelay = "reconnectionDelay",
        /// `reconnectionDelayMax`.
        ReconnectionDelayMax = "reconnectionDelayMax",
        /// `rejectUnauthorized` (kept, unused in a browser).
        RejectUnauthorized = "rejectUnauthorized",
        /// `randomizationFactor`.
        RandomizationFactor = "randomizationFactor",
        /// `timeout`: of a connection attempt, in ms (`false`: none).
        Timeout = "timeout",
        /// `eio`: the Engine.IO revision, 3 or 4.
        Eio = "eio",
        /// `resubscribe`: replay the requests that joined rooms when a
        /// reconnection did not recover them.
        Resubscribe = "resubscribe",
    }
}

numbered! {
    /// A callback from the browser into a socket.
    pub enum BrowserEvent {
        /// A WebSocket `message` event.
        Message,
        /// The WebSocket closed (or failed to open).
        Close,
        /// The cookie script loaded, failed, or called back.
        CookieArrived,
        /// EIO3: time to send a ping.
        PingDue,
        /// The connection attempt took longer than `timeout`.
        ConnectTimedOut,
        /// The server missed its heartbeat.
        HeartbeatLost,
        /// Time for the next reconnection attempt.
        ReconnectDue,
    }
}

numbered! {
    /// A JWR's method (non-enumerable properties of every JWR).
    pub enum JwrMethod {
        /// `toString()`: `[ResponseFromSails]  -- Status: …`.
        ToString = "toString",
        /// `toPOJO()`: `{body, headers, statusCode}`.
        ToPojo = "toPOJO",
        /// `toJSON()`: the same, for `JSON.stringify(jwr)`.
        ToJson = "toJSON",
        /// `pipe()`: streaming is not supported.
        Pipe = "pipe",
    }
}

/// What a call into a socket's closure does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Operation {
    /// A page call of a socket method.
    Method(Method),
    /// The getter of an option property.
    GetOption(Opt),
    /// The setter of an option property.
    SetOption(Opt),
    /// A WebSocket event, timer or cookie script callback.
    Event(BrowserEvent),
}

/// The first number of each kind of operation.
const GET_OPTION: usize = Method::COUNT;
const SET_OPTION: usize = GET_OPTION + Opt::COUNT;
const EVENT: usize = SET_OPTION + Opt::COUNT;
const END: usize = EVENT + BrowserEvent::COUNT;

/// A number that names no operation (the client's closure was called with
/// something else than what it bound).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UnknownOperation;

impl Operation {
    /// The number the closure is bound to.
    pub fn number(self) -> u32 {
        (match self {
            Self::Method(method) => method.index(),
            Self::GetOption(opt) => GET_OPTION + opt.index(),
            Self::SetOption(opt) => SET_OPTION + opt.index(),
            Self::Event(event) => EVENT + event.index(),
        }) as u32
    }

    /// The operation numbered `number` (a JS number: anything but one of
    /// the integers [`Operation::number`] makes is refused).
    pub fn from_number(number: f64) -> Result<Self, UnknownOperation> {
        let index = index_of(number, END).ok_or(UnknownOperation)?;
        let operation = if index < GET_OPTION {
            Method::from_index(index).map(Self::Method)
        } else if index < SET_OPTION {
            Opt::from_index(index - GET_OPTION).map(Self::GetOption)
        } else if index < EVENT {
            Opt::from_index(index - SET_OPTION).map(Self::SetOption)
        } else {
            BrowserEvent::from_index(index - EVENT).map(Self::Event)
        };
        operation.ok_or(UnknownOperation)
    }
}

impl JwrMethod {
    /// The method numbered `number` (a JS number), see [`Operation::from_number`].
    pub fn from_number(number: f64) -> Result<Self, UnknownOperation> {
        index_of(number, Self::COUNT)
            .and_then(Self::from_index)
            .ok_or(UnknownOperation)
    }
}

/// `number` as an index below `end`, if it is one.
fn index_of(number: f64, end: usize) -> Option<usize> {
    // `as` saturates, and makes NaN 0: only an index reads back as itself.
    let index = number as usize;
    (index < end && index as f64 == number).then_some(index)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn every_operation() -> Vec<Operation> {
        let mut all: Vec<_> = Method::ALL.into_iter().map(Operation::Method).collect();
        all.extend(Opt::ALL.into_iter().map(Operation::GetOption));
        all.extend(Opt::ALL.into_iter().map(Operation::SetOption));
        all.extend(BrowserEvent::ALL.into_iter().map(Operation::Event));
        all
    }

    #[test]
    fn every_operation_has_its_own_number_and_reads_back() {
        let all = every_operation();
        for (expected, operation) in all.iter().enumerate() {
            assert_eq!(operation.number() as usize, expected, "{operation:?}");
            assert_eq!(
                Operation::from_number(f64::from(operation.number())),
                Ok(*operation)
            );
        }
        assert_eq!(all.len(), END);
    }

    #[test]
    fn unknown_numbers_are_refused_not_taken_for_get() {
        for number in [
            -1.0,
            0.5,
            END as f64,
            64.0,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
        ] {
            assert_eq!(
                Operation::from_number(number),
                Err(UnknownOperation),
                "{number}"
            );
        }
        assert_eq!(JwrMethod::from_number(4.0), Err(UnknownOperation));
        assert_eq!(JwrMethod::from_number(3.0), Ok(JwrMethod::Pipe));
    }

    #[test]
    fn names_are_those_of_sails_io_js() {
        assert_eq!(
            Method::NAMES,
            [
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
            ]
        );
        assert_eq!(Opt::Headers.name(), "headers");
        assert_eq!(
            Opt::UseCorsRouteToGetCookie.name(),
            "useCORSRouteToGetCookie"
        );
        assert_eq!(JwrMethod::ToPojo.name(), "toPOJO");
        for names in [&Method::NAMES[..], &Opt::NAMES, &JwrMethod::NAMES] {
            let mut sorted = names.to_vec();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), names.len(), "a name is repeated: {names:?}");
        }
    }

    #[test]
    fn verbs_send_their_data_as_sails_io_js_does() {
        let keys: Vec<_> = Method::ALL[..5]
            .iter()
            .map(|method| (method.name(), method.verb_data_key()))
            .collect();
        assert_eq!(
            keys,
            [
                ("get", "params"),
                ("post", "data"),
                ("put", "params"),
                ("patch", "params"),
                ("delete", "params"),
            ]
        );
    }

    /// `js/loader.js` stands in for a socket until the module is ready: its
    /// stand-in must offer exactly the page-facing methods (all but
    /// `_connect`, which only the loader calls).
    #[test]
    fn the_loaders_stand_in_offers_every_method() {
        let loader = include_str!("../js/loader.js");
        let list = |start: &str| -> Vec<&str> {
            let rest = &loader[loader.find(start).expect(start) + start.len()..];
            rest[..rest.find(']').expect("a list")]
                .split(',')
                .map(|name| name.trim().trim_matches('"'))
                .collect()
        };
        let mut stand_in = list("var REQUESTS = [");
        stand_in.extend(list("var CHAINED = ["));
        for name in ["isConnected", "isConnecting", "mightBeAboutToAutoConnect"] {
            assert!(
                loader.contains(&format!("socket.{name} = function")),
                "{name}"
            );
            stand_in.push(name);
        }
        stand_in.sort_unstable();
        let mut methods: Vec<_> = Method::ALL
            .into_iter()
            .filter(|&method| method != Method::Connect)
            .map(Method::name)
            .collect();
        methods.sort_unstable();
        assert_eq!(stand_in, methods);
        let options: Vec<_> = Opt::ALL.into_iter().map(Opt::name).collect();
        assert_eq!(list("var OPTIONS = ["), options, "the stand-in's settings");
    }
}
