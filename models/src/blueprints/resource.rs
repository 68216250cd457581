//! One model's records with the realtime side of one change: the writes
//! of the blueprint actions (create, update, destroy, add, remove, replace)
//! and everything they publish, as Sails 1.5.18's actions publish it. The
//! blueprint routes run them for a request; app code runs them through
//! [`Publishing`], so its changes publish exactly as the blueprints' do.

use sails_server::{Sails, SocketId};
use serde_json::{Map, Value, json};

use super::publish::Realtime;
use crate::criteria::Criteria;
use crate::error::ModelError;
use crate::model::{Kind, Model, UPDATED_AT};
use crate::store::{Records, Store};

/// How many records a populated collection gives (the blueprints' default limit).
pub(crate) const DEFAULT_LIMIT: u64 = 30;

/// Whether a record came (created) or left (destroyed), for its associated records.
#[derive(Debug, Clone, Copy)]
enum Joined {
    Came,
    Left,
}

/// A model's records and the realtime side of the change made to them.
#[derive(Debug, Clone)]
pub(crate) struct Resource {
    pub(crate) store: Store,
    pub(crate) records: Records,
    pub(crate) realtime: Realtime,
}

impl Resource {
    pub(crate) fn model(&self) -> &Model {
        self.records.model()
    }

    pub(crate) fn identity(&self) -> &str {
        self.model().identity()
    }

    /// Records of this model matching `criteria`, with `populates` filled in
    /// (kept even when `select`/`omit` leave them out).
    pub(crate) async fn read(
        &self,
        mut criteria: Criteria,
        populates: &[String],
    ) -> Result<Vec<Value>, ModelError> {
        if let Some(select) = &mut criteria.select {
            select.extend(populates.iter().cloned());
        }
        criteria.omit.retain(|name| !populates.contains(name));
        let mut found = self.records.find_parsed(&criteria).await?;
        self.records
            .populate(&mut found, populates, Some(DEFAULT_LIMIT))
            .await?;
        Ok(found)
    }

    /// `record` with every association populated.
    async fn populated(&self, record: Value) -> Result<Value, ModelError> {
        let populates: Vec<String> = self
            .model()
            .associations()
            .map(|(name, _)| name.to_owned())
            .collect();
        let mut records = [record];
        self.records
            .populate(&mut records, &populates, Some(DEFAULT_LIMIT))
            .await?;
        let [record] = records;
        Ok(record)
    }

    /// The record `id`, every association populated (`None`: there is none).
    pub(crate) async fn read_one(&self, id: &Value) -> Result<Option<Value>, ModelError> {
        let criteria = Criteria::by_id(self.model(), id)?;
        let populates: Vec<String> = self
            .model()
            .associations()
            .map(|(name, _)| name.to_owned())
            .collect();
        Ok(self.read(criteria, &populates).await?.pop())
    }

    pub(crate) fn key_of(&self, record: &Value) -> Value {
        record[self.model().primary_key()].clone()
    }

    /// The other side of an association: `(model, attribute)` when it
    /// points back (`owner` ↔ `pets`).
    fn inverse(&self, alias: &str) -> Option<(String, String, bool)> {
        let models = self.store.models();
        match &self.model().get(alias)?.kind {
            Kind::Model(target) => {
                let other = models.get(target)?;
                other
                    .associations()
                    .find_map(|(name, attribute)| match &attribute.kind {
                        Kind::Collection {
                            model,
                            via: Some(via),
                        } if model == self.identity() && via == alias => {
                            Some((target.clone(), name.to_owned(), false))
                        }
                        _ => None,
                    })
            }
            Kind::Collection {
                model: target,
                via: Some(via),
            } => {
                let back_is_model = matches!(models.get(target)?.get(via)?.kind, Kind::Model(_));
                Some((target.clone(), via.clone(), back_is_model))
            }
            _ => None,
        }
    }

    /// The key of an association's value, populated or not.
    fn association_key(&self, alias: &str, value: &Value) -> Value {
        let target = match self.model().get(alias).map(|attribute| &attribute.kind) {
            Some(Kind::Model(target)) => target,
            _ => return value.clone(),
        };
        match (value, self.store.models().get(target)) {
            (Value::Object(record), Some(model)) => record
                .get(model.primary_key())
                .cloned()
                .unwrap_or(Value::Null),
            _ => value.clone(),
        }
    }

