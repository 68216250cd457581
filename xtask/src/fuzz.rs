//! `cargo xtask fuzz [--seconds N] [TARGET]`: the libFuzzer targets of
//! `fuzz/` (cargo-fuzz), each for N seconds; `cargo xtask fuzz --quick`,
//! their brief run, is also a test layer. Each target starts from its corpus
//! in the repository (`fuzz/corpus/<target>`: real frames and every input
//! that once crashed) and keeps what it finds under the target directory,
//! never in the repository; crashes land in
//! `<target dir>/fuzz/artifacts/<target>/`.

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use crate::{
    error::{Error, Result},
    process, setup,
    toolchain::{self, Route},
};

/// Every fuzz target, as named in `fuzz/Cargo.toml`.
pub(crate) const TARGETS: [&str; 7] = [
    "engine_frame",
    "socket_packet",
    "polling_payload",
    "virtual_request",
    "jwr",
    "client_session",
    "ws_frames",
];

/// How long `cargo xtask fuzz` runs each target unless told.
const DEFAULT_SECONDS: u64 = 3600;
/// How long the test layer runs each target, after the corpus.
const QUICK_SECONDS: u64 = 4;
/// Time allowed on top of the fuzzing itself, for the build: about 9
/// minutes on two quiet cores from nothing, longer beside the other test
/// layers' builds (`cargo xtask test` runs them side by side).
const BUILD_LIMIT: Duration = Duration::from_secs(60 * 60);

pub(crate) const USAGE: &str = "fuzz [--seconds N] [TARGET] | fuzz --quick";

/// How the targets are built: the toolchain, and the sanitizer its sysroot has.
#[derive(Clone, Copy)]
struct Build {
    route: Route,
    sanitizer: &'static str,
}

impl Build {
    /// Address sanitizer (with libFuzzer's allocation limit) where a
    /// toolchain ships its runtime, rustup's first (Debian's `rustc-web`
    /// does not); else no sanitizer: safe Rust's panics are still found.
    fn pick(route: Route) -> Self {
        for candidate in [Route::Rustup, route] {
            if has_asan_runtime(candidate) {
                return Self {
                    route: candidate,
                    sanitizer: "address",
                };
            }
        }
        Self {
            route,
            sanitizer: "none",
        }
    }

    /// `cargo fuzz <command> … <target>`, stable toolchains allowed the
    /// unstable flags cargo-fuzz passes.
    fn cargo_fuzz(self, command: &str) -> Command {
        let mut cmd = toolchain::command(self.route, "cargo");
        cmd.args(["fuzz", command, "--fuzz-dir", "fuzz", "--debug-assertions"])
            .args(["--sanitizer", self.sanitizer, "--target-dir"])
            .arg(fuzz_dir())
            .env("RUSTC_BOOTSTRAP", "1");
        cmd
    }
}

fn has_asan_runtime(route: Route) -> bool {
    let mut rustc = toolchain::command(route, "rustc");
    rustc.args(["--print", "target-libdir"]);
    process::output(&mut rustc, Duration::from_secs(30)).is_ok_and(|dir| {
        fs::read_dir(dir.trim()).is_ok_and(|entries| {
            entries
                .flatten()
                .any(|entry| entry.file_name().to_string_lossy().ends_with("_rt.asan.a"))
        })
    })
}

/// Builds and run state of the fuzzers, beside the other builds.
fn fuzz_dir() -> PathBuf {
    toolchain::target_dir().join("fuzz")
}

/// The corpus of `target` kept in the repository.
fn seeds(target: &str) -> PathBuf {
    toolchain::workspace_root().join("fuzz/corpus").join(target)
}

/// Runs `target` for `seconds` over `work` (where new inputs go) and its
/// corpus in the repository.
fn run_target(build: Build, target: &str, work: &Path, seconds: u64) -> Result {
    let artifacts = fuzz_dir().join("artifacts").join(target);
    for dir in [work, &artifacts] {
        fs::create_dir_all(dir).map_err(|err| Error::io("create", dir, err))?;
    }
    let mut cmd = build.cargo_fuzz("run");
    cmd.arg(target)
        .arg(work)
        .arg(seeds(target))
        .arg("--")
        .arg(format!("-max_total_time={seconds}"))
        // Per input: a hang, more than 2 GiB resident, or one allocation
        // over 64 MiB is a crash.
        .args(["-timeout=10", "-rss_limit_mb=2048", "-malloc_limit_mb=64"])
        .arg("-print_final_stats=1")
        .arg(format!("-artifact_prefix={}/", artifacts.display()));
    let limit = Duration::from_secs(seconds) + BUILD_LIMIT;
    process::run(&mut cmd, limit).map_err(|err| {
        err.with_fix(format!(
            "the input that failed is in {}",
            artifacts.display()
        ))
        .within(target)
    })
}

