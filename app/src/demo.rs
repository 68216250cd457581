//! The demo application served by `sails-server` and the `interop` example:
//! every route answers HTTP and socket requests alike (one handler each).
//!
//! | route | behaviour |
//! |---|---|
//! | `GET /hello` | the string `ok!` |
//! | `* /echo` | what the handler saw: `{method, url, path, query, body, isSocket, socketId, headers}` |
//! | `GET /count` | increments `count` in the session |
//! | `GET /csrfToken` | `{_csrf}`: a CSRF token for the session (needed by POST/PUT/PATCH/DELETE when CSRF protection is on) |
//! | `GET /status/{code}` | that status, `{"code": code}` |
//! | `GET /redirect` | 302 to `/hello` |
//! | `GET /slow?ms=N` | `slow` after N ms (at most 60 s) |
//! | `GET /me` | `{id, rooms}` of the requesting socket |
//! | `PUT /rooms/{room}/join`, `PUT /rooms/{room}/leave` | the socket joins / leaves `room` |
//! | `GET /rooms/{room}/members` | the sorted ids of the sockets in `room` |
//! | `POST /rooms/{room}/broadcast`, `POST /blast` | `{event?, data, omitSender?}` sent on |
//! | `POST /sockets/{id}/emit` | `{event?, data}` to one socket |
//! | `POST /rooms/{room}/add-members-to`, `POST /rooms/{room}/remove-members-from` | body `{rooms: [...]}`: every member of `room` joins / leaves those rooms |
//! | `POST /rooms/{room}/leave-all` | every member of `room` leaves every room it is in, its own id room aside |
//!
//! With many servers on one Redis, every route behaves as on one server; a
//! room call that another server does not confirm in time answers 503.
//! | `PUT /pets/watch`, `PUT /pets/unwatch` | join / leave the `pet` class room |
//! | `PUT /pets/{id}/subscribe`, `PUT /pets/{id}/unsubscribe` | join / leave a pet's room |
//! | `POST /pets`, `PATCH /pets/{id}`, `DELETE /pets/{id}` | in-memory pets, published to subscribers |
//! | `POST /pets/{id}/message` | `{data}` published as is to the pet's room |

use std::collections::{BTreeMap, HashMap};
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, Method, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{any, get, get_service, patch, post, put};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use tower_http::services::ServeDir;
use tower_sessions::{MemoryStore, Session};

use sails_models::{Blueprints, Models};
use sails_server::{
    Cluster, Csrf, DEFAULT_EVENT, IsSocket, LeaveAllOptions, RecordId, Sails, SessionCookie,
    SocketId, SocketRequest, Sockets, SocketsConfig, SocketsError,
};

/// The identity of the demo model.
pub const PET: &str = "pet";

/// Errors of the demo handlers; none leaks internals to the client.
#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    /// The status code in the URL is not one.
    #[error("not a status code")]
    BadStatus,
    /// The request body lacks something the route needs.
    #[error("{0}")]
    BadRequest(&'static str),
    /// No pet has that id.
    #[error("Not Found")]
    NotFound,
    /// The session store or the socket layer failed.
    #[error("Internal Server Error")]
    Internal,
    /// The other servers of the cluster could not be reached or did not answer.
    #[error("Service Unavailable: {0}")]
    Cluster(String),
}

impl IntoResponse for DemoError {
    fn into_response(self) -> Response {
        let status = match self {
            Self::BadStatus | Self::BadRequest(_) => StatusCode::BAD_REQUEST,
            Self::NotFound => StatusCode::NOT_FOUND,
            Self::Internal => StatusCode::INTERNAL_SERVER_ERROR,
            Self::Cluster(_) => StatusCode::SERVICE_UNAVAILABLE,
        };
        (status, self.to_string()).into_response()
    }
}

impl From<SocketsError> for DemoError {
    fn from(error: SocketsError) -> Self {
        match error {
            SocketsError::Adapter(_) | SocketsError::ClusterTimeout(_) => {
                Self::Cluster(error.to_string())
            }
            _ => Self::Internal,
        }
    }
}

