//! Waterline's attribute types, and loose input coerced to them.

use serde::Deserialize;
use serde_json::Value;

/// The type of a plain attribute (Waterline's types).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AttributeType {
    /// A string.
    String,
    /// A number (integer or floating point).
    Number,
    /// `true` or `false`.
    Boolean,
    /// Any JSON value.
    Json,
    /// Any value, stored as JSON.
    Ref,
}

impl AttributeType {
    /// The type's name as Sails spells it.
    pub fn name(self) -> &'static str {
        match self {
            Self::String => "string",
            Self::Number => "number",
            Self::Boolean => "boolean",
            Self::Json => "json",
            Self::Ref => "ref",
        }
    }
}

/// `value` coerced to `kind` as Waterline coerces loose input (`"3"` to a
/// number, `"true"` to a boolean, a number to a string); `None` when it does
/// not fit.
pub(crate) fn coerce(kind: AttributeType, value: &Value, allow_null: bool) -> Option<Value> {
    match (kind, value) {
        (AttributeType::Json | AttributeType::Ref, value) => Some(value.clone()),
        (_, Value::Null) if allow_null => Some(Value::Null),
        (AttributeType::String, Value::String(_)) => Some(value.clone()),
        (AttributeType::String, Value::Number(number)) => Some(Value::String(number.to_string())),
        (AttributeType::Number, Value::Number(_)) => Some(value.clone()),
        (AttributeType::Number, Value::String(text)) => {
            let number: f64 = text.trim().parse().ok()?;
            if text.trim().is_empty() {
                return None;
            }
            number_value(number)
        }
        (AttributeType::Boolean, Value::Bool(_)) => Some(value.clone()),
        (AttributeType::Boolean, Value::String(text)) => match text.as_str() {
            "true" | "1" => Some(Value::Bool(true)),
            "false" | "0" => Some(Value::Bool(false)),
            _ => None,
        },
        (AttributeType::Boolean, Value::Number(number)) => match number.as_f64() {
            Some(1.0) => Some(Value::Bool(true)),
            Some(0.0) => Some(Value::Bool(false)),
            _ => None,
        },
        _ => None,
    }
}

/// A finite number as JSON: an integer when it is one.
pub(crate) fn number_value(number: f64) -> Option<Value> {
    if !number.is_finite() {
        return None;
    }
    if number.fract() == 0.0 && number.abs() < 9_007_199_254_740_992.0 {
        return Some(Value::from(number as i64));
    }
    serde_json::Number::from_f64(number).map(Value::Number)
}
