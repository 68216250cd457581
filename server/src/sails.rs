//! [`Sails`]: the realtime layer put over an application's axum router.

use std::borrow::Cow;
use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::panic::AssertUnwindSafe;
use std::pin::Pin;
use std::sync::{Arc, Mutex, PoisonError};

use axum::Router;
use axum::body::Bytes;
use axum::extract::{ConnectInfo, FromRequestParts, OriginalUri, Request, State};
use axum::http::request::Parts;
use axum::http::uri::PathAndQuery;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use futures_util::FutureExt;
use futures_util::stream::{FuturesUnordered, StreamExt};
use socketioxide::SocketIo;
use socketioxide::extract::SocketRef;
use socketioxide::handler::{ConnectHandler, FromConnectParts, MessageHandler};
use socketioxide::socket::{AbsentMemberSink, BroadcastSink, DisconnectReason};
use tower::{Layer, ServiceExt};
use tower_sessions::{Session, SessionManagerLayer, SessionStore};

use crate::cluster::{Cluster, ClusterAdapter, ClusterError, Io, Joined, Socket};
use crate::config::SocketsConfig;
use crate::csrf::Csrf;
use crate::extract::{Handshake, SocketRequest, query_value};
use crate::jwr::Jwr;
use crate::outbox::{CloseCounts, CloseReason, Limits, Outbox, Outgoing, Payload};
use crate::pubsub::PubSub;
use crate::recovery::status::Outcome;
use crate::recovery::{self, Recovery};
use crate::request_queue::{Admission, Queued, RequestQueue};
use crate::session::{DEFAULT_COOKIE_NAME, SessionCookie, Sessions, SharedStore, get_cookie};
use crate::sockets::{ClusterView, SocketId, Sockets};
use crate::virtual_request::{
    NOSESSION, PARSE_ERROR_EVENT, ParseError, ParseErrorBody, Refusal, SocketHeaders,
    VirtualRequest, check_sdk_version, is_verb_event,
};

type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;
type BeforeConnectHook = Arc<dyn Fn(Handshake) -> BoxFuture<bool> + Send + Sync>;
type AfterDisconnectHook = Arc<dyn Fn(Disconnected) -> BoxFuture<()> + Send + Sync>;

/// A session layer, put over the HTTP router and, whole, over the router as
/// the pipeline of virtual requests.
struct SessionLayer {
    over_http: Box<dyn FnOnce(Router) -> Router + Send>,
    serve_sockets: ServeSockets,
}

type ServeSockets = Box<dyn FnOnce(&Sails, Router) + Send>;

/// The service a socket's virtual requests go through: the application's
/// router, with the session layer around it as a whole.
trait Pipeline:
    tower::Service<Request, Response = Response, Error = Infallible, Future: Send>
    + Clone
    + Send
    + Sync
    + 'static
{
}

impl<P> Pipeline for P where
    P: tower::Service<Request, Response = Response, Error = Infallible, Future: Send>
        + Clone
        + Send
        + Sync
        + 'static
{
}

/// What an `after_disconnect` hook learns about a socket that went away.
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct Disconnected {
    /// The socket's id.
    pub socket_id: SocketId,
    /// The socket's session, when sessions are on and the socket had one.
    pub session: Option<Session>,
    /// Why it disconnected, as socketioxide reports it.
    pub reason: String,
}

/// What the realtime layer keeps about each socket, in its extensions
/// behind an `Arc`, for the socket's life.
struct SocketContext {
    /// The session its virtual requests carry.
    session: Mutex<SocketSession>,
    /// The handshake's `Origin`, carried by every request.
    origin: Option<HeaderValue>,
    /// Whether its SDK version allows virtual requests.
    sdk: Result<(), ParseError>,
    /// Whether its handshake asked for no session (a `nosession` header or
    /// query parameter): none of its requests then has one.
    nosession: bool,
    /// The peer address of the handshake connection, when the server records it.
    peer: Option<ConnectInfo<SocketAddr>>,
    /// Its requests waiting for their turn.
    requests: RequestQueue,
    /// Its way out.
    outbox: Arc<Outbox>,
    /// Its client's token and what became of its recovery, when it takes
    /// part (boxed: most sockets do not).
    recovering: Option<Box<Recovering>>,
}

/// A socket whose client recovers connections.
struct Recovering {
    /// The token the client gets for its next reconnection.
    token: String,
    outcome: Outcome,
}