impl From<tower_sessions::session::Error> for DemoError {
    fn from(_: tower_sessions::session::Error) -> Self {
        Self::Internal
    }
}

/// The in-memory pets, by the text of their id.
#[derive(Debug, Clone, Default)]
pub struct Pets(Arc<Mutex<HashMap<String, Value>>>);

impl Pets {
    fn with<T>(&self, f: impl FnOnce(&mut HashMap<String, Value>) -> T) -> T {
        let mut pets = self
            .0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        f(&mut pets)
    }
}

/// The demo routes, before the realtime layer is put over them.
pub fn routes() -> Router {
    Router::new()
        .route("/health", get(|| async { "ok" }))
        .route("/hello", get(|| async { "ok!" }))
        .route("/csrfToken", get(sails_server::csrf::grant_token))
        .route("/echo", any(echo))
        .route("/count", get(count))
        .route("/status/{code}", get(status))
        .route("/redirect", get(redirect))
        .route("/slow", get(slow))
        .route("/me", get(me))
        .route("/rooms/{room}/join", put(join_room))
        .route("/rooms/{room}/leave", put(leave_room))
        .route("/rooms/{room}/members", get(room_members))
        .route("/rooms/{room}/broadcast", post(broadcast))
        .route("/blast", post(blast))
        .route("/sockets/{id}/emit", post(emit_to_socket))
        .route("/rooms/{room}/add-members-to", post(add_members_to))
        .route(
            "/rooms/{room}/remove-members-from",
            post(remove_members_from),
        )
        .route("/rooms/{room}/leave-all", post(leave_all))
        .route("/pets", post(create_pet))
        .route("/pets/watch", put(watch_pets))
        .route("/pets/unwatch", put(unwatch_pets))
        .route("/pets/{id}", patch(update_pet).delete(destroy_pet))
        .route("/pets/{id}/subscribe", put(subscribe_pet))
        .route("/pets/{id}/unsubscribe", put(unsubscribe_pet))
        .route("/pets/{id}/message", post(message_pet))
        .with_state(Pets::default())
}

/// The whole demo application: [`routes`] with realtime (Sails defaults),
/// in-memory sessions, and `www` as static files (a file's `.gz` twin, when
/// there is one, goes to clients that accept gzip).
pub fn app(www: PathBuf) -> (Router, Sails) {
    app_with_config(www, SocketsConfig::default())
}

/// [`app`] with a given realtime configuration.
pub fn app_with_config(www: PathBuf, config: SocketsConfig) -> (Router, Sails) {
    Demo::new(www).sockets(config).build()
}

/// The demo application's settings, for [`Demo::build`].
#[derive(Debug)]
#[non_exhaustive]
pub struct Demo {
    /// The static files.
    pub www: PathBuf,
    /// The realtime layer's configuration.
    pub sockets: SocketsConfig,
    /// The session cookie's settings.
    pub cookie: SessionCookie,
    /// CSRF protection, when on.
    pub csrf: Option<Csrf>,
    /// Blueprint routes behind the demo's own (the app's routes win, as in Sails).
    pub blueprints: Option<Blueprints>,
    /// The servers sharing rooms and sessions with this one (alone by default).
    pub cluster: Cluster,
}

impl Demo {
    /// The demo with Sails' defaults, no CSRF protection and no models.
    pub fn new(www: PathBuf) -> Self {
        Self {
            www,
            sockets: SocketsConfig::default(),
            cookie: SessionCookie::default(),
            csrf: None,
            blueprints: None,
            cluster: Cluster::alone(),
        }
    }

    /// This realtime configuration.
    pub fn sockets(mut self, sockets: SocketsConfig) -> Self {
        self.sockets = sockets;
        self
    }