    /// For each one-to-many collection an update sets (`pets: [1, 2]`),
    /// children that left hear `updated {via: null}` and children that came
    /// `updated {via: id}`.
    async fn publish_replaced_children(
        &self,
        id: &Value,
        values: &Value,
        previous: &Value,
    ) -> Result<(), ModelError> {
        let models = self.store.models();
        for (alias, _) in self.model().associations() {
            let (Some(Value::Array(_)), Some((target, via, true))) =
                (values.get(alias), self.inverse(alias))
            else {
                continue;
            };
            let children = self.store.records(&target)?;
            let key = models.get(&target).map_or("id", Model::primary_key);
            let now: Vec<Value> = values[alias]
                .as_array()
                .into_iter()
                .flatten()
                .filter_map(|child| children.key(child).ok())
                .collect();
            let before: Vec<Value> = previous[alias]
                .as_array()
                .into_iter()
                .flatten()
                .map(|child| child[key].clone())
                .collect();
            for gone in before.iter().filter(|child| !now.contains(child)) {
                self.realtime
                    .updated(&target, gone, &json!({ via.clone(): Value::Null }), None)
                    .await?;
            }
            for came in now.iter().filter(|child| !before.contains(child)) {
                self.realtime
                    .updated(&target, came, &json!({ via.clone(): id }), None)
                    .await?;
            }
        }
        Ok(())
    }

