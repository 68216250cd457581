use std::time::Duration;

use sails_app::demo;
use sails_server::{MissingOrigin, OriginPolicy, Sails, SocketsConfig, Transport};
use serde_json::json;
use tokio::sync::mpsc;
use tower_sessions::MemoryStore;

use crate::support::{Client, ConnectError, Options, WAIT, http, serve, www};

async fn with_config(config: SocketsConfig) -> std::net::SocketAddr {
    serve(demo::app_with_config(www(), config).0).await
}

/// Connects with these handshake headers; `Err(status)` when the handshake is refused over HTTP.
async fn handshake(addr: std::net::SocketAddr, headers: &[(&str, &str)]) -> Result<Client, u16> {
    let options = headers
        .iter()
        .fold(Options::default(), |options, (name, value)| {
            options.header(name, value)
        });
    match Client::connect_with(addr, options).await {
        Ok(client) => Ok(client),
        Err(ConnectError::Http(status)) => Err(status),
        Err(other) => panic!("handshake failed otherwise: {other:?}"),
    }
}

#[tokio::test]
async fn by_default_only_pages_of_the_servers_own_origin_connect() {
    let addr = with_config(SocketsConfig::default()).await;
    let own = format!("http://{addr}");
    let mut client = handshake(addr, &[("origin", &own)]).await.unwrap();
    assert_eq!(client.get_ok("/hello").await, "ok!");
    // The socket's requests carry its handshake origin.
    assert_eq!(client.get_ok("/echo").await["headers"]["origin"], own);

    // Another site, and another port of the same host, are other origins.
    let other_port = format!("http://127.0.0.1:{}", addr.port().wrapping_add(1).max(1));
    for origin in ["http://evil.example", other_port.as_str(), "null"] {
        assert_eq!(
            handshake(addr, &[("origin", origin)]).await.err(),
            Some(403),
            "{origin}"
        );
    }

    // The host is the one the handshake was sent to (as a reverse proxy
    // forwards it): compared without case, default ports implied.
    for (origin, host) in [
        ("http://APP.example", "app.example:80"),
        ("https://app.example", "App.Example"),
        ("http://app.example:8080", "app.example:8080"),
    ] {
        assert!(
            handshake(addr, &[("origin", origin), ("host", host)])
                .await
                .is_ok(),
            "{origin} to {host}"
        );
    }
    for (origin, host) in [
        ("http://app.example:8080", "app.example"),
        ("https://app.example", "app.example:80"),
        ("http://app.example", "api.example"),
    ] {
        assert_eq!(
            handshake(addr, &[("origin", origin), ("host", host)])
                .await
                .err(),
            Some(403),
            "{origin} to {host}"
        );
    }
}

#[tokio::test]
async fn listed_origins_may_connect_too() {
    let addr = with_config({
        let mut config = SocketsConfig::default();
        config.origins = OriginPolicy::only_allow_origins(["http://good.example"]).unwrap();
        config
    })
    .await;
    let mut good = handshake(addr, &[("origin", "http://good.example")])
        .await
        .unwrap();
    assert_eq!(good.get_ok("/hello").await, "ok!");
    assert_eq!(
        good.get_ok("/echo").await["headers"]["origin"],
        "http://good.example"
    );
    assert!(
        handshake(addr, &[("origin", &format!("http://{addr}"))])
            .await
            .is_ok()
    );
    assert_eq!(
        handshake(addr, &[("origin", "http://evil.example")])
            .await
            .err(),
        Some(403)
    );
    assert_eq!(
        handshake(addr, &[("origin", "https://good.example")])
            .await
            .err(),
        Some(403)
    );
}

#[tokio::test]
async fn any_origin_lets_every_page_connect() {
    let addr = with_config({
        let mut config = SocketsConfig::default();
        config.origins = OriginPolicy::AnyOrigin;
        config.missing_origin = MissingOrigin::Refuse;
        config
    })
    .await;
    let mut evil = handshake(addr, &[("origin", "http://evil.example")])
        .await
        .unwrap();
    assert_eq!(evil.get_ok("/hello").await, "ok!");
    assert!(handshake(addr, &[]).await.is_ok());
}

