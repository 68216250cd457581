//! The store: models' records in SQL tables (SQLite, a file or in memory),
//! the schema kept as Sails' `migrate` setting says, and the model API.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Map, Value};
use sqlx::any::{AnyArguments, AnyPoolOptions, AnyRow, AnyTypeInfoKind, install_default_drivers};
use sqlx::{AnyConnection, AnyPool, AssertSqlSafe, Executor, Row, ValueRef};
use tokio::sync::Mutex;

use crate::criteria::{Condition, Criteria, CriteriaError};
use crate::error::ModelError;
use crate::model::{AttributeType, Kind, Model, Models};
use crate::sql::{Dialect, Sql, SqlValue, quote};
use crate::types::number_value;
use crate::validate::{Checked, Purpose, check};

/// How long a query waits for a connection, and SQLite for a lock another
/// connection holds, before it fails: a database that is down, gone or
/// locked makes a request fail (500) within this time instead of hanging.
pub const DATABASE_WAIT: Duration = Duration::from_secs(3);

/// What to do with the tables at start (Sails' `migrate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Migrate {
    /// Touch nothing: the tables are expected to be there.
    Safe,
    /// Create missing tables, columns and unique indexes; keep the data.
    #[default]
    Alter,
    /// Drop every table of the models and create them anew (the data is lost).
    Drop,
}

/// A record before and after an update.
#[derive(Debug, Clone, PartialEq)]
pub struct Updated {
    /// The record as it was.
    pub previous: Value,
    /// The record as it is now.
    pub record: Value,
}

/// The models' records in a database. Cheap to clone.
#[derive(Clone)]
pub struct Store {
    inner: Arc<Inner>,
}

struct Inner {
    pool: AnyPool,
    dialect: Dialect,
    models: Models,
    /// Writes run one at a time, each in a transaction, so a record read for
    /// `previous` is the one the write changes.
    writes: Mutex<()>,
    /// A SQLite file as it was opened, checked before each write.
    file: Option<DatabaseFile>,
}

/// A SQLite database file: its path and the identity (device, inode) of the
/// file opened there.
struct DatabaseFile {
    path: PathBuf,
    identity: (u64, u64),
}

impl DatabaseFile {
    /// The file of a `sqlite:` URL, as it is now (`None` in memory).
    fn of_url(url: &str) -> Option<Self> {
        let path = url
            .strip_prefix("sqlite://")
            .or_else(|| url.strip_prefix("sqlite:"))?;
        let path = PathBuf::from(path.split('?').next().unwrap_or(path));
        let identity = Self::identity_of(&path)?;
        Some(Self { path, identity })
    }

    fn identity_of(path: &Path) -> Option<(u64, u64)> {
        std::fs::metadata(path)
            .ok()
            .map(|metadata| (metadata.dev(), metadata.ino()))
    }

    /// Whether the file opened is still the one at its path.
    fn check(&self) -> Result<(), ModelError> {
        if Self::identity_of(&self.path) == Some(self.identity) {
            Ok(())
        } else {
            Err(ModelError::DatabaseFileGone(self.path.clone()))
        }
    }
}

impl std::fmt::Debug for Store {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Store")
            .field("dialect", &self.inner.dialect)
            .finish_non_exhaustive()
    }
}

/// Milliseconds since the epoch.
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |elapsed| elapsed.as_millis() as i64)
}

impl Store {
    /// Opens the database at `url` and applies `migrate` to the models'
    /// tables. SQLite: `sqlite::memory:`, `sqlite://data.db` (created when
    /// missing); Postgres: `postgres://user:password@host/database`.
    pub async fn connect(url: &str, models: Models, migrate: Migrate) -> Result<Self, ModelError> {
        install_default_drivers();
        let dialect = Dialect::of_url(url).ok_or_else(|| {
            ModelError::Database(sqlx::Error::Configuration(
                format!("`{url}` is not a sqlite: or postgres: URL").into(),
            ))
        })?;
        let in_memory = url.contains(":memory:") || url.contains("mode=memory");
        let url = if dialect == Dialect::Sqlite && !in_memory && !url.contains("mode=") {
            // Create the file when it is missing.
            let joiner = if url.contains('?') { '&' } else { '?' };
            format!("{url}{joiner}mode=rwc")
        } else {
            url.to_owned()
        };
        // An in-memory database lives as long as its one connection.
        let options = if in_memory {
            AnyPoolOptions::new()
                .max_connections(1)
                .min_connections(1)
                .idle_timeout(None)
                .max_lifetime(None)
        } else {
            AnyPoolOptions::new().max_connections(4)
        }
        .acquire_timeout(DATABASE_WAIT);
        // A SQLite connection does not go stale: no ping (a round trip to
        // its worker thread) before each use, as a server's connection needs.
        let options = if dialect == Dialect::Sqlite {
            options
                .test_before_acquire(false)
                .after_connect(|connection, _| {
                    Box::pin(async move {
                        let busy = format!("PRAGMA busy_timeout = {}", DATABASE_WAIT.as_millis());
                        connection.execute(AssertSqlSafe(busy)).await.map(drop)
                    })
                })
        } else {
            options
        };
        let pool = options.connect(&url).await?;
        if dialect == Dialect::Sqlite && !in_memory {
            sqlx::query("PRAGMA journal_mode = WAL")
                .execute(&pool)
                .await?;
        }
        let store = Self {
            inner: Arc::new(Inner {
                pool,
                dialect,
                models,
                writes: Mutex::new(()),
                file: if in_memory {
                    None
                } else {
                    DatabaseFile::of_url(&url)
                },
            }),
        };
        store.migrate(migrate).await?;
        Ok(store)
    }

