//! `sails.sockets`: rooms, broadcasts and introspection, usable from handlers
//! and from anywhere else (background tasks).
//!
//! Sockets are addressed the way socketioxide addresses them: a [`Selection`]
//! names rooms (`to`), rooms or sockets left out (`except`), and then does one
//! thing to every socket it names (`emit`, `join`, `leave`, `ids`, …). Every
//! socket is in a room named after its [`SocketId`].
//!
//! Messages are serialised once and handed to each member's outbox, which
//! delivers them in order without loss, or disconnects a member that cannot
//! keep up.

use std::fmt;
use std::str::FromStr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use socketioxide::operators::BroadcastOperators;
use socketioxide::socket::Sid;

use crate::cluster::{ClusterAdapter, Io};
use crate::outbox::outbox_of;

/// The event Sails sends on when a call names none (`broadcast(room, data)`).
pub const DEFAULT_EVENT: &str = "message";

/// The id of a socket (its Socket.IO session id): the name of a room it is
/// always in, and what Sails' `sails.sockets.getId(req)` returns.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SocketId(Sid);

impl SocketId {
    pub(crate) fn new(sid: Sid) -> Self {
        Self(sid)
    }

    pub(crate) fn sid(self) -> Sid {
        self.0
    }

    /// The id as text (16 characters of URL-safe base64).
    pub fn as_str(&self) -> &str {
        self.0.as_str()
    }
}

impl fmt::Display for SocketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for SocketId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SocketId({})", self.as_str())
    }
}

/// Text that is not a socket id.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("not a socket id: {0:?}")]
pub struct InvalidSocketId(String);

impl FromStr for SocketId {
    type Err = InvalidSocketId;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        text.parse()
            .map(Self)
            .map_err(|_| InvalidSocketId(text.chars().take(64).collect()))
    }
}

impl Serialize for SocketId {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.as_str())
    }
}

impl<'de> Deserialize<'de> for SocketId {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let text = <std::borrow::Cow<'de, str>>::deserialize(deserializer)?;
        text.parse().map_err(serde::de::Error::custom)
    }
}

/// Room names, as [`Selection::to`], [`Selection::except`],
/// [`Selection::join`] and [`Selection::leave`] take them: one name, a
/// [`SocketId`] (its own room), `None` (no room), or a list of any of these.
pub trait IntoRooms {
    /// Appends the room names to `rooms`.
    fn push_rooms(self, rooms: &mut Vec<String>);
}

impl IntoRooms for &str {
    fn push_rooms(self, rooms: &mut Vec<String>) {
        rooms.push(self.to_owned());
    }
}

impl IntoRooms for String {
    fn push_rooms(self, rooms: &mut Vec<String>) {
        rooms.push(self);
    }
}

impl IntoRooms for &String {
    fn push_rooms(self, rooms: &mut Vec<String>) {
        rooms.push(self.clone());
    }
}

impl IntoRooms for SocketId {
    fn push_rooms(self, rooms: &mut Vec<String>) {
        rooms.push(self.as_str().to_owned());
    }
}

impl IntoRooms for &SocketId {
    fn push_rooms(self, rooms: &mut Vec<String>) {
        (*self).push_rooms(rooms);
    }
}

impl<T: IntoRooms> IntoRooms for Option<T> {
    fn push_rooms(self, rooms: &mut Vec<String>) {
        if let Some(room) = self {
            room.push_rooms(rooms);
        }
    }
}

impl<T: IntoRooms> IntoRooms for Vec<T> {
    fn push_rooms(self, rooms: &mut Vec<String>) {
        for room in self {
            room.push_rooms(rooms);
        }
    }
}

impl<T: IntoRooms + Clone> IntoRooms for &[T] {
    fn push_rooms(self, rooms: &mut Vec<String>) {
        for room in self {
            room.clone().push_rooms(rooms);
        }
    }
}

impl<T: IntoRooms + Clone> IntoRooms for &Vec<T> {
    fn push_rooms(self, rooms: &mut Vec<String>) {
        self.as_slice().push_rooms(rooms);
    }
}

impl<T: IntoRooms, const N: usize> IntoRooms for [T; N] {
    fn push_rooms(self, rooms: &mut Vec<String>) {
        for room in self {
            room.push_rooms(rooms);
        }
    }
}

fn room_names(rooms: impl IntoRooms) -> Vec<String> {
    let mut names = Vec::new();
    rooms.push_rooms(&mut names);
    names
}

