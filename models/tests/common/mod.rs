//! What the store and blueprint suites share: a database per test, on SQLite
//! (in memory) or on a temporary PostgreSQL server, and the macro that runs
//! each check on both.

use std::sync::OnceLock;

use sails_testkit::postgres::TempPostgres;

/// Where a test keeps its records.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Backend {
    /// An in-memory SQLite database.
    Sqlite,
    /// A database of the test's own on this test program's temporary
    /// PostgreSQL server.
    Postgres,
}

/// This test program's PostgreSQL server, started by the first test that
/// needs it; it stops, and its files go, when the program ends.
pub(crate) fn postgres() -> &'static TempPostgres {
    static SERVER: OnceLock<TempPostgres> = OnceLock::new();
    SERVER.get_or_init(|| TempPostgres::start().unwrap_or_else(|error| panic!("{error}")))
}

/// The URL of a fresh, empty database for the test `name`.
pub(crate) async fn database_url(backend: Backend, name: &str) -> String {
    match backend {
        Backend::Sqlite => "sqlite::memory:".to_owned(),
        Backend::Postgres => tokio::task::spawn_blocking({
            let name = format!("test_{name}");
            move || postgres().database(&name)
        })
        .await
        .expect("made the database")
        .unwrap_or_else(|error| panic!("{error}")),
    }
}

/// Each check (an `async fn(Backend)`), on SQLite and on PostgreSQL.
macro_rules! on_every_store {
    ($($check:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $check() {
                    super::$check(super::common::Backend::Sqlite).await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $check() {
                    super::$check(super::common::Backend::Postgres).await;
                }
            )*
        }
    };
}
pub(crate) use on_every_store;
