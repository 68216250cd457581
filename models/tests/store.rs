//! The model API on an in-memory SQLite store (and a file, for `migrate`).

mod common;

use std::sync::Arc;

use common::{Backend, database_url, on_every_store};
use sails_models::{Attribute, Migrate, ModelError, Models, Rule, Store};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

const INTEROP: &str = r#"
[user.attributes]
name = { type = "string" }
email = { type = "string", unique = true, allowNull = true }
pets = { collection = "pet", via = "owner" }
clubs = { collection = "club", via = "members" }

[pet.attributes]
name = { type = "string", required = true }
species = { type = "string" }
age = { type = "number", min = 0 }
owner = { model = "user" }

[club.attributes]
title = { type = "string" }
members = { collection = "user", via = "clubs" }
"#;

/// A store of the interop models in a fresh database of `backend` for the test `name`.
async fn store(backend: Backend, name: &str) -> Store {
    let url = database_url(backend, name).await;
    let models = Models::from_toml(INTEROP).expect("models");
    Store::connect(&url, models, Migrate::Alter)
        .await
        .expect("store")
}

on_every_store!(
    create_fills_defaults_ids_and_timestamps,
    validation_errors_name_the_attribute_and_rule,
    unique_violations_are_typed,
    find_with_criteria_sort_limit_skip_select_omit,
    hostile_values_are_data_not_sql,
    update_returns_previous_and_destroy_unlinks_children,
    one_to_many_and_many_to_many_collections,
    typed_records_through_serde,
    concurrent_updates_of_one_record_all_land,
);

fn names(records: &[Value]) -> Vec<&str> {
    records
        .iter()
        .map(|record| record["name"].as_str().unwrap_or_default())
        .collect()
}

async fn create_fills_defaults_ids_and_timestamps(backend: Backend) {
    let store = store(backend, "create_fills_defaults_ids_and_timestamps").await;
    let pets = store.records("pet").unwrap();
    let rex = pets.create(&json!({"name": "Rex"})).await.unwrap();
    assert_eq!(rex["id"], 1);
    assert_eq!(rex["species"], "");
    assert_eq!(rex["age"], 0);
    assert_eq!(rex["owner"], Value::Null);
    assert!(rex["createdAt"].as_i64().unwrap() > 1_600_000_000_000);
    assert_eq!(rex["createdAt"], rex["updatedAt"]);
    let more = pets
        .create_each(&[json!({"name": "Bo"}), json!({"name": "Cy"})])
        .await
        .unwrap();
    assert_eq!(more[1]["id"], 3);
    assert_eq!(pets.count(&json!({})).await.unwrap(), 3);
    // A new record may bring its own id, as in Sails; a taken one is a unique violation.
    assert_eq!(
        pets.create(&json!({"name": "Di", "id": 50})).await.unwrap()["id"],
        50
    );
    assert!(matches!(
        pets.create(&json!({"name": "Ed", "id": 50})).await,
        Err(ModelError::Unique { .. })
    ));
    assert!(matches!(
        pets.create(&json!({"name": "Ed", "id": -2})).await,
        Err(ModelError::InvalidNewRecord(_))
    ));
    // Records list their attributes as Sails does: timestamps, key, then the model's own.
    let keys: Vec<&String> = rex.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        [
            "createdAt",
            "updatedAt",
            "id",
            "name",
            "species",
            "age",
            "owner"
        ]
    );
}

async fn validation_errors_name_the_attribute_and_rule(backend: Backend) {
    let store = store(backend, "validation_errors_name_the_attribute_and_rule").await;
    let pets = store.records("pet").unwrap();
    let error = pets
        .create(&json!({"species": "dog", "age": -1, "colour": "red"}))
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("E_INVALID_NEW_RECORD"));
    let problems: Vec<(&str, &str)> = error
        .problems()
        .iter()
        .map(|problem| (problem.attribute.as_str(), problem.rule.name()))
        .collect();
    assert!(problems.contains(&("name", "required")), "{problems:?}");
    assert!(problems.contains(&("age", "min")), "{problems:?}");
    assert!(problems.contains(&("colour", "unknown")), "{problems:?}");
    let rex = pets.create(&json!({"name": "Rex"})).await.unwrap();
    let error = pets
        .update_one(&rex["id"], &json!({"age": "old"}))
        .await
        .unwrap_err();
    assert_eq!(error.code(), Some("E_INVALID_VALUES_TO_SET"));
    assert_eq!(
        error.problems()[0].rule,
        Rule::Type(sails_models::AttributeType::Number)
    );
    // Nothing was created by the failed create.
    assert_eq!(pets.count(&Value::Null).await.unwrap(), 1);
}

