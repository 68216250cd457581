//! A database that goes away, is locked or stops while the server runs:
//! each blueprint request gets a JWR with a clear error within
//! `DATABASE_WAIT` (no panic, no hang), nothing is half written, and the
//! store works again once the database is back.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};

use sails_models::{Blueprints, DATABASE_WAIT, Migrate, Models, Store};
use sails_server::Sails;
use sails_testkit::postgres::TempPostgres;
use sails_testkit::{Client, serve};
use serde_json::{Value, json};
use sqlx::{Connection, Executor};

const MODELS: &str = include_str!("../../app/models.toml");

/// A server with the interop models' blueprints on the database at `url`.
async fn server(url: &str) -> (SocketAddr, Store) {
    let models = Models::from_toml(MODELS).expect("models");
    let store = Store::connect(url, models, Migrate::Drop)
        .await
        .expect("store");
    let (app, _) = Sails::builder().build(Blueprints::new(store.clone()).router());
    (serve(app).await, store)
}

/// A socket request's status and body, and how long the answer took.
async fn ask(client: &mut Client, method: &str, url: &str, data: Value) -> (u64, Value, Duration) {
    let started = Instant::now();
    let jwr = client.request(method, url, data).await;
    (
        jwr["statusCode"].as_u64().unwrap_or(0),
        jwr["body"].clone(),
        started.elapsed(),
    )
}

/// A failed request: Sails' 500 within the store's wait (and a little).
fn assert_failed_in_time((status, body, took): (u64, Value, Duration)) {
    assert_eq!((status, body), (500, json!("Internal Server Error")));
    assert!(
        took < DATABASE_WAIT + Duration::from_secs(1),
        "took {took:?}"
    );
}

/// A fresh directory for one test's SQLite file.
fn sqlite_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("sails-outage-{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// The names of the pets `GET /pet` answers.
async fn pet_names(client: &mut Client) -> Vec<String> {
    let (status, body, _) = ask(client, "get", "/pet", json!({})).await;
    assert_eq!(status, 200, "{body}");
    body.as_array()
        .expect("a list")
        .iter()
        .map(|pet| pet["name"].as_str().unwrap_or_default().to_owned())
        .collect()
}

#[tokio::test]
async fn a_removed_or_replaced_sqlite_file_refuses_writes() {
    for replaced in [false, true] {
        let dir = sqlite_dir(if replaced { "replaced" } else { "removed" });
        let file = dir.join("pets.db");
        let (addr, _store) = server(&format!("sqlite://{}", file.display())).await;
        let mut client = Client::connect(addr).await;
        let (status, ..) = ask(&mut client, "post", "/pet", json!({"name": "Rex"})).await;
        assert_eq!(status, 200);
        std::fs::remove_file(&file).unwrap();
        if replaced {
            std::fs::write(&file, b"").unwrap();
        }
        assert_failed_in_time(ask(&mut client, "post", "/pet", json!({"name": "Bo"})).await);
        assert_failed_in_time(ask(&mut client, "patch", "/pet/1", json!({"name": "Cy"})).await);
        assert_failed_in_time(ask(&mut client, "delete", "/pet/1", json!({})).await);
        // A read goes to whichever connection the pool hands out: one still
        // on the old file reads it unchanged, a new one finds no table.
        // Either way a clear answer, never what the refused writes wrote.
        let read = ask(&mut client, "get", "/pet", json!({})).await;
        match read.0 {
            200 => {
                let names: Vec<&str> = read.1.as_array().map_or_else(Vec::new, |pets| {
                    pets.iter().filter_map(|pet| pet["name"].as_str()).collect()
                });
                assert_eq!(names, ["Rex"], "{read:?}");
            }
            _ => assert_failed_in_time(read),
        }
        std::fs::remove_dir_all(&dir).unwrap();
    }
}

#[tokio::test]
async fn a_sqlite_file_locked_by_another_connection_fails_writes_in_time_then_takes_them() {
    let dir = sqlite_dir("locked");
    let url = format!("sqlite://{}", dir.join("pets.db").display());
    let (addr, _store) = server(&url).await;
    let mut client = Client::connect(addr).await;
    let (status, ..) = ask(&mut client, "post", "/pet", json!({"name": "Rex"})).await;
    assert_eq!(status, 200);

    // Another program holds the write lock.
    let mut other = sqlx::AnyConnection::connect(&url).await.unwrap();
    other.execute("BEGIN IMMEDIATE").await.unwrap();
    assert_failed_in_time(ask(&mut client, "post", "/pet", json!({"name": "Bo"})).await);
    assert_failed_in_time(
        ask(
            &mut client,
            "post",
            "/user",
            json!({"name": "Al", "pets": [1]}),
        )
        .await,
    );
    // Readers are not blocked (WAL), and nothing was half written.
    assert_eq!(pet_names(&mut client).await, ["Rex"]);
    let (_, users, _) = ask(&mut client, "get", "/user", json!({})).await;
    assert_eq!(users, json!([]));
    let (_, rex, _) = ask(&mut client, "get", "/pet/1", json!({})).await;
    assert_eq!(rex["owner"], Value::Null);

    other.execute("ROLLBACK").await.unwrap();
    let (status, ..) = ask(&mut client, "post", "/pet", json!({"name": "Bo"})).await;
    assert_eq!(status, 200);
    assert_eq!(pet_names(&mut client).await, ["Rex", "Bo"]);
    other.close().await.unwrap();
    std::fs::remove_dir_all(&dir).unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stopped_postgres_server_fails_requests_in_time_then_they_work_again() {
    let mut postgres = TempPostgres::start().unwrap_or_else(|error| panic!("{error}"));
    let url = postgres.database("outage").unwrap();
    let (addr, _store) = server(&url).await;
    let mut watcher = Client::connect(addr).await;
    let mut client = Client::connect(addr).await;
    assert!(pet_names(&mut watcher).await.is_empty());
    let (status, ..) = ask(&mut client, "post", "/pet", json!({"name": "Rex"})).await;
    assert_eq!(status, 200);
    assert_eq!(watcher.next_event("pet").await["verb"], "created");

    tokio::task::block_in_place(|| postgres.stop()).unwrap();
    assert_failed_in_time(ask(&mut client, "post", "/pet", json!({"name": "Bo"})).await);
    assert_failed_in_time(ask(&mut client, "get", "/pet", json!({})).await);
    assert_failed_in_time(ask(&mut client, "patch", "/pet/1", json!({"name": "Cy"})).await);

    // The pool connects again once the server is back.
    tokio::task::block_in_place(|| postgres.resume()).unwrap();
    let (status, body, _) = ask(&mut client, "patch", "/pet/1", json!({"name": "Cy"})).await;
    assert_eq!((status, &body["name"]), (200, &json!("Cy")), "{body}");
    let updated = watcher.next_event("pet").await;
    assert_eq!(
        (&updated["verb"], &updated["data"]["name"]),
        (&json!("updated"), &json!("Cy"))
    );
    let (status, ..) = ask(&mut client, "post", "/pet", json!({"name": "Bo"})).await;
    assert_eq!(status, 200);
    assert_eq!(pet_names(&mut client).await, ["Cy", "Bo"]);
    assert_eq!(watcher.next_event("pet").await["data"]["name"], "Bo");
}
