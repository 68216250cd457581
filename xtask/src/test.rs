//! `cargo xtask test`: every test layer, in order, and a summary of each.
//! All layers run even after a failure, so one run shows everything that broke.

use std::{path::PathBuf, process::Command, time::Duration, time::Instant};

use crate::{
    build, process,
    toolchain::{self, Route, WASM_TARGET},
};

const LIMIT: Duration = Duration::from_secs(30 * 60);

/// One layer of the test suite.
struct Layer {
    name: &'static str,
    command: Command,
}

fn cargo(route: Route, args: &[&str]) -> Command {
    let mut cmd = toolchain::command(route, "cargo");
    cmd.args(args);
    cmd
}

fn target_dir() -> PathBuf {
    std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| toolchain::workspace_root().join("target"))
}

/// The browser end-to-end tests: Node's test runner over `tests/e2e/*.test.mjs`.
fn e2e_command(route: Route) -> Result<Command, String> {
    let root = toolchain::workspace_root();
    let e2e_dir = root.join("tests/e2e");
    let mut files: Vec<PathBuf> = std::fs::read_dir(&e2e_dir)
        .map_err(|err| format!("cannot list {}: {err}", e2e_dir.display()))?
        .flatten()
        .map(|entry| entry.path())
        .filter(|path| path.to_string_lossy().ends_with(".test.mjs"))
        .collect();
    files.sort();
    let mut node = toolchain::command(route, "node");
    node.arg("--test")
        .args(files)
        .env("SAILS_SERVER_BIN", target_dir().join("debug/sails-server"))
        .env("SAILS_WWW", root.join("www"));
    Ok(node)
}

/// Runs every layer; fails if any failed.
pub(crate) fn run(route: Route) -> Result<(), String> {
    let mut wasm_clippy = cargo(
        route,
        &[
            "clippy",
            "--package",
            "sails-io-wasm",
            "--all-targets",
            "--target",
            WASM_TARGET,
        ],
    );
    wasm_clippy.args(["--", "-D", "warnings"]);
    let mut wasm_pack = toolchain::command(route, "wasm-pack");
    wasm_pack.args(["test", "--headless", "--chrome", "client-wasm"]);

    let layers = vec![
        Layer {
            name: "format",
            command: cargo(route, &["fmt", "--all", "--check"]),
        },
        Layer {
            name: "clippy (native)",
            command: cargo(
                route,
                &[
                    "clippy",
                    "--workspace",
                    "--all-targets",
                    "--",
                    "-D",
                    "warnings",
                ],
            ),
        },
        Layer {
            name: "clippy (wasm32 client)",
            command: wasm_clippy,
        },
        Layer {
            name: "native tests",
            command: cargo(route, &["test", "--workspace"]),
        },
        Layer {
            name: "wasm tests (headless Chromium)",
            command: wasm_pack,
        },
        Layer {
            name: "server binary for e2e",
            command: cargo(route, &["build", "--package", "sails-server"]),
        },
    ];

    let mut results: Vec<(&str, Result<Duration, String>)> = Vec::new();
    for Layer { name, mut command } in layers {
        println!("\n== test: {name}");
        let started = Instant::now();
        let result = process::run(&mut command, LIMIT).map(|()| started.elapsed());
        results.push((name, result.map_err(|err| err.to_string())));
    }

    println!("\n== test: client bundle for e2e");
    let started = Instant::now();
    let bundle = build::script_bundle(route).map(|()| started.elapsed());
    let bundle_ok = bundle.is_ok();
    results.push(("client bundle for e2e", bundle));

    println!("\n== test: browser end-to-end (headless Chromium)");
    let started = Instant::now();
    let e2e = if bundle_ok {
        e2e_command(route).and_then(|mut node| {
            process::run(&mut node, LIMIT)
                .map(|()| started.elapsed())
                .map_err(|err| err.to_string())
        })
    } else {
        Err("skipped: the client bundle did not build".into())
    };
    results.push(("browser end-to-end", e2e));

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
    let passed = results.len() - failed;
    println!("layers: {passed} passed, {failed} failed");
    if failed == 0 {
        Ok(())
    } else {
        Err(format!("{failed} test layer(s) failed"))
    }
}
