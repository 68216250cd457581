//! `cargo xtask test`: every test layer, and a summary of each. All layers
//! run even after a failure, so one run shows everything that broke.
//! `cargo xtask test --layer NAME` runs one layer alone.
//!
//! The layers run in [`STAGES`], one after the other. Within a stage, the
//! first lane runs here with its output as it comes; the other lanes run
//! beside it, each layer in a child process (`cargo xtask test --layer NAME`)
//! whose output is kept and printed as one block when the stage is done.
//! A lane beside the first holds only layers that share no build with it
//! (the fuzz targets build in a target directory of their own; cargo's lock
//! on the shared one makes a second build wait its turn), and the browser
//! tests run alone, so that their timing is not disturbed.

use std::{
    fs,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    thread,
    time::{Duration, Instant},
};

use crate::{
    build,
    error::{Error, Result},
    fuzz, instructions,
    packages::{Binaries, CLIENT, SAILSIO_SUITE_EXAMPLE, SERVER_BIN, TEMP_POSTGRES_BIN},
    process::{self, Background},
    setup,
    toolchain::{self, Route, WASM_TARGET},
};

const LIMIT: Duration = Duration::from_secs(30 * 60);
/// How long one layer run in a child process may take, its builds included.
const LAYER_LIMIT: Duration = Duration::from_secs(90 * 60);
const READY_LIMIT: Duration = Duration::from_secs(60);

/// One test layer.
struct Layer {
    /// Its name on the command line (`cargo xtask test --layer NAME`).
    name: &'static str,
    /// What it checks, in the log and the summary.
    title: &'static str,
    run: fn(Route) -> Result,
}

/// Every layer, in the summary's order.
const LAYERS: [Layer; 14] = [
    Layer {
        name: "format",
        title: "format",
        run: format,
    },
    Layer {
        name: "format-fuzz",
        title: "format (fuzz targets, a workspace of their own)",
        run: format_fuzz,
    },
    Layer {
        name: "clippy",
        title: "clippy (native)",
        run: clippy_native,
    },
    Layer {
        name: "clippy-wasm",
        title: "clippy (wasm32 client)",
        run: clippy_wasm,
    },
    Layer {
        name: "test-build",
        title: "test programs and the server binaries the browser tests use",
        run: test_build,
    },
    Layer {
        name: "native",
        title: "native tests",
        run: native_tests,
    },
    Layer {
        name: "instructions",
        title: "instruction counts of the hot paths (valgrind, against the baseline)",
        run: instructions::check,
    },
    Layer {
        name: "fuzz",
        title: "fuzz targets (the corpus, then a few seconds of fresh inputs each)",
        run: fuzz::quick,
    },
    Layer {
        name: "bundle",
        title: "client bundle (www/js)",
        run: build::script_bundle,
    },
    Layer {
        name: "size",
        title: "client size (against its committed budget)",
        run: client_size,
    },
    Layer {
        name: "wasm",
        title: "wasm tests (headless Chromium)",
        run: wasm_tests,
    },
    Layer {
        name: "npm",
        title: "npm package (build, import in Node)",
        run: npm_package,
    },
    Layer {
        name: "browser",
        title: "browser and conformance tests (node --test)",
        run: node_tests,
    },
    Layer {
        name: "sailsio-suite",
        title: "sails.io.js 1.2.1's own suite against ours (then Sails and our client, shown)",
        run: sailsio_suite,
    },
];

