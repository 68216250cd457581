//! The blueprint actions, as Sails 1.5.18 runs them: what each reads,
//! changes, answers, subscribes and publishes.

use axum::Json;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use sails_server::{Params, Sails, SocketRequest, SocketsError};
use serde_json::{Map, Value, json};

use super::publish::Realtime;
use super::{Action, Route};
use crate::criteria::{Condition, Criteria};
use crate::error::{ModelError, Problem};
use crate::model::{Kind, Model, UPDATED_AT};
use crate::store::Records;

/// Whether a record came (created) or left (destroyed), for its associated records.
#[derive(Debug, Clone, Copy)]
enum Joined {
    Came,
    Left,
}

/// How many records find (and a populated collection) gives by default.
const DEFAULT_LIMIT: u64 = 30;
/// Params that are not criteria in find's loose form.
const NOT_CRITERIA: [&str; 6] = ["limit", "skip", "sort", "populate", "select", "omit"];

/// What Sails adds to a usage error's message outside production.
const DEVELOPMENT_TIP: &str = "  **The following additional tip will not be shown in production**:  Tip: Check your client-side code to make sure that the request data it sends matches the expectations of the corresponding attributes in your model.  Also check that your client-side code sends data for every required attribute.";

/// Why a blueprint action failed; each becomes Sails' status and body.
#[derive(Debug)]
enum Failure {
    /// 404 `Not Found`.
    NotFound,
    /// 400 `{code, details, message}`.
    Usage { code: &'static str, details: String },
    /// 400 `E_UNIQUE`.
    Unique { attribute: String },
    /// 500; the cause is logged, not sent.
    Server(String),
}

impl From<ModelError> for Failure {
    fn from(error: ModelError) -> Self {
        match error {
            ModelError::NotFound | ModelError::UnknownCollection { .. } => Self::NotFound,
            ModelError::Unique { attribute } => Self::Unique { attribute },
            // Sails quotes Waterline's sentence for each problem of a new record.
            ModelError::InvalidNewRecord(problems) => Self::Usage {
                code: "E_INVALID_NEW_RECORD",
                details: problems
                    .iter()
                    .map(Problem::sails_text)
                    .collect::<Vec<_>>()
                    .join("\n"),
            },
            error if error.is_usage_error() => Self::Usage {
                code: error.code().unwrap_or("E_INVALID_CRITERIA"),
                details: error.to_string(),
            },
            error => Self::Server(error.to_string()),
        }
    }
}

impl From<SocketsError> for Failure {
    fn from(error: SocketsError) -> Self {
        Self::Server(error.to_string())
    }
}

fn criteria_error(details: impl Into<String>) -> Failure {
    Failure::Usage {
        code: "E_INVALID_CRITERIA",
        details: details.into(),
    }
}

impl Failure {
    fn into_response(
        self,
        method: &Method,
        uri: &Uri,
        identity: &str,
        production: bool,
    ) -> Response {
        match self {
            Self::NotFound => (StatusCode::NOT_FOUND, "Not Found").into_response(),
            Self::Usage { code, details } => {
                let mut message = format!(
                    "The server could not fulfill this request (`{method} {}`) due to a problem with the parameters that were sent.  See the `details` for more info.",
                    uri.path()
                );
                if !production {
                    message.push_str(DEVELOPMENT_TIP);
                }
                let body = json!({"code": code, "details": details, "message": message});
                (StatusCode::BAD_REQUEST, Json(body)).into_response()
            }
            Self::Unique { attribute } => {
                let body = json!({
                    "code": "E_UNIQUE",
                    "message": "Would violate uniqueness constraint-- a record already exists with conflicting value(s).",
                    "modelIdentity": identity,
                    "attrNames": if attribute.is_empty() { vec![] } else { vec![attribute] },
                });
                (StatusCode::BAD_REQUEST, Json(body)).into_response()
            }
            Self::Server(cause) => {
                tracing::error!("blueprint `{method} {}` failed: {cause}", uri.path());
                (StatusCode::INTERNAL_SERVER_ERROR, "Internal Server Error").into_response()
            }
        }
    }
}

/// One request to a blueprint route.
struct Request<'a> {
    route: &'a Route,
    records: Records,
    realtime: Realtime,
    params: Params,
}

