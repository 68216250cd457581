//! Instructions per call of the per-request hot paths
//! (`sails_bench::hot_paths`), counted by valgrind's cachegrind with no cache
//! simulation. Unlike timings they hardly move with the machine's load, so
//! they are compared with a committed baseline
//! (`bench/instructions-baseline.txt`), and a count far above it fails
//! `cargo xtask test` and `cargo xtask bench --only instructions` (the bench
//! itself only reports it): a regression guard that holds on a noisy,
//! shared machine.

use std::{
    fs,
    path::{Path, PathBuf},
    time::Duration,
};

use crate::{
    error::{Error, Result},
    packages::{self, Binaries, INSTRUCTIONS_BIN},
    process,
    toolchain::{self, Route},
};

/// The baseline, relative to the workspace root: `key count` per line.
const BASELINE: &str = "bench/instructions-baseline.txt";
/// How far above its baseline a count may go (20%).
const TOLERANCE: f64 = 0.20;
/// The two run lengths whose difference is counted: start-up and exit cost
/// the same in both and cancel out.
const FEW: u64 = 100;
const MANY: u64 = 1_100;
const RUN_LIMIT: Duration = Duration::from_secs(120);

/// One hot path's figure.
pub(crate) struct Count {
    key: String,
    name: String,
    per_call: f64,
    baseline: Option<f64>,
}

impl Count {
    /// How far above (or below, negative) the baseline, as a fraction.
    fn change(&self) -> Option<f64> {
        self.baseline
            .filter(|&baseline| baseline > 0.0)
            .map(|baseline| self.per_call / baseline - 1.0)
    }
}

/// Why there are no counts.
#[derive(Debug)]
pub(crate) enum NoCounts {
    /// valgrind is not installed, or counts were not asked for.
    NotAvailable(String),
    /// A run failed.
    Failed(Error),
}

impl From<Error> for NoCounts {
    fn from(error: Error) -> Self {
        Self::Failed(error)
    }
}

/// Builds the release binaries (as `cargo xtask bench` does), counts every
/// hot path and fails on a count more than [`TOLERANCE`] above its baseline
/// (a test layer).
pub(crate) fn check(route: Route) -> Result {
    let binaries = packages::build_release(route)?;
    let counts = count(route, &binaries);
    println!("{}", report(&counts));
    verdict(counts)
}

/// Fails when the counts are missing or one is far above its baseline.
pub(crate) fn verdict(counts: Result<Vec<Count>, NoCounts>) -> Result {
    match counts {
        Ok(counts) => {
            let regressions = regressions(&counts);
            if regressions.is_empty() {
                Ok(())
            } else {
                Err(Error::Check(regressions.join("; ")))
            }
        }
        Err(NoCounts::NotAvailable(why)) => Err(Error::NotAvailable(why)),
        Err(NoCounts::Failed(error)) => Err(error.within("instruction counts")),
    }
}

/// Counts every hot path with the `sails-instructions` binary of `binaries`.
pub(crate) fn count(route: Route, binaries: &Binaries) -> Result<Vec<Count>, NoCounts> {
    if toolchain::which(route, "valgrind").is_none() {
        return Err(NoCounts::NotAvailable(
            "valgrind is not installed (cargo xtask setup installs it)".into(),
        ));
    }
    let program = binaries.bin(INSTRUCTIONS_BIN);
    let mut list = toolchain::command(route, &program.to_string_lossy());
    list.arg("--list");
    let listing = process::output(&mut list, RUN_LIMIT)?;
    let baseline = read_baseline();
    let logs = toolchain::target_dir().join("bench-instructions");
    fs::create_dir_all(&logs).map_err(|err| Error::io("create", &logs, err))?;
    let mut counts = Vec::new();
    for line in listing.lines() {
        let Some((key, name)) = line.split_once('\t') else {
            continue;
        };
        let few = instructions(route, &program, key, FEW, &logs)?;
        let many = instructions(route, &program, key, MANY, &logs)?;
        let per_call = many.saturating_sub(few) as f64 / (MANY - FEW) as f64;
        println!("bench: {name}: {per_call:.0} instructions per call");
        counts.push(Count {
            key: key.to_owned(),
            name: name.to_owned(),
            per_call,
            baseline: baseline
                .iter()
                .find(|(known, _)| known == key)
                .map(|(_, count)| *count),
        });
    }
    if counts.is_empty() {
        return Err(NoCounts::Failed(Error::Check(format!(
            "{INSTRUCTIONS_BIN} listed no hot path"
        ))));
    }
    Ok(counts)
}