    /// [`routes`], the blueprints behind them, the static files behind both,
    /// and the realtime layer over everything.
    pub fn build(self) -> (Router, Sails) {
        // `cargo xtask build` writes the client's files gzipped beside them.
        // Other methods than GET and HEAD find nothing there: 404, as in Sails.
        let files = get_service(ServeDir::new(self.www).precompressed_gzip())
            .fallback(|| async { (StatusCode::NOT_FOUND, "Not Found") });
        let router = match self.blueprints {
            Some(blueprints) => blueprints
                .fallback(Router::new().fallback_service(files))
                .attach(routes()),
            None => routes().fallback_service(files),
        };
        // Sessions live in the cluster's Redis when there is one.
        let builder = Sails::builder().config(self.sockets);
        let builder = match self.cluster.session_store() {
            Some(store) => builder.sessions_with(store, self.cookie),
            None => builder.sessions_with(MemoryStore::default(), self.cookie),
        }
        .cluster(self.cluster);
        match self.csrf {
            Some(csrf) => builder.csrf(csrf),
            None => builder,
        }
        .build(router)
    }
}

/// The demo's models, as the interop contract has them: `user` (a name, and
/// pets) and `pet` (a name, required; a species; an owner).
pub const MODELS: &str = include_str!("../models.toml");

/// [`MODELS`], read.
pub fn models() -> Models {
    Models::from_toml(MODELS).expect("the demo's models are valid")
}

/// A JSON body that may be absent or not JSON: `{}` when empty, the text when not JSON.
fn body_value(bytes: &Bytes) -> Value {
    if bytes.is_empty() {
        return json!({});
    }
    serde_json::from_slice(bytes)
        .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(bytes).into_owned()))
}

async fn echo(
    method: Method,
    uri: Uri,
    headers: HeaderMap,
    IsSocket(is_socket): IsSocket,
    socket: Option<SocketRequest>,
    Query(query): Query<BTreeMap<String, String>>,
    body: Bytes,
) -> Json<Value> {
    let headers: serde_json::Map<String, Value> = headers
        .iter()
        .map(|(name, value)| {
            (
                name.as_str().to_owned(),
                Value::String(String::from_utf8_lossy(value.as_bytes()).into_owned()),
            )
        })
        .collect();
    Json(json!({
        "method": method.as_str(),
        "url": uri.path_and_query().map_or(uri.path(), |pq| pq.as_str()),
        "path": uri.path(),
        "query": query,
        "body": body_value(&body),
        "isSocket": is_socket,
        "socketId": socket.map(|s| s.id()),
        "headers": headers,
    }))
}

async fn count(session: Session) -> Result<Json<u64>, DemoError> {
    let count = session.get::<u64>("count").await?.unwrap_or(0) + 1;
    session.insert("count", count).await?;
    Ok(Json(count))
}

async fn status(Path(code): Path<u16>) -> Result<Response, DemoError> {
    let status = StatusCode::from_u16(code).map_err(|_| DemoError::BadStatus)?;
    Ok((status, Json(json!({ "code": code }))).into_response())
}

async fn redirect() -> Response {
    (StatusCode::FOUND, [(header::LOCATION, "/hello")]).into_response()
}

#[derive(Deserialize)]
struct SlowQuery {
    ms: Option<u64>,
}

async fn slow(Query(query): Query<SlowQuery>) -> &'static str {
    tokio::time::sleep(Duration::from_millis(query.ms.unwrap_or(0).min(60_000))).await;
    "slow"
}

async fn me(socket: SocketRequest, sockets: Sockets) -> Result<Json<Value>, DemoError> {
    let id = socket.id();
    let rooms: Vec<String> = sockets
        .socket(id)
        .rooms()
        .await?
        .into_iter()
        .filter(|room| room != id.as_str())
        .collect();
    Ok(Json(json!({ "id": socket.id(), "rooms": rooms })))
}

async fn join_room(
    socket: SocketRequest,
    sockets: Sockets,
    Path(room): Path<String>,
) -> Result<Json<Value>, DemoError> {
    sockets.socket(socket.id()).join(&room).await?;
    Ok(Json(json!({ "room": room })))
}