/// One stage: lanes side by side, each a list of layers run in turn.
type Stage = &'static [&'static [&'static str]];

/// The order of the layers. The fuzz targets (a build of their own, about
/// nine minutes on two cores from nothing) and the instruction counts
/// (valgrind on one core) fill the gaps of the checks and native tests;
/// the client and the browser tests follow, alone.
const STAGES: [Stage; 2] = [
    &[
        &[
            "format",
            "format-fuzz",
            "clippy",
            "clippy-wasm",
            "test-build",
            "native",
        ],
        &["fuzz", "instructions"],
    ],
    &[&["bundle", "size", "wasm", "npm", "browser", "sailsio-suite"]],
];

fn cargo(route: Route, args: &[&str]) -> Result {
    let mut cmd = toolchain::command(route, "cargo");
    cmd.args(args);
    process::run(&mut cmd, LIMIT)
}

fn format(route: Route) -> Result {
    cargo(route, &["fmt", "--all", "--check"])
}

fn format_fuzz(route: Route) -> Result {
    cargo(
        route,
        &["fmt", "--manifest-path", "fuzz/Cargo.toml", "--check"],
    )
}

fn clippy_native(route: Route) -> Result {
    cargo(
        route,
        &[
            "clippy",
            "--workspace",
            "--all-targets",
            "--",
            "-D",
            "warnings",
        ],
    )
}

fn clippy_wasm(route: Route) -> Result {
    cargo(
        route,
        &[
            "clippy",
            "--package",
            CLIENT,
            "--all-targets",
            "--target",
            WASM_TARGET,
            "--",
            "-D",
            "warnings",
        ],
    )
}

/// Builds what `cargo test --workspace` runs, which includes the server
/// binary and the interop example the browser tests start: built once, with
/// the features the tests unify (a build of the server package alone would
/// build its dependencies a second time, with fewer features).
fn test_build(route: Route) -> Result {
    cargo(route, &["test", "--workspace", "--no-run"])
}

fn native_tests(route: Route) -> Result {
    cargo(route, &["test", "--workspace"])
}

fn client_size(_: Route) -> Result {
    build::check_size_budget()
}

/// Every `*.test.mjs` below `dir`, skipping `node_modules`.
fn node_test_files(dir: &Path, found: &mut Vec<PathBuf>) -> Result {
    let entries = fs::read_dir(dir).map_err(|err| Error::io("list", dir, err))?;
    for path in entries.flatten().map(|entry| entry.path()) {
        if path.is_dir() {
            if path.file_name().is_some_and(|name| name != "node_modules") {
                node_test_files(&path, found)?;
            }
        } else if path.to_string_lossy().ends_with(".test.mjs") {
            found.push(path);
        }
    }
    Ok(())
}

/// Node's test runner over the browser end-to-end and conformance tests.
fn node_tests(route: Route) -> Result {
    let root = toolchain::workspace_root();
    let mut files = Vec::new();
    node_test_files(&root.join("tests"), &mut files)?;
    files.sort();
    let binaries = Binaries::debug();
    let mut node = toolchain::command(route, "node");
    node.arg("--test")
        .args(files)
        .env("SAILS_SERVER_BIN", binaries.bin(SERVER_BIN))
        .env("SAILS_WWW", root.join("www"))
        .env("SAILS_INTEROP_BIN", binaries.interop())
        .env("SAILS_TEMP_POSTGRES_BIN", binaries.bin(TEMP_POSTGRES_BIN));
    process::run(&mut node, LIMIT)
}

/// sails.io.js 1.2.1's own mocha suite (`tests/sailsio-suite/run.cjs`)
/// against the `sailsio_suite` example, then against the same routes on a
/// real Sails, then its browser cases with our client (`www/js/`) against
/// the example: every case that applies must pass.
fn sailsio_suite(route: Route) -> Result {
    let root = toolchain::workspace_root();
    let runner = root.join("tests/sailsio-suite/run.cjs");
    let ours = Binaries::debug().example(SAILSIO_SUITE_EXAMPLE);
    let our_client = root.join("www/js");
    // Only the run against our server decides the layer. The others show
    // where Sails and our client differ; their script-tag cases wait a fixed
    // 100 ms for a connection, which a loaded machine sometimes misses.
    let mut deciding = Ok(());
    for (run, server, client, decides) in [
        ("against ours", "ours", None, true),
        ("against Sails (shown, not counted)", "sails", None, false),
        (
            "with our client, against ours (shown, not counted)",
            "ours",
            Some(&our_client),
            false,
        ),
    ] {
        println!("-- sails.io.js's suite {run}");
        let mut node = toolchain::command(route, "node");
        node.arg(&runner)
            .env("SAILSIO_SUITE_SERVER", server)
            .env("SAILSIO_SUITE_BIN", &ours);
        if let Some(dir) = client {
            node.env("SAILSIO_SUITE_CLIENT_DIR", dir);
        }
        match process::run(&mut node, LIMIT) {
            Err(err) if decides => deciding = Err(err),
            Err(err) => println!("-- sails.io.js's suite {run}: {err}"),
            Ok(()) => {}
        }
    }
    deciding
}

/// Starts an app of the interop contract (`cmd --port 0 --www www/`) and
/// waits for its ready line.
fn start_app(mut cmd: Command) -> Result<Background> {
    cmd.args(["--port", "0", "--www"])
        .arg(toolchain::workspace_root().join("www"));
    Background::start(&mut cmd, READY_LIMIT)
}

/// Our interop app (built by the test build) on a free port.
fn start_interop(route: Route) -> Result<Background> {
    start_app(toolchain::command(
        route,
        &Binaries::debug().interop().to_string_lossy(),
    ))
}

/// The real Sails app with the interop routes (`tests/sails-app/`), on a free port.
fn start_sails_app(route: Route) -> Result<Background> {
    let mut node = toolchain::command(route, "node");
    node.arg(toolchain::workspace_root().join("tests/sails-app/app.js"));
    start_app(node)
}

/// `wasm-pack test` in headless Chromium, with the interop app and the real
/// Sails app running for it (their URLs reach the tests as `SAILS_TEST_URL`
/// and `SAILS_APP_TEST_URL` at compile time).
fn wasm_tests(route: Route) -> Result {
    let mut wasm_pack = toolchain::command(route, "wasm-pack");
    wasm_pack.args(["test", "--headless", "--chrome", "client-wasm"]);
    // Each test file's time limit in the browser (20 s by default): the memory
    // test's 12,000 connect/disconnect cycles take about 10 s on a quiet machine.
    wasm_pack.env("WASM_BINDGEN_TEST_TIMEOUT", "90");
    let interop = start_interop(route)?;
    wasm_pack.env("SAILS_TEST_URL", &interop.url);
    let sails_app = start_sails_app(route)?;
    wasm_pack.env("SAILS_APP_TEST_URL", &sails_app.url);
    process::run(&mut wasm_pack, LIMIT)
}

/// Builds the npm package and imports it the way a bundler does, in Node,
/// to answer one request from the interop app.
fn npm_package(route: Route) -> Result {
    build::npm_package(route)?;
    let server = start_interop(route)?;
    let mut node = toolchain::command(route, "node");
    node.args([
        "--experimental-wasm-modules",
        "client-wasm/tests/npm-package.mjs",
    ])
    .arg(&server.url);
    process::run(&mut node, Duration::from_secs(120))
}

fn usage() -> Error {
    let names: Vec<&str> = LAYERS.iter().map(|layer| layer.name).collect();
    Error::Usage(format!(
        "usage: cargo xtask test [--layer NAME]; layers: {}",
        names.join(", ")
    ))
}

fn layer(name: &str) -> Result<&'static Layer> {
    LAYERS
        .iter()
        .find(|layer| layer.name == name)
        .ok_or_else(usage)
}

