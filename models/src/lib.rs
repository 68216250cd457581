#![doc = include_str!("../README.md")]

pub mod blueprints;
pub mod criteria;
mod error;
pub mod model;
mod sql;
mod store;
mod types;
mod validate;

pub use blueprints::{Blueprints, BlueprintsConfig, ModelBlueprints, Publishing};
pub use criteria::{Condition, Criteria, CriteriaError, Direction, Op};
pub use error::{ModelError, Problem, Rule};
pub use model::{Attribute, AttributeType, DefinitionError, Kind, Model, Models};
pub use sql::Dialect;
pub use store::{DATABASE_WAIT, Migrate, Records, Store, Updated};
