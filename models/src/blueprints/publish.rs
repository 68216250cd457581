//! Every pub/sub call the blueprints make: subscriptions, watches and the
//! messages Sails' blueprint actions publish. The rest of the crate goes
//! through [`Realtime`] only.

use sails_server::{PubSub, RecordId, Sails, SocketId, SocketsError};
use serde_json::{Value, json};

/// The realtime side of one blueprint request: who asked (a socket or
/// not), whom to leave out of publishes, and the pub/sub handle.
#[derive(Debug, Clone)]
pub(crate) struct Realtime {
    sails: Sails,
    /// The requesting socket, when the request came over one.
    socket: Option<SocketId>,
    /// The socket left out of publishes (the requester, unless `mirror`).
    omit: Option<SocketId>,
}

impl Realtime {
    pub(crate) fn new(sails: Sails, socket: Option<SocketId>, mirror: bool) -> Self {
        let omit = if mirror { None } else { socket };
        Self {
            sails,
            socket,
            omit,
        }
    }

    fn model(&self, identity: &str) -> PubSub {
        self.sails.pubsub(identity)
    }

    /// Whether the request came over a socket.
    pub(crate) fn is_socket(&self) -> bool {
        self.socket.is_some()
    }

    /// A socket requester joins the instance rooms of `ids`.
    pub(crate) async fn subscribe(
        &self,
        identity: &str,
        ids: &[Value],
    ) -> Result<(), SocketsError> {
        match &self.socket {
            Some(socket) if !ids.is_empty() => {
                self.model(identity)
                    .subscribe(*socket, record_ids(ids)?)
                    .await
            }
            _ => Ok(()),
        }
    }

    /// A socket requester leaves the instance rooms of `ids`.
    pub(crate) async fn unsubscribe(
        &self,
        identity: &str,
        ids: &[Value],
    ) -> Result<(), SocketsError> {
        match &self.socket {
            Some(socket) => {
                self.model(identity)
                    .unsubscribe(*socket, record_ids(ids)?)
                    .await
            }
            None => Ok(()),
        }
    }

    /// A socket requester joins the class room (`_watch`).
    pub(crate) async fn watch(&self, identity: &str) -> Result<(), SocketsError> {
        match &self.socket {
            Some(socket) => self.model(identity).watch(*socket).await,
            None => Ok(()),
        }
    }

    /// `_publishCreate` (the `created` message) and `_introduce`: the class
    /// room hears of the record, then its members join the record's room.
    pub(crate) async fn created(&self, identity: &str, record: &Value) -> Result<(), SocketsError> {
        self.model(identity)
            .publish_create(record)
            .except(self.omit)
            .await
    }

    /// `updated` to the record's room; `previous` when the action has it.
    pub(crate) async fn updated(
        &self,
        identity: &str,
        id: &Value,
        data: &Value,
        previous: Option<&Value>,
    ) -> Result<(), SocketsError> {
        let mut message = json!({"verb": "updated", "data": data, "id": id});
        if let Some(previous) = previous {
            message["previous"] = previous.clone();
        }
        self.model(identity)
            .publish([RecordId::try_from(id)?], &message)
            .except(self.omit)
            .await
    }

    /// `destroyed` to the record's room, then `_retire`: the class room's
    /// members leave the record's room (other subscribers stay, as in Sails).
    pub(crate) async fn destroyed(
        &self,
        identity: &str,
        id: &Value,
        previous: &Value,
    ) -> Result<(), SocketsError> {
        let pubsub = self.model(identity);
        let message = json!({"verb": "destroyed", "id": id, "previous": previous});
        let id = RecordId::try_from(id)?;
        pubsub.publish([&id], &message).except(self.omit).await?;
        self.sails
            .sockets()
            .to(pubsub.class_room())
            .leave(pubsub.room(id))
            .await
    }

    /// `addedTo` to the parent's room.
    pub(crate) async fn added_to(
        &self,
        identity: &str,
        id: &Value,
        attribute: &str,
        added: &Value,
    ) -> Result<(), SocketsError> {
        self.model(identity)
            .publish_add(
                RecordId::try_from(id)?,
                attribute,
                RecordId::try_from(added)?,
            )
            .except(self.omit)
            .await
    }

    /// `removedFrom` to the parent's room.
    pub(crate) async fn removed_from(
        &self,
        identity: &str,
        id: &Value,
        attribute: &str,
        removed: &Value,
    ) -> Result<(), SocketsError> {
        self.model(identity)
            .publish_remove(
                RecordId::try_from(id)?,
                attribute,
                RecordId::try_from(removed)?,
            )
            .except(self.omit)
            .await
    }
}

/// Record ids as pub/sub takes them (a number or a string each).
fn record_ids(ids: &[Value]) -> Result<Vec<RecordId>, SocketsError> {
    ids.iter().map(RecordId::try_from).collect()
}
