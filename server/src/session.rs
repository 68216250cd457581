//! Sessions shared by HTTP and sockets.
//!
//! HTTP requests use [`tower_sessions`] as usual. A socket's virtual requests
//! carry the cookie of its handshake, so a browser socket shares its page's
//! session. A handshake without a (live) session cookie gets a new session
//! at connect, pinned to the socket for its whole life, as Sails does.

use std::sync::Arc;
use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use tower_sessions::cookie::SameSite;
use tower_sessions::session::{Id, Record};
use tower_sessions::{Expiry, Session, SessionManagerLayer, SessionStore};

/// The session cookie name Sails uses.
pub const DEFAULT_COOKIE_NAME: &str = "sails.sid";

/// The session cookie's settings (Sails' `sails.config.session.cookie`).
///
/// The cookie is always `sails.sid`, `HttpOnly` (out of the page's scripts'
/// reach), `SameSite=Lax` (not sent with another site's subrequests or form
/// posts) and `Path=/`; these set the rest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
#[non_exhaustive]
pub struct SessionCookie {
    /// The `Secure` flag (Sails' `cookie.secure`): browsers then send the
    /// cookie over HTTPS only. Off by default, as in Sails, so that sessions
    /// work over plain HTTP in development; set it in production.
    pub secure: bool,
    /// How long a session lasts after its last change (Sails'
    /// `cookie.maxAge`): the cookie's `Max-Age` and the stored session's
    /// expiry. `None`, the default as in Sails: the cookie lasts until the
    /// browser closes, and the store forgets a session two weeks after its
    /// last change.
    pub lifetime: Option<Duration>,
}

impl SessionCookie {
    /// These settings with the `Secure` flag on or off.
    pub fn secure(mut self, secure: bool) -> Self {
        self.secure = secure;
        self
    }

    /// These settings with this session lifetime (`None`: until the browser closes).
    pub fn lifetime(mut self, lifetime: Option<Duration>) -> Self {
        self.lifetime = lifetime;
        self
    }

    /// A session layer over `store` with these settings.
    pub fn layer<S: SessionStore + Clone>(&self, store: S) -> SessionManagerLayer<S> {
        let layer = SessionManagerLayer::new(store)
            .with_name(DEFAULT_COOKIE_NAME)
            .with_http_only(true)
            .with_secure(self.secure)
            .with_same_site(SameSite::Lax);
        match self.lifetime {
            Some(lifetime) => {
                let lifetime = tower_sessions::cookie::time::Duration::try_from(lifetime)
                    .unwrap_or(tower_sessions::cookie::time::Duration::MAX);
                layer.with_expiry(Expiry::OnInactivity(lifetime))
            }
            None => layer,
        }
    }
}

/// A type-erased session store, so the realtime layer is not generic over it.
#[derive(Debug, Clone)]
pub(crate) struct SharedStore(pub(crate) Arc<dyn SessionStore>);

#[async_trait::async_trait]
impl SessionStore for SharedStore {
    async fn create(&self, record: &mut Record) -> tower_sessions::session_store::Result<()> {
        self.0.create(record).await
    }
    async fn save(&self, record: &Record) -> tower_sessions::session_store::Result<()> {
        self.0.save(record).await
    }
    async fn load(&self, id: &Id) -> tower_sessions::session_store::Result<Option<Record>> {
        self.0.load(id).await
    }
    async fn delete(&self, id: &Id) -> tower_sessions::session_store::Result<()> {
        self.0.delete(id).await
    }
}

/// What the realtime layer knows about the application's sessions.
#[derive(Debug, Clone)]
pub(crate) struct Sessions {
    pub(crate) store: SharedStore,
    pub(crate) cookie_name: String,
}

