//! Waterline criteria (`{where, limit, skip, sort, select, omit}`) parsed
//! against a model, and turned into SQL.
//!
//! ```
//! use sails_models::{Attribute, Criteria, Model};
//! use serde_json::json;
//!
//! let pet = Model::new("pet").attribute("name", Attribute::string());
//! let criteria = Criteria::parse(
//!     &pet,
//!     &json!({"where": {"name": {"startsWith": "R"}}, "sort": "name DESC", "limit": 10}),
//! )
//! .unwrap();
//! assert_eq!(criteria.limit, Some(10));
//! assert!(Criteria::parse(&pet, &json!({"where": {"colour": "red"}})).is_err());
//! ```

use serde_json::{Map, Value};

use crate::model::{AttributeType, Kind, Model};
use crate::sql::{Sql, SqlValue, escape_like};
use crate::types::coerce;

pub use crate::error::CriteriaError;

fn shape(message: impl Into<String>) -> CriteriaError {
    CriteriaError::Shape(message.into())
}

/// A comparison operator.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// `=` (or `IS NULL`).
    Eq,
    /// `!=` (or `IS NOT NULL`).
    Ne,
    /// `<`.
    Lt,
    /// `<=`.
    Le,
    /// `>`.
    Gt,
    /// `>=`.
    Ge,
    /// The text contains the value (case-insensitive).
    Contains,
    /// The text starts with the value (case-insensitive).
    StartsWith,
    /// The text ends with the value (case-insensitive).
    EndsWith,
    /// The text matches a `LIKE` pattern (`%`, `_`).
    Like,
}

impl Op {
    fn parse(name: &str) -> Option<Self> {
        Some(match name {
            "!=" => Self::Ne,
            "<" => Self::Lt,
            "<=" => Self::Le,
            ">" => Self::Gt,
            ">=" => Self::Ge,
            "contains" => Self::Contains,
            "startsWith" => Self::StartsWith,
            "endsWith" => Self::EndsWith,
            "like" => Self::Like,
            _ => return None,
        })
    }

    fn is_text(self) -> bool {
        matches!(
            self,
            Self::Contains | Self::StartsWith | Self::EndsWith | Self::Like
        )
    }
}

/// A `where` clause.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// Every condition holds (an empty list: every record).
    And(Vec<Condition>),
    /// Any condition holds (at least one).
    Or(Vec<Condition>),
    /// The attribute compares to the value.
    Compare {
        /// The attribute (a column).
        attribute: String,
        /// The operator.
        op: Op,
        /// The value, coerced to the attribute's type.
        value: Value,
    },
    /// The attribute is (or, negated, is not) one of the values.
    In {
        /// The attribute (a column).
        attribute: String,
        /// The values, coerced to the attribute's type.
        values: Vec<Value>,
        /// `nin` rather than `in`.
        negated: bool,
    },
}

/// Sort direction.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Direction {
    /// Ascending.
    Asc,
    /// Descending.
    Desc,
}

/// Parsed criteria, valid for the model they were parsed against.
#[derive(Debug, Clone, PartialEq)]
pub struct Criteria {
    /// The `where` clause.
    pub condition: Condition,
    /// At most this many records (`None`: all).
    pub limit: Option<u64>,
    /// Skip this many records first.
    pub skip: u64,
    /// Sort order, first key first.
    pub sort: Vec<(String, Direction)>,
    /// Only these attributes (the primary key always comes along); `None`: all.
    pub select: Option<Vec<String>>,
    /// Every attribute but these.
    pub omit: Vec<String>,
}

const CLAUSES: [&str; 6] = ["where", "limit", "skip", "sort", "select", "omit"];
/// The largest `limit` or `skip`: beyond it, numbers lose integer precision in JSON.
const MAX_COUNT: f64 = 9_007_199_254_740_991.0;
/// How deep `and` / `or` may nest.
const MAX_DEPTH: usize = 32;

impl Criteria {
    /// Every record, in store order.
    pub fn all() -> Self {
        Self {
            condition: Condition::And(Vec::new()),
            limit: None,
            skip: 0,
            sort: Vec::new(),
            select: None,
            omit: Vec::new(),
        }
    }

    /// The record whose primary key is `id`.
    pub fn by_id(model: &Model, id: &Value) -> Result<Self, CriteriaError> {
        Self::parse(model, id)
    }

