//! Model definitions: identity, attributes, validations and associations,
//! declared with a builder or read from TOML.
//!
//! ```
//! use sails_models::{Attribute, Model, Models};
//!
//! let models = Models::new()
//!     .model(Model::new("user").attribute("name", Attribute::string()).collection("pets", "pet", Some("owner")))
//!     .model(
//!         Model::new("pet")
//!             .attribute("name", Attribute::string().required())
//!             .attribute("species", Attribute::string().is_in(["cat", "dog"]))
//!             .belongs_to("owner", "user"),
//!     )
//!     .validate()
//!     .unwrap();
//! assert_eq!(models.get("pet").unwrap().primary_key(), "id");
//! ```
//!
//! The same models in TOML ([`Models::from_toml`]):
//!
//! ```toml
//! [user.attributes]
//! name = { type = "string" }
//! pets = { collection = "pet", via = "owner" }
//!
//! [pet.attributes]
//! name = { type = "string", required = true }
//! owner = { model = "user" }
//! ```

use std::collections::BTreeMap;

use serde::Deserialize;
use serde_json::Value;

pub use crate::types::AttributeType;

/// The attribute holding a record's creation time (ms since the epoch).
pub const CREATED_AT: &str = "createdAt";
/// The attribute holding a record's last update time (ms since the epoch).
pub const UPDATED_AT: &str = "updatedAt";

/// Why a set of models cannot be used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum DefinitionError {
    /// A model identity or attribute name is not `[A-Za-z_][A-Za-z0-9_]*`.
    #[error("`{0}` is not a valid name (letters, digits and `_`, not starting with a digit)")]
    InvalidName(String),
    /// Two models share one identity.
    #[error("model `{0}` is defined twice")]
    DuplicateModel(String),
    /// An association names a model that does not exist.
    #[error("`{model}.{attribute}` refers to the unknown model `{target}`")]
    UnknownTarget {
        /// The model holding the association.
        model: String,
        /// The association attribute.
        attribute: String,
        /// The model it names.
        target: String,
    },
    /// A `via` names no association of the other model pointing back.
    #[error(
        "`{model}.{attribute}` is via `{target}.{via}`, which is not an association back to `{model}`"
    )]
    BadVia {
        /// The model holding the collection.
        model: String,
        /// The collection attribute.
        attribute: String,
        /// The model of the collection.
        target: String,
        /// The `via` attribute named.
        via: String,
    },
    /// The primary key attribute is missing or is not a number or a string.
    #[error("model `{0}`: the primary key must be a `number` or `string` attribute")]
    BadPrimaryKey(String),
    /// An attribute's settings contradict each other.
    #[error("`{model}.{attribute}`: {reason}")]
    BadAttribute {
        /// The model.
        model: String,
        /// The attribute.
        attribute: String,
        /// What is wrong.
        reason: String,
    },
    /// The TOML text does not describe models.
    #[error("models file: {0}")]
    Toml(String),
}

/// What an attribute is: a value, a reference to one record, or a collection.
#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    /// A value of this type, stored in its own column.
    Value(AttributeType),
    /// `model`: the primary key of one record of the named model (a column).
    Model(String),
    /// `collection … via`: records of the named model; through the other
    /// side's `model` attribute (one-to-many) or a join table (many-to-many,
    /// when `via` names a collection or is absent).
    Collection {
        /// The model of the records.
        model: String,
        /// The attribute of that model pointing back, if any.
        via: Option<String>,
    },
}

/// One attribute: its kind, default and validations.
#[derive(Debug, Clone, PartialEq)]
pub struct Attribute {
    pub(crate) kind: Kind,
    pub(crate) required: bool,
    pub(crate) default: Option<Value>,
    pub(crate) unique: bool,
    pub(crate) allow_null: bool,
    pub(crate) auto_increment: bool,
    pub(crate) is_in: Option<Vec<Value>>,
    pub(crate) min: Option<f64>,
    pub(crate) max: Option<f64>,
    pub(crate) min_length: Option<usize>,
    pub(crate) max_length: Option<usize>,
}

