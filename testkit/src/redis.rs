//! A Redis server of a test's own: `redis-server` on a Unix socket in a
//! temporary directory (no port to collide with), no persistence, stopped and
//! its directory removed when dropped.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::UnixStream;

/// How long `redis-server` may take to answer its first PING.
const READY_TIMEOUT: Duration = Duration::from_secs(20);

/// A running `redis-server` (Redis 7 or later, installed by `cargo xtask setup`).
#[derive(Debug)]
pub struct RedisServer {
    dir: PathBuf,
    socket: PathBuf,
    child: Option<Child>,
}

impl RedisServer {
    /// Starts a server and waits until it answers.
    pub async fn start() -> Self {
        static STARTED: AtomicUsize = AtomicUsize::new(0);
        let dir = std::env::temp_dir().join(format!(
            "sails-redis-{}-{}",
            std::process::id(),
            STARTED.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("a temporary directory for Redis");
        let socket = dir.join("redis.sock");
        let mut server = Self {
            dir,
            socket,
            child: None,
        };
        server.restart().await;
        server
    }

    /// The URL every client of this server uses.
    pub fn url(&self) -> String {
        format!("redis+unix://{}", self.socket.display())
    }

    /// Stops the server (as a crash would: at once, nothing saved).
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = std::fs::remove_file(&self.socket);
    }

    /// Starts the server again on the same socket, empty, and waits until it answers.
    pub async fn restart(&mut self) {
        self.stop();
        let child = Command::new("redis-server")
            .args(["--port", "0", "--unixsocket"])
            .arg(&self.socket)
            .args(["--unixsocketperm", "700", "--save", "", "--appendonly", "no"])
            .args(["--loglevel", "warning", "--dir"])
            .arg(&self.dir)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .spawn()
            .unwrap_or_else(|error| {
                panic!("cannot start redis-server ({error}): run `cargo xtask setup`, which installs it")
            });
        self.child = Some(child);
        let ready = tokio::time::timeout(READY_TIMEOUT, answers_ping(&self.socket)).await;
        assert!(
            ready.is_ok(),
            "redis-server did not answer within {READY_TIMEOUT:?}"
        );
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Returns once the server at `socket` answers PING.
async fn answers_ping(socket: &Path) {
    loop {
        if let Ok(mut stream) = UnixStream::connect(socket).await {
            let mut reply = [0u8; 7];
            if stream.write_all(b"PING\r\n").await.is_ok()
                && stream.read_exact(&mut reply).await.is_ok()
                && &reply == b"+PONG\r\n"
            {
                return;
            }
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}