async fn unique_violations_are_typed(backend: Backend) {
    let store = store(backend, "unique_violations_are_typed").await;
    let users = store.records("user").unwrap();
    users
        .create(&json!({"name": "Ann", "email": "a@x"}))
        .await
        .unwrap();
    let error = users
        .create(&json!({"name": "Bob", "email": "a@x"}))
        .await
        .unwrap_err();
    assert!(
        matches!(&error, ModelError::Unique { attribute } if attribute == "email"),
        "{error:?}"
    );
    // Several nulls do not collide.
    users.create(&json!({"name": "Cy"})).await.unwrap();
    users.create(&json!({"name": "Di"})).await.unwrap();
}

async fn find_with_criteria_sort_limit_skip_select_omit(backend: Backend) {
    let store = store(backend, "find_with_criteria_sort_limit_skip_select_omit").await;
    let pets = store.records("pet").unwrap();
    for (name, age) in [("Rex", 3), ("Bo", 5), ("Cy", 1), ("Rolo", 7)] {
        pets.create(&json!({"name": name, "age": age}))
            .await
            .unwrap();
    }
    let found = pets
        .find(&json!({"where": {"name": {"startsWith": "r"}}, "sort": "age DESC"}))
        .await
        .unwrap();
    assert_eq!(names(&found), ["Rolo", "Rex"]);
    let found = pets
        .find(&json!({"where": {"or": [{"age": {"<": 2}}, {"name": "Bo"}]}, "sort": [{"name": "ASC"}]}))
        .await
        .unwrap();
    assert_eq!(names(&found), ["Bo", "Cy"]);
    let found = pets
        .find(&json!({"sort": {"age": 1}, "limit": 2, "skip": 1}))
        .await
        .unwrap();
    assert_eq!(names(&found), ["Rex", "Bo"]);
    let found = pets
        .find(&json!({"where": {"age": {"in": [1, 7]}}, "select": ["name"]}))
        .await
        .unwrap();
    assert_eq!(found[0], json!({"id": 3, "name": "Cy"}));
    let found = pets
        .find(&json!({"where": {"name": {"nin": ["Rex"], "contains": "o"}}, "omit": ["createdAt", "updatedAt", "owner", "species"]}))
        .await
        .unwrap();
    assert_eq!(
        found,
        [
            json!({"id": 2, "name": "Bo", "age": 5}),
            json!({"id": 4, "name": "Rolo", "age": 7})
        ]
    );
    assert_eq!(
        pets.find_one(&json!(2)).await.unwrap().unwrap()["name"],
        "Bo"
    );
    assert!(pets.find_one(&json!(99)).await.unwrap().is_none());
    assert!(matches!(
        pets.find_one(&json!({"age": {">": 0}})).await,
        Err(ModelError::InvalidCriteria(_))
    ));
}

async fn hostile_values_are_data_not_sql(backend: Backend) {
    let store = store(backend, "hostile_values_are_data_not_sql").await;
    let pets = store.records("pet").unwrap();
    let hostile = "Rex'); DROP TABLE \"pet\"; --";
    pets.create(&json!({"name": hostile})).await.unwrap();
    let found = pets
        .find(&json!({"name": {"contains": "'); DROP"}}))
        .await
        .unwrap();
    assert_eq!(names(&found), [hostile]);
    assert_eq!(
        pets.find(&json!({"name": {"like": "%"}}))
            .await
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        pets.find(&json!({"name": {"contains": "%"}}))
            .await
            .unwrap()
            .len(),
        0
    );
    assert!(matches!(
        pets.find(&json!({"name\" OR 1=1 --": 1})).await,
        Err(ModelError::InvalidCriteria(_))
    ));
}

