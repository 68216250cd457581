//! SQL text and its parameters. Values are always bound, never written into
//! the text; identifiers come from validated model and attribute names and
//! are quoted besides.

use serde_json::Value;

use crate::types::AttributeType;

/// The SQL dialect of a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite 3 (embedded: a file, or in memory).
    Sqlite,
    /// PostgreSQL.
    Postgres,
}

impl Dialect {
    /// The dialect a database URL names (`sqlite:…`, `postgres:…` or `postgresql:…`).
    pub fn of_url(url: &str) -> Option<Self> {
        let scheme = url.split_once(':')?.0;
        match scheme {
            "sqlite" => Some(Self::Sqlite),
            "postgres" | "postgresql" => Some(Self::Postgres),
            _ => None,
        }
    }

    /// The column type storing values of `kind` (`auto_key`: the
    /// auto-increment primary key). JSON is stored as its text.
    pub(crate) fn column_type(self, kind: AttributeType, auto_key: bool) -> &'static str {
        match (self, kind) {
            (Self::Sqlite, _) if auto_key => "INTEGER PRIMARY KEY AUTOINCREMENT",
            (Self::Postgres, _) if auto_key => "BIGSERIAL PRIMARY KEY",
            (_, AttributeType::String | AttributeType::Json | AttributeType::Ref) => "TEXT",
            (Self::Sqlite, AttributeType::Number) => "REAL",
            (Self::Postgres, AttributeType::Number) => "DOUBLE PRECISION",
            (Self::Sqlite, AttributeType::Boolean) => "INTEGER",
            (Self::Postgres, AttributeType::Boolean) => "BOOLEAN",
        }
    }

    /// The case-insensitive `LIKE` operator.
    pub(crate) fn like(self) -> &'static str {
        match self {
            Self::Sqlite => "LIKE",
            Self::Postgres => "ILIKE",
        }
    }

    /// The statement opening a transaction that writes: SQLite takes the
    /// write lock at once (two writers that both read first would otherwise
    /// deadlock), PostgreSQL locks the rows it reads ([`Self::lock_rows`]).
    pub(crate) fn begin_write(self) -> &'static str {
        match self {
            Self::Sqlite => "BEGIN IMMEDIATE",
            Self::Postgres => "BEGIN",
        }
    }

    /// What a `SELECT` inside a writing transaction ends with, so that the
    /// records read stay as read until the transaction ends.
    pub(crate) fn lock_rows(self) -> &'static str {
        match self {
            Self::Sqlite => "",
            Self::Postgres => " FOR UPDATE",
        }
    }

    /// A query listing the column names of `table`.
    pub(crate) fn columns_of(self, table: &str, sql: &mut Sql) {
        match self {
            Self::Sqlite => sql.push("SELECT name FROM pragma_table_info("),
            Self::Postgres => sql.push(
                "SELECT column_name::TEXT FROM information_schema.columns \
                 WHERE table_schema = current_schema() AND table_name = (",
            ),
        };
        sql.bind(SqlValue::Text(table.to_owned())).push(")");
    }

    /// ` LIMIT … OFFSET …` (`None`: no limit).
    pub(crate) fn limit(self, limit: Option<u64>, skip: u64, sql: &mut Sql) {
        match (self, limit) {
            (_, Some(limit)) => {
                sql.push(" LIMIT ")
                    .bind(SqlValue::Integer(limit.min(i64::MAX as u64) as i64));
            }
            // SQLite takes an OFFSET only after a LIMIT.
            (Self::Sqlite, None) if skip > 0 => {
                sql.push(" LIMIT -1");
            }
            _ => {}
        }
        if skip > 0 {
            sql.push(" OFFSET ")
                .bind(SqlValue::Integer(skip.min(i64::MAX as u64) as i64));
        }
    }
}

/// A value bound to a query parameter.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SqlValue {
    /// A null of a column of this type.
    Null(AttributeType),
    Integer(i64),
    Real(f64),
    Text(String),
    Bool(bool),
}

impl SqlValue {
    /// The stored form of a checked value of `kind`.
    pub(crate) fn of(kind: AttributeType, value: &Value) -> Self {
        match (kind, value) {
            (AttributeType::Json | AttributeType::Ref, value) => Self::Text(value.to_string()),
            (_, Value::Null) => Self::Null(kind),
            (_, Value::Bool(flag)) => Self::Bool(*flag),
            (_, Value::Number(number)) => match number.as_i64() {
                Some(integer) => Self::Integer(integer),
                None => Self::Real(number.as_f64().unwrap_or(f64::NAN)),
            },
            (_, Value::String(text)) => Self::Text(text.clone()),
            (_, other) => Self::Text(other.to_string()),
        }
    }
}

/// `"name"`, with any `"` doubled (names are validated before they get here;
/// quoting keeps reserved words such as `order` usable).
pub(crate) fn quote(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

/// SQL text being built, with its parameters in order.
#[derive(Debug)]
pub(crate) struct Sql {
    pub(crate) dialect: Dialect,
    pub(crate) text: String,
    pub(crate) params: Vec<SqlValue>,
}

impl Sql {
    pub(crate) fn new(dialect: Dialect) -> Self {
        Self {
            dialect,
            text: String::new(),
            params: Vec::new(),
        }
    }

    /// Appends SQL text.
    pub(crate) fn push(&mut self, text: &str) -> &mut Self {
        self.text.push_str(text);
        self
    }

    /// Appends a quoted identifier.
    pub(crate) fn ident(&mut self, name: &str) -> &mut Self {
        self.text.push_str(&quote(name));
        self
    }

    /// Appends a placeholder bound to `value`.
    pub(crate) fn bind(&mut self, value: SqlValue) -> &mut Self {
        self.params.push(value);
        match self.dialect {
            Dialect::Sqlite => self.text.push('?'),
            Dialect::Postgres => {
                self.text.push('$');
                self.text.push_str(&self.params.len().to_string());
            }
        }
        self
    }
}

/// Escapes `%`, `_` and `\` of a literal text for a `LIKE … ESCAPE '\'` pattern.
pub(crate) fn escape_like(text: &str) -> String {
    let mut escaped = String::with_capacity(text.len());
    for c in text.chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_and_values_bound() {
        let mut sql = Sql::new(Dialect::Sqlite);
        sql.push("SELECT * FROM ")
            .ident("pet")
            .push(" WHERE ")
            .ident("na\"me")
            .push(" = ")
            .bind(SqlValue::Text("x'; DROP TABLE pet; --".into()));
        assert_eq!(sql.text, "SELECT * FROM \"pet\" WHERE \"na\"\"me\" = ?");
        assert_eq!(sql.params.len(), 1);
        let mut sql = Sql::new(Dialect::Postgres);
        sql.bind(SqlValue::Integer(1))
            .push(", ")
            .bind(SqlValue::Integer(2));
        assert_eq!(sql.text, "$1, $2");
    }

    #[test]
    fn dialects_from_urls() {
        assert_eq!(Dialect::of_url("sqlite::memory:"), Some(Dialect::Sqlite));
        assert_eq!(
            Dialect::of_url("postgres://u@h/db"),
            Some(Dialect::Postgres)
        );
        assert_eq!(Dialect::of_url("mysql://u@h/db"), None);
        assert_eq!(Dialect::of_url("nothing"), None);
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(escape_like("50%_a\\b"), "50\\%\\_a\\\\b");
    }
}
