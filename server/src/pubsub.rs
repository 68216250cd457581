//! Resourceful pub/sub: Sails' model rooms and messages, for models named by
//! a lower-case identity (e.g. `pet`).
//!
//! A model has a class room (members hear about created records) and one
//! instance room per record. Messages go out on the event named after the
//! identity with Sails v1 payloads, one message per id; a socket can be left
//! out with `.except(socket)`. [`PubSub::with_legacy_envelope`] sends the
//! v0.9 envelope `{model, verb, id, data}` on the `message` event instead.
//!
//! | Sails | here |
//! |---|---|
//! | `Model.subscribe(req, ids)` / `unsubscribe` | `pubsub.subscribe(socket, ids)` / `unsubscribe` |
//! | `Model._watch(req)` / `_unwatch` | `pubsub.watch(socket)` / `unwatch` |
//! | `Model._introduce(id)` / `_retire` | `pubsub.introduce(id)` / `retire` |
//! | `Model.getRoomName(id)` | `pubsub.room(id)` |
//! | `Model._publishCreate(record, req)` | `pubsub.publish_create(&record).except(socket)` |
//! | `Model._publishUpdate(id, values, req, {previous})` | `pubsub.publish_update(id, &values).previous(&previous).except(socket)` |
//! | `Model._publishDestroy(id, req, {previous})` | `pubsub.publish_destroy(id).previous(&previous).except(socket)` |
//! | `Model._publishAdd(id, attr, addedId, req)` | `pubsub.publish_add(id, attr, added_id).except(socket)` |
//! | `Model._publishRemove(id, attr, removedId, req)` | `pubsub.publish_remove(id, attr, removed_id).except(socket)` |
//! | `Model.publish(ids, data, req)` | `pubsub.publish(ids, &data).except(socket)` |

use std::fmt;
use std::future::{Future, IntoFuture};
use std::pin::Pin;

use serde::{Deserialize, Serialize};
use serde_json::{Map, Number, Value, json};

use crate::sockets::{SocketId, Sockets, SocketsError};

/// The payload format of published messages.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum Envelope {
    /// Sails v1: event = identity, `{verb: "created"|"updated"|…, id, …}`.
    #[default]
    V1,
    /// Sails v0.9: event `message`, `{model, verb: "create"|"update"|"destroy", id, data}`.
    Legacy,
}

/// A record's primary key: a number or a string, as in Sails.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(untagged)]
pub enum RecordId {
    /// A numeric id (auto-increment ids are numbers).
    Number(Number),
    /// A string id.
    Text(String),
}

impl RecordId {
    /// The text the id is known by in room names: a string as is, a number
    /// as JSON writes it.
    pub fn key(&self) -> String {
        match self {
            Self::Number(number) => number.to_string(),
            Self::Text(text) => text.clone(),
        }
    }
}

impl fmt::Display for RecordId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Number(number) => write!(f, "{number}"),
            Self::Text(text) => f.write_str(text),
        }
    }
}

macro_rules! record_id_from_integer {
    ($($integer:ty),*) => {$(
        impl From<$integer> for RecordId {
            fn from(id: $integer) -> Self {
                Self::Number(id.into())
            }
        }
    )*};
}
record_id_from_integer!(i32, i64, u32, u64, usize);

impl From<&str> for RecordId {
    fn from(id: &str) -> Self {
        Self::Text(id.to_owned())
    }
}

impl From<String> for RecordId {
    fn from(id: String) -> Self {
        Self::Text(id)
    }
}

impl From<&RecordId> for RecordId {
    fn from(id: &RecordId) -> Self {
        id.clone()
    }
}

impl TryFrom<&Value> for RecordId {
    type Error = SocketsError;

    /// A JSON number or string; anything else is [`SocketsError::MissingId`].
    fn try_from(value: &Value) -> Result<Self, Self::Error> {
        match value {
            Value::Number(number) => Ok(Self::Number(number.clone())),
            Value::String(text) => Ok(Self::Text(text.clone())),
            _ => Err(SocketsError::MissingId),
        }
    }
}

/// Resourceful pub/sub for one model. Cheap to clone.
#[derive(Debug, Clone)]
pub struct PubSub {
    identity: String,
    sockets: Sockets,
    envelope: Envelope,
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