async fn leave_room(
    socket: SocketRequest,
    sockets: Sockets,
    Path(room): Path<String>,
) -> Result<Json<Value>, DemoError> {
    sockets.socket(socket.id()).leave(&room).await?;
    Ok(Json(json!({ "room": room })))
}

async fn room_members(
    sockets: Sockets,
    Path(room): Path<String>,
) -> Result<Json<Vec<SocketId>>, DemoError> {
    Ok(Json(sockets.to(room).ids().await?))
}

/// The body of `/rooms/{room}/add-members-to` and `/remove-members-from`.
#[derive(Deserialize)]
struct RoomsBody {
    rooms: Vec<String>,
}

fn parse_rooms_body(body: &Bytes) -> Result<Vec<String>, DemoError> {
    serde_json::from_slice::<RoomsBody>(body)
        .map(|body| body.rooms)
        .map_err(|_| DemoError::BadRequest("Expected a JSON body {rooms: [...]}."))
}

async fn add_members_to(
    sockets: Sockets,
    Path(room): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, DemoError> {
    sockets.to(room).join(parse_rooms_body(&body)?).await?;
    Ok(Json(json!({ "ok": true })))
}

async fn remove_members_from(
    sockets: Sockets,
    Path(room): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, DemoError> {
    sockets.to(room).leave(parse_rooms_body(&body)?).await?;
    Ok(Json(json!({ "ok": true })))
}

async fn leave_all(sockets: Sockets, Path(room): Path<String>) -> Result<Json<Value>, DemoError> {
    sockets
        .to(room)
        .leave_all(LeaveAllOptions::default())
        .await?;
    Ok(Json(json!({ "ok": true })))
}

/// The body of `/rooms/{room}/broadcast`, `/blast` and `/sockets/{id}/emit`.
#[derive(Deserialize)]
struct SendBody {
    event: Option<String>,
    #[serde(default)]
    data: Value,
    #[serde(default, rename = "omitSender")]
    omit_sender: bool,
}

impl SendBody {
    fn event(&self) -> &str {
        self.event.as_deref().unwrap_or(DEFAULT_EVENT)
    }
}

fn parse_send_body(body: &Bytes) -> Result<SendBody, DemoError> {
    serde_json::from_slice(body)
        .map_err(|_| DemoError::BadRequest("Expected a JSON body {event?, data, omitSender?}."))
}

async fn broadcast(
    sockets: Sockets,
    socket: Option<SocketRequest>,
    Path(room): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, DemoError> {
    let body = parse_send_body(&body)?;
    let omit = socket.filter(|_| body.omit_sender).map(|s| s.id());
    sockets
        .to(room)
        .except(omit)
        .emit(body.event(), &body.data)
        .await?;
    Ok(Json(json!({ "sent": true })))
}

async fn blast(
    sockets: Sockets,
    socket: Option<SocketRequest>,
    body: Bytes,
) -> Result<Json<Value>, DemoError> {
    let body = parse_send_body(&body)?;
    let omit = socket.filter(|_| body.omit_sender).map(|s| s.id());
    sockets
        .all()
        .except(omit)
        .emit(body.event(), &body.data)
        .await?;
    Ok(Json(json!({ "sent": true })))
}

async fn emit_to_socket(
    sockets: Sockets,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, DemoError> {
    let body = parse_send_body(&body)?;
    // An id that is not one names no socket: nothing is sent, as in Sails.
    if let Ok(id) = id.parse::<SocketId>() {
        sockets.socket(id).emit(body.event(), &body.data).await?;
    }
    Ok(Json(json!({ "sent": true })))
}

async fn watch_pets(socket: SocketRequest, sails: Sails) -> Result<Json<Value>, DemoError> {
    sails.pubsub(PET).watch(socket.id()).await?;
    Ok(Json(json!({ "watching": true })))
}

async fn unwatch_pets(socket: SocketRequest, sails: Sails) -> Result<Json<Value>, DemoError> {
    sails.pubsub(PET).unwatch(socket.id()).await?;
    Ok(Json(json!({ "watching": false })))
}

/// The id of the stored pet whose id prints as `path_id`, or the path text itself.
fn pet_id(pets: &Pets, path_id: &str) -> RecordId {
    pets.with(|pets| {
        pets.get(path_id)
            .and_then(|pet| RecordId::try_from(&pet["id"]).ok())
    })
    .unwrap_or_else(|| RecordId::from(path_id))
}

async fn subscribe_pet(
    socket: SocketRequest,
    sails: Sails,
    State(pets): State<Pets>,
    Path(id): Path<String>,
) -> Result<Json<Value>, DemoError> {
    let id = pet_id(&pets, &id);
    sails.pubsub(PET).subscribe(socket.id(), [&id]).await?;
    Ok(Json(json!({ "subscribed": id })))
}

async fn unsubscribe_pet(
    socket: SocketRequest,
    sails: Sails,
    State(pets): State<Pets>,
    Path(id): Path<String>,
) -> Result<Json<Value>, DemoError> {
    let id = pet_id(&pets, &id);
    sails.pubsub(PET).unsubscribe(socket.id(), [&id]).await?;
    Ok(Json(json!({ "unsubscribed": id })))
}

async fn create_pet(
    sails: Sails,
    socket: Option<SocketRequest>,
    State(pets): State<Pets>,
    body: Bytes,
) -> Result<Response, DemoError> {
    let record = body_value(&body);
    let id = match record.get("id").map(RecordId::try_from) {
        Some(Ok(id)) if record.is_object() => id,
        _ => {
            return Err(DemoError::BadRequest(
                "A pet needs an `id` (a number or a string).",
            ));
        }
    };
    pets.with(|pets| pets.insert(id.key(), record.clone()));
    sails
        .pubsub(PET)
        .publish_create(&record)
        .except(socket.map(|s| s.id()))
        .await?;
    Ok((StatusCode::CREATED, Json(record)).into_response())
}

async fn update_pet(
    sails: Sails,
    socket: Option<SocketRequest>,
    State(pets): State<Pets>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, DemoError> {
    let mut values = match body_value(&body) {
        Value::Object(values) => values,
        _ => return Err(DemoError::BadRequest("Expected an object of values.")),
    };
    let (record_id, previous, updated) = pets
        .with(|pets| {
            let record = pets.get_mut(&id)?;
            let previous = record.clone();
            let record_id = RecordId::try_from(&previous["id"]).ok()?;
            values.remove("id");
            if let Value::Object(fields) = record {
                fields.extend(values.clone());
            }
            Some((record_id, previous, record.clone()))
        })
        .ok_or(DemoError::NotFound)?;
    sails
        .pubsub(PET)
        .publish_update(record_id, &values)
        .previous(&previous)
        .except(socket.map(|s| s.id()))
        .await?;
    Ok(Json(updated))
}

async fn destroy_pet(
    sails: Sails,
    socket: Option<SocketRequest>,
    State(pets): State<Pets>,
    Path(id): Path<String>,
) -> Result<Json<Value>, DemoError> {
    let previous = pets
        .with(|pets| pets.remove(&id))
        .ok_or(DemoError::NotFound)?;
    let record_id = RecordId::try_from(&previous["id"])?;
    sails
        .pubsub(PET)
        .publish_destroy(record_id)
        .previous(&previous)
        .except(socket.map(|s| s.id()))
        .await?;
    Ok(Json(previous))
}

#[derive(Deserialize)]
struct MessageBody {
    #[serde(default)]
    data: Value,
}

async fn message_pet(
    sails: Sails,
    State(pets): State<Pets>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Value>, DemoError> {
    let body: MessageBody = serde_json::from_slice(&body)
        .map_err(|_| DemoError::BadRequest("Expected a JSON body {data}."))?;
    let id = pet_id(&pets, &id);
    sails.pubsub(PET).publish([id], &body.data).await?;
    Ok(Json(json!({ "sent": true })))
}