async fn update_returns_previous_and_destroy_unlinks_children(backend: Backend) {
    let store = store(
        backend,
        "update_returns_previous_and_destroy_unlinks_children",
    )
    .await;
    let users = store.records("user").unwrap();
    let pets = store.records("pet").unwrap();
    let ann = users.create(&json!({"name": "Ann"})).await.unwrap();
    let rex = pets
        .create(&json!({"name": "Rex", "owner": ann["id"]}))
        .await
        .unwrap();
    assert_eq!(rex["owner"], ann["id"]);
    let updated = pets
        .update_one(&json!({"id": rex["id"]}), &json!({"name": "Max"}))
        .await
        .unwrap()
        .unwrap();
    assert_eq!(updated.previous["name"], "Rex");
    assert_eq!(updated.record["name"], "Max");
    assert!(updated.record["updatedAt"].as_i64() >= updated.previous["updatedAt"].as_i64());
    assert!(
        pets.update_one(&json!(99), &json!({"name": "x"}))
            .await
            .unwrap()
            .is_none()
    );
    let destroyed = users.destroy_one(&ann["id"]).await.unwrap().unwrap();
    assert_eq!(destroyed["name"], "Ann");
    assert_eq!(
        pets.find_one(&rex["id"]).await.unwrap().unwrap()["owner"],
        Value::Null
    );
    assert!(users.destroy_one(&ann["id"]).await.unwrap().is_none());
}

async fn one_to_many_and_many_to_many_collections(backend: Backend) {
    let store = store(backend, "one_to_many_and_many_to_many_collections").await;
    let users = store.records("user").unwrap();
    let pets = store.records("pet").unwrap();
    let clubs = store.records("club").unwrap();
    let ann = users.create(&json!({"name": "Ann"})).await.unwrap();
    let bob = users.create(&json!({"name": "Bob"})).await.unwrap();
    let rex = pets.create(&json!({"name": "Rex"})).await.unwrap();
    let bo = pets.create(&json!({"name": "Bo"})).await.unwrap();
    users
        .add_to_collection(&ann["id"], "pets", &[rex["id"].clone(), bo["id"].clone()])
        .await
        .unwrap();
    users
        .remove_from_collection(&ann["id"], "pets", &[rex["id"].clone()])
        .await
        .unwrap();
    let mut found = users.find(&json!({})).await.unwrap();
    users
        .populate(&mut found, &["pets".into()], None)
        .await
        .unwrap();
    assert_eq!(names(found[0]["pets"].as_array().unwrap()), ["Bo"]);
    assert_eq!(found[1]["pets"], json!([]));

    let chess = clubs
        .create(&json!({"title": "chess", "members": [ann["id"], bob["id"]]}))
        .await
        .unwrap();
    let mut found = users.find(&json!({"name": "Bob"})).await.unwrap();
    users
        .populate(&mut found, &["clubs".into()], None)
        .await
        .unwrap();
    assert_eq!(found[0]["clubs"][0]["title"], "chess");
    clubs
        .replace_collection(&chess["id"], "members", &[bob["id"].clone()])
        .await
        .unwrap();
    let mut found = clubs.find(&json!({})).await.unwrap();
    clubs
        .populate(&mut found, &["members".into()], None)
        .await
        .unwrap();
    assert_eq!(names(found[0]["members"].as_array().unwrap()), ["Bob"]);

    let mut found = pets.find(&json!({"name": "Bo"})).await.unwrap();
    pets.populate(&mut found, &["owner".into()], None)
        .await
        .unwrap();
    assert_eq!(found[0]["owner"]["name"], "Ann");
    assert!(matches!(
        users.add_to_collection(&ann["id"], "name", &[]).await,
        Err(ModelError::UnknownCollection { .. })
    ));
    assert!(matches!(
        users.add_to_collection(&json!("abc"), "pets", &[]).await,
        Err(ModelError::InvalidId(_))
    ));
}

#[derive(Debug, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase")]
struct Pet {
    id: Option<i64>,
    name: String,
    species: String,
    #[serde(skip_serializing)]
    created_at: Option<i64>,
}

async fn typed_records_through_serde(backend: Backend) {
    let store = store(backend, "typed_records_through_serde").await;
    let pets = store.records("pet").unwrap();
    let rex: Pet = pets
        .create_as(&json!({"name": "Rex", "species": "dog"}))
        .await
        .unwrap();
    assert_eq!(rex.id, Some(1));
    assert!(rex.created_at.is_some());
    let all: Vec<Pet> = pets.find_as(&json!({})).await.unwrap();
    assert_eq!(all, [rex]);
}

