//! A temporary PostgreSQL server for tests: a fresh cluster in a temporary
//! directory (`initdb -A trust`, user `postgres`), a server on a free port of
//! 127.0.0.1, databases made on demand, and everything gone when it is
//! dropped or when the test process ends (the server's wrapper shell stops
//! it once its standard input closes).
//!
//! PostgreSQL refuses to run as root; as root, the cluster belongs to the
//! `postgres` system user (Debian's `postgresql` package creates it) and the
//! server runs as that user through `runuser`.

use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc;
use std::time::Duration;
use std::{fmt, fs, thread};

/// How long initdb, a start or a stop may take.
const LIMIT: Duration = Duration::from_secs(60);

/// The line the server logs once it accepts connections.
const READY_LINE: &str = "ready to accept connections";

/// The database superuser of the cluster.
pub const USER: &str = "postgres";

/// Runs the server; on a line `pause` on its input it stops the server and
/// keeps the cluster, on the end of its input (the test process ended, or
/// the handle was dropped) it stops the server and removes the directory.
const WRAPPER: &str = r#"
"$0" -D "$1/data" -k "$1" -p "$2" -c listen_addresses=127.0.0.1 -c fsync=off -c full_page_writes=off -c synchronous_commit=off -c max_connections=200 &
server=$!
read -r line
kill -INT "$server"
wait "$server"
[ "$line" = pause ] || rm -rf "$1"
"#;

/// Why the temporary server could not be made or started.
#[derive(Debug)]
pub struct PostgresError(String);

impl fmt::Display for PostgresError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for PostgresError {}

fn fail(message: impl Into<String>) -> PostgresError {
    PostgresError(message.into())
}

/// The directory of `initdb` and `postgres`: Debian's
/// `/usr/lib/postgresql/<major>/bin` of the highest major, else `PATH`'s.
pub fn binaries() -> Result<PathBuf, PostgresError> {
    let debian = fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| {
            let major: u32 = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("postgres").is_file().then_some((major, bin))
        })
        .max_by_key(|(major, _)| *major)
        .map(|(_, bin)| bin);
    let on_path = || {
        std::env::var_os("PATH").and_then(|path| {
            std::env::split_paths(&path).find(|dir| dir.join("postgres").is_file())
        })
    };
    debian.or_else(on_path).ok_or_else(|| {
        fail(
            "no PostgreSQL server: neither /usr/lib/postgresql/<major>/bin/postgres nor `postgres` on PATH (`cargo xtask setup` installs Debian's postgresql)",
        )
    })
}

/// The output of a command that must succeed, or why it did not.
fn run(command: &mut Command) -> Result<String, PostgresError> {
    let output = command
        .stdin(Stdio::null())
        .output()
        .map_err(|error| fail(format!("cannot run {command:?}: {error}")))?;
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    if output.status.success() {
        Ok(text)
    } else {
        Err(fail(format!("{command:?} failed: {text}")))
    }
}

/// Who runs the server: this process's user, or (as root) the `postgres`
/// system user, with its uid and gid.
fn server_user() -> Result<Option<(u32, u32)>, PostgresError> {
    let id = |args: &[&str]| -> Result<u32, PostgresError> {
        run(Command::new("id").args(args))?
            .trim()
            .parse()
            .map_err(|_| fail(format!("`id {}` gave no number", args.join(" "))))
    };
    if id(&["-u"])? != 0 {
        return Ok(None);
    }
    let not_there = |_| {
        fail(
            "PostgreSQL refuses to run as root, and there is no `postgres` system user to run it as (Debian's postgresql package creates it: `cargo xtask setup`)",
        )
    };
    let uid = id(&["-u", USER]).map_err(not_there)?;
    let gid = id(&["-g", USER]).map_err(not_there)?;
    Ok(Some((uid, gid)))
}

/// A command run as the server's user.
fn as_server_user(program: &Path, root: bool) -> Command {
    if root {
        let mut command = Command::new("runuser");
        command.args(["-u", USER, "--"]).arg(program);
        command
    } else {
        Command::new(program)
    }
}