    /// Parses Waterline criteria: a dictionary of clauses (`where`, `limit`,
    /// `skip`, `sort`, `select`, `omit`), a dictionary without clauses (taken
    /// as the `where`), a primary key value, or an array of them.
    pub fn parse(model: &Model, criteria: &Value) -> Result<Self, CriteriaError> {
        let mut parsed = Self::all();
        let clauses = match criteria {
            Value::Object(object) if object.keys().any(|key| CLAUSES.contains(&key.as_str())) => {
                object.clone()
            }
            Value::Object(object) => {
                let mut clauses = Map::new();
                clauses.insert("where".into(), Value::Object(object.clone()));
                clauses
            }
            Value::Null => Map::new(),
            key => {
                let mut clauses = Map::new();
                let mut condition = Map::new();
                condition.insert(model.primary_key().to_owned(), key.clone());
                clauses.insert("where".into(), Value::Object(condition));
                clauses
            }
        };
        for (clause, value) in &clauses {
            match clause.as_str() {
                // A key, or an array of keys, stands for the records with those keys.
                "where"
                    if matches!(value, Value::Array(_) | Value::Number(_) | Value::String(_)) =>
                {
                    parsed.condition = parse_constraint(model, model.primary_key(), value)?;
                }
                "where" => parsed.condition = parse_where(model, value, 0)?,
                "limit" => parsed.limit = count(value, "limit")?,
                "skip" => parsed.skip = count(value, "skip")?.unwrap_or(0),
                "sort" => parsed.sort = parse_sort(model, value)?,
                "select" => parsed.select = Some(parse_names(model, value, "select")?),
                "omit" => parsed.omit = parse_names(model, value, "omit")?,
                other => return Err(shape(format!("unknown criteria clause `{other}`"))),
            }
        }
        if let Some(select) = &mut parsed.select
            && select.iter().any(|name| name == "*")
        {
            parsed.select = None;
        }
        if parsed.omit.iter().any(|name| name == model.primary_key()) {
            return Err(shape("the primary key cannot be omitted"));
        }
        if parsed.select.is_some() && !parsed.omit.is_empty() {
            return Err(shape("`select` and `omit` cannot be used together"));
        }
        Ok(parsed)
    }

    /// Whether `attribute` is part of the records returned.
    pub fn keeps(&self, model: &Model, attribute: &str) -> bool {
        if attribute == model.primary_key() {
            return true;
        }
        match &self.select {
            Some(select) => select.iter().any(|name| name == attribute),
            None => !self.omit.iter().any(|name| name == attribute),
        }
    }

    /// Appends ` WHERE …` (when there is a condition), ` ORDER BY …`,
    /// ` LIMIT … OFFSET …` to `sql`.
    pub(crate) fn write_sql(&self, model: &Model, sql: &mut Sql) {
        self.write_where(model, sql);
        if !self.sort.is_empty() {
            sql.push(" ORDER BY ");
            for (index, (attribute, direction)) in self.sort.iter().enumerate() {
                if index > 0 {
                    sql.push(", ");
                }
                sql.ident(attribute).push(match direction {
                    Direction::Asc => " ASC",
                    Direction::Desc => " DESC",
                });
            }
        }
        let dialect = sql.dialect;
        dialect.limit(self.limit, self.skip, sql);
    }

    /// Appends ` WHERE …` when the condition restricts anything.
    pub(crate) fn write_where(&self, model: &Model, sql: &mut Sql) {
        if self.condition != Condition::And(Vec::new()) {
            sql.push(" WHERE ");
            self.condition.write_sql(model, sql);
        }
    }
}