/// Builds every target (once, before they run).
fn build_all(build: Build) -> Result {
    let started = Instant::now();
    process::run(&mut build.cargo_fuzz("build"), BUILD_LIMIT)?;
    println!(
        "fuzz: targets built in {:.1}s (sanitizer: {})",
        started.elapsed().as_secs_f32(),
        build.sanitizer
    );
    Ok(())
}

/// Runs each target in turn; fails if any found a crash, after running all.
fn run_all(build: Build, targets: &[&str], seconds: u64, work: &Path) -> Result {
    build_all(build)?;
    Error::all(
        targets
            .iter()
            .filter_map(|target| run_target(build, target, &work.join(target), seconds).err())
            .collect(),
    )
}

fn parse(args: &[String]) -> Result<(u64, Vec<&'static str>)> {
    let usage = || {
        Error::Usage(format!(
            "usage: cargo xtask {USAGE}; targets: {}",
            TARGETS.join(", ")
        ))
    };
    let (mut seconds, mut targets) = (DEFAULT_SECONDS, TARGETS.to_vec());
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        if arg == "--seconds" {
            seconds = args
                .next()
                .and_then(|value| value.parse().ok())
                .ok_or_else(usage)?;
        } else if let Some(target) = TARGETS.iter().find(|target| *target == arg) {
            targets = vec![target];
        } else {
            return Err(usage());
        }
    }
    Ok((seconds, targets))
}

/// `cargo xtask fuzz`: installs cargo-fuzz when missing, then fuzzes
/// (`--quick`: the test layer's run).
pub(crate) fn run(route: Route, args: &[String]) -> Result {
    setup::cargo_fuzz(route)?;
    if let [flag] = args
        && flag == "--quick"
    {
        return quick(route);
    }
    let (seconds, targets) = parse(args)?;
    let work = fuzz_dir().join("corpus");
    run_all(Build::pick(route), &targets, seconds, &work)
}

/// The test layer: every target over its corpus and a few seconds of fresh
/// inputs, from an empty working corpus.
pub(crate) fn quick(route: Route) -> Result {
    let started = Instant::now();
    let work = fuzz_dir().join("quick");
    if work.exists() {
        fs::remove_dir_all(&work).map_err(|err| Error::io("remove", &work, err))?;
    }
    let result = run_all(Build::pick(route), &TARGETS, QUICK_SECONDS, &work);
    println!(
        "fuzz: {} targets, {QUICK_SECONDS}s of fresh inputs each, in {:.1}s",
        TARGETS.len(),
        started.elapsed().as_secs_f32()
    );
    result
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_target_has_a_corpus_and_a_source() {
        let fuzz = toolchain::workspace_root().join("fuzz");
        let manifest = fs::read_to_string(fuzz.join("Cargo.toml")).expect("fuzz/Cargo.toml");
        for target in TARGETS {
            assert!(
                manifest.contains(&format!("name = \"{target}\"")),
                "{target}"
            );
            assert!(fuzz.join(format!("fuzz_targets/{target}.rs")).is_file());
            let seeds = fs::read_dir(seeds(target)).expect("a corpus").count();
            assert!((1..=60).contains(&seeds), "{target}: {seeds} seeds");
        }
    }

    #[test]
    fn parses_seconds_and_one_target() {
        let args = |list: &[&str]| list.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(parse(&[]).unwrap(), (DEFAULT_SECONDS, TARGETS.to_vec()));
        assert_eq!(
            parse(&args(&["jwr", "--seconds", "5"])).unwrap(),
            (5, vec!["jwr"])
        );
        assert!(parse(&args(&["--seconds"])).is_err());
        assert!(parse(&args(&["nope"])).is_err());
    }
}