    /// The SQL dialect of the database.
    pub fn dialect(&self) -> Dialect {
        self.inner.dialect
    }

    /// A transaction for a write (see [`Dialect::begin_write`]), in a
    /// SQLite file that is still where it was opened.
    async fn begin_write(&self) -> Result<sqlx::Transaction<'static, sqlx::Any>, ModelError> {
        let transaction = self
            .inner
            .pool
            .begin_with(self.inner.dialect.begin_write())
            .await?;
        if let Some(file) = &self.inner.file {
            file.check()?;
        }
        Ok(transaction)
    }

    /// The models.
    pub fn models(&self) -> &Models {
        &self.inner.models
    }

    /// The records of the model `identity`.
    pub fn records(&self, identity: &str) -> Result<Records, ModelError> {
        if self.inner.models.get(identity).is_none() {
            return Err(ModelError::UnknownModel(identity.to_owned()));
        }
        Ok(Records {
            store: self.clone(),
            identity: identity.to_owned(),
        })
    }

    fn model(&self, identity: &str) -> &Model {
        self.inner
            .models
            .get(identity)
            .expect("a Records handle names a model of its store")
    }

    fn key_type(&self, identity: &str) -> AttributeType {
        self.inner
            .models
            .get(identity)
            .map_or(AttributeType::Number, Model::key_type)
    }

    async fn migrate(&self, migrate: Migrate) -> Result<(), ModelError> {
        if migrate == Migrate::Safe {
            return Ok(());
        }
        let _write = self.inner.writes.lock().await;
        let mut tx = self.begin_write().await?;
        let mut statements = Vec::new();
        for model in self.inner.models.iter() {
            if migrate == Migrate::Drop {
                statements.push(format!("DROP TABLE IF EXISTS {}", quote(model.table())));
            }
            let columns: Vec<String> = model
                .columns()
                .map(|(name, _)| self.column_definition(model, name))
                .collect();
            statements.push(format!(
                "CREATE TABLE IF NOT EXISTS {} ({})",
                quote(model.table()),
                columns.join(", ")
            ));
            for (name, _) in model.associations() {
                if let Some(junction) = self.junction(model, name)
                    && junction.owner.0 == model.identity()
                    && junction.owner.1 == name
                {
                    if migrate == Migrate::Drop {
                        statements.push(format!("DROP TABLE IF EXISTS {}", quote(&junction.table)));
                    }
                    statements.push(format!(
                        "CREATE TABLE IF NOT EXISTS {} (\"id\" {}, {} {}, {} {}, UNIQUE ({}, {}))",
                        quote(&junction.table),
                        self.inner.dialect.column_type(AttributeType::Number, true),
                        quote(&junction.own_column),
                        self.inner.dialect.column_type(model.key_type(), false),
                        quote(&junction.other_column),
                        self.inner
                            .dialect
                            .column_type(self.key_type(&junction.other_model), false),
                        quote(&junction.own_column),
                        quote(&junction.other_column),
                    ));
                }
            }
        }
        for statement in statements {
            sqlx::query(AssertSqlSafe(statement))
                .execute(&mut *tx)
                .await?;
        }
        for model in self.inner.models.iter() {
            let mut columns = Sql::new(self.inner.dialect);
            self.inner.dialect.columns_of(model.table(), &mut columns);
            let existing: Vec<String> = query_of(columns)
                .fetch_all(&mut *tx)
                .await?
                .iter()
                .map(|row| row.try_get::<String, _>(0))
                .collect::<Result<_, _>>()?;
            for (name, _) in model.columns() {
                if !existing.iter().any(|column| column == name) {
                    let definition = self.column_definition(model, name);
                    sqlx::query(AssertSqlSafe(format!(
                        "ALTER TABLE {} ADD COLUMN {definition}",
                        quote(model.table())
                    )))
                    .execute(&mut *tx)
                    .await?;
                }
            }
            for (name, attribute) in model.columns() {
                if attribute.unique && name != model.primary_key() {
                    sqlx::query(AssertSqlSafe(format!(
                        "CREATE UNIQUE INDEX IF NOT EXISTS {} ON {} ({})",
                        quote(&format!("{}_{name}_unique", model.table())),
                        quote(model.table()),
                        quote(name)
                    )))
                    .execute(&mut *tx)
                    .await?;
                }
            }
        }
        tx.commit().await?;
        Ok(())
    }

    fn column_definition(&self, model: &Model, name: &str) -> String {
        let attribute = model.get(name).expect("a column of the model");
        let auto_key = name == model.primary_key() && model.auto_key();
        let kind = match &attribute.kind {
            Kind::Model(target) => self.key_type(target),
            Kind::Value(kind) => *kind,
            Kind::Collection { .. } => AttributeType::Json,
        };
        let mut definition = format!(
            "{} {}",
            quote(name),
            self.inner.dialect.column_type(kind, auto_key)
        );
        if name == model.primary_key() && !auto_key {
            definition.push_str(" PRIMARY KEY");
        }
        definition
    }

    /// How a collection is stored: `None` for one-to-many (the child's
    /// `model` attribute), else the join table.
    fn junction(&self, model: &Model, attribute: &str) -> Option<Junction> {
        let Some(Kind::Collection { model: target, via }) = model.get(attribute).map(|a| &a.kind)
        else {
            return None;
        };
        let other = self.inner.models.get(target)?;
        match via {
            Some(via) => match other.get(via).map(|a| &a.kind) {
                Some(Kind::Model(_)) => None,
                _ => {
                    let mine = format!("{}_{attribute}", model.identity());
                    let theirs = format!("{}_{via}", other.identity());
                    let (first, second) = if mine <= theirs {
                        (&mine, &theirs)
                    } else {
                        (&theirs, &mine)
                    };
                    let owner = if mine <= theirs {
                        (model.identity().to_owned(), attribute.to_owned())
                    } else {
                        (other.identity().to_owned(), via.clone())
                    };
                    Some(Junction {
                        table: format!("{first}__{second}"),
                        own_column: mine.clone(),
                        other_column: theirs.clone(),
                        other_model: target.clone(),
                        owner,
                    })
                }
            },
            None => Some(Junction {
                table: format!("{}_{attribute}", model.identity()),
                own_column: "parent".into(),
                other_column: "child".into(),
                other_model: target.clone(),
                owner: (model.identity().to_owned(), attribute.to_owned()),
            }),
        }
    }
}