/// A socket's session, as its virtual requests carry it.
#[derive(Clone, Default)]
struct SocketSession {
    /// The `cookie` header (the handshake's, or a pinned session's).
    cookie: Option<HeaderValue>,
    /// The session created for this socket at connect, deleted when it disconnects.
    pinned: Option<tower_sessions::session::Id>,
}

impl SocketContext {
    fn session(&self) -> SocketSession {
        self.session
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    fn headers(&self) -> SocketHeaders {
        SocketHeaders {
            cookie: self.session().cookie,
            origin: self.origin.clone(),
            nosession: self.nosession,
        }
    }
}

/// The context of a socket of this layer.
fn context_of(socket: &Socket) -> Option<Arc<SocketContext>> {
    socket.extensions.get::<Arc<SocketContext>>()
}

/// What the realtime layer did to keep its promise that nothing sent is
/// lost: the sockets it disconnected, by reason.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
#[non_exhaustive]
pub struct Stats {
    /// Sockets disconnected because what was sent to them was not written
    /// for [`SocketsConfig::slow_consumer_timeout`], or waited in a backlog
    /// longer than [`SocketsConfig::max_backlog`].
    pub slow_consumers: u64,
    /// Sockets disconnected because they queued more requests than
    /// [`SocketsConfig::max_queued_request_bytes`].
    pub too_many_queued_requests: u64,
}

struct Shared {
    config: SocketsConfig,
    /// Set when other servers may hold sockets too.
    cluster: Option<Arc<ClusterView>>,
    /// The subscription to the cluster's channels, once the namespace exists.
    joined: std::sync::OnceLock<Joined>,
    closes: Arc<CloseCounts>,
    sessions: Option<Sessions>,
    before_connect: Option<BeforeConnectHook>,
    after_disconnect: Option<AfterDisconnectHook>,
    /// Disconnected sockets kept for their clients; `None` when off.
    recovery: Option<Arc<Recovery>>,
    /// Set once `recovery` is the namespace's absent-member sink (the
    /// namespace exists once the adapter has started: at the first handshake
    /// at the latest).
    absent_sink: std::sync::OnceLock<()>,
}

/// The realtime layer of one application: its `sails.sockets` API and its
/// models' pub/sub. Cheap to clone; also an axum extractor in every handler
/// of the router it was built over.
#[derive(Clone)]
pub struct Sails {
    io: Io,
    shared: Arc<Shared>,
}

impl std::fmt::Debug for Sails {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sails")
            .field("config", &self.shared.config)
            .finish_non_exhaustive()
    }
}

impl Sails {
    /// Starts configuring the realtime layer.
    pub fn builder() -> SailsBuilder {
        SailsBuilder::default()
    }

    /// The `sails.sockets` API.
    pub fn sockets(&self) -> Sockets {
        Sockets::new(self.io.clone(), self.shared.cluster.clone())
    }

    /// Resourceful pub/sub for the model with this identity (lower-cased).
    pub fn pubsub(&self, identity: &str) -> PubSub {
        PubSub::new(identity, self.sockets())
    }

    /// The configuration in force.
    pub fn config(&self) -> &SocketsConfig {
        &self.shared.config
    }

    /// The sockets this layer disconnected itself so far, by reason.
    pub fn stats(&self) -> Stats {
        self.shared.closes.snapshot()
    }

    /// Waits until this server hears the other servers of its cluster (at
    /// once for a server alone). Serve requests only after it: until then,
    /// another server's broadcasts and room changes do not reach this one.
    pub async fn joined_cluster(&self) -> Result<(), ClusterError> {
        match self.shared.joined.get() {
            Some(joined) => joined.clone().await.map_err(ClusterError::Subscribe),
            None => Ok(()),
        }
    }

    /// The underlying socketioxide server, for what this API does not cover.
    pub fn io(&self) -> &Io {
        &self.io
    }
}

/// Why [`Sails`] is missing from a request: the router was not built by [`SailsBuilder::build`].
#[derive(Debug, thiserror::Error)]
#[error("the Sails realtime layer is not installed on this router")]
pub struct SailsMissing;