/// Why a `sails.sockets` call failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SocketsError {
    /// The message could not be serialised as JSON.
    #[error("the message is not JSON: {0}")]
    Serialize(#[from] serde_json::Error),
    /// A published record has no usable `id`.
    #[error("the record has no `id` (a number or a string)")]
    MissingId,
    /// The adapter could not change or report room membership.
    #[error("the socket adapter failed: {0}")]
    Adapter(String),
    /// The realtime layer has no default namespace (it was not set up by [`crate::Sails`]).
    #[error("the realtime layer is not running")]
    NotRunning,
    /// Some server of the cluster did not confirm the change within the
    /// cluster's timeout: it may not have applied it yet.
    #[error("a server of the cluster did not answer within {0:?}")]
    ClusterTimeout(Duration),
}

/// Options of [`Selection::leave_all`] (Sails' `leaveAll` options).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct LeaveAllOptions {
    /// Also leave each member's own id room (default false).
    pub include_socket_rooms: bool,
    /// Also leave the source rooms themselves (default true).
    pub include_source_room: bool,
}

impl LeaveAllOptions {
    /// Whether each member also leaves its own id room.
    pub fn include_socket_rooms(mut self, include: bool) -> Self {
        self.include_socket_rooms = include;
        self
    }

    /// Whether each member also leaves the source rooms.
    pub fn include_source_room(mut self, include: bool) -> Self {
        self.include_source_room = include;
        self
    }
}

impl Default for LeaveAllOptions {
    fn default() -> Self {
        Self {
            include_socket_rooms: false,
            include_source_room: true,
        }
    }
}

/// The `sails.sockets` API. Cheap to clone; also an axum extractor.
///
/// | Sails | here |
/// |---|---|
/// | `getId(req)` | [`SocketRequest::id`](crate::SocketRequest::id) |
/// | `join(id, room)` / `leave(id, room)` | `sockets.socket(id).join(room)` / `.leave(room)` |
/// | `broadcast(rooms, event, data, omit)` | `sockets.to(rooms).except(omit).emit(event, &data)` |
/// | `blast(event, data, omit)` | `sockets.all().except(omit).emit(event, &data)` |
/// | `addRoomMembersToRooms(src, dests)` | `sockets.to(src).join(dests)` |
/// | `removeRoomMembersFromRooms(src, dests)` | `sockets.to(src).leave(dests)` |
/// | `leaveAll(src, options)` | `sockets.to(src).leave_all(options)` |
/// | `emit(ids, event, data)` (0.12) | `sockets.to(ids).emit(event, &data)` |
/// | `rooms()` (0.12) | `sockets.all().rooms()` |
/// | `socketRooms(socket)` (0.12) | `sockets.socket(id).rooms()` |
/// | `subscribers(room)` (0.12) | `sockets.to(room).ids()` |
#[derive(Clone)]
pub struct Sockets {
    io: Io,
    cluster: Option<Arc<ClusterView>>,
}

/// What a server of a cluster knows of its cluster.
#[derive(Debug)]
pub(crate) struct ClusterView {
    /// How long the other servers may take to confirm a change.
    pub(crate) timeout: Duration,
}

/// The start of every room name the layer keeps for itself.
pub(crate) const RESERVED_ROOM_PREFIX: &str = "sails:";

/// A room nobody is in: asking every server for its members is how a call
/// learns that every server has read the requests sent before it.
const NOBODY_ROOM: &str = "sails:nobody";

impl fmt::Debug for Sockets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Sockets").finish_non_exhaustive()
    }
}

fn adapter_error(error: impl fmt::Display) -> SocketsError {
    SocketsError::Adapter(error.to_string())
}

impl Sockets {
    pub(crate) fn new(io: Io, cluster: Option<Arc<ClusterView>>) -> Self {
        Self { io, cluster }
    }

    fn select(&self, rooms: Rooms) -> Selection {
        Selection {
            io: self.io.clone(),
            cluster: self.cluster.clone(),
            rooms,
            except: Vec::new(),
        }
    }

    /// Every connected socket.
    pub fn all(&self) -> Selection {
        self.select(Rooms::All)
    }

    /// The sockets in any of `rooms` (none when `rooms` is empty).
    pub fn to(&self, rooms: impl IntoRooms) -> Selection {
        self.select(Rooms::Named(room_names(rooms)))
    }

    /// One socket (by its own room, so it need not be on this server).
    pub fn socket(&self, id: SocketId) -> Selection {
        self.to(id)
    }

    /// Whether a socket with this id is connected to any server of the cluster.
    pub async fn is_connected(&self, id: SocketId) -> Result<bool, SocketsError> {
        let root = self.io.of("/").ok_or(SocketsError::NotRunning)?;
        if root.get_socket(id.sid()).is_some() {
            return Ok(true);
        }
        if self.cluster.is_none() {
            return Ok(false);
        }
        Ok(!self.socket(id).ids().await?.is_empty())
    }
}