impl Route {
    /// Runs the route's action and answers as Sails does.
    pub(crate) async fn run(
        &self,
        sails: Sails,
        socket: Option<SocketRequest>,
        method: Method,
        uri: Uri,
        params: Params,
    ) -> Response {
        let records = match self.store.records(&self.identity) {
            Ok(records) => records,
            Err(error) => {
                return Failure::from(error).into_response(
                    &method,
                    &uri,
                    &self.identity,
                    self.production,
                );
            }
        };
        let socket = socket.map(|socket| socket.id());
        let request = Request {
            route: self,
            records,
            realtime: Realtime::new(sails, socket, self.config.mirror),
            params,
        };
        let answer = match self.action {
            Action::Find => request.find().await,
            Action::FindOne => request.find_one().await,
            Action::Create => request.create().await,
            Action::Update => request.update().await,
            Action::Destroy => request.destroy().await,
            Action::Populate => request.populate().await,
            Action::Add => request.add().await,
            Action::Remove => request.remove().await,
            Action::Replace => request.replace().await,
        };
        let primary_key = self
            .store
            .models()
            .get(&self.identity)
            .map(Model::primary_key);
        match answer {
            Ok(body) => (StatusCode::OK, Json(body)).into_response(),
            // Sails names no attribute when the key is taken.
            Err(Failure::Unique { attribute }) if Some(attribute.as_str()) == primary_key => {
                Failure::Unique {
                    attribute: String::new(),
                }
                .into_response(&method, &uri, &self.identity, self.production)
            }
            Err(failure) => failure.into_response(&method, &uri, &self.identity, self.production),
        }
    }
}

/// A param as text (`select=a,b`), whatever JSON type it came as.
fn text(value: &Value) -> String {
    match value {
        Value::String(text) => text.clone(),
        other => other.to_string(),
    }
}

/// A string param that holds JSON, parsed; other values as they are.
fn json_param(value: &Value, what: &str) -> Result<Value, Failure> {
    match value {
        Value::String(text) => serde_json::from_str(text).map_err(|error| {
            criteria_error(format!(
                "Could not JSON.parse() the provided `{what}` clause. Here is the raw error: {error}"
            ))
        }),
        other => Ok(other.clone()),
    }
}