#[tokio::test]
async fn a_handshake_without_origin_follows_missing_origin() {
    // No Origin header (not a browser): accepted by default…
    let addr = with_config(SocketsConfig::default()).await;
    assert!(handshake(addr, &[]).await.is_ok());
    // …refused when configured like Sails, whatever the origin policy.
    for origins in [
        OriginPolicy::SameOrigin,
        OriginPolicy::only_allow_origins(["http://good.example"]).unwrap(),
    ] {
        let strict = with_config({
            let mut config = SocketsConfig::default();
            config.origins = origins;
            config.missing_origin = MissingOrigin::Refuse;
            config
        })
        .await;
        assert_eq!(handshake(strict, &[]).await.err(), Some(403));
        assert!(
            handshake(strict, &[("origin", &format!("http://{strict}"))])
                .await
                .is_ok()
        );
        // HTTP routes are not affected by the origin policy.
        assert_eq!(http(strict, "GET", "/hello", &[], "").await.0, 200);
        assert_eq!(
            http(
                strict,
                "GET",
                "/hello",
                &[("origin", "http://evil.example")],
                ""
            )
            .await
            .0,
            200
        );
    }
}

#[tokio::test]
async fn a_polling_handshake_is_guarded_too() {
    let addr = with_config({
        let mut config = SocketsConfig::default();
        config.transports = vec![Transport::Polling];
        config
    })
    .await;
    let path = "/socket.io/?EIO=4&transport=polling";
    let (status, _, _) = http(addr, "GET", path, &[("origin", "http://evil.example")], "").await;
    assert_eq!(status, 403);
    let own = format!("http://{addr}");
    let (status, _, body) = http(addr, "GET", path, &[("origin", &own)], "").await;
    assert_eq!(status, 200);
    assert!(body.starts_with("0{"), "{body}");
}