    /// `getRoomName(id)`: the instance room of a record.
    pub fn room(&self, id: impl Into<RecordId>) -> String {
        sails_protocol::pubsub::instance_room(&self.identity, &id.into().key())
    }

    /// The class room (members hear about created records).
    pub fn class_room(&self) -> String {
        sails_protocol::pubsub::class_room(&self.identity)
    }

    fn rooms<I>(&self, ids: I) -> Vec<String>
    where
        I: IntoIterator<Item: Into<RecordId>>,
    {
        ids.into_iter().map(|id| self.room(id)).collect()
    }

    /// `subscribe(req, ids)`: the socket joins the instance room of each id.
    pub async fn subscribe<I>(&self, socket: SocketId, ids: I) -> Result<(), SocketsError>
    where
        I: IntoIterator<Item: Into<RecordId>>,
    {
        self.sockets.socket(socket).join(self.rooms(ids)).await
    }

    /// `unsubscribe(req, ids)`: the socket leaves the instance room of each id.
    pub async fn unsubscribe<I>(&self, socket: SocketId, ids: I) -> Result<(), SocketsError>
    where
        I: IntoIterator<Item: Into<RecordId>>,
    {
        self.sockets.socket(socket).leave(self.rooms(ids)).await
    }

    /// `_watch(req)`: the socket joins the class room.
    pub async fn watch(&self, socket: SocketId) -> Result<(), SocketsError> {
        self.sockets.socket(socket).join(self.class_room()).await
    }

    /// `_unwatch(req)`: the socket leaves the class room.
    pub async fn unwatch(&self, socket: SocketId) -> Result<(), SocketsError> {
        self.sockets.socket(socket).leave(self.class_room()).await
    }

    /// `_introduce(id)`: every class-room member joins the record's instance room.
    pub async fn introduce(&self, id: impl Into<RecordId>) -> Result<(), SocketsError> {
        self.sockets.to(self.class_room()).join(self.room(id)).await
    }

    /// `_retire(id)`: every member of the record's instance room leaves it.
    pub async fn retire(&self, id: impl Into<RecordId>) -> Result<(), SocketsError> {
        let room = self.room(id);
        self.sockets.to(&room).leave(&room).await
    }

    /// The ids of the sockets subscribed to a record, sorted.
    pub async fn subscribers(
        &self,
        id: impl Into<RecordId>,
    ) -> Result<Vec<SocketId>, SocketsError> {
        self.sockets.to(self.room(id)).ids().await
    }

    /// `publish(ids, data)`: sends `data` as is to each record's instance room.
    pub fn publish<I>(&self, ids: I, data: &impl Serialize) -> Publication<'_>
    where
        I: IntoIterator<Item: Into<RecordId>>,
    {
        let ids = ids.into_iter().map(Into::into).collect();
        self.publication(serde_json::to_value(data).map(|data| Message::Raw { ids, data }))
    }