impl Condition {
    /// The condition as SQL, parenthesised.
    pub(crate) fn write_sql(&self, model: &Model, sql: &mut Sql) {
        match self {
            Self::And(conditions) | Self::Or(conditions) if conditions.is_empty() => {
                sql.push(if matches!(self, Self::And(_)) {
                    "(1 = 1)"
                } else {
                    "(1 = 0)"
                });
            }
            Self::And(conditions) | Self::Or(conditions) => {
                let joiner = if matches!(self, Self::And(_)) {
                    " AND "
                } else {
                    " OR "
                };
                sql.push("(");
                for (index, condition) in conditions.iter().enumerate() {
                    if index > 0 {
                        sql.push(joiner);
                    }
                    condition.write_sql(model, sql);
                }
                sql.push(")");
            }
            Self::Compare {
                attribute,
                op,
                value,
            } => write_compare(model, attribute, *op, value, sql),
            Self::In {
                attribute,
                values,
                negated,
            } => {
                let kind = column_kind(model, attribute);
                let (nulls, values): (Vec<&Value>, Vec<&Value>) =
                    values.iter().partition(|value| value.is_null());
                sql.push("(");
                if values.is_empty() {
                    sql.push(if *negated { "1 = 1" } else { "1 = 0" });
                } else {
                    sql.ident(attribute)
                        .push(if *negated { " NOT IN (" } else { " IN (" });
                    for (index, value) in values.iter().enumerate() {
                        if index > 0 {
                            sql.push(", ");
                        }
                        sql.bind(SqlValue::of(kind, value));
                    }
                    sql.push(")");
                }
                match (*negated, nulls.is_empty()) {
                    (false, false) => {
                        sql.push(" OR ").ident(attribute).push(" IS NULL");
                    }
                    (true, false) => {
                        sql.push(" AND ").ident(attribute).push(" IS NOT NULL");
                    }
                    // SQL's NOT IN never matches NULL; Waterline's `nin` does.
                    (true, true) => {
                        sql.push(" OR ").ident(attribute).push(" IS NULL");
                    }
                    (false, true) => {}
                }
                sql.push(")");
            }
        }
    }
}

impl Condition {
    /// Coerces the values compared with references to other records (`owner
    /// = "1"`) to the type of the target model's key, which `key_type` names
    /// (criteria are parsed knowing one model only; a database with typed
    /// columns needs the key's type).
    pub(crate) fn coerce_references(
        &mut self,
        model: &Model,
        key_type: &dyn Fn(&str) -> AttributeType,
    ) -> Result<(), CriteriaError> {
        let key_of = |attribute: &str, value: &mut Value| {
            let Some(Kind::Model(target)) = model.get(attribute).map(|found| &found.kind) else {
                return Ok(());
            };
            let kind = key_type(target);
            *value = coerce(kind, value, true).ok_or_else(|| CriteriaError::BadValue {
                attribute: attribute.to_owned(),
                reason: format!("{value} is not a key of `{target}` (a {})", kind.name()),
            })?;
            Ok(())
        };
        match self {
            Self::And(conditions) | Self::Or(conditions) => conditions
                .iter_mut()
                .try_for_each(|condition| condition.coerce_references(model, key_type)),
            Self::Compare {
                attribute, value, ..
            } => key_of(attribute, value),
            Self::In {
                attribute, values, ..
            } => values
                .iter_mut()
                .try_for_each(|value| key_of(attribute, value)),
        }
    }
}

fn write_compare(model: &Model, attribute: &str, op: Op, value: &Value, sql: &mut Sql) {
    sql.push("(").ident(attribute);
    if value.is_null() {
        sql.push(if op == Op::Ne {
            " IS NOT NULL"
        } else {
            " IS NULL"
        });
    } else if op.is_text() {
        let text = value.as_str().unwrap_or_default();
        let pattern = match op {
            Op::Contains => format!("%{}%", escape_like(text)),
            Op::StartsWith => format!("{}%", escape_like(text)),
            Op::EndsWith => format!("%{}", escape_like(text)),
            _ => text.to_owned(),
        };
        let like = sql.dialect.like();
        sql.push(" ").push(like).push(" ");
        sql.bind(SqlValue::Text(pattern));
        if op != Op::Like {
            sql.push(" ESCAPE '\\'");
        }
    } else {
        let symbol = match op {
            Op::Ne => "!=",
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            _ => "=",
        };
        sql.push(" ").push(symbol).push(" ");
        sql.bind(SqlValue::of(column_kind(model, attribute), value));
        if op == Op::Ne {
            // Waterline's `!=` matches records whose value is null.
            sql.push(" OR ").ident(attribute).push(" IS NULL");
        }
    }
    sql.push(")");
}

/// How a value compared with `attribute` is bound: by its column's type, or
/// (references, keys) as the value given.
fn column_kind(model: &Model, attribute: &str) -> AttributeType {
    match model.get(attribute).map(|attribute| &attribute.kind) {
        Some(Kind::Value(kind @ (AttributeType::Number | AttributeType::Boolean))) => *kind,
        _ => AttributeType::String,
    }
}