/// A many-to-many collection's join table.
struct Junction {
    table: String,
    /// Holds keys of the model owning the attribute.
    own_column: String,
    /// Holds keys of the collection's model.
    other_column: String,
    other_model: String,
    /// The side that creates the table (each table once).
    owner: (String, String),
}

fn query_of(sql: Sql) -> sqlx::query::Query<'static, sqlx::Any, AnyArguments> {
    let mut query = sqlx::query(AssertSqlSafe(sql.text));
    for param in sql.params {
        query = match param {
            // A null is typed as its column, which Postgres insists on.
            SqlValue::Null(AttributeType::Number) => query.bind(None::<f64>),
            SqlValue::Null(AttributeType::Boolean) => query.bind(None::<bool>),
            SqlValue::Null(_) => query.bind(None::<String>),
            SqlValue::Integer(integer) => query.bind(integer),
            SqlValue::Real(real) => query.bind(real),
            SqlValue::Text(text) => query.bind(text),
            SqlValue::Bool(flag) => query.bind(flag),
        };
    }
    query
}

/// A unique violation becomes [`ModelError::Unique`] naming the column.
fn write_error(error: sqlx::Error) -> ModelError {
    if let sqlx::Error::Database(database) = &error
        && database.kind() == sqlx::error::ErrorKind::UniqueViolation
    {
        // SQLite names `table.column`; Postgres the index, `<table>_<column>_unique`
        // or `<table>_pkey`.
        let attribute = match database.constraint() {
            Some(index) => index
                .strip_suffix("_unique")
                .or_else(|| index.strip_suffix("_pkey").map(|_| ""))
                .and_then(|rest| rest.split_once('_').map(|(_, column)| column))
                .unwrap_or(""),
            None => database
                .message()
                .rsplit_once(": ")
                .and_then(|(_, columns)| columns.split(", ").next())
                .and_then(|column| column.rsplit_once('.'))
                .map_or("", |(_, column)| column),
        };
        return ModelError::Unique {
            attribute: attribute.to_owned(),
        };
    }
    ModelError::Database(error)
}

/// The records of one model: Waterline's model methods.
#[derive(Clone, Debug)]
pub struct Records {
    store: Store,
    identity: String,
}

impl Records {
    /// The model.
    pub fn model(&self) -> &Model {
        self.store.model(&self.identity)
    }

    /// The store.
    pub fn store(&self) -> &Store {
        &self.store
    }

    fn criteria(&self, criteria: &Value) -> Result<Criteria, ModelError> {
        Ok(Criteria::parse(self.model(), criteria)?)
    }

    fn check(&self, values: &Value, purpose: Purpose) -> Result<Checked, ModelError> {
        check(
            self.model(),
            |target| self.store.key_type(target),
            values,
            purpose,
            now_ms(),
        )
        .map_err(|problems| match purpose {
            Purpose::NewRecord => ModelError::InvalidNewRecord(problems),
            Purpose::ValuesToSet => ModelError::InvalidValuesToSet(problems),
        })
    }