#[tokio::test]
async fn before_connect_can_refuse_and_after_disconnect_sees_the_session() {
    let (tx, mut rx) = mpsc::unbounded_channel();
    let (app, _) = Sails::builder()
        .sessions(MemoryStore::default())
        .before_connect(|handshake| async move {
            handshake
                .headers
                .get("x-token")
                .is_none_or(|token| token != "bad")
                && handshake.query_value("__sails_io_sdk_version").is_some()
        })
        .after_disconnect(move |event| {
            let tx = tx.clone();
            async move {
                let count = match &event.session {
                    Some(session) => session.get::<u64>("count").await.ok().flatten(),
                    None => None,
                };
                let _ = tx.send((event.socket_id, count));
            }
        })
        .build(demo::routes());
    let addr = serve(app).await;

    let refused = Client::connect_with(addr, Options::default().header("x-token", "bad")).await;
    assert!(
        matches!(refused, Err(ConnectError::Http(403))),
        "{:?}",
        refused.err()
    );
    let no_sdk = Client::connect_with(
        addr,
        Options {
            sdk_version: None,
            ..Options::default()
        },
    )
    .await;
    assert!(matches!(no_sdk, Err(ConnectError::Http(403))));

    let mut client = Client::connect_with(addr, Options::default().header("x-token", "good"))
        .await
        .unwrap();
    let id = client.id().await;
    assert_eq!(client.get_ok("/count").await, 1);
    client.close();
    let (gone, count) = tokio::time::timeout(WAIT, rx.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(gone.to_string(), id);
    assert_eq!(count, Some(1));
}

#[tokio::test]
async fn path_heartbeat_and_transports_are_configurable() {
    let mut config = SocketsConfig::default();
    config.path = "/realtime".into();
    config.ping_interval = Duration::from_millis(1500);
    config.ping_timeout = Duration::from_millis(3000);
    let addr = with_config(config).await;
    let mut client = Client::connect_with(
        addr,
        Options {
            path: "/realtime".into(),
            ..Options::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(client.open["pingInterval"], 1500);
    assert_eq!(client.open["pingTimeout"], 3000);
    assert_eq!(client.open["upgrades"], json!([]));
    assert_eq!(client.get_ok("/hello").await, "ok!");

    // Websocket only (the default): a polling handshake is refused.
    let defaults = with_config(SocketsConfig::default()).await;
    let (status, _, _) = http(
        defaults,
        "GET",
        "/socket.io/?EIO=4&transport=polling",
        &[],
        "",
    )
    .await;
    assert_eq!(status, 400);
    // Polling when configured.
    let polling = with_config({
        let mut config = SocketsConfig::default();
        config.transports = vec![Transport::Websocket, Transport::Polling];
        config
    })
    .await;
    let (status, _, body) = http(
        polling,
        "GET",
        "/socket.io/?EIO=4&transport=polling",
        &[],
        "",
    )
    .await;
    assert_eq!(status, 200);
    assert!(body.starts_with("0{"), "{body}");
}

/// A memory store that counts deletions.
#[derive(Debug, Clone, Default)]
struct CountingStore {
    inner: MemoryStore,
    deleted: std::sync::Arc<std::sync::atomic::AtomicUsize>,
}

#[async_trait::async_trait]
impl tower_sessions::SessionStore for CountingStore {
    async fn create(
        &self,
        record: &mut tower_sessions::session::Record,
    ) -> tower_sessions::session_store::Result<()> {
        self.inner.create(record).await
    }
    async fn save(
        &self,
        record: &tower_sessions::session::Record,
    ) -> tower_sessions::session_store::Result<()> {
        self.inner.save(record).await
    }
    async fn load(
        &self,
        id: &tower_sessions::session::Id,
    ) -> tower_sessions::session_store::Result<Option<tower_sessions::session::Record>> {
        self.inner.load(id).await
    }
    async fn delete(
        &self,
        id: &tower_sessions::session::Id,
    ) -> tower_sessions::session_store::Result<()> {
        self.deleted
            .fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        self.inner.delete(id).await
    }
}

#[tokio::test]
async fn a_pinned_session_ends_with_its_socket_but_a_page_session_stays() {
    let store = CountingStore::default();
    let deleted = store.deleted.clone();
    let (app, _) = Sails::builder().sessions(store).build(demo::routes());
    let addr = serve(app).await;

    // A browser-like socket sharing an HTTP session: the session outlives the socket.
    let (_, headers, _) = http(addr, "GET", "/count", &[], "").await;
    let cookie = headers
        .iter()
        .find(|(name, _)| name == "set-cookie")
        .map(|(_, value)| value.split(';').next().unwrap().to_owned())
        .expect("session cookie");
    let mut page_socket = Client::connect_with(addr, Options::default().header("cookie", &cookie))
        .await
        .unwrap();
    assert_eq!(page_socket.get_ok("/count").await, 2);
    page_socket.close();

    // A cookieless socket: its pinned session is deleted when it leaves.
    let mut client = Client::connect(addr).await;
    assert_eq!(client.get_ok("/count").await, 1);
    client.close();
    crate::support::eventually(|| {
        let deleted = deleted.clone();
        async move { (deleted.load(std::sync::atomic::Ordering::SeqCst) == 1).then_some(()) }
    })
    .await;
    let (_, _, body) = http(addr, "GET", "/count", &[("cookie", &cookie)], "").await;
    assert_eq!(body, "3");
}

#[tokio::test]
async fn extra_paths_reach_the_same_server() {
    let mut config = SocketsConfig::default();
    config.extra_paths = vec!["/socketz".into()];
    let addr = with_config(config).await;
    let mut main = Client::connect(addr).await;
    let mut extra = Client::connect_with(
        addr,
        Options {
            path: "/socketz".into(),
            ..Options::default()
        },
    )
    .await
    .unwrap();
    assert_eq!(extra.get_ok("/hello").await, "ok!");
    // One server: a socket at one path reaches a socket at the other.
    let extra_id = extra.id().await;
    let sent = main
        .request(
            "post",
            &format!("/sockets/{extra_id}/emit"),
            json!({"event": "note", "data": "across"}),
        )
        .await;
    assert_eq!(sent["statusCode"], 200, "{sent}");
    assert_eq!(extra.next_event("note").await, "across");
    // A path that only starts like one of them is not the endpoint.
    let (status, _, _) = http(addr, "GET", "/socketzz/?EIO=3&transport=polling", &[], "").await;
    assert_eq!(status, 404);
}