    /// `_publishCreate(record)`: tells the class room `{verb:"created", data, id}`
    /// and introduces the class room's members into the new record's room.
    /// The record must have an `id`.
    pub fn publish_create(&self, record: &impl Serialize) -> Publication<'_> {
        let message = serde_json::to_value(record)
            .map_err(SocketsError::from)
            .and_then(|record| {
                let id = record
                    .get("id")
                    .map_or(Err(SocketsError::MissingId), RecordId::try_from)?;
                Ok(Message::Created { id, record })
            });
        Publication {
            pubsub: self,
            message,
            except: None,
        }
    }

    /// `_publishUpdate(id, values)`: tells the record's room
    /// `{verb:"updated", data: values + id, id}`, with `previous` when given.
    pub fn publish_update(
        &self,
        id: impl Into<RecordId>,
        values: &impl Serialize,
    ) -> ChangePublication<'_> {
        let id = id.into();
        ChangePublication {
            publication: self.publication(
                serde_json::to_value(values).map(|values| Message::Updated { id, values }),
            ),
            previous: None,
        }
    }

    /// `_publishDestroy(id)`: tells the record's room `{verb:"destroyed", id}`,
    /// with `previous` when given, then empties that room.
    pub fn publish_destroy(&self, id: impl Into<RecordId>) -> ChangePublication<'_> {
        ChangePublication {
            publication: self.publication(Ok(Message::Destroyed { id: id.into() })),
            previous: None,
        }
    }

    /// `_publishAdd(id, attribute, addedId)`: `{id, verb:"addedTo", attribute, addedId}`.
    pub fn publish_add(
        &self,
        id: impl Into<RecordId>,
        attribute: &str,
        added_id: impl Into<RecordId>,
    ) -> Publication<'_> {
        self.publication(Ok(Message::AddedTo {
            id: id.into(),
            attribute: attribute.to_owned(),
            added_id: added_id.into(),
        }))
    }

    /// `_publishRemove(id, attribute, removedId)`: `{id, verb:"removedFrom", attribute, removedId}`.
    pub fn publish_remove(
        &self,
        id: impl Into<RecordId>,
        attribute: &str,
        removed_id: impl Into<RecordId>,
    ) -> Publication<'_> {
        self.publication(Ok(Message::RemovedFrom {
            id: id.into(),
            attribute: attribute.to_owned(),
            removed_id: removed_id.into(),
        }))
    }

    /// `message(id, data)`: `{verb:"messaged", id, data}` to the record's room.
    pub fn message(&self, id: impl Into<RecordId>, data: &impl Serialize) -> Publication<'_> {
        let id = id.into();
        self.publication(serde_json::to_value(data).map(|data| Message::Messaged { id, data }))
    }

    fn publication(&self, message: Result<Message, serde_json::Error>) -> Publication<'_> {
        Publication {
            pubsub: self,
            message: message.map_err(SocketsError::from),
            except: None,
        }
    }

    fn event(&self) -> &str {
        match self.envelope {
            Envelope::V1 => &self.identity,
            Envelope::Legacy => crate::sockets::DEFAULT_EVENT,
        }
    }

    async fn send(
        &self,
        room: String,
        message: &Value,
        except: Option<SocketId>,
    ) -> Result<(), SocketsError> {
        self.sockets
            .to(room)
            .except(except)
            .emit(self.event(), message)
            .await
    }

    /// Sends a message to its room(s), then changes rooms as its verb asks.
    async fn deliver(
        &self,
        message: Message,
        previous: Option<Value>,
        except: Option<SocketId>,
    ) -> Result<(), SocketsError> {
        let legacy = self.envelope == Envelope::Legacy;
        match message {
            Message::Raw { ids, data } => {
                for id in ids {
                    self.send(self.room(id), &data, except).await?;
                }
                Ok(())
            }
            Message::Created { id, record } => {
                let message = if legacy {
                    self.legacy("create", &id, Some(record))
                } else {
                    json!({"verb": "created", "data": record, "id": id})
                };
                self.send(self.class_room(), &message, except).await?;
                self.introduce(id).await
            }
            Message::Updated { id, values } => {
                let message = if legacy {
                    self.legacy("update", &id, Some(values))
                } else {
                    let mut data = match values {
                        Value::Object(values) => values,
                        _ => Map::new(),
                    };
                    data.insert("id".into(), json!(id));
                    change("updated", &id, Some(Value::Object(data)), previous)
                };
                self.send(self.room(&id), &message, except).await
            }
            Message::Destroyed { id } => {
                let message = if legacy {
                    self.legacy("destroy", &id, None)
                } else {
                    change("destroyed", &id, None, previous)
                };
                self.send(self.room(&id), &message, except).await?;
                self.retire(id).await
            }
            Message::AddedTo {
                id,
                attribute,
                added_id,
            } => {
                let message = json!({"id": id, "verb": "addedTo", "attribute": attribute, "addedId": added_id});
                self.send(self.room(&id), &self.with_model(message), except)
                    .await
            }
            Message::RemovedFrom {
                id,
                attribute,
                removed_id,
            } => {
                let message = json!({"id": id, "verb": "removedFrom", "attribute": attribute, "removedId": removed_id});
                self.send(self.room(&id), &self.with_model(message), except)
                    .await
            }
            Message::Messaged { id, data } => {
                let message = json!({"verb": "messaged", "id": id, "data": data});
                self.send(self.room(&id), &self.with_model(message), except)
                    .await
            }
        }
    }

    fn legacy(&self, verb: &str, id: &RecordId, data: Option<Value>) -> Value {
        let mut message = Map::new();
        message.insert("model".into(), json!(self.identity));
        message.insert("verb".into(), json!(verb));
        message.insert("id".into(), json!(id));
        if let Some(data) = data {
            message.insert("data".into(), data);
        }
        Value::Object(message)
    }

    /// Messages with no v0.9 form keep their v1 fields plus `model` in the legacy envelope.
    fn with_model(&self, mut message: Value) -> Value {
        if self.envelope == Envelope::Legacy
            && let Some(object) = message.as_object_mut()
        {
            object.insert("model".into(), json!(self.identity));
        }
        message
    }
}

