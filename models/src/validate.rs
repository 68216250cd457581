//! Values of new records and of updates, checked and coerced against a
//! model's attributes (as Waterline does before a query reaches the store).

use serde_json::{Map, Value};

use crate::error::{Problem, Rule};
use crate::model::{CREATED_AT, Kind, Model, UPDATED_AT};
use crate::types::{AttributeType, coerce};

/// `value` coerced to `kind`, or why it does not fit (the rule it breaks).
fn fit(kind: AttributeType, value: &Value, allow_null: bool) -> Result<Value, Rule> {
    coerce(kind, value, allow_null).ok_or(Rule::Type(kind))
}

/// The base value Waterline gives an attribute a new record leaves out.
fn base_value(kind: AttributeType) -> Value {
    match kind {
        AttributeType::String => Value::String(String::new()),
        AttributeType::Number => Value::from(0),
        AttributeType::Boolean => Value::Bool(false),
        AttributeType::Json | AttributeType::Ref => Value::Null,
    }
}

/// Whether a new record or an update is being checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Purpose {
    NewRecord,
    ValuesToSet,
}

/// Checked values: the columns to write, and the collections given (each a
/// list of child keys) for the store to link.
#[derive(Debug, Default)]
pub(crate) struct Checked {
    pub(crate) columns: Map<String, Value>,
    pub(crate) collections: Vec<(String, Vec<Value>)>,
}

/// Checks `values` for `model`: unknown attributes, types, `required`,
/// `isIn`, `min`/`max`, lengths; fills defaults of a new record and the
/// timestamps (`now`, ms since the epoch). Every problem is reported, not
/// only the first.
pub(crate) fn check(
    model: &Model,
    key_type_of: impl Fn(&str) -> AttributeType,
    values: &Value,
    purpose: Purpose,
    now: i64,
) -> Result<Checked, Vec<Problem>> {
    let Value::Object(values) = values else {
        return Err(vec![Problem::new("", Rule::NotADictionary)]);
    };
    let mut problems = Vec::new();
    let mut checked = Checked::default();
    for (name, value) in values {
        let Some(attribute) = model.get(name) else {
            if model.schema {
                problems.push(Problem::new(name, Rule::Unknown));
            }
            continue;
        };
        if name == model.primary_key() && purpose == Purpose::ValuesToSet {
            // An update never changes a key.
            continue;
        }
        if name == model.primary_key() && model.auto_key() {
            // A new record may bring its own key, as in Sails; else the database gives one.
            match fit(AttributeType::Number, value, true) {
                Ok(Value::Null) => {}
                Ok(key) if key.as_i64().is_some_and(|key| key > 0) => {
                    checked.columns.insert(name.clone(), key);
                }
                _ => problems.push(Problem::new(name, Rule::Type(AttributeType::Number))),
            }
            continue;
        }
        if model.timestamps && (name == CREATED_AT || name == UPDATED_AT) {
            continue;
        }
        match &attribute.kind {
            Kind::Collection { model: target, .. } => {
                let key_type = key_type_of(target);
                let ids = match value {
                    Value::Array(ids) => ids.clone(),
                    Value::Null => Vec::new(),
                    other => vec![other.clone()],
                };
                let mut keys = Vec::new();
                for id in &ids {
                    match fit(key_type, id, false) {
                        Ok(key) => keys.push(key),
                        Err(rule) => problems.push(Problem::new(name, rule)),
                    }
                }
                checked.collections.push((name.clone(), keys));
            }
            Kind::Model(target) => match fit(key_type_of(target), value, true) {
                Ok(key) => {
                    checked.columns.insert(name.clone(), key);
                }
                Err(rule) => problems.push(Problem::new(name, rule)),
            },
            Kind::Value(kind) => match fit(*kind, value, attribute.allow_null) {
                Ok(value) => {
                    if let Err(rule) = check_rules(attribute, &value) {
                        problems.push(Problem::new(name, rule));
                    } else {
                        checked.columns.insert(name.clone(), value);
                    }
                }
                Err(rule) => problems.push(Problem::new(name, rule)),
            },
        }
    }
    if purpose == Purpose::NewRecord {
        fill_new_record(model, &mut checked, &mut problems);
    }
    if model.timestamps {
        if purpose == Purpose::NewRecord {
            checked.columns.insert(CREATED_AT.into(), Value::from(now));
        }
        checked.columns.insert(UPDATED_AT.into(), Value::from(now));
    }
    if problems.is_empty() {
        Ok(checked)
    } else {
        Err(problems)
    }
}

