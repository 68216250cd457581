//! `cargo xtask test`: every test layer, in order, and a summary of each.
//! All layers run even after a failure, so one run shows everything that broke.

use std::{
    fs,
    path::{Path, PathBuf},
    process::Command,
    time::{Duration, Instant},
};

use crate::{
    build, fuzz, instructions,
    process::{self, Background},
    toolchain::{self, Route, WASM_TARGET},
};

const LIMIT: Duration = Duration::from_secs(30 * 60);
const READY_LIMIT: Duration = Duration::from_secs(60);

fn cargo(route: Route, args: &[&str]) -> Command {
    let mut cmd = toolchain::command(route, "cargo");
    cmd.args(args);
    cmd
}

/// The interop example app (built by the "server binaries" layer).
fn interop_bin() -> PathBuf {
    toolchain::target_dir().join("debug/examples/interop")
}

/// Every `*.test.mjs` below `dir`, skipping `node_modules`.
fn node_test_files(dir: &Path, found: &mut Vec<PathBuf>) -> Result<(), String> {
    let entries =
        fs::read_dir(dir).map_err(|err| format!("cannot list {}: {err}", dir.display()))?;
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
fn node_tests(route: Route) -> Result<(), String> {
    let root = toolchain::workspace_root();
    let mut files = Vec::new();
    node_test_files(&root.join("tests"), &mut files)?;
    files.sort();
    let mut node = toolchain::command(route, "node");
    node.arg("--test")
        .args(files)
        .env(
            "SAILS_SERVER_BIN",
            toolchain::target_dir().join("debug/sails-server"),
        )
        .env("SAILS_WWW", root.join("www"))
        .env("SAILS_INTEROP_BIN", interop_bin());
    process::run(&mut node, LIMIT).map_err(|err| err.to_string())
}

/// sails.io.js 1.2.1's own mocha suite (`tests/sailsio-suite/run.cjs`)
/// against the `sailsio_suite` example, then against the same routes on a
/// real Sails, then its browser cases with our client (`www/js/`) against
/// the example: every case that applies must pass.
fn sailsio_suite(route: Route) -> Result<(), String> {
    let root = toolchain::workspace_root();
    let runner = root.join("tests/sailsio-suite/run.cjs");
    let ours = toolchain::target_dir().join("debug/examples/sailsio_suite");
    let our_client = root.join("www/js");
    let mut failed = Vec::new();
    for (run, server, client) in [
        ("against ours", "ours", None),
        ("against Sails", "sails", None),
        ("with our client, against ours", "ours", Some(&our_client)),
    ] {
        println!("-- sails.io.js's suite {run}");
        let mut node = toolchain::command(route, "node");
        node.arg(&runner)
            .env("SAILSIO_SUITE_SERVER", server)
            .env("SAILSIO_SUITE_BIN", &ours);
        if let Some(dir) = client {
            node.env("SAILSIO_SUITE_CLIENT_DIR", dir);
        }
        if let Err(err) = process::run(&mut node, LIMIT) {
            failed.push(format!("{run}: {err}"));
        }
    }
    if failed.is_empty() {
        Ok(())
    } else {
        Err(failed.join("; "))
    }
}

/// Starts an app of the interop contract (`cmd --port 0 --www www/`) and
/// waits for its ready line.
fn start_app(mut cmd: Command) -> Result<Background, String> {
    cmd.args(["--port", "0", "--www"])
        .arg(toolchain::workspace_root().join("www"));
    Background::start(&mut cmd, READY_LIMIT)
}

/// Our interop app on a free port.
fn start_interop(route: Route) -> Result<Background, String> {
    start_app(toolchain::command(route, &interop_bin().to_string_lossy()))
}

/// The real Sails app with the interop routes (`tests/sails-app/`), on a free port.
fn start_sails_app(route: Route) -> Result<Background, String> {
    let mut node = toolchain::command(route, "node");
    node.arg(toolchain::workspace_root().join("tests/sails-app/app.js"));
    start_app(node)
}

/// `wasm-pack test` in headless Chromium, with the interop app and the real
/// Sails app running for it (their URLs reach the tests as `SAILS_TEST_URL`
/// and `SAILS_APP_TEST_URL` at compile time).
fn wasm_tests(route: Route) -> Result<(), String> {
    let mut wasm_pack = toolchain::command(route, "wasm-pack");
    wasm_pack.args(["test", "--headless", "--chrome", "client-wasm"]);
    // Each test file's time limit in the browser (20 s by default): the memory
    // test's 12,000 connect/disconnect cycles take about 10 s on a quiet machine.
    wasm_pack.env("WASM_BINDGEN_TEST_TIMEOUT", "90");
    let interop = start_interop(route)?;
    wasm_pack.env("SAILS_TEST_URL", &interop.url);
    let sails_app = start_sails_app(route)?;
    wasm_pack.env("SAILS_APP_TEST_URL", &sails_app.url);
    process::run(&mut wasm_pack, LIMIT).map_err(|err| err.to_string())
}

/// Builds the npm package and imports it the way a bundler does, in Node,
/// to answer one request from the interop app.
fn npm_package(route: Route) -> Result<(), String> {
    build::npm_package(route)?;
    let server = start_interop(route)?;
    let mut node = toolchain::command(route, "node");
    node.args([
        "--experimental-wasm-modules",
        "client-wasm/tests/npm-package.mjs",
    ])
    .arg(&server.url);
    process::run(&mut node, Duration::from_secs(120)).map_err(|err| err.to_string())
}

/// Runs every layer; fails if any failed.
pub(crate) fn run(route: Route) -> Result<(), String> {
    let check = |args: &'static [&'static str]| {
        move || {
            let mut cmd = cargo(route, args);
            process::run(&mut cmd, LIMIT).map_err(|err| err.to_string())
        }
    };
    type Layer<'a> = (&'static str, Box<dyn Fn() -> Result<(), String> + 'a>);
    let layers: Vec<Layer<'_>> = vec![
        ("format", Box::new(check(&["fmt", "--all", "--check"]))),
        (
            "format (fuzz targets, a workspace of their own)",
            Box::new(check(&[
                "fmt",
                "--manifest-path",
                "fuzz/Cargo.toml",
                "--check",
            ])),
        ),
        (
            "clippy (native)",
            Box::new(check(&[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ])),
        ),
        (
            "clippy (wasm32 client)",
            Box::new(check(&[
                "clippy",
                "--package",
                "sails-io-wasm",
                "--all-targets",
                "--target",
                WASM_TARGET,
                "--",
                "-D",
                "warnings",
            ])),
        ),
        ("native tests", Box::new(check(&["test", "--workspace"]))),
        (
            "instruction counts of the hot paths (valgrind, against the baseline)",
            Box::new(move || instructions::check(route)),
        ),
        (
            "fuzz targets (the corpus, then a few seconds of fresh inputs each)",
            Box::new(move || fuzz::quick(route)),
        ),
        (
            "server binaries for the browser tests",
            Box::new(check(&[
                "build",
                "--package",
                toolchain::APP_PACKAGE,
                "--bins",
                "--examples",
            ])),
        ),
        (
            "client bundle (www/js)",
            Box::new(move || build::script_bundle(route)),
        ),
        (
            "client size (against its committed budget)",
            Box::new(build::check_size_budget),
        ),
        (
            "wasm tests (headless Chromium)",
            Box::new(move || wasm_tests(route)),
        ),
        (
            "npm package (build, import in Node)",
            Box::new(move || npm_package(route)),
        ),
        (
            "browser and conformance tests (node --test)",
            Box::new(move || node_tests(route)),
        ),
        (
            "sails.io.js's own suite (against ours, then Sails; then our client)",
            Box::new(move || sailsio_suite(route)),
        ),
    ];

    let mut results = Vec::new();
    for (name, layer) in &layers {
        println!("\n== test: {name}");
        let started = Instant::now();
        results.push((name, layer().map(|()| started.elapsed())));
    }

    println!("\n== test summary");
    let mut failed = 0;
    for (name, result) in &results {
        match result {
            Ok(took) => println!("  ok    {name} ({:.1}s)", took.as_secs_f32()),
            Err(why) => {
                failed += 1;
                println!("  FAIL  {name}: {why}");
            }
        }
    }
    println!("layers: {} passed, {failed} failed", results.len() - failed);
    if failed == 0 {
        Ok(())
    } else {
        Err(format!("{failed} test layer(s) failed"))
    }
}