/// A v1 `updated` or `destroyed` message: `{verb, data?, id, previous?}`.
fn change(verb: &str, id: &RecordId, data: Option<Value>, previous: Option<Value>) -> Value {
    let mut message = Map::new();
    message.insert("verb".into(), json!(verb));
    if let Some(data) = data {
        message.insert("data".into(), data);
    }
    message.insert("id".into(), json!(id));
    if let Some(previous) = previous {
        message.insert("previous".into(), previous);
    }
    Value::Object(message)
}

/// What a publication says, before it is put in its envelope.
#[derive(Debug)]
enum Message {
    Raw {
        ids: Vec<RecordId>,
        data: Value,
    },
    Created {
        id: RecordId,
        record: Value,
    },
    Updated {
        id: RecordId,
        values: Value,
    },
    Destroyed {
        id: RecordId,
    },
    AddedTo {
        id: RecordId,
        attribute: String,
        added_id: RecordId,
    },
    RemovedFrom {
        id: RecordId,
        attribute: String,
        removed_id: RecordId,
    },
    Messaged {
        id: RecordId,
        data: Value,
    },
}

type Sending<'a> = Pin<Box<dyn Future<Output = Result<(), SocketsError>> + Send + 'a>>;

/// A message about to be published: leave a socket out with
/// [`except`](Self::except), then `.await` it to send.
#[derive(Debug)]
#[must_use = "a publication is sent only when awaited"]
pub struct Publication<'a> {
    pubsub: &'a PubSub,
    message: Result<Message, SocketsError>,
    except: Option<SocketId>,
}

impl Publication<'_> {
    /// Leaves this socket out (Sails omits the requesting socket); `None` leaves out nobody.
    pub fn except(mut self, socket: impl Into<Option<SocketId>>) -> Self {
        self.except = socket.into();
        self
    }
}

impl<'a> IntoFuture for Publication<'a> {
    type Output = Result<(), SocketsError>;
    type IntoFuture = Sending<'a>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move { self.pubsub.deliver(self.message?, None, self.except).await })
    }
}

/// An update or destroy about to be published, which may carry the record
/// as it was before ([`previous`](Self::previous)).
#[derive(Debug)]
#[must_use = "a publication is sent only when awaited"]
pub struct ChangePublication<'a> {
    publication: Publication<'a>,
    previous: Option<Result<Value, serde_json::Error>>,
}

impl ChangePublication<'_> {
    /// The record before the change, sent as `previous`.
    pub fn previous(mut self, previous: &impl Serialize) -> Self {
        self.previous = Some(serde_json::to_value(previous));
        self
    }

    /// Leaves this socket out (Sails omits the requesting socket); `None` leaves out nobody.
    pub fn except(mut self, socket: impl Into<Option<SocketId>>) -> Self {
        self.publication = self.publication.except(socket);
        self
    }
}

impl<'a> IntoFuture for ChangePublication<'a> {
    type Output = Result<(), SocketsError>;
    type IntoFuture = Sending<'a>;

    fn into_future(self) -> Self::IntoFuture {
        Box::pin(async move {
            let Publication {
                pubsub,
                message,
                except,
            } = self.publication;
            let previous = self.previous.transpose()?;
            pubsub.deliver(message?, previous, except).await
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn record_ids_key_rooms_as_sails_does() {
        assert_eq!(RecordId::from(7).key(), "7");
        assert_eq!(RecordId::from("7").key(), "7");
        assert_eq!(
            RecordId::try_from(&json!(1.5)).map(|id| id.key()).ok(),
            Some("1.5".into())
        );
        assert!(RecordId::try_from(&json!(null)).is_err());
        assert!(RecordId::try_from(&json!({"id": 1})).is_err());
        assert_eq!(serde_json::to_value(RecordId::from(3)).ok(), Some(json!(3)));
        assert_eq!(
            serde_json::to_value(RecordId::from("a")).ok(),
            Some(json!("a"))
        );
    }
}