/// A free TCP port of 127.0.0.1 (free when asked; a start that loses it to
/// another process is retried on a new one).
fn free_port() -> Result<u16, PostgresError> {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|listener| listener.local_addr())
        .map(|addr| addr.port())
        .map_err(|error| fail(format!("no free port on 127.0.0.1: {error}")))
}

/// A running server: its wrapper shell and the wrapper's input.
struct Running {
    wrapper: Child,
    input: ChildStdin,
}

/// A temporary PostgreSQL server, stopped and removed on drop.
pub struct TempPostgres {
    bin: PathBuf,
    dir: PathBuf,
    port: u16,
    root: bool,
    running: Option<Running>,
}

impl fmt::Debug for TempPostgres {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TempPostgres")
            .field("dir", &self.dir)
            .field("port", &self.port)
            .field("running", &self.running.is_some())
            .finish()
    }
}

impl TempPostgres {
    /// Makes a cluster in a fresh temporary directory and starts a server on
    /// a free port; returns once it accepts connections.
    pub fn start() -> Result<Self, PostgresError> {
        static CLUSTERS: AtomicUsize = AtomicUsize::new(0);
        let bin = binaries()?;
        let user = server_user()?;
        let dir = std::env::temp_dir().join(format!(
            "sails-postgres-{}-{}",
            std::process::id(),
            CLUSTERS.fetch_add(1, Ordering::Relaxed)
        ));
        let _ = fs::remove_dir_all(&dir);
        fs::create_dir_all(&dir)
            .map_err(|error| fail(format!("cannot create {}: {error}", dir.display())))?;
        let mut server = Self {
            bin,
            dir,
            port: 0,
            root: user.is_some(),
            running: None,
        };
        if let Some((uid, gid)) = user {
            std::os::unix::fs::chown(&server.dir, Some(uid), Some(gid)).map_err(|error| {
                fail(format!(
                    "cannot give {} to the `{USER}` user: {error}",
                    server.dir.display()
                ))
            })?;
        }
        run(as_server_user(&server.bin.join("initdb"), server.root)
            .arg("-D")
            .arg(server.dir.join("data"))
            .args([
                "-A",
                "trust",
                "-U",
                USER,
                "-E",
                "UTF8",
                "--no-locale",
                "--no-sync",
            ]))?;
        let mut attempts = 0;
        loop {
            server.port = free_port()?;
            attempts += 1;
            match server.resume() {
                Ok(()) => return Ok(server),
                Err(error) if attempts == 3 => return Err(error),
                Err(_) => continue,
            }
        }
    }

    /// The port the server listens on (the same after a restart).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The URL of `database` on this server.
    pub fn url(&self, database: &str) -> String {
        format!("postgres://{USER}@127.0.0.1:{}/{database}", self.port)
    }