async fn concurrent_updates_of_one_record_all_land(backend: Backend) {
    let store = store(backend, "concurrent_updates_of_one_record_all_land").await;
    let pets = Arc::new(store.records("pet").unwrap());
    let rex = pets
        .create(&json!({"name": "Rex", "age": 0}))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for age in 1..=20 {
        let pets = Arc::clone(&pets);
        let id = rex["id"].clone();
        tasks.push(tokio::spawn(async move {
            pets.update_one(&id, &json!({"age": age}))
                .await
                .unwrap()
                .unwrap()
        }));
    }
    let mut previous_ages = Vec::new();
    for task in tasks {
        previous_ages.push(task.await.unwrap().previous["age"].as_i64().unwrap());
    }
    // Each update saw the record as the one before it left it: 21 distinct states.
    previous_ages.sort_unstable();
    previous_ages.dedup();
    assert_eq!(previous_ages.len(), 20);
}

#[tokio::test]
async fn migrate_alter_keeps_data_and_adds_columns_drop_empties_safe_touches_nothing() {
    let directory = std::env::temp_dir().join(format!("sails-models-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let file = directory.join("migrate.db");
    let _ = std::fs::remove_file(&file);
    let url = format!("sqlite://{}", file.display());
    let before = Models::from_toml("[pet.attributes]\nname = { type = \"string\" }").unwrap();
    let store = Store::connect(&url, before.clone(), Migrate::Alter)
        .await
        .unwrap();
    store
        .records("pet")
        .unwrap()
        .create(&json!({"name": "Rex"}))
        .await
        .unwrap();
    drop(store);

    let after = Models::new()
        .model(
            sails_models::Model::new("pet")
                .attribute("name", Attribute::string())
                .attribute("age", Attribute::number()),
        )
        .validate()
        .unwrap();
    let store = Store::connect(&url, after.clone(), Migrate::Alter)
        .await
        .unwrap();
    let pets = store.records("pet").unwrap();
    let found = pets.find(&json!({})).await.unwrap();
    assert_eq!(found[0]["name"], "Rex");
    assert_eq!(found[0]["age"], Value::Null);
    drop(store);

    let store = Store::connect(&url, after.clone(), Migrate::Safe)
        .await
        .unwrap();
    assert_eq!(
        store
            .records("pet")
            .unwrap()
            .count(&json!({}))
            .await
            .unwrap(),
        1
    );
    drop(store);

    let store = Store::connect(&url, after, Migrate::Drop).await.unwrap();
    assert_eq!(
        store
            .records("pet")
            .unwrap()
            .count(&json!({}))
            .await
            .unwrap(),
        0
    );
    drop(store);
    let _ = std::fs::remove_dir_all(&directory);
}

/// Two stores on one database (two servers, say) update one record at once:
/// each update reads the record as the one before it left it.
async fn two_stores_update_one_record(url: &str) {
    let models = Models::from_toml(INTEROP).expect("models");
    let first = Store::connect(url, models.clone(), Migrate::Drop)
        .await
        .unwrap();
    let second = Store::connect(url, models, Migrate::Safe).await.unwrap();
    let rex = first
        .records("pet")
        .unwrap()
        .create(&json!({"name": "Rex", "age": 0}))
        .await
        .unwrap();
    let mut tasks = Vec::new();
    for age in 1..=20 {
        let store = if age % 2 == 0 {
            first.clone()
        } else {
            second.clone()
        };
        let id = rex["id"].clone();
        tasks.push(tokio::spawn(async move {
            let pets = store.records("pet").unwrap();
            let updated = pets
                .update_one(&id, &json!({"age": age}))
                .await
                .unwrap()
                .unwrap();
            updated.previous["age"].as_i64().unwrap()
        }));
    }
    let mut previous_ages = Vec::new();
    for task in tasks {
        previous_ages.push(task.await.unwrap());
    }
    previous_ages.sort_unstable();
    previous_ages.dedup();
    assert_eq!(
        previous_ages.len(),
        20,
        "no two updates saw the same record"
    );
}

#[tokio::test]
async fn two_stores_on_one_sqlite_file_serialise_their_updates() {
    let directory = std::env::temp_dir().join(format!("sails-models-two-{}", std::process::id()));
    std::fs::create_dir_all(&directory).unwrap();
    let url = format!("sqlite://{}", directory.join("two.db").display());
    two_stores_update_one_record(&url).await;
    let _ = std::fs::remove_dir_all(&directory);
}

#[tokio::test]
async fn two_stores_on_one_postgres_database_serialise_their_updates() {
    let url = database_url(Backend::Postgres, "two_stores").await;
    two_stores_update_one_record(&url).await;
}