    /// Tells the records associated with `record` (of key `id`) that it came
    /// (created) or left (destroyed): a parent hears `addedTo` / `removedFrom`,
    /// and each child pointing back hears `updated` with its reference set to
    /// `id` or `null`, as Sails' blueprints tell them.
    async fn tell_associated(
        &self,
        record: &Value,
        id: &Value,
        joined: Joined,
    ) -> Result<(), ModelError> {
        for (alias, _) in self.model().associations() {
            let Some((target, via, back_is_model)) = self.inverse(alias) else {
                continue;
            };
            match &record[alias] {
                Value::Object(_) => {
                    let parent = self.association_key(alias, &record[alias]);
                    match joined {
                        Joined::Came => self.realtime.added_to(&target, &parent, &via, id).await?,
                        Joined::Left => {
                            self.realtime
                                .removed_from(&target, &parent, &via, id)
                                .await?;
                        }
                    }
                }
                Value::Array(children) if back_is_model => {
                    let key = self.key_name(&target);
                    let reference = match joined {
                        Joined::Came => id.clone(),
                        Joined::Left => Value::Null,
                    };
                    for child in children {
                        self.realtime
                            .updated(
                                &target,
                                &child[key],
                                &json!({ via.clone(): reference }),
                                None,
                            )
                            .await?;
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }

    /// The primary key attribute of the model `identity` (`id` by default).
    fn key_name(&self, identity: &str) -> &str {
        self.store
            .models()
            .get(identity)
            .map_or("id", Model::primary_key)
    }

    /// Publishes of adding `child` to the collection: `addedTo` to the
    /// parent's room, then the child's side (`updated` or `addedTo`); a
    /// socket requester is subscribed to the child.
    async fn publish_added(
        &self,
        id: &Value,
        alias: &str,
        target: &str,
        child: &Value,
    ) -> Result<(), ModelError> {
        let key = self.key_name(target);
        let child_id = child[key].clone();
        self.realtime
            .added_to(self.identity(), id, alias, &child_id)
            .await?;
        self.realtime
            .subscribe(target, std::slice::from_ref(&child_id))
            .await?;
        match self.inverse(alias) {
            Some((_, via, true)) => {
                self.realtime
                    .updated(target, &child_id, &json!({ via.clone(): id }), None)
                    .await?;
            }
            Some((_, via, false)) => self.realtime.added_to(target, &child_id, &via, id).await?,
            None => {}
        }
        Ok(())
    }

    /// `removedFrom` to the parent `child` had before it was added to a
    /// one-to-many collection (add tells even the same parent, as Sails does;
    /// replace leaves `except` out).
    async fn publish_left_parent(
        &self,
        alias: &str,
        target: &str,
        child: &Value,
        except: Option<&Value>,
    ) -> Result<(), ModelError> {
        let Some((_, via, true)) = self.inverse(alias) else {
            return Ok(());
        };
        let previous = &child[&via];
        if previous.is_null() || Some(previous) == except {
            return Ok(());
        }
        let key = self.key_name(target);
        self.realtime
            .removed_from(self.identity(), previous, alias, &child[key])
            .await?;
        Ok(())
    }

    /// Creates a record of `values`; answers it populated. The requester
    /// is subscribed to it, the class room hears `created` (its members are
    /// introduced into the record's room), associated records hear
    /// `addedTo` / `updated`, former parents of moved children `removedFrom`.
    pub(crate) async fn create(&self, values: &Value) -> Result<Value, ModelError> {
        // Children moved to the new record leave their old parents.
        let mut moved = Vec::new();
        for (alias, attribute) in self.model().associations() {
            if let (
                Kind::Collection { model: target, .. },
                Some((_, via, true)),
                Some(Value::Array(ids)),
            ) = (&attribute.kind, self.inverse(alias), values.get(alias))
                && !ids.is_empty()
            {
                let children = self
                    .store
                    .records(target)?
                    .find(&Value::Array(ids.clone()))
                    .await?;
                for child in children {
                    if !child[&via].is_null() {
                        let key = child[self.key_name(target)].clone();
                        moved.push((child[&via].clone(), alias.to_owned(), key));
                    }
                }
            }
        }
        let created = self.records.create(values).await?;
        let id = self.key_of(&created);
        let record = self.populated(created).await?;
        self.realtime
            .subscribe(self.identity(), std::slice::from_ref(&id))
            .await?;
        self.tell_associated(&record, &id, Joined::Came).await?;
        self.realtime.created(self.identity(), &record).await?;
        for (parent, alias, child) in moved {
            self.realtime
                .removed_from(self.identity(), &parent, &alias, &child)
                .await?;
        }
        Ok(record)
    }

    /// Updates the record `id` with `values` (its key left out); answers
    /// it populated. Its room hears `updated` with `previous`; references
    /// that changed tell their parents (`removedFrom`, `addedTo`), and a
    /// collection set anew tells the children that left or came.
    pub(crate) async fn update(&self, id: &Value, values: &Value) -> Result<Value, ModelError> {
        let id = self.records.key(id)?;
        let mut values = values.clone();
        if let Value::Object(values) = &mut values {
            values.remove(self.model().primary_key());
        }
        // The record before, populated (as Sails reads it, before the update).
        let previous = self.read_one(&id).await?.ok_or(ModelError::NotFound)?;
        let updated = self
            .records
            .update_one(&id, &values)
            .await?
            .ok_or(ModelError::NotFound)?;
        // `data`: the values sent, as stored, then the key and `updatedAt`.
        let mut data = Map::new();
        if let Value::Object(values) = &values {
            for name in values.keys() {
                if self
                    .model()
                    .get(name)
                    .is_some_and(|attribute| attribute.has_column())
                {
                    data.insert(name.clone(), updated.record[name].clone());
                }
            }
        }
        data.insert(self.model().primary_key().to_owned(), id.clone());
        if updated.record.get(UPDATED_AT).is_some() {
            data.insert(UPDATED_AT.to_owned(), updated.record[UPDATED_AT].clone());
        }
        self.realtime
            .subscribe(self.identity(), std::slice::from_ref(&id))
            .await?;
        self.publish_replaced_children(&id, &values, &previous)
            .await?;
        for (alias, attribute) in self.model().associations() {
            let (Kind::Model(_), Some(new)) = (&attribute.kind, data.get(alias)) else {
                continue;
            };
            let old = self.association_key(alias, &previous[alias]);
            if old == *new {
                continue;
            }
            if let Some((target, via, _)) = self.inverse(alias) {
                if !old.is_null() {
                    self.realtime.removed_from(&target, &old, &via, &id).await?;
                }
                if !new.is_null() {
                    self.realtime.added_to(&target, new, &via, &id).await?;
                }
            }
        }
        self.realtime
            .updated(self.identity(), &id, &Value::Object(data), Some(&previous))
            .await?;
        self.populated(updated.record).await
    }

    /// Destroys the record `id`; answers it as it was, populated. Its room
    /// hears `destroyed`, the class room's members leave it, associated
    /// records hear `removedFrom` / `updated`.
    pub(crate) async fn destroy(&self, id: &Value) -> Result<Value, ModelError> {
        let id = self.records.key(id)?;
        let record = self.read_one(&id).await?.ok_or(ModelError::NotFound)?;
        self.records
            .destroy_one(&id)
            .await?
            .ok_or(ModelError::NotFound)?;
        self.realtime
            .destroyed(self.identity(), &id, &record)
            .await?;
        self.tell_associated(&record, &id, Joined::Left).await?;
        self.realtime
            .unsubscribe(self.identity(), std::slice::from_ref(&id))
            .await?;
        Ok(record)
    }

    /// The model a collection of this model holds (`UnknownCollection`
    /// for any other name).
    pub(crate) fn collection(&self, alias: &str) -> Result<String, ModelError> {
        match self.model().get(alias).map(|attribute| &attribute.kind) {
            Some(Kind::Collection { model, .. }) => Ok(model.clone()),
            _ => Err(ModelError::UnknownCollection {
                model: self.identity().to_owned(),
                attribute: alias.to_owned(),
            }),
        }
    }

    /// The parent `id` and child `child_id` of add / remove (keys of their
    /// models), the child record and its model; `NotFound` when either is
    /// missing.
    async fn parent_and_child(
        &self,
        id: &Value,
        alias: &str,
        child_id: &Value,
    ) -> Result<(Value, Value, String), ModelError> {
        let target = self.collection(alias)?;
        let id = self.records.key(id)?;
        let children = self.store.records(&target)?;
        let child_id = children.key(child_id)?;
        self.records
            .find_one(&id)
            .await?
            .ok_or(ModelError::NotFound)?;
        let child = children
            .find_one(&child_id)
            .await?
            .ok_or(ModelError::NotFound)?;
        Ok((id, child, target))
    }

    /// Adds the record `child_id` to the collection `alias` of the record
    /// `id`; answers the parent populated. The parent's room hears
    /// `addedTo`, the child's side `updated` or `addedTo`, a former parent
    /// `removedFrom`.
    pub(crate) async fn add(
        &self,
        id: &Value,
        alias: &str,
        child_id: &Value,
    ) -> Result<Value, ModelError> {
        let (id, child, target) = self.parent_and_child(id, alias, child_id).await?;
        let alias = alias.to_owned();
        let key = self.key_name(&target);
        self.records
            .add_to_collection(&id, &alias, std::slice::from_ref(&child[key]))
            .await?;
        self.realtime
            .subscribe(self.identity(), std::slice::from_ref(&id))
            .await?;
        self.publish_added(&id, &alias, &target, &child).await?;
        self.publish_left_parent(&alias, &target, &child, None)
            .await?;
        self.read_one(&id).await?.ok_or(ModelError::NotFound)
    }

    /// Removes the record `child_id` from the collection `alias` of the
    /// record `id`; answers the parent populated. The parent's room hears
    /// `removedFrom`, the child's side `updated` or `removedFrom`.
    pub(crate) async fn remove(
        &self,
        id: &Value,
        alias: &str,
        child_id: &Value,
    ) -> Result<Value, ModelError> {
        let (id, child, target) = self.parent_and_child(id, alias, child_id).await?;
        let alias = alias.to_owned();
        let key = self.key_name(&target);
        let child_id = child[key].clone();
        self.records
            .remove_from_collection(&id, &alias, std::slice::from_ref(&child_id))
            .await?;
        let answer = self.read_one(&id).await?.ok_or(ModelError::NotFound)?;
        self.realtime
            .removed_from(self.identity(), &id, &alias, &child_id)
            .await?;
        match self.inverse(&alias) {
            Some((_, via, true)) => {
                self.realtime
                    .updated(&target, &child_id, &json!({ via: Value::Null }), None)
                    .await?;
            }
            Some((_, via, false)) => {
                self.realtime
                    .removed_from(&target, &child_id, &via, &id)
                    .await?
            }
            None => {}
        }
        Ok(answer)
    }

    /// Makes the collection `alias` of the record `id` hold exactly the
    /// records `listed` (keys of the child model); answers the parent
    /// populated. Children that came and left are told, and their parents.
    pub(crate) async fn replace(
        &self,
        id: &Value,
        alias: &str,
        listed: &[Value],
    ) -> Result<Value, ModelError> {
        let target = self.collection(alias)?;
        let alias = alias.to_owned();
        let id = self.records.key(id)?;
        let children = self.store.records(&target)?;
        let listed = listed
            .iter()
            .map(|child| children.key(child))
            .collect::<Result<Vec<_>, _>>()?;
        let child_key = children.model().primary_key().to_owned();
        let mut parent = vec![
            self.records
                .find_one(&id)
                .await?
                .ok_or(ModelError::NotFound)?,
        ];
        self.records
            .populate(&mut parent, std::slice::from_ref(&alias), None)
            .await?;
        let current: Vec<Value> = parent[0][&alias]
            .as_array()
            .map(|children| {
                children
                    .iter()
                    .map(|child| child[&child_key].clone())
                    .collect()
            })
            .unwrap_or_default();
        let inverse = self.inverse(&alias);
        let listed_records = children.find(&Value::Array(listed.clone())).await?;
        self.records
            .replace_collection(&id, &alias, &listed)
            .await?;
        self.realtime
            .subscribe(self.identity(), std::slice::from_ref(&id))
            .await?;
        for child in &listed_records {
            if !current.contains(&child[&child_key]) {
                self.publish_added(&id, &alias, &target, child).await?;
            }
        }
        for child in &listed_records {
            self.publish_left_parent(&alias, &target, child, Some(&id))
                .await?;
        }
        for removed in current.iter().filter(|child| !listed.contains(child)) {
            self.realtime
                .removed_from(self.identity(), &id, &alias, removed)
                .await?;
            match &inverse {
                Some((_, via, true)) => {
                    self.realtime
                        .updated(&target, removed, &json!({ via.clone(): Value::Null }), None)
                        .await?;
                }
                Some((_, via, false)) => {
                    self.realtime
                        .removed_from(&target, removed, via, &id)
                        .await?
                }
                None => {}
            }
        }
        self.read_one(&id).await?.ok_or(ModelError::NotFound)
    }
}

/// App code's changes to one model's records, published exactly as the
/// blueprint actions publish theirs (the same code runs both): Sails' model
/// methods publish nothing, so `Pet.update()` in an action leaves every page
/// as it was; these tell the rooms the blueprints tell. From
/// [`Records::publishing`].
///
/// Every change answers the record populated one level, as a blueprint
/// answers. Without [`Self::requested_by`] nobody is left out (as for an
/// HTTP request); with it, that socket is subscribed to what it changed and
/// left out of the publishes, as the requester of a blueprint action is.
#[derive(Debug, Clone)]
pub struct Publishing {
    resource: Resource,
    sails: Sails,
}

impl Records {
    /// These records, with every change published through `sails` as the
    /// blueprints publish it.
    pub fn publishing(&self, sails: &Sails) -> Publishing {
        Publishing {
            resource: Resource {
                store: self.store().clone(),
                records: self.clone(),
                realtime: Realtime::new(sails.clone(), None, false),
            },
            sails: sails.clone(),
        }
    }
}

impl Publishing {
    /// Changes made for the socket `socket` (the one whose request runs the
    /// app code): it is subscribed to the records it changes and, unless
    /// `mirror`, left out of the publishes.
    pub fn requested_by(mut self, socket: SocketId, mirror: bool) -> Self {
        self.resource.realtime = Realtime::new(self.sails.clone(), Some(socket), mirror);
        self
    }

    /// The records, unpublished (reads, and writes no one should hear of).
    pub fn records(&self) -> &Records {
        &self.resource.records
    }

    /// `create(values)`, then `created` to the class room, as blueprint create.
    pub async fn create(&self, values: &Value) -> Result<Value, ModelError> {
        self.resource.create(values).await
    }

    /// `updateOne(id, values)`, then `updated` (with `previous`) to the
    /// record's room, as blueprint update; `NotFound` when there is none.
    pub async fn update(&self, id: &Value, values: &Value) -> Result<Value, ModelError> {
        self.resource.update(id, values).await
    }

    /// `destroyOne(id)`, then `destroyed` to the record's room, as blueprint
    /// destroy; `NotFound` when there is none.
    pub async fn destroy(&self, id: &Value) -> Result<Value, ModelError> {
        self.resource.destroy(id).await
    }

    /// Adds `child` to the collection `alias` of the record `id`, then
    /// `addedTo`, as blueprint add.
    pub async fn add_to(
        &self,
        id: &Value,
        alias: &str,
        child: &Value,
    ) -> Result<Value, ModelError> {
        self.resource.add(id, alias, child).await
    }

    /// Removes `child` from the collection `alias` of the record `id`, then
    /// `removedFrom`, as blueprint remove.
    pub async fn remove_from(
        &self,
        id: &Value,
        alias: &str,
        child: &Value,
    ) -> Result<Value, ModelError> {
        self.resource.remove(id, alias, child).await
    }

    /// Makes the collection `alias` of the record `id` hold exactly
    /// `children`, publishing as blueprint replace.
    pub async fn replace(
        &self,
        id: &Value,
        alias: &str,
        children: &[Value],
    ) -> Result<Value, ModelError> {
        self.resource.replace(id, alias, children).await
    }
}