    /// `find(criteria)`: the matching records (associations as keys, collections left out).
    pub async fn find(&self, criteria: &Value) -> Result<Vec<Value>, ModelError> {
        let criteria = self.criteria(criteria)?;
        self.find_parsed(&criteria).await
    }

    /// `find` with criteria already parsed.
    pub async fn find_parsed(&self, criteria: &Criteria) -> Result<Vec<Value>, ModelError> {
        let mut connection = self.store.inner.pool.acquire().await?;
        select(
            &mut connection,
            &self.store,
            self.model(),
            criteria,
            Lock::None,
        )
        .await
    }

    /// `findOne(criteria)`: the one matching record, if any (an error when several match).
    pub async fn find_one(&self, criteria: &Value) -> Result<Option<Value>, ModelError> {
        let criteria = self.criteria(criteria)?;
        let mut records = self.find_parsed(&criteria).await?;
        if records.len() > 1 {
            return Err(
                CriteriaError::Shape("more than one record matches `findOne`".into()).into(),
            );
        }
        Ok(records.pop())
    }

    /// `count(criteria)`: how many records match.
    pub async fn count(&self, criteria: &Value) -> Result<u64, ModelError> {
        let mut criteria = self.criteria(criteria)?;
        criteria
            .condition
            .coerce_references(self.model(), &|target| self.store.key_type(target))?;
        let mut sql = Sql::new(self.store.inner.dialect);
        sql.push("SELECT COUNT(*) FROM ")
            .ident(self.model().table());
        criteria.write_where(self.model(), &mut sql);
        let row = query_of(sql).fetch_one(&self.store.inner.pool).await?;
        Ok(row.try_get::<i64, _>(0)?.max(0) as u64)
    }

    /// `create(values)`: checks, stores and returns the new record; collections
    /// given as lists of child keys are linked.
    pub async fn create(&self, values: &Value) -> Result<Value, ModelError> {
        let checked = self.check(values, Purpose::NewRecord)?;
        let _write = self.store.inner.writes.lock().await;
        let mut tx = self.store.begin_write().await?;
        let record = self.insert(&mut tx, checked).await?;
        tx.commit().await?;
        Ok(record)
    }

    /// `createEach(values)`: creates every record, or none if one fails.
    pub async fn create_each(&self, values: &[Value]) -> Result<Vec<Value>, ModelError> {
        let checked = values
            .iter()
            .map(|values| self.check(values, Purpose::NewRecord))
            .collect::<Result<Vec<_>, _>>()?;
        let _write = self.store.inner.writes.lock().await;
        let mut tx = self.store.begin_write().await?;
        let mut records = Vec::with_capacity(checked.len());
        for checked in checked {
            records.push(self.insert(&mut tx, checked).await?);
        }
        tx.commit().await?;
        Ok(records)
    }

    async fn insert(
        &self,
        connection: &mut AnyConnection,
        checked: Checked,
    ) -> Result<Value, ModelError> {
        let model = self.model();
        let mut sql = Sql::new(self.store.inner.dialect);
        sql.push("INSERT INTO ").ident(model.table()).push(" (");
        for (index, name) in checked.columns.keys().enumerate() {
            if index > 0 {
                sql.push(", ");
            }
            sql.ident(name);
        }
        sql.push(") VALUES (");
        for (index, (name, value)) in checked.columns.iter().enumerate() {
            if index > 0 {
                sql.push(", ");
            }
            sql.bind(self.stored(name, value));
        }
        // The new record as stored (linking collections changes none of its columns).
        let columns = decoded_columns(&self.store, model, |_| true);
        sql.push(") RETURNING ");
        push_columns(&mut sql, &columns);
        let row = query_of(sql)
            .fetch_one(&mut *connection)
            .await
            .map_err(write_error)?;
        let record = record_of(&row, &columns);
        let key = record[model.primary_key()].clone();
        for (attribute, children) in checked.collections {
            self.link(connection, &key, &attribute, &children, Link::Replace)
                .await?;
        }
        Ok(record)
    }

    fn stored(&self, name: &str, value: &Value) -> SqlValue {
        let kind = self
            .model()
            .get(name)
            .map_or(AttributeType::String, |attribute| {
                value_type(&self.store, attribute)
            });
        SqlValue::of(kind, value)
    }

    async fn fetch_key(
        &self,
        connection: &mut AnyConnection,
        key: &Value,
    ) -> Result<Option<Value>, ModelError> {
        let criteria = Criteria {
            condition: Condition::Compare {
                attribute: self.model().primary_key().to_owned(),
                op: crate::criteria::Op::Eq,
                value: key.clone(),
            },
            ..Criteria::all()
        };
        Ok(
            select(connection, &self.store, self.model(), &criteria, Lock::None)
                .await?
                .pop(),
        )
    }

    /// `update(criteria, values)`: changes every matching record; returns them as they are now.
    pub async fn update(&self, criteria: &Value, values: &Value) -> Result<Vec<Value>, ModelError> {
        let criteria = self.criteria(criteria)?;
        let updated = self.update_parsed(&criteria, values, usize::MAX).await?;
        Ok(updated.into_iter().map(|updated| updated.record).collect())
    }

