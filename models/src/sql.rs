//! SQL text and its parameters. Values are always bound, never written into
//! the text; identifiers come from validated model and attribute names and
//! are quoted besides.

use serde_json::Value;

use crate::model::AttributeType;

/// The SQL dialect of a store.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dialect {
    /// SQLite 3 (embedded: a file, or in memory).
    Sqlite,
}

impl Dialect {
    /// The column type storing values of `kind` (`auto_key`: the
    /// auto-increment primary key).
    pub(crate) fn column_type(self, kind: AttributeType, auto_key: bool) -> &'static str {
        match (self, kind) {
            (Self::Sqlite, _) if auto_key => "INTEGER PRIMARY KEY AUTOINCREMENT",
            (Self::Sqlite, AttributeType::String) => "TEXT",
            (Self::Sqlite, AttributeType::Number) => "REAL",
            (Self::Sqlite, AttributeType::Boolean) => "INTEGER",
            (Self::Sqlite, AttributeType::Json | AttributeType::Ref) => "TEXT",
        }
    }

    /// The case-insensitive `LIKE` operator.
    pub(crate) fn like(self) -> &'static str {
        match self {
            Self::Sqlite => "LIKE",
        }
    }
}

/// A value bound to a query parameter.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum SqlValue {
    Null,
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
            (_, Value::Null) => Self::Null,
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
    }

    #[test]
    fn like_patterns_escape_wildcards() {
        assert_eq!(escape_like("50%_a\\b"), "50\\%\\_a\\\\b");
    }
}