/// Which rooms a [`Selection`] addresses.
#[derive(Debug, Clone)]
enum Rooms {
    /// Every socket.
    All,
    /// The members of any of these rooms (nobody when empty).
    Named(Vec<String>),
}

/// Whether sockets join rooms or leave them.
#[derive(Debug, Clone, Copy)]
enum Membership {
    Join,
    Leave,
}

/// Some sockets, chosen by rooms: what [`Sockets::to`], [`Sockets::all`] and
/// [`Sockets::socket`] return. Narrow it with [`to`](Self::to) and
/// [`except`](Self::except), then act on every socket it names; a selection
/// can be used for several calls.
#[derive(Clone)]
pub struct Selection {
    io: Io,
    cluster: Option<Arc<ClusterView>>,
    rooms: Rooms,
    except: Vec<String>,
}

impl fmt::Debug for Selection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Selection")
            .field("rooms", &self.rooms)
            .field("except", &self.except)
            .finish_non_exhaustive()
    }
}

impl Selection {
    /// Also the sockets in `rooms`.
    pub fn to(mut self, rooms: impl IntoRooms) -> Self {
        if let Rooms::Named(names) = &mut self.rooms {
            rooms.push_rooms(names);
        }
        self
    }

    /// Leaves out the sockets in `rooms` (a [`SocketId`] leaves out one socket;
    /// `None` leaves out nobody).
    pub fn except(mut self, rooms: impl IntoRooms) -> Self {
        rooms.push_rooms(&mut self.except);
        self
    }

    /// socketioxide's operators for this selection, or `None` when it names nobody.
    fn operators(&self) -> Result<Option<BroadcastOperators<ClusterAdapter>>, SocketsError> {
        let mut operators = self.io.of("/").ok_or(SocketsError::NotRunning)?;
        match &self.rooms {
            Rooms::All => {}
            Rooms::Named(names) if names.is_empty() => return Ok(None),
            Rooms::Named(names) => operators = operators.to(names.clone()),
        }
        if !self.except.is_empty() {
            operators = operators.except(self.except.clone());
        }
        Ok(Some(operators))
    }

    /// Sends `event` with `data` to every socket selected, once each (Sails'
    /// `broadcast` and `blast`), on this server and on the others of the
    /// cluster. socketioxide encodes the packet once and hands it to the
    /// outbox of each member here (its broadcast sink), in order with what
    /// else the member is sent, and to the other servers through the
    /// adapter. Returns once every member on this server has the message in
    /// its channel, or in a backlog no longer than its channel, or is gone,
    /// and the message for the other servers is in Redis.
    pub async fn emit<T: Serialize + ?Sized>(
        &self,
        event: &str,
        data: &T,
    ) -> Result<(), SocketsError> {
        let Some(operators) = self.operators()? else {
            return Ok(());
        };
        let payload = serde_json::value::to_raw_value(data)?;
        operators
            .clone()
            .emit(event, &payload)
            .await
            .map_err(adapter_error)?;
        // A sender waits while a member here reads slower than it is sent to.
        for member in operators.sockets() {
            if let Some(outbox) = outbox_of(&member) {
                outbox.room().await;
            }
        }
        Ok(())
    }

    /// Every socket selected joins each of `rooms` (Sails' `join` and
    /// `addRoomMembersToRooms`). Returns once every server of the cluster
    /// has applied it: a broadcast sent after it, from any server, reaches
    /// the new members.
    pub async fn join(&self, rooms: impl IntoRooms) -> Result<(), SocketsError> {
        self.change_membership(room_names(rooms), Membership::Join)
            .await
    }

    /// Every socket selected leaves each of `rooms` (Sails' `leave` and
    /// `removeRoomMembersFromRooms`). Returns once every server of the
    /// cluster has applied it.
    pub async fn leave(&self, rooms: impl IntoRooms) -> Result<(), SocketsError> {
        self.change_membership(room_names(rooms), Membership::Leave)
            .await
    }

    async fn change_membership(
        &self,
        mut rooms: Vec<String>,
        change: Membership,
    ) -> Result<(), SocketsError> {
        rooms.retain(|room| !room.starts_with(RESERVED_ROOM_PREFIX));
        let Some(operators) = self.operators()? else {
            return Ok(());
        };
        if rooms.is_empty() {
            return Ok(());
        }
        match change {
            Membership::Join => {
                operators.join(rooms.clone()).await.map_err(adapter_error)?;
                crate::recovery::joined(&self.io, &rooms);
            }
            Membership::Leave => operators.leave(rooms).await.map_err(adapter_error)?,
        }
        self.settle().await
    }