impl Attribute {
    fn of(kind: Kind) -> Self {
        Self {
            kind,
            required: false,
            default: None,
            unique: false,
            allow_null: false,
            auto_increment: false,
            is_in: None,
            min: None,
            max: None,
            min_length: None,
            max_length: None,
        }
    }

    /// A plain attribute of `kind`.
    pub fn typed(kind: AttributeType) -> Self {
        Self::of(Kind::Value(kind))
    }

    /// A `string` attribute.
    pub fn string() -> Self {
        Self::typed(AttributeType::String)
    }

    /// A `number` attribute.
    pub fn number() -> Self {
        Self::typed(AttributeType::Number)
    }

    /// A `boolean` attribute.
    pub fn boolean() -> Self {
        Self::typed(AttributeType::Boolean)
    }

    /// A `json` attribute.
    pub fn json() -> Self {
        Self::typed(AttributeType::Json)
    }

    /// A `ref` attribute.
    pub fn reference() -> Self {
        Self::typed(AttributeType::Ref)
    }

    /// `model: target`: a reference to one record of `target`.
    pub fn model(target: &str) -> Self {
        Self::of(Kind::Model(target.to_owned()))
    }

    /// `collection: target, via`: many records of `target`.
    pub fn collection(target: &str, via: Option<&str>) -> Self {
        Self::of(Kind::Collection {
            model: target.to_owned(),
            via: via.map(str::to_owned),
        })
    }

    /// `required: true`: a new record must have a value (not `null`, not `""`).
    pub fn required(mut self) -> Self {
        self.required = true;
        self
    }

    /// `defaultsTo`: the value of a new record that has none.
    pub fn defaults_to(mut self, value: Value) -> Self {
        self.default = Some(value);
        self
    }

    /// `unique: true`: no two records share a value.
    pub fn unique(mut self) -> Self {
        self.unique = true;
        self
    }

    /// `allowNull: true`: `null` is a valid value (a new record without one gets `null`).
    pub fn allow_null(mut self) -> Self {
        self.allow_null = true;
        self
    }

    /// `autoIncrement: true` (number primary keys).
    pub fn auto_increment(mut self) -> Self {
        self.auto_increment = true;
        self
    }

    /// `isIn`: the value must be one of these.
    pub fn is_in<V: Into<Value>>(mut self, values: impl IntoIterator<Item = V>) -> Self {
        self.is_in = Some(values.into_iter().map(Into::into).collect());
        self
    }

    /// `min`: a number at least this.
    pub fn min(mut self, min: f64) -> Self {
        self.min = Some(min);
        self
    }

    /// `max`: a number at most this.
    pub fn max(mut self, max: f64) -> Self {
        self.max = Some(max);
        self
    }

    /// `minLength`: a string of at least this many characters.
    pub fn min_length(mut self, length: usize) -> Self {
        self.min_length = Some(length);
        self
    }

    /// `maxLength`: a string of at most this many characters.
    pub fn max_length(mut self, length: usize) -> Self {
        self.max_length = Some(length);
        self
    }

    /// What the attribute is.
    pub fn kind(&self) -> &Kind {
        &self.kind
    }

    /// Whether the attribute is stored in a column of its model's table.
    pub fn has_column(&self) -> bool {
        !matches!(self.kind, Kind::Collection { .. })
    }
}

/// One model: its identity, attributes, primary key and settings.
#[derive(Debug, Clone, PartialEq)]
pub struct Model {
    pub(crate) identity: String,
    pub(crate) table: String,
    pub(crate) primary_key: String,
    pub(crate) attributes: BTreeMap<String, Attribute>,
    pub(crate) order: Vec<String>,
    pub(crate) timestamps: bool,
    pub(crate) schema: bool,
}

