//! `sails.sockets`: rooms, broadcasts and introspection, usable from handlers
//! and from anywhere else (background tasks).
//!
//! Room membership goes through socketioxide's rooms and adapter, addressed
//! by socket id (every socket is in a room named after its id). Messages
//! are serialised once and handed to each member's outbox, which delivers
//! them in order without loss, or disconnects a member that cannot keep up.

use std::sync::Arc;

use serde::Serialize;
use socketioxide::SocketIo;
use socketioxide::operators::BroadcastOperators;

use crate::outbox::{Outgoing, Payload, Pushed, outbox_of};

/// The event name used when none is given.
pub const DEFAULT_EVENT: &str = "message";

/// Why a `sails.sockets` call failed.
#[derive(Debug, thiserror::Error)]
pub enum SocketsError {
    /// The message could not be serialised as JSON.
    #[error("the message is not JSON: {0}")]
    Serialize(#[from] serde_json::Error),
    /// The adapter could not change or report room membership.
    #[error("the socket adapter failed: {0}")]
    Adapter(String),
    /// The realtime layer has no default namespace (it was not set up by [`crate::Sails`]).
    #[error("the realtime layer is not running")]
    NotRunning,
}

/// Options of [`Sockets::leave_all`] (Sails' `leaveAll` options).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LeaveAllOptions {
    /// Also leave each member's own id room (default false).
    pub include_socket_rooms: bool,
    /// Also leave the source room itself (default true).
    pub include_source_room: bool,
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
#[derive(Clone)]
pub struct Sockets {
    io: SocketIo,
}

impl std::fmt::Debug for Sockets {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sockets").finish_non_exhaustive()
    }
}

fn adapter_error(error: impl std::fmt::Display) -> SocketsError {
    SocketsError::Adapter(error.to_string())
}

impl Sockets {
    pub(crate) fn new(io: SocketIo) -> Self {
        Self { io }
    }

    fn root(&self) -> Result<BroadcastOperators, SocketsError> {
        self.io.of("/").ok_or(SocketsError::NotRunning)
    }

    /// `getId(req)`: the id of the socket a request came from.
    pub fn get_id(request: &crate::SocketRequest) -> &str {
        request.id()
    }

    /// `join(id, room)`: the socket with this id joins `room` (on whichever server it is).
    pub async fn join(&self, socket_id: &str, room: &str) -> Result<(), SocketsError> {
        self.add_room_members_to_rooms(socket_id, &[room]).await
    }

    /// `leave(id, room)`: the socket with this id leaves `room`.
    pub async fn leave(&self, socket_id: &str, room: &str) -> Result<(), SocketsError> {
        self.remove_room_members_from_rooms(socket_id, &[room])
            .await
    }

    /// `broadcast(rooms, event, data, socketToOmit)`: sends `event` (default
    /// [`DEFAULT_EVENT`] when `None`) to every socket in any of `rooms`,
    /// once each, except `omit`.
    pub async fn broadcast<T: Serialize + ?Sized>(
        &self,
        rooms: &[&str],
        event: Option<&str>,
        data: &T,
        omit: Option<&str>,
    ) -> Result<(), SocketsError> {
        if rooms.is_empty() {
            return Ok(());
        }
        let rooms: Vec<String> = rooms.iter().map(|room| (*room).to_owned()).collect();
        let mut operators = self.root()?.to(rooms);
        if let Some(omit) = omit {
            operators = operators.except(omit.to_owned());
        }
        deliver(operators, event, data).await
    }

    /// `blast(event, data, socketToOmit)`: sends `event` to every connected socket except `omit`.
    pub async fn blast<T: Serialize + ?Sized>(
        &self,
        event: Option<&str>,
        data: &T,
        omit: Option<&str>,
    ) -> Result<(), SocketsError> {
        let mut operators = self.root()?;
        if let Some(omit) = omit {
            operators = operators.except(omit.to_owned());
        }
        deliver(operators, event, data).await
    }

    /// 0.12's `emit(id, event, data)`: sends `event` to one socket (its own room).
    pub async fn emit<T: Serialize + ?Sized>(
        &self,
        socket_id: &str,
        event: Option<&str>,
        data: &T,
    ) -> Result<(), SocketsError> {
        self.broadcast(&[socket_id], event, data, None).await
    }