/// Why a session could not be set up for a socket.
#[derive(Debug, thiserror::Error)]
pub enum SessionError {
    /// The session store failed.
    #[error("the session store failed")]
    Store(#[from] tower_sessions::session_store::Error),
    /// The new session could not be saved.
    #[error("the session could not be saved")]
    Save(#[from] tower_sessions::session::Error),
    /// The store created a session without an id.
    #[error("the session store gave the new session no id")]
    NoId,
}

impl Sessions {
    /// The session id named by a `cookie` header, if any.
    pub(crate) fn session_id(&self, cookie_header: Option<&str>) -> Option<Id> {
        cookie_value(cookie_header?, &self.cookie_name)?
            .parse()
            .ok()
    }

    /// The `cookie` header a socket's virtual requests carry: the handshake's
    /// own when it names a live session, otherwise the handshake's cookies
    /// plus a brand-new session's cookie (whose id is returned too: only this
    /// socket knows it, so it ends with the socket).
    pub(crate) async fn socket_cookie(
        &self,
        handshake_cookie: Option<&str>,
    ) -> Result<(String, Option<Id>), SessionError> {
        if let Some(id) = self.session_id(handshake_cookie)
            && self.store.load(&id).await?.is_some()
        {
            return Ok((handshake_cookie.unwrap_or_default().to_owned(), None));
        }
        let session = Session::new(None, Arc::new(self.store.clone()), None);
        session.save().await?;
        let id = session.id().ok_or(SessionError::NoId)?;
        let pinned = format!("{}={id}", self.cookie_name);
        let others = handshake_cookie
            .into_iter()
            .flat_map(|header| header.split(';'))
            .map(str::trim)
            .filter(|pair| {
                !pair.is_empty()
                    && pair.split('=').next().map(str::trim) != Some(self.cookie_name.as_str())
            });
        let mut cookie = pinned;
        for pair in others {
            cookie.push_str("; ");
            cookie.push_str(pair);
        }
        Ok((cookie, Some(id)))
    }

    /// Deletes a session pinned to a socket that is gone.
    pub(crate) async fn forget(&self, id: &Id) -> Result<(), SessionError> {
        Ok(self.store.delete(id).await?)
    }

    /// When a response sets a new session cookie (a session created, or its id
    /// cycled at login), the socket's `cookie` header with that session
    /// instead, and the new id. Removals (empty values) are ignored.
    pub(crate) fn renewed_cookie(
        &self,
        current: Option<&str>,
        response_headers: &axum::http::HeaderMap,
    ) -> Option<(String, Id)> {
        let value = response_headers
            .get_all(header::SET_COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .filter_map(|set_cookie| set_cookie.split(';').next())
            .find_map(|pair| {
                let (name, value) = pair.split_once('=')?;
                (name.trim() == self.cookie_name).then(|| value.trim())
            })?;
        let id: Id = value.parse().ok()?;
        if current.and_then(|c| cookie_value(c, &self.cookie_name)) == Some(value) {
            return None;
        }
        let mut cookie = format!("{}={value}", self.cookie_name);
        for pair in current
            .into_iter()
            .flat_map(|c| c.split(';'))
            .map(str::trim)
        {
            if !pair.is_empty()
                && pair.split('=').next().map(str::trim) != Some(self.cookie_name.as_str())
            {
                cookie.push_str("; ");
                cookie.push_str(pair);
            }
        }
        Some((cookie, id))
    }

    /// The session named by a socket's cookie, for hooks that run outside a request.
    pub(crate) fn session(&self, cookie_header: Option<&str>) -> Option<Session> {
        let id = self.session_id(cookie_header)?;
        Some(Session::new(Some(id), Arc::new(self.store.clone()), None))
    }
}

/// The value of cookie `name` in a `cookie` header.
fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|pair| {
        let (key, value) = pair.split_once('=')?;
        (key.trim() == name).then(|| value.trim().trim_matches('"'))
    })
}

/// `GET /__getcookie`: the script a cross-origin sails.io.js page loads to
/// obtain the session cookie before it connects. The session is created by
/// touching it, so the session layer sends its `set-cookie`.
pub(crate) async fn get_cookie(request: axum::extract::Request) -> Response {
    if let Some(session) = request.extensions().get::<Session>()
        && session.insert("__sails_getcookie", true).await.is_err()
    {
        return StatusCode::INTERNAL_SERVER_ERROR.into_response();
    }
    (
        [(
            header::CONTENT_TYPE,
            HeaderValue::from_static("application/javascript"),
        )],
        "_sailsIoJSConnect();",
    )
        .into_response()
}

#[cfg(test)]
mod tests {
    use super::*;
    use tower_sessions::MemoryStore;

    fn sessions() -> Sessions {
        Sessions {
            store: SharedStore(Arc::new(MemoryStore::default())),
            cookie_name: DEFAULT_COOKIE_NAME.into(),
        }
    }

    #[test]
    fn follows_a_renewed_session_cookie() {
        let sessions = sessions();
        let mut headers = axum::http::HeaderMap::new();
        headers.append(
            header::SET_COOKIE,
            HeaderValue::from_static("other=1; Path=/"),
        );
        headers.append(
            header::SET_COOKIE,
            HeaderValue::from_static("sails.sid=BBBBBBBBBBBBBBBBBBBBBA; HttpOnly; Path=/"),
        );
        let (cookie, _) = sessions
            .renewed_cookie(
                Some("theme=dark; sails.sid=AAAAAAAAAAAAAAAAAAAAAA"),
                &headers,
            )
            .unwrap();
        assert_eq!(cookie, "sails.sid=BBBBBBBBBBBBBBBBBBBBBA; theme=dark");
        assert!(sessions.renewed_cookie(Some(&cookie), &headers).is_none());
        let mut removal = axum::http::HeaderMap::new();
        removal.append(
            header::SET_COOKIE,
            HeaderValue::from_static("sails.sid=; Max-Age=0"),
        );
        assert!(sessions.renewed_cookie(Some(&cookie), &removal).is_none());
    }

    #[test]
    fn reads_the_session_cookie() {
        assert_eq!(
            cookie_value("a=1; sails.sid=xyz; b=2", "sails.sid"),
            Some("xyz")
        );
        assert_eq!(cookie_value("a=1", "sails.sid"), None);
    }

    #[tokio::test]
    async fn pins_a_new_session_to_a_cookieless_socket() {
        let sessions = sessions();
        let (cookie, pinned) = sessions.socket_cookie(Some("theme=dark")).await.unwrap();
        assert!(cookie.starts_with("sails.sid="), "{cookie}");
        assert!(cookie.ends_with("; theme=dark"), "{cookie}");
        let pinned = pinned.expect("a new session");
        // A live session is kept as it is.
        assert_eq!(
            sessions.socket_cookie(Some(&cookie)).await.unwrap(),
            (cookie.clone(), None)
        );
        // An unknown one is replaced.
        let (fresh, _) = sessions
            .socket_cookie(Some("sails.sid=AAAAAAAAAAAAAAAAAAAAAA"))
            .await
            .unwrap();
        assert_ne!(fresh, "sails.sid=AAAAAAAAAAAAAAAAAAAAAA");
        // A pinned session ends with its socket.
        sessions.forget(&pinned).await.unwrap();
        assert!(sessions.store.load(&pinned).await.unwrap().is_none());
    }
}