fn count(value: &Value, clause: &str) -> Result<Option<u64>, CriteriaError> {
    let number = match value {
        Value::Number(number) => number.as_f64(),
        Value::String(text) => text.trim().parse::<f64>().ok(),
        _ => None,
    };
    match number {
        // Waterline: a negative limit means no limit.
        Some(number) if clause == "limit" && number < 0.0 && number.fract() == 0.0 => Ok(None),
        Some(number) if number >= 0.0 && number.fract() == 0.0 && number <= MAX_COUNT => {
            Ok(Some(number as u64))
        }
        _ => Err(shape(format!(
            "`{clause}` should be a whole number from 0 to {MAX_COUNT}, not {value}"
        ))),
    }
}

/// A column attribute that criteria may name.
fn filterable<'a>(model: &'a Model, attribute: &str) -> Result<&'a Kind, CriteriaError> {
    match model.get(attribute) {
        Some(found) if found.has_column() => Ok(&found.kind),
        _ => Err(CriteriaError::UnknownAttribute(attribute.to_owned())),
    }
}

fn parse_where(model: &Model, value: &Value, depth: usize) -> Result<Condition, CriteriaError> {
    if depth > MAX_DEPTH {
        return Err(shape(format!(
            "`where` nests deeper than {MAX_DEPTH} levels"
        )));
    }
    let Value::Object(object) = value else {
        if value.is_null() {
            return Ok(Condition::And(Vec::new()));
        }
        return Err(shape(format!(
            "`where` should be a dictionary, not {value}"
        )));
    };
    let mut conditions = Vec::new();
    for (key, value) in object {
        match key.as_str() {
            "or" | "and" => {
                let Value::Array(branches) = value else {
                    return Err(shape(format!("`{key}` should be an array of dictionaries")));
                };
                if branches.is_empty() {
                    return Err(shape(format!("`{key}` should not be empty")));
                }
                let branches = branches
                    .iter()
                    .map(|branch| match branch {
                        Value::Object(_) => parse_where(model, branch, depth + 1),
                        other => Err(shape(format!(
                            "each branch of `{key}` should be a dictionary, not {other}"
                        ))),
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                conditions.push(if key == "or" {
                    Condition::Or(branches)
                } else {
                    Condition::And(branches)
                });
            }
            attribute => conditions.push(parse_constraint(model, attribute, value)?),
        }
    }
    Ok(match conditions.len() {
        1 => conditions.remove(0),
        _ => Condition::And(conditions),
    })
}

fn parse_constraint(
    model: &Model,
    attribute: &str,
    value: &Value,
) -> Result<Condition, CriteriaError> {
    let kind = filterable(model, attribute)?;
    match value {
        Value::Array(values) => Ok(Condition::In {
            attribute: attribute.to_owned(),
            values: coerce_all(kind, attribute, values)?,
            negated: false,
        }),
        Value::Object(modifiers) => {
            if modifiers.is_empty() {
                return Err(CriteriaError::BadValue {
                    attribute: attribute.to_owned(),
                    reason: "an empty dictionary is not a constraint".into(),
                });
            }
            let mut conditions = Vec::new();
            for (modifier, operand) in modifiers {
                conditions.push(parse_modifier(kind, attribute, modifier, operand)?);
            }
            Ok(match conditions.len() {
                1 => conditions.remove(0),
                _ => Condition::And(conditions),
            })
        }
        value => Ok(Condition::Compare {
            attribute: attribute.to_owned(),
            op: Op::Eq,
            value: coerce_one(kind, attribute, value)?,
        }),
    }
}

fn parse_modifier(
    kind: &Kind,
    attribute: &str,
    modifier: &str,
    operand: &Value,
) -> Result<Condition, CriteriaError> {
    let bad = |reason: &str| CriteriaError::BadValue {
        attribute: attribute.to_owned(),
        reason: reason.to_owned(),
    };
    if modifier == "in" || modifier == "nin" {
        let Value::Array(values) = operand else {
            return Err(bad(&format!("`{modifier}` takes an array")));
        };
        return Ok(Condition::In {
            attribute: attribute.to_owned(),
            values: coerce_all(kind, attribute, values)?,
            negated: modifier == "nin",
        });
    }
    let op =
        Op::parse(modifier).ok_or_else(|| CriteriaError::UnknownModifier(modifier.to_owned()))?;
    if op.is_text() {
        let Value::String(_) = operand else {
            return Err(bad(&format!("`{modifier}` takes a string")));
        };
        if !matches!(kind, Kind::Value(AttributeType::String)) {
            return Err(bad(&format!(
                "`{modifier}` applies to string attributes only"
            )));
        }
        return Ok(Condition::Compare {
            attribute: attribute.to_owned(),
            op,
            value: operand.clone(),
        });
    }
    if operand.is_null() && op != Op::Ne {
        return Err(bad(&format!("`{modifier}` cannot compare with null")));
    }
    Ok(Condition::Compare {
        attribute: attribute.to_owned(),
        op,
        value: coerce_one(kind, attribute, operand)?,
    })
}

fn coerce_all(kind: &Kind, attribute: &str, values: &[Value]) -> Result<Vec<Value>, CriteriaError> {
    values
        .iter()
        .map(|value| coerce_one(kind, attribute, value))
        .collect()
}

/// A value compared with an attribute, coerced to its type (`null` is always
/// comparable; dictionaries and arrays never are).
fn coerce_one(kind: &Kind, attribute: &str, value: &Value) -> Result<Value, CriteriaError> {
    let bad = |reason: String| CriteriaError::BadValue {
        attribute: attribute.to_owned(),
        reason,
    };
    if matches!(value, Value::Object(_) | Value::Array(_)) {
        return Err(bad(format!("cannot compare with {value}")));
    }
    let kind = match kind {
        Kind::Value(AttributeType::Json | AttributeType::Ref) => {
            return Err(bad(
                "json and ref attributes cannot be used in criteria".into()
            ));
        }
        Kind::Value(kind) => *kind,
        Kind::Model(_) | Kind::Collection { .. } => {
            return match value {
                Value::Number(_) | Value::String(_) | Value::Null => Ok(value.clone()),
                other => Err(bad(format!("{other} is not a record id"))),
            };
        }
    };
    coerce(kind, value, true).ok_or_else(|| bad(format!("{value} should be a {}", kind.name())))
}

fn parse_sort(model: &Model, value: &Value) -> Result<Vec<(String, Direction)>, CriteriaError> {
    let direction = |text: &Value| -> Result<Direction, CriteriaError> {
        match text {
            Value::String(text) if text.eq_ignore_ascii_case("asc") => Ok(Direction::Asc),
            Value::String(text) if text.eq_ignore_ascii_case("desc") => Ok(Direction::Desc),
            Value::Number(number) if number.as_f64() == Some(1.0) => Ok(Direction::Asc),
            Value::Number(number) if number.as_f64() == Some(-1.0) => Ok(Direction::Desc),
            other => Err(shape(format!(
                "sort direction should be ASC or DESC, not {other}"
            ))),
        }
    };
    let key = |name: &str| -> Result<String, CriteriaError> {
        filterable(model, name)?;
        Ok(name.to_owned())
    };
    let mut sort = Vec::new();
    match value {
        Value::String(text) => {
            for part in text
                .split(',')
                .map(str::trim)
                .filter(|part| !part.is_empty())
            {
                let mut words = part.split_whitespace();
                let name = words.next().unwrap_or_default();
                let order = match words.next() {
                    Some(word) => direction(&Value::String(word.to_owned()))?,
                    None => Direction::Asc,
                };
                if words.next().is_some() {
                    return Err(shape(format!("cannot sort by `{part}`")));
                }
                sort.push((key(name)?, order));
            }
        }
        Value::Object(object) => {
            for (name, order) in object {
                sort.push((key(name)?, direction(order)?));
            }
        }
        Value::Array(items) => {
            for item in items {
                match item {
                    Value::String(_) | Value::Object(_) => sort.extend(parse_sort(model, item)?),
                    other => return Err(shape(format!("cannot sort by {other}"))),
                }
            }
        }
        other => return Err(shape(format!("cannot sort by {other}"))),
    }
    Ok(sort)
}

fn parse_names(model: &Model, value: &Value, clause: &str) -> Result<Vec<String>, CriteriaError> {
    let names: Vec<String> = match value {
        Value::String(text) => text.split(',').map(|name| name.trim().to_owned()).collect(),
        Value::Array(items) => items
            .iter()
            .map(|item| {
                item.as_str()
                    .map(str::to_owned)
                    .ok_or_else(|| shape(format!("`{clause}` should list attribute names")))
            })
            .collect::<Result<_, _>>()?,
        _ => return Err(shape(format!("`{clause}` should list attribute names"))),
    };
    for name in &names {
        if name == "*" && clause == "select" {
            continue;
        }
        if model.get(name).is_none() {
            return Err(CriteriaError::UnknownAttribute(name.clone()));
        }
    }
    Ok(names)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::Attribute;
    use crate::sql::Dialect;

    fn pet() -> Model {
        Model::new("pet")
            .attribute("name", Attribute::string())
            .attribute("age", Attribute::number())
            .attribute("indoor", Attribute::boolean())
            .attribute("tags", Attribute::json())
            .belongs_to("owner", "user")
            .collection("friends", "pet", None)
    }

    fn sql_of(criteria: Value) -> (String, Vec<SqlValue>) {
        let model = pet();
        let parsed = Criteria::parse(&model, &criteria).unwrap();
        let mut sql = Sql::new(Dialect::Sqlite);
        parsed.write_sql(&model, &mut sql);
        (sql.text, sql.params)
    }

    fn error_of(criteria: Value) -> CriteriaError {
        Criteria::parse(&pet(), &criteria).unwrap_err()
    }

    #[test]
    fn a_dictionary_without_clauses_is_the_where() {
        let (text, params) = sql_of(json!({"name": "Rex", "age": 3}));
        assert_eq!(text, " WHERE ((\"name\" = ?) AND (\"age\" = ?))");
        assert_eq!(params, [SqlValue::Text("Rex".into()), SqlValue::Integer(3)]);
    }

    #[test]
    fn a_key_or_list_of_keys_selects_by_primary_key() {
        assert_eq!(sql_of(json!(7)).0, " WHERE (\"id\" = ?)");
        assert_eq!(sql_of(json!([1, 2])).0, " WHERE (\"id\" IN (?, ?))");
    }

    #[test]
    fn every_modifier_becomes_sql() {
        let (text, params) = sql_of(json!({"where": {
            "age": {">": 1, "<=": "9"},
            "name": {"!=": "x", "nin": ["a", null], "contains": "5%"},
            "or": [{"name": {"startsWith": "R"}}, {"name": {"endsWith": "x"}}, {"name": {"like": "R_x%"}}],
            "owner": {"in": [1, 2]},
            "indoor": {"<": true}
        }}));
        assert_eq!(
            text,
            " WHERE (((\"age\" > ?) AND (\"age\" <= ?)) AND \
             ((\"name\" != ? OR \"name\" IS NULL) AND (\"name\" NOT IN (?) AND \"name\" IS NOT NULL) \
             AND (\"name\" LIKE ? ESCAPE '\\')) AND ((\"name\" LIKE ? ESCAPE '\\') OR \
             (\"name\" LIKE ? ESCAPE '\\') OR (\"name\" LIKE ?)) AND (\"owner\" IN (?, ?)) AND (\"indoor\" < ?))"
        );
        assert_eq!(params[1], SqlValue::Integer(9));
        assert_eq!(params[4], SqlValue::Text("%5\\%%".into()));
        assert_eq!(params[7], SqlValue::Text("R_x%".into()));
        assert_eq!(params[10], SqlValue::Bool(true));
    }

    #[test]
    fn null_comparisons_use_is_null() {
        assert_eq!(
            sql_of(json!({"owner": null, "name": {"!=": null}})).0,
            " WHERE ((\"owner\" IS NULL) AND (\"name\" IS NOT NULL))"
        );
    }

    #[test]
    fn sort_accepts_string_object_and_array_forms() {
        let model = pet();
        let expected = vec![
            ("name".to_owned(), Direction::Desc),
            ("age".to_owned(), Direction::Asc),
        ];
        for sort in [
            json!("name DESC, age"),
            json!({"name": "desc", "age": 1}),
            json!([{"name": "DESC"}, "age ASC"]),
        ] {
            let criteria = Criteria::parse(&model, &json!({"sort": sort})).unwrap();
            assert_eq!(criteria.sort, expected, "{sort}");
        }
        let (text, _) = sql_of(json!({"sort": "age DESC", "limit": 2, "skip": "4"}));
        assert_eq!(text, " ORDER BY \"age\" DESC LIMIT ? OFFSET ?");
        let (text, _) = sql_of(json!({"skip": 3}));
        assert_eq!(text, " LIMIT -1 OFFSET ?");
    }

    #[test]
    fn select_and_omit_name_attributes() {
        let model = pet();
        let criteria = Criteria::parse(&model, &json!({"select": "name, age"})).unwrap();
        assert!(criteria.keeps(&model, "id") && criteria.keeps(&model, "name"));
        assert!(!criteria.keeps(&model, "owner"));
        let criteria = Criteria::parse(&model, &json!({"omit": ["name"]})).unwrap();
        assert!(!criteria.keeps(&model, "name") && criteria.keeps(&model, "age"));
        assert_eq!(
            error_of(json!({"omit": ["id"]})),
            shape("the primary key cannot be omitted")
        );
    }

    #[test]
    fn malformed_criteria_give_typed_errors() {
        assert!(matches!(
            error_of(json!({"where": true})),
            CriteriaError::Shape(_)
        ));
        assert!(matches!(
            error_of(json!({"where": "name"})),
            CriteriaError::BadValue { .. }
        ));
        assert_eq!(
            sql_of(json!({"where": [1, 2]})).0,
            " WHERE (\"id\" IN (?, ?))"
        );
        assert_eq!(sql_of(json!({"where": 5})).0, " WHERE (\"id\" = ?)");
        assert_eq!(
            error_of(json!({"colour": "red"})),
            CriteriaError::UnknownAttribute("colour".into())
        );
        assert_eq!(
            error_of(json!({"friends": 1})),
            CriteriaError::UnknownAttribute("friends".into())
        );
        assert_eq!(
            error_of(json!({"name": {"regex": "x"}})),
            CriteriaError::UnknownModifier("regex".into())
        );
        for bad in [
            json!({"age": {"contains": "1"}}),
            json!({"age": "three"}),
            json!({"name": {}}),
            json!({"name": {"in": "a"}}),
            json!({"name": {"<": null}}),
            json!({"name": {"a": {"b": 1}}}),
            json!({"tags": "x"}),
            json!({"or": []}),
            json!({"or": {"name": "x"}}),
            json!({"or": [1]}),
            json!({"where": {}, "having": 1}),
            json!({"sort": "name sideways"}),
            json!({"sort": "nope"}),
            json!({"sort": 5}),
            json!({"select": [1]}),
        ] {
            assert!(Criteria::parse(&pet(), &bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn limit_and_skip_are_bounded_whole_numbers() {
        let model = pet();
        for bad in [
            json!(1.5),
            json!("ten"),
            json!(1e300),
            json!(null),
            json!([1]),
        ] {
            assert!(
                Criteria::parse(&model, &json!({"limit": bad})).is_err(),
                "{bad}"
            );
            assert!(
                Criteria::parse(&model, &json!({"skip": bad})).is_err(),
                "{bad}"
            );
        }
        assert!(Criteria::parse(&model, &json!({"skip": -1})).is_err());
        let criteria = Criteria::parse(&model, &json!({"limit": -1})).unwrap();
        assert_eq!(criteria.limit, None, "a negative limit is no limit");
        let criteria = Criteria::parse(&model, &json!({"limit": "9007199254740991"})).unwrap();
        assert_eq!(criteria.limit, Some(9_007_199_254_740_991));
    }

    #[test]
    fn deep_nesting_is_refused_not_overflowed() {
        let mut criteria = json!({"name": "x"});
        for _ in 0..100 {
            criteria = json!({"or": [criteria]});
        }
        assert!(matches!(
            Criteria::parse(&pet(), &json!({"where": criteria})),
            Err(CriteriaError::Shape(_))
        ));
    }

    #[test]
    fn injection_shaped_input_stays_in_parameters_or_is_refused() {
        let hostile = "x\" OR 1=1; DROP TABLE \"pet\"; --";
        let (text, params) = sql_of(json!({"name": hostile, "or": [{"name": {"like": hostile}}]}));
        assert!(!text.contains("DROP"), "{text}");
        assert!(params.contains(&SqlValue::Text(hostile.into())));
        assert_eq!(
            error_of(json!({hostile: 1})),
            CriteriaError::UnknownAttribute(hostile.into())
        );
        assert!(Criteria::parse(&pet(), &json!({"sort": format!("name; {hostile}")})).is_err());
        assert!(Criteria::parse(&pet(), &json!({"sort": {"name": hostile}})).is_err());
        assert!(Criteria::parse(&pet(), &json!({"select": [hostile]})).is_err());
    }
}
