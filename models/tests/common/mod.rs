//! What the store and blueprint suites share: a database per test, on SQLite
//! (in memory) or on PostgreSQL (`SAILS_MODELS_POSTGRES_URL`), and the macro
//! that runs each check on both.

/// Where a test keeps its records.
#[derive(Debug, Clone, Copy)]
pub(crate) enum Backend {
    /// An in-memory SQLite database.
    Sqlite,
    /// A database of the test's own on the PostgreSQL server named by
    /// `SAILS_MODELS_POSTGRES_URL`.
    Postgres,
}

/// The URL of a fresh, empty database for the test `name`.
pub(crate) async fn database_url(backend: Backend, name: &str) -> String {
    match backend {
        Backend::Sqlite => "sqlite::memory:".to_owned(),
        Backend::Postgres => {
            let url = std::env::var("SAILS_MODELS_POSTGRES_URL").expect(
                "SAILS_MODELS_POSTGRES_URL names a PostgreSQL server (postgres://user@host/database)",
            );
            sqlx::any::install_default_drivers();
            let admin = sqlx::AnyPool::connect(&url)
                .await
                .expect("connect to PostgreSQL");
            let database = format!("test_{name}");
            for statement in [
                format!("DROP DATABASE IF EXISTS \"{database}\""),
                format!("CREATE DATABASE \"{database}\""),
            ] {
                sqlx::query(sqlx::AssertSqlSafe(statement))
                    .execute(&admin)
                    .await
                    .expect("make the test database");
            }
            admin.close().await;
            let (server, _) = url.rsplit_once('/').expect("a database URL");
            format!("{server}/{database}")
        }
    }
}

/// Each check (an `async fn(Backend)`), on SQLite, and (ignored unless asked
/// for, as it needs a server) on PostgreSQL.
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
                #[ignore = "needs a PostgreSQL server named by SAILS_MODELS_POSTGRES_URL"]
                async fn $check() {
                    super::$check(super::common::Backend::Postgres).await;
                }
            )*
        }
    };
}
pub(crate) use on_every_store;
