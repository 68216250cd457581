//! Errors of the model API: validation problems, bad criteria, unique
//! violations, missing records and database failures.

use std::fmt;

use serde_json::Value;

use crate::types::AttributeType;

/// Why criteria cannot be used.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum CriteriaError {
    /// The criteria (or a clause) is not of a usable JSON shape.
    #[error("{0}")]
    Shape(String),
    /// An attribute named in the criteria does not exist (or is a collection).
    #[error("`{0}` is not an attribute that can be used in criteria")]
    UnknownAttribute(String),
    /// An operator (modifier) is not one Waterline knows.
    #[error("unknown modifier `{0}`")]
    UnknownModifier(String),
    /// A value does not fit the attribute or the modifier.
    #[error("`{attribute}`: {reason}")]
    BadValue {
        /// The attribute compared.
        attribute: String,
        /// What is wrong with the value.
        reason: String,
    },
}

/// The rule a value breaks.
#[derive(Debug, Clone, PartialEq)]
pub enum Rule {
    /// The value is not of the attribute's type.
    Type(AttributeType),
    /// A required attribute of this type has no value.
    Required(AttributeType),
    /// The model has no such attribute.
    Unknown,
    /// The value is not one of the listed ones.
    IsIn(Vec<Value>),
    /// The number is below the minimum.
    Min(f64),
    /// The number is above the maximum.
    Max(f64),
    /// The string is shorter than the minimum.
    MinLength(usize),
    /// The string is longer than the maximum.
    MaxLength(usize),
    /// The values are not a JSON object.
    NotADictionary,
}

impl fmt::Display for Rule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Type(kind) => write!(f, "should be a {}", kind.name()),
            Self::Required(_) => f.write_str("is required"),
            Self::Unknown => f.write_str("is not an attribute of this model"),
            Self::IsIn(values) => {
                let values: Vec<String> = values.iter().map(Value::to_string).collect();
                write!(f, "should be one of {}", values.join(", "))
            }
            Self::Min(min) => write!(f, "should be at least {min}"),
            Self::Max(max) => write!(f, "should be at most {max}"),
            Self::MinLength(min) => write!(f, "should be at least {min} characters long"),
            Self::MaxLength(max) => write!(f, "should be at most {max} characters long"),
            Self::NotADictionary => f.write_str("the values should be a dictionary"),
        }
    }
}

impl Rule {
    /// The rule's name as Sails' validations call it.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Type(_) => "type",
            Self::Required(_) => "required",
            Self::Unknown => "unknown",
            Self::IsIn(_) => "isIn",
            Self::Min(_) => "min",
            Self::Max(_) => "max",
            Self::MinLength(_) => "minLength",
            Self::MaxLength(_) => "maxLength",
            Self::NotADictionary => "dictionary",
        }
    }
}

/// One attribute's problem.
#[derive(Debug, Clone, PartialEq)]
pub struct Problem {
    /// The attribute (empty when the problem is the whole value).
    pub attribute: String,
    /// The rule broken.
    pub rule: Rule,
}

impl Problem {
    pub(crate) fn new(attribute: &str, rule: Rule) -> Self {
        Self {
            attribute: attribute.to_owned(),
            rule,
        }
    }
}

impl Problem {
    /// The problem in Waterline's words, where Sails' answers quote them.
    pub fn sails_text(&self) -> String {
        match &self.rule {
            Rule::Required(kind) => format!(
                "Missing value for required attribute `{}`.  Expected a {}, but instead, got: undefined",
                self.attribute,
                kind.name()
            ),
            _ => self.to_string(),
        }
    }
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.attribute.is_empty() {
            write!(f, "{}", self.rule)
        } else {
            write!(f, "`{}` {}", self.attribute, self.rule)
        }
    }
}

fn list(problems: &[Problem]) -> String {
    let problems: Vec<String> = problems.iter().map(Problem::to_string).collect();
    problems.join("; ")
}

/// Why a model operation failed.
#[derive(Debug, thiserror::Error)]
pub enum ModelError {
    /// No model has this identity.
    #[error("no model is named `{0}`")]
    UnknownModel(String),
    /// The model has no collection of this name.
    #[error("`{model}` has no collection `{attribute}`")]
    UnknownCollection {
        /// The model.
        model: String,
        /// The attribute named.
        attribute: String,
    },
    /// The values of a new record break the model's rules (`E_INVALID_NEW_RECORD`).
    #[error("invalid new record: {}", list(.0))]
    InvalidNewRecord(Vec<Problem>),
    /// The values of an update break the model's rules (`E_INVALID_VALUES_TO_SET`).
    #[error("invalid values to set: {}", list(.0))]
    InvalidValuesToSet(Vec<Problem>),
    /// The criteria cannot be understood (`E_INVALID_CRITERIA`).
    #[error("invalid criteria: {0}")]
    InvalidCriteria(#[from] CriteriaError),
    /// A record key is not of the model's key type.
    #[error("`{0}` is not a valid record id")]
    InvalidId(Value),
    /// A value of a `unique` attribute (or the key) is already taken (`E_UNIQUE`).
    #[error("a record with that `{attribute}` already exists")]
    Unique {
        /// The attribute whose value is taken.
        attribute: String,
    },
    /// No record matched.
    #[error("no record matches")]
    NotFound,
    /// A record read from the store could not be turned into the requested type.
    #[error("record does not fit the requested type: {0}")]
    Decode(#[from] serde_json::Error),
    /// The store failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A publish or subscription of the realtime layer failed.
    #[error("realtime: {0}")]
    Realtime(#[from] sails_server::SocketsError),
    /// The SQLite file was removed or replaced while the store had it open:
    /// a write would land in a file no one can open again, so none is made.
    #[error("the database file `{0}` was removed or replaced while the store had it open")]
    DatabaseFileGone(std::path::PathBuf),
}

impl ModelError {
    /// Sails' error code for the error, where it has one.
    pub fn code(&self) -> Option<&'static str> {
        match self {
            Self::InvalidNewRecord(_) => Some("E_INVALID_NEW_RECORD"),
            Self::InvalidValuesToSet(_) => Some("E_INVALID_VALUES_TO_SET"),
            Self::InvalidCriteria(_) | Self::InvalidId(_) => Some("E_INVALID_CRITERIA"),
            Self::Unique { .. } => Some("E_UNIQUE"),
            Self::NotFound => Some("E_NOT_FOUND"),
            _ => None,
        }
    }

    /// The validation problems, for the two validation errors.
    pub fn problems(&self) -> &[Problem] {
        match self {
            Self::InvalidNewRecord(problems) | Self::InvalidValuesToSet(problems) => problems,
            _ => &[],
        }
    }

    /// Whether the fault is the caller's (bad values or criteria), not the store's.
    pub fn is_usage_error(&self) -> bool {
        matches!(
            self,
            Self::InvalidNewRecord(_)
                | Self::InvalidValuesToSet(_)
                | Self::InvalidCriteria(_)
                | Self::InvalidId(_)
                | Self::UnknownCollection { .. }
        )
    }
}