fn fill_new_record(model: &Model, checked: &mut Checked, problems: &mut Vec<Problem>) {
    for (name, attribute) in model.columns() {
        if model.auto_key() && name == model.primary_key() {
            continue;
        }
        if model.timestamps && (name == CREATED_AT || name == UPDATED_AT) {
            continue;
        }
        let given = checked.columns.get(name);
        let missing = matches!(given, None | Some(Value::Null))
            || matches!(given, Some(Value::String(text)) if text.is_empty());
        let required = attribute.required || name == model.primary_key();
        if required && missing {
            if !problems.iter().any(|problem| problem.attribute == name) {
                let kind = match &attribute.kind {
                    Kind::Value(kind) => *kind,
                    _ => AttributeType::Number,
                };
                problems.push(Problem::new(name, Rule::Required(kind)));
            }
            continue;
        }
        if given.is_some() {
            continue;
        }
        let value = match (&attribute.default, &attribute.kind) {
            (Some(default), _) => default.clone(),
            (None, _) if attribute.allow_null => Value::Null,
            (None, Kind::Value(kind)) => base_value(*kind),
            (None, _) => Value::Null,
        };
        checked.columns.insert(name.to_owned(), value);
    }
}

/// `isIn`, `min`, `max`, `minLength`, `maxLength` (never applied to `null`).
fn check_rules(attribute: &crate::model::Attribute, value: &Value) -> Result<(), Rule> {
    if value.is_null() {
        return Ok(());
    }
    if let Some(allowed) = &attribute.is_in
        && !allowed.contains(value)
    {
        return Err(Rule::IsIn(allowed.clone()));
    }
    if let Some(number) = value.as_f64() {
        if let Some(min) = attribute.min
            && number < min
        {
            return Err(Rule::Min(min));
        }
        if let Some(max) = attribute.max
            && number > max
        {
            return Err(Rule::Max(max));
        }
    }
    if let Some(text) = value.as_str() {
        let length = text.chars().count();
        if let Some(min) = attribute.min_length
            && length < min
        {
            return Err(Rule::MinLength(min));
        }
        if let Some(max) = attribute.max_length
            && length > max
        {
            return Err(Rule::MaxLength(max));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::model::Attribute;

    fn pet() -> Model {
        Model::new("pet")
            .attribute("name", Attribute::string().required())
            .attribute("age", Attribute::number().min(0.0).max(40.0))
            .attribute("species", Attribute::string().is_in(["cat", "dog"]))
            .attribute("indoor", Attribute::boolean())
            .attribute("tags", Attribute::json())
            .attribute("nickname", Attribute::string().allow_null())
            .attribute("legs", Attribute::number().defaults_to(json!(4)))
    }

    fn check_new(values: Value) -> Result<Checked, Vec<Problem>> {
        check(
            &pet(),
            |_| AttributeType::Number,
            &values,
            Purpose::NewRecord,
            7,
        )
    }

    #[test]
    fn a_new_record_gets_defaults_base_values_and_timestamps() {
        let checked = check_new(json!({"name": "Rex"})).unwrap();
        assert_eq!(
            Value::Object(checked.columns),
            json!({"name": "Rex", "age": 0, "species": "", "indoor": false, "tags": null,
                   "nickname": null, "legs": 4, "createdAt": 7, "updatedAt": 7})
        );
    }

    #[test]
    fn strings_from_a_query_string_are_coerced() {
        let checked = check_new(json!({"name": "Rex", "age": "3.5", "indoor": "true"})).unwrap();
        assert_eq!(checked.columns["age"], json!(3.5));
        assert_eq!(checked.columns["indoor"], json!(true));
    }

    #[test]
    fn every_problem_is_reported_with_its_rule() {
        let problems = check_new(json!({
            "age": 99, "species": "fish", "indoor": "maybe", "colour": "red", "nickname": null
        }))
        .unwrap_err();
        let found: Vec<(&str, &Rule)> = problems
            .iter()
            .map(|problem| (problem.attribute.as_str(), &problem.rule))
            .collect();
        assert!(found.contains(&("age", &Rule::Max(40.0))), "{found:?}");
        assert!(found.contains(&("species", &Rule::IsIn(vec![json!("cat"), json!("dog")]))));
        assert!(found.contains(&("indoor", &Rule::Type(AttributeType::Boolean))));
        assert!(found.contains(&("colour", &Rule::Unknown)));
        assert!(found.contains(&("name", &Rule::Required(AttributeType::String))));
        assert_eq!(found.len(), 5, "{found:?}");
    }

    #[test]
    fn wrong_types_and_null_are_refused() {
        for bad in [
            json!({"name": ["Rex"]}),
            json!({"name": {"a": 1}}),
            json!({"name": null}),
        ] {
            assert!(check_new(bad.clone()).is_err(), "{bad}");
        }
        assert!(check_new(json!({"name": "Rex", "age": "NaN"})).is_err());
        assert!(check_new(json!({"name": "Rex", "age": ""})).is_err());
        assert!(check_new(json!([1, 2])).is_err());
    }

    #[test]
    fn an_update_checks_only_what_it_sets_and_never_the_key() {
        let checked = check(
            &pet(),
            |_| AttributeType::Number,
            &json!({"age": 2, "id": 99}),
            Purpose::ValuesToSet,
            7,
        )
        .unwrap();
        assert_eq!(
            Value::Object(checked.columns),
            json!({"age": 2, "updatedAt": 7})
        );
    }
}