    /// Makes the empty database `name` (letters, digits and `_`; dropping
    /// one of that name) and returns its URL.
    pub fn database(&self, name: &str) -> Result<String, PostgresError> {
        if name.is_empty() || !name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') {
            return Err(fail(format!(
                "`{name}` is not a database name here (letters, digits and `_`)"
            )));
        }
        let port = self.port.to_string();
        for program in ["dropdb", "createdb"] {
            let mut command = Command::new(self.bin.join(program));
            command.args(["-h", "127.0.0.1", "-p", &port, "-U", USER]);
            if program == "dropdb" {
                command.arg("--if-exists");
            }
            run(command.arg(name))?;
        }
        Ok(self.url(name))
    }

    /// Stops the server (a fast shutdown: clients are disconnected) and
    /// keeps the cluster for [`Self::resume`].
    pub fn stop(&mut self) -> Result<(), PostgresError> {
        let Some(mut running) = self.running.take() else {
            return Ok(());
        };
        let _ = running.input.write_all(b"pause\n");
        drop(running.input);
        wait_exit(&mut running.wrapper)
    }

    /// Starts the server again on the same port and cluster; returns once
    /// it accepts connections.
    pub fn resume(&mut self) -> Result<(), PostgresError> {
        if self.running.is_some() {
            return Ok(());
        }
        let mut command = as_server_user(Path::new("sh"), self.root);
        let mut wrapper = command
            .arg("-c")
            .arg(WRAPPER)
            .arg(self.bin.join("postgres"))
            .arg(&self.dir)
            .arg(self.port.to_string())
            .stdin(Stdio::piped())
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(|error| fail(format!("cannot start {command:?}: {error}")))?;
        let input = wrapper.stdin.take().expect("piped stdin");
        let log = wrapper.stderr.take().expect("piped stderr");
        let running = Running { wrapper, input };
        // The log is read to its end (the server must never block on it);
        // the first line saying it is ready, or the end, is sent on.
        let (ready_tx, ready_rx) = mpsc::channel();
        thread::spawn(move || {
            let mut seen = Vec::new();
            let mut ready_tx = Some(ready_tx);
            for line in BufReader::new(log).lines().map_while(Result::ok) {
                if line.contains(READY_LINE) {
                    if let Some(tx) = ready_tx.take() {
                        let _ = tx.send(Ok(()));
                    }
                } else if ready_tx.is_some() {
                    seen.push(line);
                }
            }
            if let Some(tx) = ready_tx {
                let _ = tx.send(Err(seen.join("\n")));
            }
        });
        let outcome = match ready_rx.recv_timeout(LIMIT) {
            Ok(Ok(())) => Ok(()),
            Ok(Err(log)) => Err(fail(format!(
                "PostgreSQL on port {} stopped before it was ready: {log}",
                self.port
            ))),
            Err(_) => Err(fail(format!(
                "PostgreSQL on port {} not ready within {LIMIT:?}",
                self.port
            ))),
        };
        self.running = Some(running);
        if outcome.is_err() {
            let _ = self.stop();
        }
        outcome
    }
}

/// Waits for the wrapper to end, with the time limit.
fn wait_exit(wrapper: &mut Child) -> Result<(), PostgresError> {
    let deadline = std::time::Instant::now() + LIMIT;
    loop {
        match wrapper.try_wait() {
            Ok(Some(_)) => return Ok(()),
            Ok(None) if std::time::Instant::now() < deadline => {
                thread::sleep(Duration::from_millis(20));
            }
            Ok(None) => {
                let _ = wrapper.kill();
                return Err(fail(format!("PostgreSQL did not stop within {LIMIT:?}")));
            }
            Err(error) => return Err(fail(format!("cannot wait for PostgreSQL: {error}"))),
        }
    }
}

impl Drop for TempPostgres {
    fn drop(&mut self) {
        if let Some(mut running) = self.running.take() {
            // The end of its input: the wrapper stops the server and removes the directory.
            drop(running.input);
            let _ = wait_exit(&mut running.wrapper);
        }
        let _ = fs::remove_dir_all(&self.dir);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn select_one(server: &TempPostgres, database: &str) -> Result<String, PostgresError> {
        run(Command::new(server.bin.join("psql"))
            .args(["-At", "-c", "SELECT 1"])
            .arg(server.url(database)))
    }

    #[test]
    fn serves_databases_stops_resumes_and_cleans_up() {
        let mut server = TempPostgres::start().expect("a temporary PostgreSQL");
        let url = server.database("first").expect("a database");
        assert!(url.ends_with("/first"), "{url}");
        assert_eq!(select_one(&server, "first").unwrap().trim(), "1");
        server.stop().unwrap();
        assert!(select_one(&server, "first").is_err(), "stopped");
        server.resume().unwrap();
        assert_eq!(select_one(&server, "first").unwrap().trim(), "1");
        let dir = server.dir.clone();
        drop(server);
        assert!(!dir.exists(), "{} removed", dir.display());
    }
}