impl IntoResponse for SailsMissing {
    fn into_response(self) -> Response {
        (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Sails {
    type Rejection = SailsMissing;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        parts.extensions.get::<Sails>().cloned().ok_or(SailsMissing)
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Sockets {
    type Rejection = SailsMissing;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        Ok(Sails::from_request_parts(parts, state).await?.sockets())
    }
}

/// Builds the realtime layer over an application's [`Router`].
#[derive(Default)]
pub struct SailsBuilder {
    config: SocketsConfig,
    cluster: Cluster,
    sessions: Option<(Sessions, SessionLayer)>,
    before_connect: Option<BeforeConnectHook>,
    after_disconnect: Option<AfterDisconnectHook>,
    csrf: Option<Csrf>,
}

impl std::fmt::Debug for SailsBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SailsBuilder")
            .field("config", &self.config)
            .field("sessions", &self.sessions.is_some())
            .finish_non_exhaustive()
    }
}

impl SailsBuilder {
    /// Uses this configuration instead of Sails' defaults.
    pub fn config(mut self, config: SocketsConfig) -> Self {
        self.config = config;
        self
    }

    /// Shares rooms, broadcasts and socket lookups with the other servers of
    /// `cluster` (by default the server is alone). For sessions shared too,
    /// give [`Cluster::session_store`] to [`sessions`](Self::sessions).
    /// A clustered server must be built inside a tokio runtime; await
    /// [`Sails::joined_cluster`] before serving.
    pub fn cluster(mut self, cluster: Cluster) -> Self {
        self.cluster = cluster;
        self
    }

    /// Turns sessions on: a [`tower_sessions`] layer with this store and
    /// Sails' cookie name `sails.sid`, shared by HTTP and socket requests.
    pub fn sessions<S: SessionStore + Clone>(self, store: S) -> Self {
        self.sessions_with(store, SessionCookie::default())
    }

    /// [`sessions`](Self::sessions) with the cookie's `Secure` flag and the
    /// session lifetime of `cookie`.
    pub fn sessions_with<S: SessionStore + Clone>(self, store: S, cookie: SessionCookie) -> Self {
        let layer = cookie.layer(store.clone());
        self.session_layer(store, layer, DEFAULT_COOKIE_NAME)
    }

    /// Turns sessions on with a session layer configured by the application
    /// (expiry, `secure`, …). `cookie_name` must be the layer's cookie name.
    pub fn session_layer<S: SessionStore + Clone>(
        mut self,
        store: S,
        layer: SessionManagerLayer<S>,
        cookie_name: &str,
    ) -> Self {
        let sessions = Sessions {
            store: SharedStore(Arc::new(store)),
            cookie_name: cookie_name.to_owned(),
        };
        let http_layer = layer.clone();
        self.sessions = Some((
            sessions,
            SessionLayer {
                over_http: Box::new(move |router: Router| router.layer(http_layer)),
                serve_sockets: Box::new(move |sails: &Sails, router: Router| {
                    serve_sockets(sails, layer.layer(router));
                }),
            },
        ));
        self
    }

    /// A hook run on every handshake request; `false` refuses the connection
    /// with 403 (the client gets a `connect_error`), as Sails' `beforeConnect`.
    pub fn before_connect<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(Handshake) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = bool> + Send + 'static,
    {
        self.before_connect = Some(Arc::new(move |handshake| Box::pin(hook(handshake))));
        self
    }

    /// Turns on CSRF protection (Sails' `security.csrf`, off by default):
    /// POST, PUT, PATCH and DELETE requests, over HTTP and sockets, need a
    /// token granted to their session by [`csrf::grant_token`](crate::csrf::grant_token)
    /// (route it, e.g. at `GET /csrfToken`), or get 403 `CSRF mismatch`.
    /// Needs sessions.
    pub fn csrf(mut self, csrf: Csrf) -> Self {
        self.csrf = Some(csrf);
        self
    }

    /// A hook run after each socket disconnects, with its session.
    pub fn after_disconnect<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(Disconnected) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.after_disconnect = Some(Arc::new(move |event| Box::pin(hook(event))));
        self
    }