    /// `updateOne(criteria, values)`: changes the one matching record; returns it
    /// before and after (`None` when nothing matches, an error when several do).
    pub async fn update_one(
        &self,
        criteria: &Value,
        values: &Value,
    ) -> Result<Option<Updated>, ModelError> {
        let criteria = self.criteria(criteria)?;
        Ok(self.update_parsed(&criteria, values, 1).await?.pop())
    }

    async fn update_parsed(
        &self,
        criteria: &Criteria,
        values: &Value,
        at_most: usize,
    ) -> Result<Vec<Updated>, ModelError> {
        let checked = self.check(values, Purpose::ValuesToSet)?;
        let model = self.model();
        let key_name = model.primary_key();
        let _write = self.store.inner.writes.lock().await;
        let mut tx = self.store.begin_write().await?;
        let previous = select(&mut tx, &self.store, model, criteria, Lock::ForUpdate).await?;
        if previous.len() > at_most {
            return Err(
                CriteriaError::Shape("more than one record matches `updateOne`".into()).into(),
            );
        }
        let keys: Vec<Value> = previous
            .iter()
            .map(|record| record[key_name].clone())
            .collect();
        if !keys.is_empty() && !checked.columns.is_empty() {
            let mut sql = Sql::new(self.store.inner.dialect);
            sql.push("UPDATE ").ident(model.table()).push(" SET ");
            for (index, (name, value)) in checked.columns.iter().enumerate() {
                if index > 0 {
                    sql.push(", ");
                }
                sql.ident(name).push(" = ").bind(self.stored(name, value));
            }
            let by_keys = Criteria {
                condition: Condition::In {
                    attribute: key_name.to_owned(),
                    values: keys.clone(),
                    negated: false,
                },
                ..Criteria::all()
            };
            by_keys.write_where(model, &mut sql);
            query_of(sql).execute(&mut *tx).await.map_err(write_error)?;
        }
        let mut updated = Vec::with_capacity(previous.len());
        for (previous, key) in previous.into_iter().zip(&keys) {
            for (attribute, children) in &checked.collections {
                self.link(&mut tx, key, attribute, children, Link::Replace)
                    .await?;
            }
            let record = self
                .fetch_key(&mut tx, key)
                .await?
                .ok_or(ModelError::NotFound)?;
            updated.push(Updated { previous, record });
        }
        tx.commit().await?;
        Ok(updated)
    }

    /// `destroy(criteria)`: deletes every matching record and returns them;
    /// children that pointed at them point at nothing, their join rows go.
    pub async fn destroy(&self, criteria: &Value) -> Result<Vec<Value>, ModelError> {
        let criteria = self.criteria(criteria)?;
        self.destroy_parsed(&criteria, usize::MAX).await
    }

    /// `destroyOne(criteria)`: deletes the one matching record (`None`: nothing matched).
    pub async fn destroy_one(&self, criteria: &Value) -> Result<Option<Value>, ModelError> {
        let criteria = self.criteria(criteria)?;
        Ok(self.destroy_parsed(&criteria, 1).await?.pop())
    }

    async fn destroy_parsed(
        &self,
        criteria: &Criteria,
        at_most: usize,
    ) -> Result<Vec<Value>, ModelError> {
        let model = self.model();
        let _write = self.store.inner.writes.lock().await;
        let mut tx = self.store.begin_write().await?;
        let records = select(&mut tx, &self.store, model, criteria, Lock::ForUpdate).await?;
        if records.len() > at_most {
            return Err(
                CriteriaError::Shape("more than one record matches `destroyOne`".into()).into(),
            );
        }
        let keys: Vec<Value> = records
            .iter()
            .map(|record| record[model.primary_key()].clone())
            .collect();
        if !keys.is_empty() {
            for (name, _) in model.associations() {
                for key in &keys {
                    self.link(&mut tx, key, name, &[], Link::Replace).await?;
                }
            }
            let mut sql = Sql::new(self.store.inner.dialect);
            sql.push("DELETE FROM ").ident(model.table());
            Criteria {
                condition: Condition::In {
                    attribute: model.primary_key().to_owned(),
                    values: keys,
                    negated: false,
                },
                ..Criteria::all()
            }
            .write_where(model, &mut sql);
            query_of(sql).execute(&mut *tx).await?;
        }
        tx.commit().await?;
        Ok(records)
    }

    /// `addToCollection(id, attribute, childIds)`.
    pub async fn add_to_collection(
        &self,
        id: &Value,
        attribute: &str,
        children: &[Value],
    ) -> Result<(), ModelError> {
        self.change_collection(id, attribute, children, Link::Add)
            .await
    }

    /// `removeFromCollection(id, attribute, childIds)`.
    pub async fn remove_from_collection(
        &self,
        id: &Value,
        attribute: &str,
        children: &[Value],
    ) -> Result<(), ModelError> {
        self.change_collection(id, attribute, children, Link::Remove)
            .await
    }