/// The instructions valgrind counted for `times` calls of `key`.
fn instructions(
    route: Route,
    program: &Path,
    key: &str,
    times: u64,
    logs: &Path,
) -> Result<u64, NoCounts> {
    let log = logs.join(format!("{key}-{times}.log"));
    let mut valgrind = toolchain::command(route, "valgrind");
    valgrind
        .args(["--tool=cachegrind", "--cache-sim=no"])
        .arg("--cachegrind-out-file=/dev/null")
        .arg(format!("--log-file={}", log.display()))
        .arg(program)
        .args([key, &times.to_string()]);
    process::output(&mut valgrind, RUN_LIMIT)?;
    let text = fs::read_to_string(&log).map_err(|err| Error::io("read", &log, err))?;
    total_instructions(&text).ok_or_else(|| {
        NoCounts::Failed(Error::Check(format!(
            "no instruction count in {}",
            log.display()
        )))
    })
}

/// The `I refs:` total of a cachegrind log.
fn total_instructions(log: &str) -> Option<u64> {
    log.lines()
        .filter_map(|line| {
            line.split_once("I refs:")
                .or_else(|| line.split_once("I   refs:"))
        })
        .find_map(|(_, count)| count.trim().replace(',', "").parse().ok())
}

fn baseline_path() -> PathBuf {
    toolchain::workspace_root().join(BASELINE)
}

fn read_baseline() -> Vec<(String, f64)> {
    fs::read_to_string(baseline_path())
        .unwrap_or_default()
        .lines()
        .filter(|line| !line.starts_with('#'))
        .filter_map(|line| {
            let (key, count) = line.split_once(' ')?;
            Some((key.to_owned(), count.trim().parse().ok()?))
        })
        .collect()
}

/// Writes `counts` as the new baseline.
pub(crate) fn save_baseline(counts: &[Count]) -> Result {
    let mut text = String::from(
        "# Instructions per call of each hot path (`cargo xtask bench`; rewrite with\n\
         # `cargo xtask bench --only instructions --save-baseline`).\n",
    );
    for count in counts {
        text.push_str(&format!("{} {:.0}\n", count.key, count.per_call));
    }
    fs::write(baseline_path(), text).map_err(|err| Error::io("write", baseline_path(), err))?;
    println!("bench: wrote {BASELINE}");
    Ok(())
}

/// The Markdown table of the counts, against the baseline.
pub(crate) fn report(counts: &Result<Vec<Count>, NoCounts>) -> String {
    let mut out = String::from(
        "\nInstructions per call of the per-request hot paths (valgrind, cachegrind), \
         against the baseline:\n\n\
         | hot path | instructions per call | baseline | change |\n|---|---:|---:|---:|\n",
    );
    match counts {
        Ok(counts) => {
            for count in counts {
                let baseline = count
                    .baseline
                    .map_or_else(|| "–".into(), |baseline| format!("{baseline:.0}"));
                let change = count.change().map_or_else(
                    || "–".into(),
                    |change| {
                        let flag = if change > TOLERANCE {
                            " (regression)"
                        } else {
                            ""
                        };
                        format!("{:+.1}%{flag}", change * 100.0)
                    },
                );
                out.push_str(&format!(
                    "| {} | {:.0} | {baseline} | {change} |\n",
                    count.name, count.per_call
                ));
            }
        }
        Err(NoCounts::NotAvailable(why)) => {
            out.push_str(&format!("| not available: {why} | | | |\n"))
        }
        Err(NoCounts::Failed(why)) => out.push_str(&format!("| failed: {why} | | | |\n")),
    }
    out
}

/// The counts more than [`TOLERANCE`] above their baseline, described.
fn regressions(counts: &[Count]) -> Vec<String> {
    counts
        .iter()
        .filter(|count| count.change().is_some_and(|change| change > TOLERANCE))
        .map(|count| {
            format!(
                "{}: {:.0} instructions per call, {:.0}% above the baseline's {:.0}",
                count.key,
                count.per_call,
                count.change().unwrap_or_default() * 100.0,
                count.baseline.unwrap_or_default()
            )
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_total_is_read_from_a_cachegrind_log() {
        let log = "==7== Cachegrind, a high-precision tracing profiler\n==7== \n==7== I refs:        1,234,567\n";
        assert_eq!(total_instructions(log), Some(1_234_567));
        assert_eq!(total_instructions("==7== I   refs:      89\n"), Some(89));
        assert_eq!(total_instructions("nothing here"), None);
    }

    #[test]
    fn only_a_count_well_above_its_baseline_is_a_problem() {
        let count = |per_call, baseline| Count {
            key: "k".into(),
            name: "n".into(),
            per_call,
            baseline,
        };
        let counts = vec![
            count(119.0, Some(100.0)),
            count(50.0, Some(100.0)),
            count(500.0, None),
        ];
        assert!(regressions(&counts).is_empty());
        assert!(verdict(Ok(counts)).is_ok());
        let counts = vec![count(121.0, Some(100.0))];
        assert_eq!(regressions(&counts).len(), 1);
        assert!(verdict(Ok(counts)).is_err());
    }
}