/// `cargo xtask test`: set-up, then every layer; `--layer NAME`: that layer
/// alone (after `cargo xtask setup`).
pub(crate) fn run(route: Route, args: &[String]) -> Result {
    match args {
        [] => {
            setup::run(route)?;
            run_all(route)
        }
        [flag, name] if flag == "--layer" => (layer(name)?.run)(route),
        _ => Err(usage()),
    }
}

/// How a layer went: its time, or why it failed.
type Outcome = Result<Duration>;

/// Runs `layer` here, its output as it comes.
fn run_here(route: Route, layer: &Layer) -> Outcome {
    println!("\n== test: {}", layer.title);
    let started = Instant::now();
    (layer.run)(route).map(|()| started.elapsed())
}

/// Runs `layer` in a child process, its output kept in `log`.
fn run_apart(layer: &Layer, log: &Path) -> Outcome {
    let started = Instant::now();
    let file = fs::File::create(log).map_err(|err| Error::io("create", log, err))?;
    let copy = file
        .try_clone()
        .map_err(|err| Error::io("open", log, err))?;
    let exe = std::env::current_exe().map_err(|err| Error::io("find", "xtask", err))?;
    let mut child = Command::new(exe);
    child
        .current_dir(toolchain::workspace_root())
        .args(["test", "--layer", layer.name])
        .stdout(Stdio::from(file))
        .stderr(Stdio::from(copy));
    match process::run_quietly(&mut child, LAYER_LIMIT) {
        Ok(()) => Ok(started.elapsed()),
        Err(Error::Failed { .. }) => Err(Error::Check(failure_reason(log))),
        Err(other) => Err(other),
    }
}