    /// `replaceCollection(id, attribute, childIds)`.
    pub async fn replace_collection(
        &self,
        id: &Value,
        attribute: &str,
        children: &[Value],
    ) -> Result<(), ModelError> {
        self.change_collection(id, attribute, children, Link::Replace)
            .await
    }

    async fn change_collection(
        &self,
        id: &Value,
        attribute: &str,
        children: &[Value],
        link: Link,
    ) -> Result<(), ModelError> {
        let target = match self.model().get(attribute).map(|a| &a.kind) {
            Some(Kind::Collection { model, .. }) => model.clone(),
            _ => {
                return Err(ModelError::UnknownCollection {
                    model: self.identity.clone(),
                    attribute: attribute.to_owned(),
                });
            }
        };
        let key = self.key(id)?;
        let children = children
            .iter()
            .map(|child| self.store.records(&target)?.key(child))
            .collect::<Result<Vec<_>, _>>()?;
        let _write = self.store.inner.writes.lock().await;
        let mut tx = self.store.begin_write().await?;
        self.link(&mut tx, &key, attribute, &children, link).await?;
        tx.commit().await?;
        Ok(())
    }

    /// `id` as a key of this model (`"7"` becomes 7 for a number key).
    pub fn key(&self, id: &Value) -> Result<Value, ModelError> {
        crate::types::coerce(self.model().key_type(), id, false)
            .ok_or_else(|| ModelError::InvalidId(id.clone()))
    }

    /// Links (or unlinks) children to the record `key` through `attribute`:
    /// a `model` attribute is cleared on replace with nothing; a collection
    /// goes through the child's key column or the join table.
    async fn link(
        &self,
        connection: &mut AnyConnection,
        key: &Value,
        attribute: &str,
        children: &[Value],
        link: Link,
    ) -> Result<(), ModelError> {
        let model = self.model();
        let Some(Kind::Collection { model: target, via }) = model.get(attribute).map(|a| &a.kind)
        else {
            return Ok(());
        };
        let dialect = self.store.inner.dialect;
        let child_model = self.store.model(target);
        let child_key = child_model.primary_key();
        let key_bind = SqlValue::of(AttributeType::String, key);
        let children_bind: Vec<SqlValue> = children
            .iter()
            .map(|child| SqlValue::of(AttributeType::String, child))
            .collect();
        let in_list = |sql: &mut Sql| {
            sql.push("(");
            for (index, child) in children_bind.iter().enumerate() {
                if index > 0 {
                    sql.push(", ");
                }
                sql.bind(child.clone());
            }
            sql.push(")");
        };
        match self.store.junction(model, attribute) {
            None => {
                let via = via.as_deref().unwrap_or_default();
                let mut statements = Vec::new();
                if link == Link::Replace {
                    let mut sql = Sql::new(dialect);
                    sql.push("UPDATE ")
                        .ident(child_model.table())
                        .push(" SET ")
                        .ident(via);
                    sql.push(" = NULL WHERE ")
                        .ident(via)
                        .push(" = ")
                        .bind(key_bind.clone());
                    statements.push(sql);
                }
                if !children.is_empty() {
                    let mut sql = Sql::new(dialect);
                    sql.push("UPDATE ")
                        .ident(child_model.table())
                        .push(" SET ")
                        .ident(via);
                    if link == Link::Remove {
                        sql.push(" = NULL WHERE ")
                            .ident(via)
                            .push(" = ")
                            .bind(key_bind.clone());
                        sql.push(" AND ");
                    } else {
                        sql.push(" = ").bind(key_bind.clone()).push(" WHERE ");
                    }
                    sql.ident(child_key).push(" IN ");
                    in_list(&mut sql);
                    statements.push(sql);
                }
                for sql in statements {
                    query_of(sql).execute(&mut *connection).await?;
                }
            }
            Some(junction) => {
                let mut statements = Vec::new();
                if link == Link::Replace || (link == Link::Remove && !children.is_empty()) {
                    let mut sql = Sql::new(dialect);
                    sql.push("DELETE FROM ")
                        .ident(&junction.table)
                        .push(" WHERE ");
                    sql.ident(&junction.own_column)
                        .push(" = ")
                        .bind(key_bind.clone());
                    if link == Link::Remove {
                        sql.push(" AND ").ident(&junction.other_column).push(" IN ");
                        in_list(&mut sql);
                    }
                    statements.push(sql);
                }
                if link != Link::Remove {
                    for child in &children_bind {
                        let mut sql = Sql::new(dialect);
                        sql.push("INSERT INTO ").ident(&junction.table).push(" (");
                        sql.ident(&junction.own_column)
                            .push(", ")
                            .ident(&junction.other_column);
                        sql.push(") VALUES (")
                            .bind(key_bind.clone())
                            .push(", ")
                            .bind(child.clone());
                        sql.push(") ON CONFLICT DO NOTHING");
                        statements.push(sql);
                    }
                }
                for sql in statements {
                    query_of(sql).execute(&mut *connection).await?;
                }
            }
        }
        Ok(())
    }