    /// Waits until every other server of the cluster has read the requests
    /// this one sent before: each answers a request for the members of a
    /// room nobody is in, after the ones before it, or the call fails after
    /// the cluster's timeout.
    async fn settle(&self) -> Result<(), SocketsError> {
        let Some(cluster) = &self.cluster else {
            return Ok(());
        };
        let root = self.io.of("/").ok_or(SocketsError::NotRunning)?;
        let started = Instant::now();
        root.to(NOBODY_ROOM)
            .fetch_sockets()
            .await
            .map_err(adapter_error)?;
        // socketioxide-redis ends a request at its timeout with the answers
        // it has, without saying that some are missing.
        if started.elapsed() >= cluster.timeout {
            return Err(SocketsError::ClusterTimeout(cluster.timeout));
        }
        Ok(())
    }

    /// Every socket selected leaves every room it is in (Sails' `leaveAll`),
    /// except by default the id rooms of the sockets selected (its own, and
    /// another member's it joined); the rooms it was selected by too, unless
    /// `include_source_room` is false. Returns once every server of the
    /// cluster has applied it.
    pub async fn leave_all(&self, options: LeaveAllOptions) -> Result<(), SocketsError> {
        let Some(operators) = self.operators()? else {
            return Ok(());
        };
        let sources: &[String] = match &self.rooms {
            Rooms::All => &[],
            Rooms::Named(names) => names,
        };
        // The rooms any member is in, left by every member: leaving a room
        // one is not in changes nothing. Two requests for the whole cluster,
        // whatever the number of members.
        let members: Vec<String> = if options.include_socket_rooms {
            Vec::new()
        } else {
            self.ids().await?.iter().map(ToString::to_string).collect()
        };
        let rooms: Vec<String> = self
            .rooms()
            .await?
            .into_iter()
            .filter(|room| !members.contains(room))
            .filter(|room| options.include_source_room || !sources.contains(room))
            .collect();
        if rooms.is_empty() {
            return Ok(());
        }
        operators.leave(rooms).await.map_err(adapter_error)?;
        self.settle().await
    }

    /// The ids of the sockets selected, on every server of the cluster,
    /// sorted by their text (Sails 0.12's `subscribers(room)`).
    pub async fn ids(&self) -> Result<Vec<SocketId>, SocketsError> {
        let Some(operators) = self.operators()? else {
            return Ok(Vec::new());
        };
        let mut ids: Vec<SocketId> = operators
            .fetch_sockets()
            .await
            .map_err(adapter_error)?
            .into_iter()
            .map(|socket| SocketId(socket.data().id))
            .collect();
        ids.sort_by(|a, b| a.as_str().cmp(b.as_str()));
        ids.dedup();
        Ok(ids)
    }

    /// The rooms the sockets selected are in, on every server of the
    /// cluster, sorted, id rooms included (Sails 0.12's `rooms()` and
    /// `socketRooms(socket)`).
    pub async fn rooms(&self) -> Result<Vec<String>, SocketsError> {
        let Some(operators) = self.operators()? else {
            return Ok(Vec::new());
        };
        let rooms = operators.rooms().await.map_err(adapter_error)?;
        let mut names: Vec<String> = rooms
            .into_iter()
            .map(|room| room.into_owned())
            .filter(|room| !room.starts_with(RESERVED_ROOM_PREFIX))
            .collect();
        names.sort();
        names.dedup();
        Ok(names)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn room_names_flatten_every_form() {
        let id: SocketId = "AAAAAAAAAAAAAAAA".parse().expect("a socket id");
        let mut rooms = Vec::new();
        "a".push_rooms(&mut rooms);
        String::from("b").push_rooms(&mut rooms);
        id.push_rooms(&mut rooms);
        None::<&str>.push_rooms(&mut rooms);
        vec!["c", "d"].push_rooms(&mut rooms);
        ["e"].push_rooms(&mut rooms);
        assert_eq!(rooms, ["a", "b", "AAAAAAAAAAAAAAAA", "c", "d", "e"]);
    }

    #[test]
    fn socket_ids_round_trip_and_refuse_other_text() {
        let id: SocketId = "AAAAAAAAAAAAAAAA".parse().expect("a socket id");
        assert_eq!(id.to_string(), "AAAAAAAAAAAAAAAA");
        let json = serde_json::to_string(&id).expect("serialises");
        assert_eq!(json, "\"AAAAAAAAAAAAAAAA\"");
        assert_eq!(serde_json::from_str::<SocketId>(&json).ok(), Some(id));
        assert!("not an id".parse::<SocketId>().is_err());
        assert!(serde_json::from_str::<SocketId>("\"short\"").is_err());
    }
}