/// Why a layer run apart failed: the message its process ended with.
fn failure_reason(log: &Path) -> String {
    let text = fs::read_to_string(log).unwrap_or_default();
    text.rfind("xtask: ")
        .map(|at| text[at + "xtask: ".len()..].trim().to_owned())
        .unwrap_or_else(|| format!("failed (see {})", log.display()))
}

/// Runs every stage; fails if any layer failed.
fn run_all(route: Route) -> Result {
    let logs = toolchain::target_dir().join("xtask/test-logs");
    fs::create_dir_all(&logs).map_err(|err| Error::io("create", &logs, err))?;
    let mut outcomes: Vec<(&str, Outcome)> = Vec::new();
    for stage in STAGES {
        let Some((first, others)) = stage.split_first() else {
            continue;
        };
        thread::scope(|scope| {
            let apart: Vec<_> = others
                .iter()
                .map(|lane| {
                    let logs = &logs;
                    scope.spawn(move || {
                        lane.iter()
                            .map(|name| {
                                let log = logs.join(format!("{name}.log"));
                                let layer = layer(name);
                                let outcome = layer.and_then(|layer| run_apart(layer, &log));
                                (*name, outcome, log)
                            })
                            .collect::<Vec<_>>()
                    })
                })
                .collect();
            for name in *first {
                let outcome = layer(name).and_then(|layer| run_here(route, layer));
                outcomes.push((name, outcome));
            }
            for (lane, names) in apart.into_iter().zip(others) {
                let finished = lane.join().unwrap_or_else(|_| {
                    let lost = || Err(Error::Check("its thread panicked".into()));
                    names
                        .iter()
                        .map(|name| (*name, lost(), PathBuf::new()))
                        .collect()
                });
                for (name, outcome, log) in finished {
                    let title = layer(name).map_or(name, |layer| layer.title);
                    println!("\n== test: {title} (ran beside the layers above; its output:)");
                    print!("{}", fs::read_to_string(&log).unwrap_or_default());
                    outcomes.push((name, outcome));
                }
            }
        });
    }

    println!("\n== test summary");
    let mut failed = 0;
    for layer in &LAYERS {
        let Some((_, outcome)) = outcomes.iter().find(|(name, _)| *name == layer.name) else {
            continue;
        };
        match outcome {
            Ok(took) => println!("  ok    {} ({:.1}s)", layer.title, took.as_secs_f32()),
            Err(why) => {
                failed += 1;
                println!("  FAIL  {}: {why}", layer.title);
            }
        }
    }
    println!(
        "layers: {} passed, {failed} failed",
        outcomes.len() - failed
    );
    if failed == 0 {
        Ok(())
    } else {
        Err(Error::LayersFailed(failed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_layer_runs_once() {
        let mut planned: Vec<&str> = STAGES
            .iter()
            .flat_map(|stage| stage.iter())
            .flat_map(|lane| lane.iter().copied())
            .collect();
        planned.sort_unstable();
        let mut names: Vec<&str> = LAYERS.iter().map(|layer| layer.name).collect();
        names.sort_unstable();
        assert_eq!(planned, names);
    }

    #[test]
    fn a_failed_layer_run_apart_says_why() {
        let log = std::env::temp_dir().join(format!("xtask-test-{}.log", std::process::id()));
        fs::write(
            &log,
            "$ cargo fuzz build\nsome output\nxtask: jwr: it crashed\n",
        )
        .unwrap();
        assert_eq!(failure_reason(&log), "jwr: it crashed");
        fs::write(&log, "killed\n").unwrap();
        assert!(failure_reason(&log).starts_with("failed (see "));
        fs::remove_file(&log).unwrap();
    }
}