    /// Replaces, in each record, the `model` attributes and collections named
    /// by `attributes` with the records they refer to (collections: at most
    /// `child_limit` each, by key order).
    pub async fn populate(
        &self,
        records: &mut [Value],
        attributes: &[String],
        child_limit: Option<u64>,
    ) -> Result<(), ModelError> {
        let model = self.model();
        let key_name = model.primary_key();
        let mut connection = self.store.inner.pool.acquire().await?;
        for attribute in attributes {
            let (target, keys_of): (&str, Vec<Value>) = match model.get(attribute).map(|a| &a.kind)
            {
                Some(Kind::Model(target)) => (
                    target,
                    records
                        .iter()
                        .map(|record| record[attribute].clone())
                        .collect(),
                ),
                Some(Kind::Collection { model: target, .. }) => (
                    target,
                    records
                        .iter()
                        .map(|record| record[key_name].clone())
                        .collect(),
                ),
                _ => {
                    return Err(ModelError::UnknownCollection {
                        model: self.identity.clone(),
                        attribute: attribute.clone(),
                    });
                }
            };
            let child_model = self.store.model(target);
            let keys: Vec<Value> = keys_of
                .iter()
                .filter(|key| !key.is_null())
                .cloned()
                .collect();
            match &model.get(attribute).map(|a| &a.kind) {
                Some(Kind::Model(_)) => {
                    let found = select_by(
                        &mut connection,
                        &self.store,
                        child_model,
                        child_model.primary_key(),
                        keys,
                    )
                    .await?;
                    for record in records.iter_mut() {
                        let key = record[attribute].clone();
                        record[attribute] = found
                            .iter()
                            .find(|child| !key.is_null() && child[child_model.primary_key()] == key)
                            .cloned()
                            .unwrap_or(Value::Null);
                    }
                }
                _ => {
                    let pairs = self.children_of(&mut connection, attribute, keys).await?;
                    let child_keys: Vec<Value> =
                        pairs.iter().map(|(_, child)| child.clone()).collect();
                    let children = select_by(
                        &mut connection,
                        &self.store,
                        child_model,
                        child_model.primary_key(),
                        child_keys,
                    )
                    .await?;
                    for record in records.iter_mut() {
                        let key = record[key_name].clone();
                        let mine: Vec<Value> = children
                            .iter()
                            .filter(|child| {
                                pairs.iter().any(|(parent, child_key)| {
                                    *parent == key && *child_key == child[child_model.primary_key()]
                                })
                            })
                            .take(child_limit.map_or(usize::MAX, |limit| limit as usize))
                            .cloned()
                            .collect();
                        if let Value::Object(object) = record {
                            object.insert(attribute.clone(), Value::Array(mine));
                        }
                    }
                }
            }
        }
        Ok(())
    }

    /// (parent key, child key) of a collection, for the given parents.
    async fn children_of(
        &self,
        connection: &mut AnyConnection,
        attribute: &str,
        parents: Vec<Value>,
    ) -> Result<Vec<(Value, Value)>, ModelError> {
        let model = self.model();
        let Some(Kind::Collection { model: target, via }) = model.get(attribute).map(|a| &a.kind)
        else {
            return Ok(Vec::new());
        };
        if parents.is_empty() {
            return Ok(Vec::new());
        }
        let child_model = self.store.model(target);
        let (table, parent_column, child_column) = match self.store.junction(model, attribute) {
            Some(junction) => (junction.table, junction.own_column, junction.other_column),
            None => (
                child_model.table().to_owned(),
                via.clone().unwrap_or_default(),
                child_model.primary_key().to_owned(),
            ),
        };
        let mut sql = Sql::new(self.store.inner.dialect);
        sql.push("SELECT ")
            .ident(&parent_column)
            .push(", ")
            .ident(&child_column);
        sql.push(" FROM ")
            .ident(&table)
            .push(" WHERE ")
            .ident(&parent_column)
            .push(" IN (");
        for (index, parent) in parents.iter().enumerate() {
            if index > 0 {
                sql.push(", ");
            }
            sql.bind(SqlValue::of(AttributeType::String, parent));
        }
        sql.push(") ORDER BY ").ident(&child_column);
        let rows = query_of(sql).fetch_all(&mut *connection).await?;
        Ok(rows
            .iter()
            .map(|row| {
                (
                    decode(row, 0, model.key_type()),
                    decode(row, 1, child_model.key_type()),
                )
            })
            .collect())
    }

    /// The matching records, typed.
    pub async fn find_as<T: DeserializeOwned>(
        &self,
        criteria: &Value,
    ) -> Result<Vec<T>, ModelError> {
        self.find(criteria)
            .await?
            .into_iter()
            .map(|record| Ok(serde_json::from_value(record)?))
            .collect()
    }

    /// The one matching record, typed.
    pub async fn find_one_as<T: DeserializeOwned>(
        &self,
        criteria: &Value,
    ) -> Result<Option<T>, ModelError> {
        self.find_one(criteria)
            .await?
            .map(|record| Ok(serde_json::from_value(record)?))
            .transpose()
    }

