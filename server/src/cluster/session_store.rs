//! Sessions in Redis, so that every server of a cluster knows every session:
//! a page's HTTP requests and its socket may reach different servers.

use std::fmt;

use async_trait::async_trait;
use fred::clients::Client;
use fred::interfaces::KeysInterface;
use fred::types::{Expiration, SetOptions, Value};
use tower_sessions::SessionStore;
use tower_sessions::session::{Id, Record};
use tower_sessions::session_store::{Error, Result};

/// A [`SessionStore`] keeping each session as one Redis key
/// (`<prefix>:sess:<id>`, its record as JSON) that Redis expires with the
/// session. Built by [`Cluster::session_store`](crate::Cluster::session_store),
/// on the cluster's own Redis connection settings.
#[derive(Clone)]
pub struct RedisSessionStore {
    client: Client,
    key_prefix: String,
}

impl fmt::Debug for RedisSessionStore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RedisSessionStore")
            .field("key_prefix", &self.key_prefix)
            .finish_non_exhaustive()
    }
}

impl RedisSessionStore {
    pub(crate) fn new(client: Client, prefix: &str) -> Self {
        Self {
            client,
            key_prefix: format!("{prefix}:sess:"),
        }
    }

    fn key(&self, id: &Id) -> String {
        format!("{}{id}", self.key_prefix)
    }

    /// Writes `record`; with `only_new`, only if no session has its id yet.
    /// Returns whether it was written.
    async fn write(&self, record: &Record, only_new: bool) -> Result<bool> {
        let json = serde_json::to_string(record).map_err(|e| Error::Encode(e.to_string()))?;
        let expires_at_ms = record.expiry_date.unix_timestamp_nanos() / 1_000_000;
        let expires_at_ms = i64::try_from(expires_at_ms).unwrap_or(i64::MAX);
        let written: Value = self
            .client
            .set(
                self.key(&record.id),
                json,
                Some(Expiration::PXAT(expires_at_ms)),
                only_new.then_some(SetOptions::NX),
                false,
            )
            .await
            .map_err(backend)?;
        Ok(!written.is_null())
    }
}

fn backend(error: fred::error::Error) -> Error {
    Error::Backend(format!("Redis: {error}"))
}

#[async_trait]
impl SessionStore for RedisSessionStore {
    async fn create(&self, record: &mut Record) -> Result<()> {
        // A new id on the rare collision, as the in-memory store does.
        while !self.write(record, true).await? {
            record.id = Id::default();
        }
        Ok(())
    }

    async fn save(&self, record: &Record) -> Result<()> {
        self.write(record, false).await.map(drop)
    }

    async fn load(&self, id: &Id) -> Result<Option<Record>> {
        let json: Option<String> = self.client.get(self.key(id)).await.map_err(backend)?;
        json.map(|json| serde_json::from_str(&json).map_err(|e| Error::Decode(e.to_string())))
            .transpose()
    }

    async fn delete(&self, id: &Id) -> Result<()> {
        let _: i64 = self.client.del(self.key(id)).await.map_err(backend)?;
        Ok(())
    }
}
