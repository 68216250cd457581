//! Running commands with a time limit, so that no step can hang the task.

use std::{
    io::{BufRead, BufReader, Read},
    process::{Child, Command, ExitStatus, Stdio},
    sync::mpsc,
    thread,
    time::{Duration, Instant},
};

use crate::error::{Error, Result};

/// The command line as a person would type it (for messages).
pub(crate) fn describe(cmd: &Command) -> String {
    let mut line = cmd.get_program().to_string_lossy().into_owned();
    for arg in cmd.get_args() {
        line.push(' ');
        line.push_str(&arg.to_string_lossy());
    }
    line
}

fn spawn(cmd: &mut Command, command: &str) -> Result<Child> {
    cmd.stdin(Stdio::null())
        .spawn()
        .map_err(|source| Error::Spawn {
            command: command.to_owned(),
            source,
        })
}

fn wait_with_limit(child: &mut Child, command: &str, limit: Duration) -> Result<ExitStatus> {
    let deadline = Instant::now() + limit;
    loop {
        match child.try_wait() {
            Ok(Some(status)) => return Ok(status),
            Ok(None) if Instant::now() >= deadline => {
                let _ = child.kill();
                let _ = child.wait();
                return Err(Error::TimedOut {
                    command: command.to_owned(),
                    limit,
                });
            }
            Ok(None) => thread::sleep(Duration::from_millis(50)),
            Err(source) => {
                return Err(Error::Spawn {
                    command: command.to_owned(),
                    source,
                });
            }
        }
    }
}

/// Runs `cmd` with inherited stdio, echoing it first; fails past `limit`.
pub(crate) fn run(cmd: &mut Command, limit: Duration) -> Result {
    println!("$ {}", describe(cmd));
    run_quietly(cmd, limit)
}

/// Runs `cmd` with inherited stdio (unless set otherwise); fails past `limit`.
pub(crate) fn run_quietly(cmd: &mut Command, limit: Duration) -> Result {
    let command = describe(cmd);
    let mut child = spawn(cmd, &command)?;
    let status = wait_with_limit(&mut child, &command, limit)?;
    if status.success() {
        Ok(())
    } else {
        Err(Error::Failed {
            command,
            status,
            stderr: String::new(),
        })
    }
}

/// Where a captured command's stderr goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Stderr {
    /// Kept, for the error message.
    Capture,
    /// To the terminal (progress lines).
    Show,
}

/// How a captured command ended.
#[derive(Debug)]
pub(crate) struct Finished {
    /// The command line.
    pub(crate) command: String,
    /// Its exit status.
    pub(crate) status: ExitStatus,
    /// What it printed on stdout.
    pub(crate) stdout: String,
    /// What it printed on stderr (empty when shown instead).
    pub(crate) stderr: String,
}

impl Finished {
    /// Itself when the command succeeded, else why it failed.
    pub(crate) fn succeeded(self) -> Result<Self> {
        if self.status.success() {
            Ok(self)
        } else {
            Err(Error::Failed {
                command: self.command,
                status: self.status,
                stderr: self.stderr,
            })
        }
    }
}

/// Reads all of `pipe` on a thread of its own, so that the child never
/// blocks on a full pipe.
fn drain(mut pipe: impl Read + Send + 'static) -> thread::JoinHandle<String> {
    thread::spawn(move || {
        let mut text = String::new();
        let _ = pipe.read_to_string(&mut text);
        text
    })
}

/// Runs `cmd` for at most `limit`, capturing its stdout (and its stderr
/// unless shown), whatever its exit status.
pub(crate) fn capture(cmd: &mut Command, limit: Duration, stderr: Stderr) -> Result<Finished> {
    let command = describe(cmd);
    cmd.stdout(Stdio::piped()).stderr(match stderr {
        Stderr::Capture => Stdio::piped(),
        Stderr::Show => Stdio::inherit(),
    });
    let mut child = spawn(cmd, &command)?;
    let stdout = child.stdout.take().map(drain);
    let stderr = child.stderr.take().map(drain);
    let status = wait_with_limit(&mut child, &command, limit)?;
    let text = |reader: Option<thread::JoinHandle<String>>| {
        reader
            .and_then(|reader| reader.join().ok())
            .unwrap_or_default()
    };
    Ok(Finished {
        command,
        status,
        stdout: text(stdout),
        stderr: text(stderr),
    })
}

/// Runs `cmd` quietly and returns its stdout if it succeeded within `limit`.
pub(crate) fn output(cmd: &mut Command, limit: Duration) -> Result<String> {
    Ok(capture(cmd, limit, Stderr::Capture)?.succeeded()?.stdout)
}

/// A server started in the background, stopped when dropped.
pub(crate) struct Background {
    child: Child,
    /// The URL from the server's ready line `listening on <url>`.
    pub(crate) url: String,
}

impl Background {
    /// Starts `cmd` and waits (at most `limit`) for its ready line.
    pub(crate) fn start(cmd: &mut Command, limit: Duration) -> Result<Self> {
        let command = describe(cmd);
        println!("$ {command} &");
        let mut child = spawn(cmd.stdout(Stdio::piped()), &command)?;
        let stdout = child.stdout.take().expect("stdout is piped");
        let (ready_tx, ready_rx) = mpsc::channel();
        thread::spawn(move || {
            let mut lines = BufReader::new(stdout).lines();
            if let Some(Ok(first)) = lines.next() {
                let _ = ready_tx.send(first);
            }
            // Keep draining so the server never blocks on a full pipe.
            for _ in lines {}
        });
        // Dropped on an early return: the server is stopped.
        let mut server = Self {
            child,
            url: String::new(),
        };
        let first = ready_rx.recv_timeout(limit).map_err(|err| match err {
            mpsc::RecvTimeoutError::Timeout => Error::NotReady {
                command: command.clone(),
                limit,
            },
            mpsc::RecvTimeoutError::Disconnected => Error::EndedEarly {
                command: command.clone(),
            },
        })?;
        match first.strip_prefix("listening on ") {
            Some(url) => {
                server.url = url.trim().to_owned();
                Ok(server)
            }
            None => Err(Error::NoReadyLine {
                command,
                printed: first,
            }),
        }
    }

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