impl Model {
    /// A model named `identity` (lower-cased, as Sails does), with an
    /// auto-increment `id`, `createdAt` and `updatedAt`, and `schema: true`.
    pub fn new(identity: &str) -> Self {
        let identity = identity.to_lowercase();
        let mut model = Self {
            table: identity.clone(),
            identity,
            primary_key: "id".to_owned(),
            attributes: BTreeMap::new(),
            order: Vec::new(),
            timestamps: true,
            schema: true,
        };
        model = model.attribute("id", Attribute::number().auto_increment());
        model
    }

    /// Adds (or replaces) an attribute.
    pub fn attribute(mut self, name: &str, attribute: Attribute) -> Self {
        if self.attributes.insert(name.to_owned(), attribute).is_none() {
            self.order.push(name.to_owned());
        }
        self
    }

    /// `name: { model: target }`.
    pub fn belongs_to(self, name: &str, target: &str) -> Self {
        self.attribute(name, Attribute::model(target))
    }

    /// `name: { collection: target, via }`.
    pub fn collection(self, name: &str, target: &str, via: Option<&str>) -> Self {
        self.attribute(name, Attribute::collection(target, via))
    }

    /// A string primary key named `name`, given by the app at creation
    /// (in place of the auto-increment `id`).
    pub fn string_primary_key(mut self, name: &str) -> Self {
        if self.primary_key == "id" && name != "id" {
            self.attributes.remove("id");
            self.order.retain(|attribute| attribute != "id");
        }
        self.primary_key = name.to_owned();
        self.attribute(name, Attribute::string().required())
    }

    /// The table name (the identity unless set).
    pub fn table_name(mut self, table: &str) -> Self {
        self.table = table.to_owned();
        self
    }

    /// Without `createdAt` and `updatedAt`.
    pub fn without_timestamps(mut self) -> Self {
        self.timestamps = false;
        self
    }

    /// `schema: false`: attributes not declared are refused rather than stored
    /// (this store keeps only declared attributes either way; with `schema:
    /// true`, the default, unknown attributes are an error).
    pub fn schema(mut self, schema: bool) -> Self {
        self.schema = schema;
        self
    }

    /// The identity (lower case).
    pub fn identity(&self) -> &str {
        &self.identity
    }

    /// The table holding the records.
    pub fn table(&self) -> &str {
        &self.table
    }

    /// The primary key attribute's name.
    pub fn primary_key(&self) -> &str {
        &self.primary_key
    }

    /// An attribute by name.
    pub fn get(&self, name: &str) -> Option<&Attribute> {
        self.attributes.get(name)
    }

    /// The attributes in order: timestamps, primary key, then as declared.
    pub fn attributes(&self) -> impl Iterator<Item = (&str, &Attribute)> {
        self.order
            .iter()
            .filter_map(|name| Some((name.as_str(), self.attributes.get(name)?)))
    }

    /// The names of the attributes stored in columns, in declaration order.
    pub fn columns(&self) -> impl Iterator<Item = (&str, &Attribute)> {
        self.attributes()
            .filter(|(_, attribute)| attribute.has_column())
    }

    /// The associations (`model` and `collection` attributes).
    pub fn associations(&self) -> impl Iterator<Item = (&str, &Attribute)> {
        self.attributes()
            .filter(|(_, attribute)| !matches!(attribute.kind, Kind::Value(_)))
    }

    /// Whether the primary key is given by the database.
    pub fn auto_key(&self) -> bool {
        self.attributes
            .get(&self.primary_key)
            .is_some_and(|attribute| attribute.auto_increment)
    }

    /// The type of the primary key.
    pub fn key_type(&self) -> AttributeType {
        match self.attributes.get(&self.primary_key).map(|a| &a.kind) {
            Some(Kind::Value(AttributeType::String)) => AttributeType::String,
            _ => AttributeType::Number,
        }
    }