    /// `addRoomMembersToRooms(src, dests)`: every member of `source` joins each of `destinations`.
    pub async fn add_room_members_to_rooms(
        &self,
        source: &str,
        destinations: &[&str],
    ) -> Result<(), SocketsError> {
        let rooms: Vec<String> = destinations.iter().map(|r| (*r).to_owned()).collect();
        self.root()?
            .within(source.to_owned())
            .join(rooms)
            .await
            .map_err(adapter_error)
    }

    /// `removeRoomMembersFromRooms(src, dests)`: every member of `source` leaves each of `destinations`.
    pub async fn remove_room_members_from_rooms(
        &self,
        source: &str,
        destinations: &[&str],
    ) -> Result<(), SocketsError> {
        let rooms: Vec<String> = destinations.iter().map(|r| (*r).to_owned()).collect();
        self.root()?
            .within(source.to_owned())
            .leave(rooms)
            .await
            .map_err(adapter_error)
    }

    /// `leaveAll(src, options)`: every member of `source` leaves every room it
    /// is in, except (by default) its own id room; `source` itself too unless
    /// `include_source_room` is false.
    pub async fn leave_all(
        &self,
        source: &str,
        options: LeaveAllOptions,
    ) -> Result<(), SocketsError> {
        let members = self
            .root()?
            .within(source.to_owned())
            .fetch_sockets()
            .await
            .map_err(adapter_error)?;
        for member in members {
            let own_room = member.data().id.to_string();
            let rooms: Vec<String> = member
                .rooms()
                .await
                .map_err(adapter_error)?
                .into_iter()
                .map(|room| room.into_owned())
                .filter(|room| options.include_socket_rooms || *room != own_room)
                .filter(|room| options.include_source_room || room != source)
                .collect();
            member.leave(rooms).await.map_err(adapter_error)?;
        }
        Ok(())
    }

    /// 0.12's `rooms()`: every room that has at least one member, socket id rooms included.
    pub async fn rooms(&self) -> Result<Vec<String>, SocketsError> {
        let rooms = self.root()?.rooms().await.map_err(adapter_error)?;
        Ok(sorted_names(rooms))
    }

    /// 0.12's `socketRooms(socket)`: the rooms one socket is in, sorted, its own id room included.
    pub async fn socket_rooms(&self, socket_id: &str) -> Result<Vec<String>, SocketsError> {
        let within = self.root()?.within(socket_id.to_owned());
        let rooms = within.rooms().await.map_err(adapter_error)?;
        Ok(sorted_names(rooms))
    }

    /// 0.12's `subscribers(room)`: the sorted ids of the sockets in `room`.
    pub async fn subscribers(&self, room: &str) -> Result<Vec<String>, SocketsError> {
        let mut ids: Vec<String> = self
            .root()?
            .within(room.to_owned())
            .fetch_sockets()
            .await
            .map_err(adapter_error)?
            .into_iter()
            .map(|socket| socket.data().id.to_string())
            .collect();
        ids.sort();
        Ok(ids)
    }

    /// Whether a socket with this id is connected (on this server).
    pub fn is_connected(&self, socket_id: &str) -> bool {
        let Ok(root) = self.root() else {
            return false;
        };
        socket_id
            .parse()
            .ok()
            .and_then(|sid| root.get_socket(sid))
            .is_some()
    }
}

/// Sends `event` with `data` (serialised once) to every socket `operators`
/// address, through each one's outbox; returns once every member has it in
/// its channel or a backlog no longer than its channel (or is gone).
async fn deliver<T: Serialize + ?Sized>(
    operators: BroadcastOperators,
    event: Option<&str>,
    data: &T,
) -> Result<(), SocketsError> {
    let payload: Arc<serde_json::value::RawValue> = serde_json::value::to_raw_value(data)?.into();
    let event: Arc<str> = Arc::from(event.unwrap_or(DEFAULT_EVENT));
    let mut backlogged = Vec::new();
    for member in operators.sockets() {
        let Some(outbox) = outbox_of(&member) else {
            continue;
        };
        let packet = Outgoing::Event {
            event: Arc::clone(&event),
            payload: Payload::Json(Arc::clone(&payload)),
        };
        if outbox.push(packet) == Pushed::Queued {
            backlogged.push(outbox);
        }
    }
    for outbox in backlogged {
        outbox.room().await;
    }
    Ok(())
}

/// Room names as owned strings, sorted.
fn sorted_names(rooms: Vec<std::borrow::Cow<'static, str>>) -> Vec<String> {
    let mut names: Vec<String> = rooms.into_iter().map(|room| room.into_owned()).collect();
    names.sort();
    names
}
