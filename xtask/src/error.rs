//! The one error type of xtask: what failed, and why.

use std::{io, path::PathBuf, process::ExitStatus, time::Duration};

/// Why a command of xtask failed.
#[derive(Debug, thiserror::Error)]
pub(crate) enum Error {
    /// The command line was not understood; the message says what is expected.
    #[error("{0}")]
    Usage(String),
    /// A flag's value is not what it should be.
    #[error("{flag}: `{value}` is not {expected}")]
    BadValue {
        /// The flag.
        flag: String,
        /// What was given.
        value: String,
        /// What it should be, e.g. "a port number".
        expected: &'static str,
    },
    /// A program could not be started (missing, not executable).
    #[error("could not start `{command}`: {source}")]
    Spawn {
        /// The command line.
        command: String,
        /// Why.
        source: io::Error,
    },
    /// A program ran past its time limit and was stopped.
    #[error("`{command}` did not finish within {}s and was stopped", .limit.as_secs())]
    TimedOut {
        /// The command line.
        command: String,
        /// Its time limit.
        limit: Duration,
    },
    /// A program exited unsuccessfully.
    #[error("`{command}` failed ({status}){}", detail(.stderr))]
    Failed {
        /// The command line.
        command: String,
        /// How it exited.
        status: ExitStatus,
        /// What it said on stderr, when that was captured.
        stderr: String,
    },
    /// A server did not print its ready line in time.
    #[error("`{command}` did not print its ready line within {}s", .limit.as_secs())]
    NotReady {
        /// The command line.
        command: String,
        /// How long it had.
        limit: Duration,
    },
    /// A server ended before printing its ready line.
    #[error("`{command}` ended before printing its ready line")]
    EndedEarly {
        /// The command line.
        command: String,
    },
    /// A server printed something else first.
    #[error("`{command}` printed {printed:?} instead of its ready line")]
    NoReadyLine {
        /// The command line.
        command: String,
        /// Its first line.
        printed: String,
    },
    /// A file or directory could not be read, written or listed.
    #[error("cannot {action} {}: {source}", .path.display())]
    Io {
        /// What was being done: "read", "write", "create", …
        action: &'static str,
        /// The file or directory.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A wasm module is malformed, or not what the build expects.
    #[error("wasm module: {0}")]
    Wasm(String),
    /// A file of the repository does not hold what it should.
    #[error("{file}: {problem}")]
    BadFile {
        /// The file, relative to the workspace root.
        file: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// A bench generator's record could not be read.
    #[error("{program} printed {source}")]
    Record {
        /// The generator or script.
        program: &'static str,
        /// Why.
        source: sails_bench_record::RecordError,
    },
    /// Something the command needs is not there.
    #[error("{0}")]
    NotAvailable(String),
    /// A check failed: a size over its budget, a count over its baseline, …
    #[error("{0}")]
    Check(String),
    /// A step failed; what to do by hand.
    #[error("{source}; {fix}")]
    WithFix {
        /// The failure.
        source: Box<Error>,
        /// What to run or do.
        fix: String,
    },
    /// A step failed: which step, and why.
    #[error("{step}: {source}")]
    In {
        /// The step.
        step: String,
        /// Why.
        source: Box<Error>,
    },
    /// Several things failed; each is listed.
    #[error("{}", list(.0))]
    Several(Vec<Error>),
    /// Some test layers failed (each is named in the summary).
    #[error("{0} test layer(s) failed")]
    LayersFailed(usize),
}

fn detail(stderr: &str) -> String {
    let stderr = stderr.trim();
    if stderr.is_empty() {
        String::new()
    } else {
        format!(": {stderr}")
    }
}

fn list(errors: &[Error]) -> String {
    errors
        .iter()
        .map(Error::to_string)
        .collect::<Vec<_>>()
        .join("; ")
}

impl Error {
    /// `source` failed while reading, writing, … `path`.
    pub(crate) fn io(action: &'static str, path: impl Into<PathBuf>, source: io::Error) -> Self {
        Self::Io {
            action,
            path: path.into(),
            source,
        }
    }

    /// This error, with the step it happened in.
    pub(crate) fn within(self, step: impl Into<String>) -> Self {
        Self::In {
            step: step.into(),
            source: Box::new(self),
        }
    }

    /// This error, with what to do about it by hand.
    pub(crate) fn with_fix(self, fix: impl Into<String>) -> Self {
        Self::WithFix {
            source: Box::new(self),
            fix: fix.into(),
        }
    }

    /// `Ok` when `errors` is empty, else all of them.
    pub(crate) fn all(mut errors: Vec<Error>) -> Result<(), Error> {
        match errors.len() {
            0 => Ok(()),
            1 => Err(errors.remove(0)),
            _ => Err(Self::Several(errors)),
        }
    }
}

/// The result of every fallible step of xtask.
pub(crate) type Result<T = (), E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn messages_say_what_failed_and_why() {
        let missing = io::Error::new(io::ErrorKind::NotFound, "no such file");
        let error = Error::io("read", "client-wasm/size-budget.txt", missing).within("client size");
        assert_eq!(
            error.to_string(),
            "client size: cannot read client-wasm/size-budget.txt: no such file"
        );
        let several = Error::all(vec![Error::Check("one".into()), Error::Check("two".into())]);
        assert_eq!(several.unwrap_err().to_string(), "one; two");
        assert!(Error::all(Vec::new()).is_ok());
    }
}