    /// Adds the timestamps, and orders the attributes as Sails does:
    /// `createdAt`, `updatedAt`, the primary key, then the model's own.
    fn with_timestamps(mut self) -> Self {
        let mut first = Vec::new();
        if self.timestamps {
            for name in [CREATED_AT, UPDATED_AT] {
                if !self.attributes.contains_key(name) {
                    self = self.attribute(name, Attribute::number());
                }
                first.push(name.to_owned());
            }
        }
        first.push(self.primary_key.clone());
        self.order.retain(|name| !first.contains(name));
        first.append(&mut self.order);
        self.order = first;
        self
    }
}

/// Whether `name` can be a model identity, attribute or table name:
/// `[A-Za-z_][A-Za-z0-9_]*`, at most 64 characters.
pub fn is_valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    matches!(chars.next(), Some(c) if c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && name.len() <= 64
}

/// A set of models whose associations refer to each other. Build it with
/// [`Models::new`] and [`Models::model`], then [`Models::validate`].
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Models {
    models: BTreeMap<String, Model>,
    duplicates: Vec<String>,
}

impl Models {
    /// No models yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds a model.
    pub fn model(mut self, model: Model) -> Self {
        let model = model.with_timestamps();
        if self.models.contains_key(&model.identity) {
            self.duplicates.push(model.identity.clone());
        }
        self.models.insert(model.identity.clone(), model);
        self
    }

    /// A model by identity.
    pub fn get(&self, identity: &str) -> Option<&Model> {
        self.models.get(identity)
    }

    /// Every model, by identity.
    pub fn iter(&self) -> impl Iterator<Item = &Model> {
        self.models.values()
    }

    /// Checks names, primary keys, settings and that every association names
    /// an existing model (and, with `via`, an attribute pointing back).
    pub fn validate(self) -> Result<Self, DefinitionError> {
        if let Some(duplicate) = self.duplicates.first() {
            return Err(DefinitionError::DuplicateModel(duplicate.clone()));
        }
        for model in self.models.values() {
            self.check_model(model)?;
        }
        Ok(self)
    }