impl Request<'_> {
    fn model(&self) -> &Model {
        self.records.model()
    }

    fn identity(&self) -> &str {
        &self.route.identity
    }

    fn param(&self, name: &str) -> Option<&Value> {
        self.params.get(name).filter(|value| !value.is_null())
    }

    /// The record key in the URL (`:id`), as a key of the model.
    fn target_id(&self) -> Result<Value, Failure> {
        let id = self.param("id").ok_or_else(|| {
            criteria_error(
                "Cannot `findOne()` without specifying a more specific `where` clause (the provided `where` clause, `{}`, is too broad).  (If you want to work around this, use `.find().limit(1)`.)",
            )
        })?;
        Ok(self.records.key(id)?)
    }

    /// The associations to populate: every one, none (`populate=false`), or those listed.
    fn populates(&self, model: &Model) -> Result<Vec<String>, Failure> {
        let Some(value) = self.param("populate") else {
            return Ok(model
                .associations()
                .map(|(name, _)| name.to_owned())
                .collect());
        };
        let listed = text(value);
        if listed == "false" {
            return Ok(Vec::new());
        }
        let mut names = Vec::new();
        for name in listed
            .split(',')
            .map(str::trim)
            .filter(|name| !name.is_empty())
        {
            match model.get(name).map(|attribute| &attribute.kind) {
                Some(Kind::Model(_) | Kind::Collection { .. }) => names.push(name.to_owned()),
                Some(_) => {
                    return Err(Failure::Usage {
                        code: "E_INVALID_POPULATES",
                        details: format!(
                            "Could not populate `{name}`.  The attribute named `{name}` defined in this model (`{}`) is not an association, and thus cannot be populated.",
                            model.identity()
                        ),
                    });
                }
                None => {
                    return Err(Failure::Usage {
                        code: "E_INVALID_POPULATES",
                        details: format!(
                            "Could not populate `{name}`.  There is no attribute named `{name}` defined in this model."
                        ),
                    });
                }
            }
        }
        Ok(names)
    }

    /// Criteria from `where` (JSON text or an object) or the loose params,
    /// and `limit` (default 30), `skip`, `sort`, `select` (or `omit`), for `model`.
    fn criteria(&self, model: &Model, excluded: &[&str]) -> Result<Criteria, Failure> {
        let mut clauses = Map::new();
        let condition = match self.param("where") {
            Some(value) => json_param(value, "where")?,
            None => Value::Object(
                self.params
                    .all()
                    .iter()
                    .filter(|(key, _)| {
                        !NOT_CRITERIA.contains(&key.as_str()) && !excluded.contains(&key.as_str())
                    })
                    .map(|(key, value)| (key.clone(), value.clone()))
                    .collect(),
            ),
        };
        clauses.insert("where".into(), condition);
        let limit = match self.param("limit") {
            Some(value) => value.clone(),
            None => Value::from(DEFAULT_LIMIT),
        };
        clauses.insert("limit".into(), limit);
        if let Some(skip) = self.param("skip") {
            clauses.insert("skip".into(), skip.clone());
        }
        if let Some(sort) = self.param("sort") {
            let sort = match sort {
                Value::String(text) => serde_json::from_str(text).unwrap_or_else(|_| sort.clone()),
                other => other.clone(),
            };
            clauses.insert("sort".into(), sort);
        }
        self.select_or_omit(&mut clauses);
        Criteria::parse(model, &Value::Object(clauses))
            .map_err(|error| criteria_error(error.to_string()))
    }

    /// `select` (which wins) or `omit`, as comma-separated names.
    fn select_or_omit(&self, clauses: &mut Map<String, Value>) {
        if let Some(select) = self.param("select") {
            clauses.insert("select".into(), Value::String(text(select)));
        } else if let Some(omit) = self.param("omit") {
            clauses.insert("omit".into(), Value::String(text(omit)));
        }
    }

    /// The criteria of findOne: the record `id`, and `select` or `omit`
    /// (other params are ignored, as in Sails).
    fn by_id(&self, id: &Value) -> Result<Criteria, Failure> {
        let mut clauses = Map::new();
        let mut condition = Map::new();
        condition.insert(self.model().primary_key().to_owned(), id.clone());
        clauses.insert("where".into(), Value::Object(condition));
        self.select_or_omit(&mut clauses);
        Criteria::parse(self.model(), &Value::Object(clauses))
            .map_err(|error| criteria_error(error.to_string()))
    }

    /// Records of this model matching `criteria`, with `populates` filled in
    /// (kept even when `select`/`omit` leave them out).
    async fn read(
        &self,
        mut criteria: Criteria,
        populates: &[String],
    ) -> Result<Vec<Value>, Failure> {
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

    /// The record `id`, every association populated (`None`: there is none).
    async fn read_one(&self, id: &Value) -> Result<Option<Value>, Failure> {
        let criteria =
            Criteria::by_id(self.model(), id).map_err(|error| criteria_error(error.to_string()))?;
        let populates: Vec<String> = self
            .model()
            .associations()
            .map(|(name, _)| name.to_owned())
            .collect();
        Ok(self.read(criteria, &populates).await?.pop())
    }

    /// `subscribeDeep`: for every association, watch its model (autoWatch)
    /// and subscribe to the records populated in `record`.
    async fn subscribe_deep(&self, record: &Value) -> Result<(), Failure> {
        if !self.realtime.is_socket() {
            return Ok(());
        }
        let models = self.route.store.models();
        for (name, attribute) in self.model().associations() {
            let target = match &attribute.kind {
                Kind::Model(target) | Kind::Collection { model: target, .. } => target,
                Kind::Value(_) => continue,
            };
            let Some(target_model) = models.get(target) else {
                continue;
            };
            if self.route.config.auto_watch {
                self.realtime.watch(target).await?;
            }
            let key = target_model.primary_key();
            let ids: Vec<Value> = match &record[name] {
                Value::Array(children) => children.iter().map(|child| child[key].clone()).collect(),
                Value::Object(child) => child.get(key).cloned().into_iter().collect(),
                _ => Vec::new(),
            };
            self.realtime.subscribe(target, &ids).await?;
        }
        Ok(())
    }

    fn key_of(&self, record: &Value) -> Value {
        record[self.model().primary_key()].clone()
    }

    /// The other side of an association: `(model, attribute)` when it
    /// points back (`owner` ↔ `pets`).
    fn inverse(&self, alias: &str) -> Option<(String, String, bool)> {
        let models = self.route.store.models();
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
        match (value, self.route.store.models().get(target)) {
            (Value::Object(record), Some(model)) => record
                .get(model.primary_key())
                .cloned()
                .unwrap_or(Value::Null),
            _ => value.clone(),
        }
    }

    /// Values for create / update: every param naming an attribute (others
    /// dropped, as Sails drops them), collections given as JSON text parsed.
    fn values(&self) -> Value {
        let model = self.model();
        let mut values = Map::new();
        for (name, value) in self.params.all() {
            let Some(attribute) = model.get(name) else {
                continue;
            };
            let value = match (&attribute.kind, value) {
                (Kind::Collection { .. }, Value::String(text)) => {
                    serde_json::from_str(text).unwrap_or_else(|_| value.clone())
                }
                _ => value.clone(),
            };
            values.insert(name.clone(), value);
        }
        Value::Object(values)
    }

    async fn find(&self) -> Result<Value, Failure> {
        let criteria = self.criteria(self.model(), &[])?;
        let populates = self.populates(self.model())?;
        let found = self.read(criteria, &populates).await?;
        if self.realtime.is_socket() {
            let ids: Vec<Value> = found.iter().map(|record| self.key_of(record)).collect();
            self.realtime.subscribe(self.identity(), &ids).await?;
            if self.route.config.auto_watch {
                self.realtime.watch(self.identity()).await?;
            }
            for record in &found {
                self.subscribe_deep(record).await?;
            }
        }
        Ok(Value::Array(found))
    }

    async fn find_one(&self) -> Result<Value, Failure> {
        let id = self.target_id()?;
        let criteria = self.by_id(&id)?;
        let populates = self.populates(self.model())?;
        let record = self
            .read(criteria, &populates)
            .await?
            .pop()
            .ok_or(Failure::NotFound)?;
        self.realtime.subscribe(self.identity(), &[id]).await?;
        self.subscribe_deep(&record).await?;
        Ok(record)
    }

    async fn create(&self) -> Result<Value, Failure> {
        let values = self.values();
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
                    .route
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
        let created = self.records.create(&values).await?;
        let id = self.key_of(&created);
        let record = self.read_one(&id).await?.ok_or(Failure::NotFound)?;
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

    async fn update(&self) -> Result<Value, Failure> {
        let id = self.target_id()?;
        let mut values = self.values();
        if let Value::Object(values) = &mut values {
            values.remove(self.model().primary_key());
        }
        // The record before, populated (as Sails reads it, before the update).
        let previous = self.read_one(&id).await?.ok_or(Failure::NotFound)?;
        let updated = self
            .records
            .update_one(&id, &values)
            .await?
            .ok_or(Failure::NotFound)?;
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
        self.read_one(&id).await?.ok_or(Failure::NotFound)
    }

    /// For each one-to-many collection an update sets (`pets: [1, 2]`),
    /// children that left hear `updated {via: null}` and children that came
    /// `updated {via: id}`.
    async fn publish_replaced_children(
        &self,
        id: &Value,
        values: &Value,
        previous: &Value,
    ) -> Result<(), Failure> {
        let models = self.route.store.models();
        for (alias, _) in self.model().associations() {
            let (Some(Value::Array(_)), Some((target, via, true))) =
                (values.get(alias), self.inverse(alias))
            else {
                continue;
            };
            let children = self.route.store.records(&target)?;
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
    ) -> Result<(), Failure> {
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
        self.route
            .store
            .models()
            .get(identity)
            .map_or("id", Model::primary_key)
    }

    async fn destroy(&self) -> Result<Value, Failure> {
        let id = self.target_id()?;
        let record = self.read_one(&id).await?.ok_or(Failure::NotFound)?;
        self.records
            .destroy_one(&id)
            .await?
            .ok_or(Failure::NotFound)?;
        self.realtime
            .destroyed(self.identity(), &id, &record)
            .await?;
        self.tell_associated(&record, &id, Joined::Left).await?;
        self.realtime
            .unsubscribe(self.identity(), std::slice::from_ref(&id))
            .await?;
        Ok(record)
    }

    /// The association of the route and its model.
    fn alias(&self) -> Result<(&str, String), Failure> {
        let alias = self.route.alias.as_deref().ok_or(Failure::NotFound)?;
        match &self.model().get(alias).ok_or(Failure::NotFound)?.kind {
            Kind::Model(target) | Kind::Collection { model: target, .. } => {
                Ok((alias, target.clone()))
            }
            Kind::Value(_) => Err(Failure::NotFound),
        }
    }

    async fn populate(&self) -> Result<Value, Failure> {
        let (alias, target) = self.alias()?;
        let id = self.target_id()?;
        let child_model = self
            .route
            .store
            .models()
            .get(&target)
            .ok_or(Failure::NotFound)?
            .clone();
        let criteria = Criteria::by_id(self.model(), &id)
            .map_err(|error| criteria_error(error.to_string()))?;
        let mut parent = self
            .read(criteria, &[alias.to_owned()])
            .await?
            .pop()
            .ok_or(Failure::NotFound)?;
        let value = match parent[alias].take() {
            Value::Null => return Err(Failure::NotFound),
            Value::Array(all) => {
                // The children, filtered, sorted and paged by the request's criteria.
                let mut criteria = self.criteria(&child_model, &["id"])?;
                let keys: Vec<Value> = all
                    .iter()
                    .map(|child| child[child_model.primary_key()].clone())
                    .collect();
                criteria.condition = Condition::And(vec![
                    criteria.condition,
                    Condition::In {
                        attribute: child_model.primary_key().to_owned(),
                        values: keys,
                        negated: false,
                    },
                ]);
                Value::Array(
                    self.route
                        .store
                        .records(&target)?
                        .find_parsed(&criteria)
                        .await?,
                )
            }
            one => one,
        };
        parent[alias] = value.clone();
        self.realtime.subscribe(self.identity(), &[id]).await?;
        self.subscribe_deep(&parent).await?;
        Ok(value)
    }

    /// The parent and child of add / remove, both existing.
    async fn parent_and_child(&self) -> Result<(Value, Value, String, String), Failure> {
        let (alias, target) = self.alias()?;
        let id = self.target_id()?;
        let children = self.route.store.records(&target)?;
        let child_id = children.key(self.param("childid").ok_or(Failure::NotFound)?)?;
        self.records.find_one(&id).await?.ok_or(Failure::NotFound)?;
        let child = children
            .find_one(&child_id)
            .await?
            .ok_or(Failure::NotFound)?;
        Ok((id, child, alias.to_owned(), target))
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
    ) -> Result<(), Failure> {
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
    ) -> Result<(), Failure> {
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

    async fn add(&self) -> Result<Value, Failure> {
        let (id, child, alias, target) = self.parent_and_child().await?;
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
        self.read_one(&id).await?.ok_or(Failure::NotFound)
    }

    async fn remove(&self) -> Result<Value, Failure> {
        let (id, child, alias, target) = self.parent_and_child().await?;
        let key = self.key_name(&target);
        let child_id = child[key].clone();
        self.records
            .remove_from_collection(&id, &alias, std::slice::from_ref(&child_id))
            .await?;
        let answer = self.read_one(&id).await?.ok_or(Failure::NotFound)?;
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

    async fn replace(&self) -> Result<Value, Failure> {
        let (alias, target) = self.alias()?;
        let alias = alias.to_owned();
        let id = self.target_id()?;
        let invalid_ids = |details: String| Failure::Usage {
            code: "E_INVALID_ASSOCIATED_IDS",
            details,
        };
        let listed = match (self.params.body(), self.params.query().get(&alias)) {
            (Value::Array(ids), _) => ids.clone(),
            (_, Some(Value::String(text))) => match serde_json::from_str(text) {
                Ok(Value::Array(ids)) => ids,
                _ => {
                    return Err(invalid_ids(format!(
                        "The associated ids provided in this request (for the `{alias}` collection) are not valid: expecting a JSON array, e.g. `[1, 2]`."
                    )));
                }
            },
            _ => {
                return Err(invalid_ids(
                    "Expecting an array of primary key values in the request body.".into(),
                ));
            }
        };
        let children = self.route.store.records(&target)?;
        let listed = listed
            .iter()
            .map(|child| children.key(child))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| invalid_ids(error.to_string()))?;
        let child_key = children.model().primary_key().to_owned();
        let mut parent = vec![self.records.find_one(&id).await?.ok_or(Failure::NotFound)?];
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
        self.read_one(&id).await?.ok_or(Failure::NotFound)
    }
}