    /// Puts the realtime layer over `router`: the Socket.IO endpoint, the
    /// virtual requests (sent through `router` itself, with its layers and
    /// the session layer), `GET /__getcookie`, and the [`Sails`] extractor.
    /// Returns the router to serve and the handle for use outside handlers.
    ///
    /// Serve it with `into_make_service_with_connect_info::<SocketAddr>()` so
    /// that socket requests carry the peer address too. `router` must not
    /// define `/__getcookie` itself (axum refuses overlapping routes).
    pub fn build(self, router: Router) -> (Router, Sails) {
        self.config.origins.log_in_force(self.config.missing_origin);
        let cluster = self.cluster.is_redis().then(|| {
            Arc::new(ClusterView {
                timeout: self.cluster.timeout,
            })
        });
        let recovery = self.config.recovery.enabled().then(|| {
            Arc::new(Recovery::new(
                self.config.recovery,
                self.cluster.is_redis(),
                self.cluster.state.1.clone(),
            ))
        });
        let (io_layer, io) = self
            .config
            .apply(SocketIo::builder())
            .with_adapter::<ClusterAdapter>(self.cluster.state)
            .build_layer();
        let (sessions, session_layer) = match self.sessions {
            Some((sessions, layer)) => (Some(sessions), Some(layer)),
            None => (None, None),
        };
        let sails = Sails {
            io: io.clone(),
            shared: Arc::new(Shared {
                config: self.config,
                cluster,
                joined: std::sync::OnceLock::new(),
                closes: Arc::default(),
                sessions,
                before_connect: self.before_connect,
                after_disconnect: self.after_disconnect,
                recovery,
                absent_sink: std::sync::OnceLock::new(),
            }),
        };

        let mut routes = router.route("/__getcookie", get(get_cookie));
        if let Some(csrf) = self.csrf {
            if session_layer.is_none() {
                tracing::warn!(
                    "CSRF protection is on without sessions: every POST, PUT, PATCH and DELETE is refused"
                );
            }
            routes = routes.layer(middleware::from_fn_with_state(csrf, crate::csrf::check));
        }
        let mut app = routes.clone().layer(axum::Extension(sails.clone()));
        // Virtual requests take the same layers around the router as a whole
        // (one service call each) rather than around each of its routes;
        // they get `Sails` in their extensions from the request itself.
        match session_layer {
            Some(layer) => {
                app = (layer.over_http)(app);
                (layer.serve_sockets)(&sails, routes);
            }
            None => serve_sockets(&sails, routes),
        }

        let app = app.layer(io_layer).layer(middleware::from_fn_with_state(
            sails.clone(),
            guard_handshakes,
        ));
        (app, sails)
    }
}

/// Registers the namespace whose sockets send their virtual requests
/// through `pipeline`.
fn serve_sockets(sails: &Sails, pipeline: impl Pipeline) {
    // One handler for every socket's requests: a socket keeps a pointer to it.
    let admit = Arc::new(AdmitRequest {
        sails: sails.clone(),
        pipeline,
    });
    // Everything happens in the handshake middleware, which socketioxide
    // awaits before it sends the connect packet: the socket's handlers
    // exist before the client can send its first request. (The connect
    // handler itself runs on a task of its own, too late for a request
    // sent right after the connect packet.)
    let connected = sails.clone();
    let subscribing = sails.io.ns(
        "/",
        (move |socket: SocketRef<ClusterAdapter>| on_connect(socket, connected.clone()))
            .with(move |socket: Connecting| on_handshake(socket, Arc::clone(&admit))),
    );
    let _ = sails.shared.joined.set(subscribing.start());
}

/// Guards the Socket.IO endpoint at the HTTP level, where Sails does it:
/// a handshake from an origin the origin policy does not allow, or one the
/// `before_connect` hook refuses, gets 403 (a `connect_error` in the client).
async fn guard_handshakes(
    State(sails): State<Sails>,
    mut request: Request,
    next: Next,
) -> Response {
    let config = &sails.shared.config;
    let moved_to = match config.endpoint_path(request.uri().path()) {
        None => return next.run(request).await,
        Some(Cow::Borrowed(_)) => None,
        Some(Cow::Owned(path)) => Some(path),
    };
    let origin = request
        .headers()
        .get(header::ORIGIN)
        .and_then(|origin| origin.to_str().ok());
    // HTTP/1 names the host in `Host`, HTTP/2 in the URI's authority.
    let host = request
        .headers()
        .get(header::HOST)
        .and_then(|host| host.to_str().ok())
        .or_else(|| {
            request
                .uri()
                .authority()
                .map(|authority| authority.as_str())
        });
    if !config.origin_allowed(origin, host) {
        return (StatusCode::FORBIDDEN, "Origin not allowed").into_response();
    }
    // A new connection carries no Engine.IO `sid` yet (polling requests after the first do).
    let is_new_connection = query_value(request.uri(), "sid").is_none();
    if is_new_connection {
        detach_head(&mut request);
    }
    if is_new_connection && let Some(hook) = &sails.shared.before_connect {
        let handshake = Handshake {
            headers: request.headers().clone(),
            uri: request.uri().clone(),
        };
        if !hook(handshake).await {
            return (StatusCode::FORBIDDEN, "Forbidden").into_response();
        }
    }
    if let Some(path) = moved_to {
        // socketioxide answers at one path: a request at another of the
        // endpoint's paths goes on as if sent to that one.
        let Ok(uri) = uri_with_path(request.uri(), path) else {
            return (StatusCode::BAD_REQUEST, "Bad Request").into_response();
        };
        *request.uri_mut() = uri;
    }
    next.run(request).await
}