    fn check_model(&self, model: &Model) -> Result<(), DefinitionError> {
        for name in [&model.identity, &model.table] {
            if !is_valid_name(name) {
                return Err(DefinitionError::InvalidName(name.clone()));
            }
        }
        let key_ok = model.attributes.get(&model.primary_key).is_some_and(|a| {
            matches!(
                a.kind,
                Kind::Value(AttributeType::Number | AttributeType::String)
            )
        });
        if !key_ok {
            return Err(DefinitionError::BadPrimaryKey(model.identity.clone()));
        }
        let bad = |attribute: &str, reason: &str| DefinitionError::BadAttribute {
            model: model.identity.clone(),
            attribute: attribute.to_owned(),
            reason: reason.to_owned(),
        };
        for (name, attribute) in model.attributes() {
            if !is_valid_name(name) {
                return Err(DefinitionError::InvalidName(name.to_owned()));
            }
            if attribute.auto_increment
                && (name != model.primary_key
                    || attribute.kind != Kind::Value(AttributeType::Number))
            {
                return Err(bad(name, "only a number primary key can auto-increment"));
            }
            if attribute.required && attribute.default.is_some() {
                return Err(bad(name, "`required` and `defaultsTo` exclude each other"));
            }
            if let (Some(min), Some(max)) = (attribute.min, attribute.max)
                && min > max
            {
                return Err(bad(name, "`min` is above `max`"));
            }
            if let Some(default) = &attribute.default
                && let Kind::Value(kind) = attribute.kind
                && crate::types::coerce(kind, default, attribute.allow_null).is_none()
            {
                return Err(bad(name, "`defaultsTo` is not of the attribute's type"));
            }
            match &attribute.kind {
                Kind::Value(_) => {}
                Kind::Model(target) => {
                    self.target(model, name, target)?;
                }
                Kind::Collection { model: target, via } => {
                    let other = self.target(model, name, target)?;
                    if let Some(via) = via {
                        let points_back = match other.attributes.get(via).map(|a| &a.kind) {
                            Some(Kind::Model(back)) => *back == model.identity,
                            Some(Kind::Collection { model: back, .. }) => *back == model.identity,
                            _ => false,
                        };
                        if !points_back {
                            return Err(DefinitionError::BadVia {
                                model: model.identity.clone(),
                                attribute: name.to_owned(),
                                target: target.clone(),
                                via: via.clone(),
                            });
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn target(
        &self,
        model: &Model,
        attribute: &str,
        target: &str,
    ) -> Result<&Model, DefinitionError> {
        self.models
            .get(target)
            .ok_or_else(|| DefinitionError::UnknownTarget {
                model: model.identity.clone(),
                attribute: attribute.to_owned(),
                target: target.to_owned(),
            })
    }

    /// Reads models from TOML: one table per model identity, each with an
    /// `attributes` table (and optional `primaryKey`, `tableName`,
    /// `timestamps`, `schema`); an attribute is `{ type = "string", required
    /// = true, … }`, `{ model = "user" }` or `{ collection = "pet", via =
    /// "owner" }`. The result is validated.
    pub fn from_toml(text: &str) -> Result<Self, DefinitionError> {
        let file: BTreeMap<String, ModelFile> =
            toml::from_str(text).map_err(|error| DefinitionError::Toml(error.to_string()))?;
        let mut models = Self::new();
        for (identity, file) in file {
            models = models.model(file.into_model(&identity)?);
        }
        models.validate()
    }
}

/// A model as written in the models file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ModelFile {
    #[serde(default)]
    attributes: toml::Table,
    primary_key: Option<String>,
    table_name: Option<String>,
    #[serde(default = "yes")]
    timestamps: bool,
    #[serde(default = "yes")]
    schema: bool,
}

fn yes() -> bool {
    true
}

/// An attribute as written in the models file.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct AttributeFile {
    #[serde(rename = "type")]
    kind: Option<AttributeType>,
    model: Option<String>,
    collection: Option<String>,
    via: Option<String>,
    #[serde(default)]
    required: bool,
    defaults_to: Option<toml::Value>,
    #[serde(default)]
    unique: bool,
    #[serde(default)]
    allow_null: bool,
    #[serde(default)]
    auto_increment: bool,
    is_in: Option<Vec<toml::Value>>,
    min: Option<f64>,
    max: Option<f64>,
    min_length: Option<usize>,
    max_length: Option<usize>,
}

fn toml_to_json(value: toml::Value) -> Result<Value, DefinitionError> {
    serde_json::to_value(value).map_err(|error| DefinitionError::Toml(error.to_string()))
}

impl ModelFile {
    fn into_model(self, identity: &str) -> Result<Model, DefinitionError> {
        let mut model = Model::new(identity).schema(self.schema);
        if !self.timestamps {
            model = model.without_timestamps();
        }
        if let Some(table) = &self.table_name {
            model = model.table_name(table);
        }
        let mut attributes = Vec::new();
        for (name, value) in self.attributes {
            let file: AttributeFile = value.try_into().map_err(|error: toml::de::Error| {
                DefinitionError::Toml(format!("{identity}.{name}: {}", error.message()))
            })?;
            attributes.push((name, file));
        }
        if let Some(key) = &self.primary_key
            && key != "id"
        {
            let key_type = attributes
                .iter()
                .find(|(name, _)| name == key)
                .and_then(|(_, file)| file.kind);
            if key_type != Some(AttributeType::String) {
                return Err(DefinitionError::BadPrimaryKey(model.identity.clone()));
            }
            model = model.string_primary_key(key);
        }
        for (name, file) in attributes {
            let bad = |reason: &str| DefinitionError::BadAttribute {
                model: model.identity.clone(),
                attribute: name.clone(),
                reason: reason.to_owned(),
            };
            let mut attribute = match (file.kind, file.model, file.collection) {
                (Some(kind), None, None) => Attribute::typed(kind),
                (None, Some(target), None) => Attribute::model(&target.to_lowercase()),
                (None, None, Some(target)) => {
                    Attribute::collection(&target.to_lowercase(), file.via.as_deref())
                }
                _ => return Err(bad("give exactly one of `type`, `model`, `collection`")),
            };
            if file.via.is_some() && !matches!(attribute.kind, Kind::Collection { .. }) {
                return Err(bad("`via` goes with `collection`"));
            }
            attribute.required = file.required;
            attribute.unique = file.unique;
            attribute.allow_null = file.allow_null;
            attribute.auto_increment = file.auto_increment;
            attribute.min = file.min;
            attribute.max = file.max;
            attribute.min_length = file.min_length;
            attribute.max_length = file.max_length;
            attribute.default = file.defaults_to.map(toml_to_json).transpose()?;
            attribute.is_in = file
                .is_in
                .map(|values| values.into_iter().map(toml_to_json).collect())
                .transpose()?;
            model = model.attribute(&name, attribute);
        }
        Ok(model)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const INTEROP: &str = r#"
        [user.attributes]
        name = { type = "string" }
        pets = { collection = "pet", via = "owner" }

        [pet.attributes]
        name = { type = "string", required = true }
        species = { type = "string", isIn = ["cat", "dog"] }
        owner = { model = "user" }
    "#;

    #[test]
    fn toml_and_builder_give_the_same_models() {
        let from_toml = Models::from_toml(INTEROP).unwrap();
        let built = Models::new()
            .model(
                Model::new("user")
                    .attribute("name", Attribute::string())
                    .collection("pets", "pet", Some("owner")),
            )
            .model(
                Model::new("pet")
                    .attribute("name", Attribute::string().required())
                    .attribute("species", Attribute::string().is_in(["cat", "dog"]))
                    .belongs_to("owner", "user"),
            )
            .validate()
            .unwrap();
        assert_eq!(
            from_toml.get("pet").unwrap().attributes,
            built.get("pet").unwrap().attributes
        );
        assert_eq!(
            from_toml.get("user").unwrap().attributes,
            built.get("user").unwrap().attributes
        );
    }

    #[test]
    fn bad_definitions_are_refused_with_a_reason() {
        let unknown = Models::new().model(Model::new("pet").belongs_to("owner", "user"));
        assert!(matches!(
            unknown.validate(),
            Err(DefinitionError::UnknownTarget { .. })
        ));
        let bad_name =
            Models::new().model(Model::new("pet").attribute("na me", Attribute::string()));
        assert_eq!(
            bad_name.validate(),
            Err(DefinitionError::InvalidName("na me".into()))
        );
        let injection = Models::new().model(Model::new("pet\"; DROP TABLE x; --"));
        assert!(matches!(
            injection.validate(),
            Err(DefinitionError::InvalidName(_))
        ));
        let bad_via = Models::from_toml(
            "[user.attributes]\npets = { collection = \"pet\", via = \"nope\" }\n[pet.attributes]\n",
        );
        assert!(matches!(bad_via, Err(DefinitionError::BadVia { .. })));
        let both =
            Models::from_toml("[pet.attributes]\nname = { type = \"string\", model = \"pet\" }");
        assert!(matches!(both, Err(DefinitionError::BadAttribute { .. })));
        let unknown_key =
            Models::from_toml("[pet.attributes]\nname = { type = \"string\", colour = 1 }");
        assert!(matches!(unknown_key, Err(DefinitionError::Toml(_))));
        let bad_default = Models::new().model(
            Model::new("pet").attribute("age", Attribute::number().defaults_to("old".into())),
        );
        assert!(matches!(
            bad_default.validate(),
            Err(DefinitionError::BadAttribute { .. })
        ));
    }

    #[test]
    fn string_primary_key_replaces_id() {
        let models = Models::from_toml(
            "[tag]\nprimaryKey = \"slug\"\n[tag.attributes]\nslug = { type = \"string\" }\n",
        )
        .unwrap();
        let tag = models.get("tag").unwrap();
        assert_eq!(tag.primary_key(), "slug");
        assert!(tag.get("id").is_none());
        assert!(!tag.auto_key());
        assert_eq!(tag.key_type(), AttributeType::String);
    }
}
