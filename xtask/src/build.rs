//! `cargo xtask build`: the browser client, as the one-script-tag bundle in
//! `www/js/` and as the npm package in `client-wasm/pkg/`.

use std::{fs, path::Path, time::Duration};

use crate::{
    process,
    toolchain::{self, Route, WASM_TARGET},
};

const LIMIT: Duration = Duration::from_secs(30 * 60);

/// The client crate, as cargo and wasm-bindgen name it.
const CLIENT_PACKAGE: &str = "sails-io-wasm";
const CLIENT_ARTIFACT: &str = "sails_io_wasm";

/// wasm features rustc emits by default, named for Debian's wasm-opt.
const WASM_OPT_FEATURES: &[&str] = &[
    "--enable-bulk-memory",
    "--enable-mutable-globals",
    "--enable-nontrapping-float-to-int",
    "--enable-reference-types",
    "--enable-sign-ext",
    "--enable-multivalue",
];

/// Builds both client forms.
pub(crate) fn run(route: Route) -> Result<(), String> {
    script_bundle(route)?;
    npm_package(route)
}

/// `www/js/sails.io.js` (glue + loader in one classic script) and
/// `www/js/sails.io_bg.wasm`, optimised for size.
pub(crate) fn script_bundle(route: Route) -> Result<(), String> {
    let root = toolchain::workspace_root();
    let mut cargo = toolchain::command(route, "cargo");
    cargo.args([
        "build",
        "--package",
        CLIENT_PACKAGE,
        "--lib",
        "--target",
        WASM_TARGET,
    ]);
    cargo.args(["--profile", "wasm-release"]);
    process::run(&mut cargo, LIMIT).map_err(|err| err.to_string())?;

    let wasm = root.join(format!(
        "target/{WASM_TARGET}/wasm-release/{CLIENT_ARTIFACT}.wasm"
    ));
    let out_dir = root.join("target/client-bundle");
    let mut bindgen = toolchain::command(route, "wasm-bindgen");
    bindgen
        .arg(&wasm)
        .args(["--target", "no-modules", "--no-typescript", "--out-dir"])
        .arg(&out_dir);
    process::run(&mut bindgen, LIMIT).map_err(|err| err.to_string())?;

    let www_js = root.join("www/js");
    fs::create_dir_all(&www_js).map_err(|err| err.to_string())?;
    let mut wasm_opt = toolchain::command(route, "wasm-opt");
    wasm_opt
        .arg("-Oz")
        .args(WASM_OPT_FEATURES)
        .arg(out_dir.join(format!("{CLIENT_ARTIFACT}_bg.wasm")))
        .arg("-o")
        .arg(www_js.join("sails.io_bg.wasm"));
    process::run(&mut wasm_opt, LIMIT).map_err(|err| err.to_string())?;

    let glue = read(&out_dir.join(format!("{CLIENT_ARTIFACT}.js")))?;
    let loader = read(&root.join("client-wasm/js/loader.js"))?;
    let bundle = format!("(function () {{\n\"use strict\";\n{glue}\n{loader}\n}})();\n");
    fs::write(www_js.join("sails.io.js"), bundle).map_err(|err| err.to_string())?;
    println!("build: www/js/sails.io.js and www/js/sails.io_bg.wasm");
    Ok(())
}

/// The npm package (`client-wasm/pkg/`, with TypeScript types), by wasm-pack.
fn npm_package(route: Route) -> Result<(), String> {
    let mut wasm_pack = toolchain::command(route, "wasm-pack");
    wasm_pack.args(["build", "client-wasm", "--release", "--target", "bundler"]);
    process::run(&mut wasm_pack, LIMIT).map_err(|err| err.to_string())?;
    println!("build: client-wasm/pkg (npm package)");
    Ok(())
}

fn read(path: &Path) -> Result<String, String> {
    fs::read_to_string(path).map_err(|err| format!("cannot read {}: {err}", path.display()))
}