    /// Creates a record from a typed value; returns it typed.
    pub async fn create_as<T: DeserializeOwned>(
        &self,
        values: &impl Serialize,
    ) -> Result<T, ModelError> {
        let record = self.create(&serde_json::to_value(values)?).await?;
        Ok(serde_json::from_value(record)?)
    }
}

/// How [`Records::link`] changes a collection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Link {
    Add,
    Remove,
    Replace,
}

/// Whether [`select`] locks the rows it reads (inside a writing transaction).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Lock {
    None,
    ForUpdate,
}

/// The records matching `criteria`, with the columns the criteria keeps.
async fn select(
    connection: &mut AnyConnection,
    store: &Store,
    model: &Model,
    criteria: &Criteria,
    lock: Lock,
) -> Result<Vec<Value>, ModelError> {
    let mut sql = Sql::new(store.inner.dialect);
    let columns = decoded_columns(store, model, |name| criteria.keeps(model, name));
    sql.push("SELECT ");
    push_columns(&mut sql, &columns);
    sql.push(" FROM ").ident(model.table());
    let mut criteria = criteria.clone();
    criteria
        .condition
        .coerce_references(model, &|target| store.key_type(target))?;
    if criteria.sort.is_empty() {
        criteria.sort.push((
            model.primary_key().to_owned(),
            crate::criteria::Direction::Asc,
        ));
    }
    criteria.write_sql(model, &mut sql);
    if lock == Lock::ForUpdate {
        sql.push(store.inner.dialect.lock_rows());
    }
    let rows = query_of(sql).fetch_all(&mut *connection).await?;
    Ok(rows.iter().map(|row| record_of(row, &columns)).collect())
}

/// The columns of `model` that `keep` keeps, each with the JSON type it decodes to.
fn decoded_columns<'a>(
    store: &Store,
    model: &'a Model,
    keep: impl Fn(&str) -> bool,
) -> Vec<(&'a str, AttributeType)> {
    model
        .columns()
        .filter(|(name, _)| keep(name))
        .map(|(name, attribute)| (name, value_type(store, attribute)))
        .collect()
}

/// `a, b, c`: the columns' names, quoted.
fn push_columns(sql: &mut Sql, columns: &[(&str, AttributeType)]) {
    for (index, (name, _)) in columns.iter().enumerate() {
        if index > 0 {
            sql.push(", ");
        }
        sql.ident(name);
    }
}

/// A row of `columns` as a record.
fn record_of(row: &AnyRow, columns: &[(&str, AttributeType)]) -> Value {
    let mut record = Map::new();
    for (index, (name, kind)) in columns.iter().enumerate() {
        record.insert((*name).to_owned(), decode(row, index, *kind));
    }
    Value::Object(record)
}

/// The records whose `attribute` is one of `keys`.
async fn select_by(
    connection: &mut AnyConnection,
    store: &Store,
    model: &Model,
    attribute: &str,
    keys: Vec<Value>,
) -> Result<Vec<Value>, ModelError> {
    if keys.is_empty() {
        return Ok(Vec::new());
    }
    let criteria = Criteria {
        condition: Condition::In {
            attribute: attribute.to_owned(),
            values: keys,
            negated: false,
        },
        ..Criteria::all()
    };
    select(connection, store, model, &criteria, Lock::None).await
}

/// The JSON type a column decodes to (a reference: its target's key type).
fn value_type(store: &Store, attribute: &crate::model::Attribute) -> AttributeType {
    match &attribute.kind {
        Kind::Value(kind) => *kind,
        Kind::Model(target) | Kind::Collection { model: target, .. } => store.key_type(target),
    }
}

/// A column's value as JSON, by what the database holds and the attribute's type.
fn decode(row: &AnyRow, index: usize, kind: AttributeType) -> Value {
    let Ok(raw) = row.try_get_raw(index) else {
        return Value::Null;
    };
    let stored = raw.type_info().kind();
    match stored {
        AnyTypeInfoKind::Null => Value::Null,
        AnyTypeInfoKind::Bool => row
            .try_get::<bool, _>(index)
            .map_or(Value::Null, Value::Bool),
        AnyTypeInfoKind::SmallInt | AnyTypeInfoKind::Integer | AnyTypeInfoKind::BigInt => {
            match row.try_get::<i64, _>(index) {
                Ok(integer) if kind == AttributeType::Boolean => Value::Bool(integer != 0),
                Ok(integer) => Value::from(integer),
                Err(_) => Value::Null,
            }
        }
        AnyTypeInfoKind::Real | AnyTypeInfoKind::Double => row
            .try_get::<f64, _>(index)
            .ok()
            .and_then(number_value)
            .unwrap_or(Value::Null),
        AnyTypeInfoKind::Text | AnyTypeInfoKind::Blob => {
            let text = row.try_get::<String, _>(index).unwrap_or_default();
            match kind {
                AttributeType::Json | AttributeType::Ref => {
                    serde_json::from_str(&text).unwrap_or(Value::String(text))
                }
                _ => Value::String(text),
            }
        }
    }
}
