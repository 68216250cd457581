//! The blueprint actions, as Sails 1.5.18 runs them: what each reads,
//! changes, answers, subscribes and publishes.

use axum::Json;
use axum::http::{Method, StatusCode, Uri};
use axum::response::{IntoResponse, Response};
use sails_server::{Params, Sails, SocketRequest, SocketsError};
use serde_json::{Map, Value, json};

use super::publish::Realtime;
use super::resource::{DEFAULT_LIMIT, Resource};
use super::{Action, Route};
use crate::criteria::{Condition, Criteria};
use crate::error::{ModelError, Problem};
use crate::model::{Kind, Model};

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
    resource: Resource,
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
            resource: Resource {
                store: self.store.clone(),
                records,
                realtime: Realtime::new(sails, socket, self.config.mirror),
            },
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
        Ok(self.resource.records.key(id)?)
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
        condition.insert(self.resource.model().primary_key().to_owned(), id.clone());
        clauses.insert("where".into(), Value::Object(condition));
        self.select_or_omit(&mut clauses);
        Criteria::parse(self.resource.model(), &Value::Object(clauses))
            .map_err(|error| criteria_error(error.to_string()))
    }

    /// `subscribeDeep` of each of `records`: for every association, watch
    /// its model (autoWatch) and subscribe to the records populated in them
    /// (each room joined once, however many records name it).
    async fn subscribe_deep(&self, records: &[Value]) -> Result<(), Failure> {
        if !self.resource.realtime.is_socket() || records.is_empty() {
            return Ok(());
        }
        let models = self.resource.store.models();
        for (name, attribute) in self.resource.model().associations() {
            let target = match &attribute.kind {
                Kind::Model(target) | Kind::Collection { model: target, .. } => target,
                Kind::Value(_) => continue,
            };
            let Some(target_model) = models.get(target) else {
                continue;
            };
            if self.route.config.auto_watch {
                self.resource.realtime.watch(target).await?;
            }
            let key = target_model.primary_key();
            let mut ids: Vec<Value> = Vec::new();
            for record in records {
                let found: Vec<&Value> = match &record[name] {
                    Value::Array(children) => children.iter().map(|child| &child[key]).collect(),
                    Value::Object(child) => child.get(key).into_iter().collect(),
                    _ => Vec::new(),
                };
                for id in found {
                    if !ids.contains(id) {
                        ids.push(id.clone());
                    }
                }
            }
            self.resource.realtime.subscribe(target, &ids).await?;
        }
        Ok(())
    }

    /// Values for create / update: every param naming an attribute (others
    /// dropped, as Sails drops them), collections given as JSON text parsed.
    fn values(&self) -> Value {
        let model = self.resource.model();
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
        let criteria = self.criteria(self.resource.model(), &[])?;
        let populates = self.populates(self.resource.model())?;
        let found = self.resource.read(criteria, &populates).await?;
        if self.resource.realtime.is_socket() {
            let ids: Vec<Value> = found
                .iter()
                .map(|record| self.resource.key_of(record))
                .collect();
            self.resource
                .realtime
                .subscribe(self.resource.identity(), &ids)
                .await?;
            if self.route.config.auto_watch {
                self.resource
                    .realtime
                    .watch(self.resource.identity())
                    .await?;
            }
            self.subscribe_deep(&found).await?;
        }
        Ok(Value::Array(found))
    }

    async fn find_one(&self) -> Result<Value, Failure> {
        let id = self.target_id()?;
        let criteria = self.by_id(&id)?;
        let populates = self.populates(self.resource.model())?;
        let record = self
            .resource
            .read(criteria, &populates)
            .await?
            .pop()
            .ok_or(Failure::NotFound)?;
        self.resource
            .realtime
            .subscribe(self.resource.identity(), &[id])
            .await?;
        self.subscribe_deep(std::slice::from_ref(&record)).await?;
        Ok(record)
    }

    async fn create(&self) -> Result<Value, Failure> {
        Ok(self.resource.create(&self.values()).await?)
    }

    async fn update(&self) -> Result<Value, Failure> {
        let id = self.target_id()?;
        Ok(self.resource.update(&id, &self.values()).await?)
    }

    async fn destroy(&self) -> Result<Value, Failure> {
        let id = self.target_id()?;
        Ok(self.resource.destroy(&id).await?)
    }

    /// The association of the route and its model.
    fn alias(&self) -> Result<(&str, String), Failure> {
        let alias = self.route.alias.as_deref().ok_or(Failure::NotFound)?;
        match &self
            .resource
            .model()
            .get(alias)
            .ok_or(Failure::NotFound)?
            .kind
        {
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
        let criteria = Criteria::by_id(self.resource.model(), &id)
            .map_err(|error| criteria_error(error.to_string()))?;
        let mut parent = self
            .resource
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
        self.resource
            .realtime
            .subscribe(self.resource.identity(), &[id])
            .await?;
        self.subscribe_deep(std::slice::from_ref(&parent)).await?;
        Ok(value)
    }

    /// The parent key, the collection and the child key of add / remove.
    fn parent_alias_child(&self) -> Result<(Value, &str, &Value), Failure> {
        let (alias, _) = self.alias()?;
        let id = self.target_id()?;
        let child_id = self.param("childid").ok_or(Failure::NotFound)?;
        Ok((id, alias, child_id))
    }

    async fn add(&self) -> Result<Value, Failure> {
        let (id, alias, child_id) = self.parent_alias_child()?;
        Ok(self.resource.add(&id, alias, child_id).await?)
    }

    async fn remove(&self) -> Result<Value, Failure> {
        let (id, alias, child_id) = self.parent_alias_child()?;
        Ok(self.resource.remove(&id, alias, child_id).await?)
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
        let children = self.resource.store.records(&target)?;
        let listed = listed
            .iter()
            .map(|child| children.key(child))
            .collect::<Result<Vec<_>, _>>()
            .map_err(|error| invalid_ids(error.to_string()))?;
        Ok(self.resource.replace(&id, &alias, &listed).await?)
    }
}
