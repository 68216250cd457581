//! Running commands with a time limit, so that no step can hang the task.

use std::{
    io::Read,
    process::{Command, ExitStatus, Stdio},
    thread,
    time::{Duration, Instant},
};

/// How a command failed.
#[derive(Debug)]
pub(crate) enum RunError {
    /// The program could not be started (missing, not executable).
    Spawn(String, std::io::Error),
    /// The program ran past its time limit and was killed.
    TimedOut(String, Duration),
    /// The program exited unsuccessfully.
    Failed(String, ExitStatus),
}

impl std::fmt::Display for RunError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Self::Spawn(cmd, err) => write!(f, "could not start `{cmd}`: {err}"),
            Self::TimedOut(cmd, limit) => {
                write!(
                    f,
                    "`{cmd}` did not finish within {}s and was stopped",
                    limit.as_secs()
                )
            }
            Self::Failed(cmd, status) => write!(f, "`{cmd}` failed ({status})"),
        }
    }
}

/// The command line as a person would type it (for messages).
pub(crate) fn describe(cmd: &Command) -> String {
    let mut line = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        line.push(' ');
        line.push_str(&arg.to_string_lossy());
    }
    line
}

fn wait_with_limit(
    child: &mut std::process::Child,
    line: &str,
    limit: Duration,
) -> Result<ExitStatus, RunError> {
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(RunError::TimedOut(line.to_owned(), limit));
            }
            Ok(None) => thread::sleep(Duration::from_millis(50)),
            Err(err) => return Err(RunError::Spawn(line.to_owned(), err)),
        }
    }
}

/// Runs `cmd` with inherited stdio, echoing it first; fails past `limit`.
pub(crate) fn run(cmd: &mut Command, limit: Duration) -> Result<(), RunError> {
    let line = describe(cmd);
    println!("$ {line}");
    let mut child = cmd
        .stdin(Stdio::null())
        .spawn()
        .map_err(|err| RunError::Spawn(line.clone(), err))?;
    let status = wait_with_limit(&mut child, &line, limit)?;
    if status.success() {
        Ok(())
    } else {
        Err(RunError::Failed(line, status))
    }
}

/// Runs `cmd` quietly and returns its stdout if it succeeded within `limit`.
pub(crate) fn output(cmd: &mut Command, limit: Duration) -> Result<String, RunError> {
    let line = describe(cmd);
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|err| RunError::Spawn(line.clone(), err))?;
    let mut stdout = child.stdout.take().expect("stdout is piped");
    let reader = thread::spawn(move || {
        let mut text = String::new();
        let _ = stdout.read_to_string(&mut text);
        text
    });
    let status = wait_with_limit(&mut child, &line, limit)?;
    let text = reader.join().unwrap_or_default();
    if status.success() {
        Ok(text)
    } else {
        Err(RunError::Failed(line, status))
    }
}

/// A server started for the tests, stopped when dropped.
pub(crate) struct Background {
    child: std::process::Child,
    /// The URL from the server's ready line `listening on <url>`.
    pub(crate) url: String,
}

impl Background {
    /// Starts `cmd` and waits (at most `limit`) for its ready line.
    pub(crate) fn start(cmd: &mut Command, limit: Duration) -> Result<Self, String> {
        use std::io::BufRead;
        let line = describe(cmd);
        println!("$ {line} &");
        let mut child = cmd
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|err| RunError::Spawn(line.clone(), err).to_string())?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let (ready_tx, ready_rx) = std::sync::mpsc::channel();
        thread::spawn(move || {
            let mut lines = std::io::BufReader::new(stdout).lines();
            if let Some(Ok(first)) = lines.next() {
                let _ = ready_tx.send(first);
            }
            // Keep draining so the server never blocks on a full pipe.
            for _ in lines {}
        });
        let ready = ready_rx.recv_timeout(limit);
        let mut server = Self {
            child,
            url: String::new(),
        };
        match ready {
            Ok(first) => match first.strip_prefix("listening on ") {
                Some(url) => {
                    server.url = url.trim().to_owned();
                    Ok(server)
                }
                None => Err(format!(
                    "`{line}` printed {first:?} instead of its ready line"
                )),
            },
            Err(_) => Err(format!(
                "`{line}` did not print its ready line within {}s",
                limit.as_secs()
            )),
        }
    }
}

impl Background {
    /// The server's process id.
    pub(crate) fn pid(&self) -> u32 {
        self.child.id()
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
