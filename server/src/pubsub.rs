//! Resourceful pub/sub: Sails' model rooms and messages, for models named by
//! a lower-case identity (e.g. `pet`).
//!
//! A model has a class room (members hear about created records) and one
//! instance room per record. Messages go out on the event named after the
//! identity with Sails v1 payloads, one message per id; the requesting socket
//! is omitted when given. [`PubSub::with_legacy_envelope`] sends the v0.9
//! envelope `{model, verb, id, data}` on the `message` event instead.

use serde_json::{Map, Value, json};

use crate::sockets::{Sockets, SocketsError};

/// The payload format of published messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Envelope {
    /// Sails v1: event = identity, `{verb: "created"|"updated"|…, id, …}`.
    #[default]
    V1,
    /// Sails v0.9: event `message`, `{model, verb: "create"|"update"|"destroy", id, data}`.
    Legacy,
}

/// Resourceful pub/sub for one model. Cheap to clone.
#[derive(Debug, Clone)]
pub struct PubSub {
    identity: String,
    sockets: Sockets,
    envelope: Envelope,
}

/// The text a record id is known by in room names: a string as is, anything else as JSON.
pub fn id_key(id: &Value) -> String {
    match id {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

impl PubSub {
    pub(crate) fn new(identity: &str, sockets: Sockets) -> Self {
        Self {
            identity: identity.to_lowercase(),
            sockets,
            envelope: Envelope::V1,
        }
    }

    /// The same model, publishing the v0.9 envelope on the `message` event.
    pub fn with_legacy_envelope(mut self) -> Self {
        self.envelope = Envelope::Legacy;
        self
    }

    /// The model identity (lower case); also the v1 event name.
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// `getRoomName(id)` / `room(id)`: the instance room of a record.
    pub fn room(&self, id: &Value) -> String {
        sails_protocol::pubsub::instance_room(&self.identity, &id_key(id))
    }

    /// The class room (members hear about created records).
    pub fn class_room(&self) -> String {
        sails_protocol::pubsub::class_room(&self.identity)
    }

    /// `subscribe(req, ids)`: the socket joins the instance room of each id.
    pub async fn subscribe(&self, socket_id: &str, ids: &[Value]) -> Result<(), SocketsError> {
        let rooms: Vec<String> = ids.iter().map(|id| self.room(id)).collect();
        let rooms: Vec<&str> = rooms.iter().map(String::as_str).collect();
        self.sockets
            .add_room_members_to_rooms(socket_id, &rooms)
            .await
    }

    /// `unsubscribe(req, ids)`: the socket leaves the instance room of each id.
    pub async fn unsubscribe(&self, socket_id: &str, ids: &[Value]) -> Result<(), SocketsError> {
        let rooms: Vec<String> = ids.iter().map(|id| self.room(id)).collect();
        let rooms: Vec<&str> = rooms.iter().map(String::as_str).collect();
        self.sockets
            .remove_room_members_from_rooms(socket_id, &rooms)
            .await
    }

    /// `watch(req)` (`_watch`): the socket joins the class room.
    pub async fn watch(&self, socket_id: &str) -> Result<(), SocketsError> {
        self.sockets.join(socket_id, &self.class_room()).await
    }

    /// `unwatch(req)`: the socket leaves the class room.
    pub async fn unwatch(&self, socket_id: &str) -> Result<(), SocketsError> {
        self.sockets.leave(socket_id, &self.class_room()).await
    }

    /// `introduce(id)`: every class-room member joins the record's instance room.
    pub async fn introduce(&self, id: &Value) -> Result<(), SocketsError> {
        self.sockets
            .add_room_members_to_rooms(&self.class_room(), &[&self.room(id)])
            .await
    }

    /// `retire(id)`: every member of the record's instance room leaves it.
    pub async fn retire(&self, id: &Value) -> Result<(), SocketsError> {
        let room = self.room(id);
        self.sockets
            .remove_room_members_from_rooms(&room, &[&room])
            .await
    }

    /// `subscribers(id)`: the sorted ids of the sockets subscribed to a record.
    pub async fn subscribers(&self, id: &Value) -> Result<Vec<String>, SocketsError> {
        self.sockets.subscribers(&self.room(id)).await
    }

    /// `publish(ids, data, req?)`: sends `data` as is to each record's instance room.
    pub async fn publish(
        &self,
        ids: &[Value],
        data: &Value,
        omit: Option<&str>,
    ) -> Result<(), SocketsError> {
        for id in ids {
            self.send(&self.room(id), data, omit).await?;
        }
        Ok(())
    }

    /// `publishCreate(record, omit)`: tells the class room `{verb:"created", data, id}`
    /// and introduces the class room's members into the new record's room.
    pub async fn publish_create(
        &self,
        record: &Value,
        omit: Option<&str>,
    ) -> Result<(), SocketsError> {
        let id = record.get("id").cloned().unwrap_or(Value::Null);
        let message = match self.envelope {
            Envelope::V1 => json!({"verb": "created", "data": record, "id": id}),
            Envelope::Legacy => self.legacy("create", &id, Some(record)),
        };
        self.send(&self.class_room(), &message, omit).await?;
        self.introduce(&id).await
    }

    /// `publishUpdate(id, values, omit, {previous})`: tells the record's room
    /// `{verb:"updated", data: values + id, id, previous}`.
    pub async fn publish_update(
        &self,
        id: &Value,
        values: &Value,
        previous: Option<&Value>,
        omit: Option<&str>,
    ) -> Result<(), SocketsError> {
        let mut data = values.as_object().cloned().unwrap_or_default();
        data.insert("id".into(), id.clone());
        let data = Value::Object(data);
        let message = match self.envelope {
            Envelope::V1 => {
                let mut message = Map::new();
                message.insert("verb".into(), json!("updated"));
                message.insert("data".into(), data);
                message.insert("id".into(), id.clone());
                if let Some(previous) = previous {
                    message.insert("previous".into(), previous.clone());
                }
                Value::Object(message)
            }
            Envelope::Legacy => self.legacy("update", id, Some(values)),
        };
        self.send(&self.room(id), &message, omit).await
    }

    /// `publishDestroy(id, omit, {previous})`: tells the record's room
    /// `{verb:"destroyed", id, previous}`, then empties that room.
    pub async fn publish_destroy(
        &self,
        id: &Value,
        previous: Option<&Value>,
        omit: Option<&str>,
    ) -> Result<(), SocketsError> {
        let message = match self.envelope {
            Envelope::V1 => {
                let mut message = Map::new();
                message.insert("verb".into(), json!("destroyed"));
                message.insert("id".into(), id.clone());
                if let Some(previous) = previous {
                    message.insert("previous".into(), previous.clone());
                }
                Value::Object(message)
            }
            Envelope::Legacy => self.legacy("destroy", id, None),
        };
        self.send(&self.room(id), &message, omit).await?;
        self.retire(id).await
    }

    /// `publishAdd(id, attribute, addedId, omit)`: `{id, verb:"addedTo", attribute, addedId}`.
    pub async fn publish_add(
        &self,
        id: &Value,
        attribute: &str,
        added_id: &Value,
        omit: Option<&str>,
    ) -> Result<(), SocketsError> {
        let message =
            json!({"id": id, "verb": "addedTo", "attribute": attribute, "addedId": added_id});
        let message = self.wrap_other(message, id);
        self.send(&self.room(id), &message, omit).await
    }

    /// `publishRemove(id, attribute, removedId, omit)`: `{id, verb:"removedFrom", attribute, removedId}`.
    pub async fn publish_remove(
        &self,
        id: &Value,
        attribute: &str,
        removed_id: &Value,
        omit: Option<&str>,
    ) -> Result<(), SocketsError> {
        let message = json!({"id": id, "verb": "removedFrom", "attribute": attribute, "removedId": removed_id});
        let message = self.wrap_other(message, id);
        self.send(&self.room(id), &message, omit).await
    }

    /// `message(id, data, omit)`: `{verb:"messaged", id, data}` to the record's room.
    pub async fn message(
        &self,
        id: &Value,
        data: &Value,
        omit: Option<&str>,
    ) -> Result<(), SocketsError> {
        let message = json!({"verb": "messaged", "id": id, "data": data});
        let message = self.wrap_other(message, id);
        self.send(&self.room(id), &message, omit).await
    }

    fn event(&self) -> &str {
        match self.envelope {
            Envelope::V1 => &self.identity,
            Envelope::Legacy => crate::sockets::DEFAULT_EVENT,
        }
    }

    async fn send(
        &self,
        room: &str,
        message: &Value,
        omit: Option<&str>,
    ) -> Result<(), SocketsError> {
        self.sockets
            .broadcast(&[room], Some(self.event()), message, omit)
            .await
    }

    fn legacy(&self, verb: &str, id: &Value, data: Option<&Value>) -> Value {
        let mut message = Map::new();
        message.insert("model".into(), json!(self.identity));
        message.insert("verb".into(), json!(verb));
        message.insert("id".into(), id.clone());
        if let Some(data) = data {
            message.insert("data".into(), data.clone());
        }
        Value::Object(message)
    }

    /// Messages with no v0.9 form keep their v1 fields plus `model` in the legacy envelope.
    fn wrap_other(&self, mut message: Value, _id: &Value) -> Value {
        if self.envelope == Envelope::Legacy
            && let Some(object) = message.as_object_mut()
        {
            object.insert("model".into(), json!(self.identity));
        }
        message
    }
}