/// `uri` with its path replaced by `path`, its query kept.
fn uri_with_path(uri: &Uri, path: String) -> Result<Uri, axum::http::Error> {
    let path_and_query = match uri.query() {
        Some(query) => format!("{path}?{query}"),
        None => path,
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(PathAndQuery::try_from(path_and_query)?);
    Ok(Uri::from_parts(parts)?)
}

/// Copies a handshake's URI and header values into memory of their own.
///
/// hyper parses them as slices of the connection's read buffer (8 to 16 KiB),
/// and socketioxide keeps the handshake's request parts as long as the socket
/// lives (with the router's `OriginalUri` copy of the URI): one slice would
/// keep the whole buffer alive, about a quarter of an idle socket's memory.
fn detach_head(request: &mut Request) {
    for value in request.headers_mut().values_mut() {
        if let Ok(owned) = HeaderValue::from_bytes(value.as_bytes()) {
            *value = owned;
        }
    }
    if let Ok(uri) = Uri::try_from(request.uri().to_string()) {
        if request.extensions().get::<OriginalUri>().is_some() {
            request.extensions_mut().insert(OriginalUri(uri.clone()));
        }
        *request.uri_mut() = uri;
    }
}

/// Why a handshake was refused (sent to the client as the connect error message).
#[derive(Debug, thiserror::Error)]
enum HandshakeError {
    #[error("Could not set up a session for this socket.")]
    Session,
}

/// The socket being connected, as the shared pointer the layer keeps a weak
/// reference to (its outbox sends through it).
struct Connecting(Arc<Socket>);

impl FromConnectParts<ClusterAdapter> for Connecting {
    type Error = Infallible;

    fn from_connect_parts(
        socket: &Arc<Socket>,
        _: &Option<socketioxide::handler::Value>,
    ) -> Result<Self, Infallible> {
        Ok(Self(Arc::clone(socket)))
    }
}

/// Runs before the socket joins the namespace: the SDK version check, the
/// socket's session, then its handlers.
async fn on_handshake<P: Pipeline>(
    Connecting(socket): Connecting,
    admit: Arc<AdmitRequest<P>>,
) -> Result<(), HandshakeError> {
    let sails = &admit.sails;
    let parts = socket.req_parts();
    let headers = &parts.headers;
    let peer = parts.extensions.get::<ConnectInfo<SocketAddr>>().cloned();
    let sdk_version = headers
        .get(sails_protocol::sdk::VERSION_KEY)
        .and_then(|value| value.to_str().ok())
        .or_else(|| query_value(&parts.uri, sails_protocol::sdk::VERSION_KEY));
    let sdk = check_sdk_version(sdk_version);
    let origin = headers.get(header::ORIGIN).cloned();
    let handshake_cookie = headers.get(header::COOKIE).and_then(|v| v.to_str().ok());
    let nosession = headers.contains_key(NOSESSION) || query_value(&parts.uri, NOSESSION).is_some();
    let (cookie, pinned) = match &sails.shared.sessions {
        Some(sessions) if !nosession => {
            let (cookie, pinned) = sessions
                .socket_cookie(handshake_cookie)
                .await
                .map_err(|_| HandshakeError::Session)?;
            (Some(cookie), pinned)
        }
        _ => (handshake_cookie.map(str::to_owned), None),
    };
    let cookie = cookie.and_then(cookie_header);
    let config = &sails.shared.config;
    let limits = Limits {
        high_water: config.send_buffer,
        max_backlog: config.max_backlog,
        stall_limit: config.slow_consumer_timeout,
    };
    let outbox = Arc::new(Outbox::new(
        Arc::downgrade(&socket),
        limits,
        Arc::clone(&sails.shared.closes),
    ));
    if let Some(recovery) = &sails.shared.recovery {
        sails.shared.absent_sink.get_or_init(|| {
            let sink: Arc<dyn AbsentMemberSink> = recovery.clone();
            sails.io.set_absent_member_sink("/", sink);
        });
    }
    let recovering = sails
        .shared
        .recovery
        .as_ref()
        .filter(|_| query_value(&parts.uri, sails_protocol::recovery::OPT_IN_KEY) == Some("1"))
        .and_then(|recovery| {
            let token = recovery.token()?;
            recovery.keep_history(&outbox);
            let outcome = match query_value(&parts.uri, sails_protocol::recovery::TOKEN_KEY) {
                None => Outcome::Fresh,
                Some(token) => match query_value(&parts.uri, sails_protocol::recovery::OFFSET_KEY)
                    .and_then(|offset| offset.parse().ok())
                {
                    Some(offset) => {
                        let session = browser_session(sails, cookie.as_ref(), pinned.is_some());
                        recovery.resume(token, offset, session.as_deref(), socket.id, &outbox)
                    }
                    None => Outcome::Failed(sails_protocol::recovery::Reason::Unknown),
                },
            };
            Some(Box::new(Recovering { token, outcome }))
        });
    socket.extensions.insert(Arc::clone(&outbox));
    let sink: Arc<dyn BroadcastSink> = outbox.clone();
    socket.extensions.insert(sink);
    socket.extensions.insert(Arc::new(SocketContext {
        session: Mutex::new(SocketSession { cookie, pinned }),
        origin,
        sdk,
        nosession,
        peer,
        requests: RequestQueue::default(),
        outbox,
        recovering,
    }));
    listen(&socket, admit);
    Ok(())
}

/// A socket being admitted: it joins its own id room and listens for
/// virtual requests. The verb events come to the fallback handler, one
/// shared handler instead of a map of seven per socket; events the
/// application handles itself do not reach it.
fn listen<P: Pipeline>(socket: &Arc<Socket>, admit: Arc<AdmitRequest<P>>) {
    socket.join(socket.id);
    let sails = admit.sails.clone();
    socket.on_fallback(admit);
    socket.on_disconnect(
        move |socket: SocketRef<ClusterAdapter>, reason: DisconnectReason| {
            on_disconnect(socket, reason, sails.clone())
        },
    );
}

/// The socket is connected (its connect packet is sent): a recovering
/// socket's status goes out first, then the broadcasts it missed, then what
/// waited meanwhile.
async fn on_connect(socket: SocketRef<ClusterAdapter>, sails: Sails) {
    let (Some(context), Some(recovery)) = (context_of(&socket), &sails.shared.recovery) else {
        return;
    };
    let Some(recovering) = &context.recovering else {
        return;
    };
    recovery.arrived(socket.id);
    let (token, outcome) = (recovering.token.clone(), recovering.outcome);
    context
        .outbox
        .release(move |missed, complete| Outgoing::Event {
            event: Arc::from(sails_protocol::recovery::STATUS_EVENT),
            payload: Payload::Recovery(outcome.status(token, missed, complete)),
        });
}

async fn on_disconnect(socket: SocketRef<ClusterAdapter>, reason: DisconnectReason, sails: Sails) {
    let context = context_of(&socket);
    // A client that left on purpose, or was sent away, does not come back.
    let may_return = !matches!(
        reason,
        DisconnectReason::ClientNSDisconnect | DisconnectReason::ServerNSDisconnect
    );
    if let Some(recovery) = &sails.shared.recovery {
        // A socket that goes before its connect handler ran.
        recovery.arrived(socket.id);
    }
    if let (Some(context), Some(recovery)) = (&context, &sails.shared.recovery)
        && let Some(recovering) = &context.recovering
        && may_return
    {
        let session = context.session();
        recovery.disconnecting(
            socket.id,
            recovering.token.clone(),
            Arc::clone(&context.outbox),
            browser_session(&sails, session.cookie.as_ref(), session.pinned.is_some()),
        );
    }
    if let Some(context) = &context {
        context.requests.cancel();
        context.outbox.discard();
    }
    let socket_id = SocketId::new(socket.id);
    // The hook runs on its own task: socketioxide cleans up the socket's
    // rooms only after this handler returns.
    tokio::spawn(async move {
        let sessions = sails.shared.sessions.as_ref();
        let session = context.as_ref().map(|c| c.session()).unwrap_or_default();
        if let Some(hook) = &sails.shared.after_disconnect {
            let cookie = session.cookie.as_ref().and_then(|c| c.to_str().ok());
            let reason = context
                .as_ref()
                .and_then(|c| c.outbox.close_reason())
                .map_or_else(|| reason.to_string(), |ours| ours.to_string());
            hook(Disconnected {
                socket_id,
                session: sessions.and_then(|sessions| sessions.session(cookie)),
                reason,
            })
            .await;
        }
        if let (Some(sessions), Some(pinned)) = (sessions, &session.pinned) {
            // Nobody else knows this session's cookie; a store failure only leaves it to expire.
            let _ = sessions.forget(pinned).await;
        }
    });
}

/// The handler of the verb events, shared by every socket. It runs where
/// socketioxide reads the socket's frames, in arrival order, and only
/// queues the request: the socket's worker answers it.
struct AdmitRequest<P> {
    sails: Sails,
    pipeline: P,
}

/// Marks [`AdmitRequest`]'s implementation of socketioxide's handler trait.
struct Admits;

impl<P: Pipeline> MessageHandler<ClusterAdapter, Admits> for Arc<AdmitRequest<P>> {
    fn call(&self, socket: Arc<Socket>, value: socketioxide::handler::Value, ack_id: Option<i64>) {
        // The common parser hands every event over as text (the value is
        // binary only under MessagePack, which this layer does not use).
        let socketioxide::handler::Value::Str(event, attachments) = &value else {
            return;
        };
        if !is_verb_event(event) {
            return;
        }
        let Some(context) = context_of(&socket) else {
            return;
        };
        // An event with binary attachments is not a request: a request
        // object cannot hold them.
        let text = attachments
            .as_ref()
            .is_none_or(|a| a.is_empty())
            .then_some(event.as_str());
        let request = Queued::new(VirtualRequest::parse(text), ack_id, event.len());
        let config = &self.sails.shared.config;
        match context
            .requests
            .push(request, config.max_queued_request_bytes)
        {
            Admission::Queued | Admission::Closed => {}
            Admission::Full => context
                .outbox
                .close(socket, CloseReason::TooManyQueuedRequests),
            Admission::StartWorker => {
                let worker = tokio::spawn(serve_requests(
                    socket,
                    Arc::clone(&context),
                    self.sails.clone(),
                    self.pipeline.clone(),
                ));
                context.requests.set_worker(worker.abort_handle());
            }
        }
    }
}

/// A socket's worker: answers its queued requests, at most
/// `max_requests_in_flight` at a time, until the queue is empty.
async fn serve_requests(
    socket: Arc<Socket>,
    context: Arc<SocketContext>,
    sails: Sails,
    pipeline: impl Pipeline,
) {
    let limit = sails.shared.config.max_requests_in_flight.max(1);
    let mut running = FuturesUnordered::new();
    loop {
        while running.len() < limit {
            let Some(next) = context.requests.pop() else {
                break;
            };
            running.push(answer(&socket, &context, &sails, pipeline.clone(), next));
        }
        if running.is_empty() {
            if context.requests.worker_idle() {
                return;
            }
            continue;
        }
        tokio::select! {
            _ = running.next() => {}
            () = context.requests.arrival(), if running.len() < limit => {}
        }
    }
}

/// Answers one request: its JWR (or parse error) as the ack, or a
/// `sails:parseError` event when the client asked for no ack.
async fn answer(
    socket: &Arc<Socket>,
    context: &SocketContext,
    sails: &Sails,
    pipeline: impl Pipeline,
    queued: Queued,
) {
    let reply = match context.sdk.clone().and(queued.request) {
        Err(error) => Payload::ParseError(ParseErrorBody::from(&error)),
        Ok(request) => {
            let respond = respond(socket, context, sails, pipeline, request);
            let jwr = AssertUnwindSafe(respond)
                .catch_unwind()
                .await
                .unwrap_or_else(|_| {
                    tracing::error!(socket = %socket.id, "a request handler panicked; answered 500");
                    Jwr::internal_error()
                });
            if queued.ack.is_none() {
                return;
            }
            Payload::Jwr(jwr)
        }
    };
    let packet = match queued.ack {
        Some(id) => Outgoing::Ack { id, payload: reply },
        None => Outgoing::Event {
            event: Arc::from(PARSE_ERROR_EVENT),
            payload: reply,
        },
    };
    // A socket that is gone gets no answer; nothing else to do.
    context.outbox.send(packet).await;
}

/// A request through the application's router, answered as a JWR.
async fn respond(
    socket: &Arc<Socket>,
    context: &SocketContext,
    sails: &Sails,
    pipeline: impl Pipeline,
    request: VirtualRequest,
) -> Jwr {
    let config = &sails.shared.config;
    let uses_session = !request.skips_session() && !context.nosession;
    let mut http = match request.into_http(&context.headers(), &config.request_limits) {
        Ok(http) => http,
        Err(Refusal::NotRoutable) => return Jwr::plain(StatusCode::NOT_FOUND),
        Err(refusal) => return Jwr::text(refusal.status(), refusal.to_string()),
    };
    http.extensions_mut().insert(sails.clone());
    http.extensions_mut().insert(SocketRequest::new(socket));
    if let Some(peer) = context.peer {
        http.extensions_mut().insert(peer);
    }
    let (Ok(response), subscribed) = match &context.recovering {
        Some(_) => recovery::noting_subscriptions(socket.id, pipeline.oneshot(http)).await,
        None => (pipeline.oneshot(http).await, false),
    };
    if uses_session {
        follow_session_cookie(sails, context, response.headers());
    }
    let mut jwr = Jwr::from_response(response, config.max_response_body)
        .await
        .unwrap_or_else(|_| Jwr::internal_error());
    if subscribed {
        jwr.headers.insert(
            sails_protocol::recovery::SUBSCRIBED_HEADER,
            HeaderValue::from_static("true"),
        );
    }
    jwr
}

/// A response that gave the socket's session a new id (created again, or
/// cycled at login): the socket's later requests carry the new one.
fn follow_session_cookie(sails: &Sails, context: &SocketContext, headers: &HeaderMap) {
    let Some(sessions) = &sails.shared.sessions else {
        return;
    };
    let mut session = context
        .session
        .lock()
        .unwrap_or_else(PoisonError::into_inner);
    let current = session.cookie.as_ref().and_then(|c| c.to_str().ok());
    if let Some((cookie, id)) = sessions.renewed_cookie(current, headers) {
        session.cookie = cookie_header(cookie);
        if session.pinned.is_some() {
            session.pinned = Some(id);
        }
    }
}

/// A socket's `cookie` header, built once for all its requests (`None` if
/// it is not a valid header value).
/// The id of the session a socket's `cookie` names, unless the session is
/// pinned to the socket (the browser has no cookie for it).
fn browser_session(sails: &Sails, cookie: Option<&HeaderValue>, pinned: bool) -> Option<String> {
    let sessions = sails.shared.sessions.as_ref().filter(|_| !pinned)?;
    let cookie = cookie.and_then(|cookie| cookie.to_str().ok());
    sessions.session_id(cookie).map(|id| id.to_string())
}

fn cookie_header(cookie: String) -> Option<HeaderValue> {
    HeaderValue::from_maybe_shared(Bytes::from(cookie)).ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_detached_head_no_longer_pins_the_read_buffer() {
        let path = "/socket.io/?EIO=3&transport=websocket";
        let buffer = Bytes::from(format!("{path} origin{}", " ".repeat(16_000)));
        let mut request = Request::new(axum::body::Body::empty());
        *request.uri_mut() = Uri::from_maybe_shared(buffer.slice(..path.len())).expect("a URI");
        let origin = buffer.slice(path.len() + 1..path.len() + 7);
        request.headers_mut().insert(
            header::ORIGIN,
            HeaderValue::from_maybe_shared(origin).expect("a header value"),
        );
        let original = OriginalUri(request.uri().clone());
        request.extensions_mut().insert(original);
        assert!(!buffer.is_unique(), "the request shares the buffer");

        detach_head(&mut request);

        assert!(
            buffer.is_unique(),
            "the request no longer refers to the buffer"
        );
        assert_eq!(request.uri().to_string(), path);
        assert_eq!(request.headers()[header::ORIGIN], "origin");
        let original = request.extensions().get::<OriginalUri>().expect("kept");
        assert_eq!(original.0.to_string(), path);
    }
}
